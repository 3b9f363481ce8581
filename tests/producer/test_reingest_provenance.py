"""A (benchmark, version) in the ledger is what run cards certify, so re-ingesting it with a
changed prompt or item is refused with a message to bump ``version``, never silently merged.
Both databases; the real loader, ingest and CLI."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from editbench.benchmark.example import write_example_benchmark
from editbench.errors import BenchmarkChangedError
from editbench.producer.ingest import ingest
from editbench.schema.db import session_scope
from editbench.schema.models import Benchmark, Category, Sample


@pytest.fixture
def folder(db_url: str, tmp_path: Path) -> Path:
    path = write_example_benchmark(tmp_path / "bench", per_category=2)
    ingest(path)
    return path


def _stored(version: str = "1.0") -> tuple[str, str, dict[str, str]]:
    with session_scope() as s:
        bench = s.scalar(select(Benchmark).where(Benchmark.version == version))
        prompt = s.scalar(select(Category.prompt_text).where(Category.benchmark_id == bench.id, Category.name == "physics"))
        instructions = {x.external_id: x.instruction for x in s.scalars(select(Sample).where(Sample.benchmark_id == bench.id))}
        return bench.content_hash, prompt, instructions


def _bump_version(folder: Path, version: str) -> None:
    manifest = folder / "benchmark.yaml"
    manifest.write_text(manifest.read_text().replace("version: '1.0'", f"version: '{version}'"))


def test_a_changed_prompt_is_refused_with_a_message_to_bump_the_version_and_nothing_changes(folder: Path) -> None:
    before = _stored()
    prompt = folder / "prompts" / "physics.v1.txt"
    prompt.write_text(prompt.read_text() + "\nBe harsher on physics.\n")
    with pytest.raises(BenchmarkChangedError) as refused:
        ingest(folder)
    message = str(refused.value)
    assert "category 'physics': its judge prompt (prompts/physics.v1.txt)" in message
    assert "bump `version` in benchmark.yaml" in message
    assert _stored() == before  # neither the prompt nor the content hash was touched

    _bump_version(folder, "1.1")
    report = ingest(folder)
    assert report.created and report.version == "1.1"
    assert _stored("1.1")[1].endswith("Be harsher on physics.\n")
    assert _stored() == before


def test_a_changed_item_is_refused_and_a_grown_folder_is_still_added(folder: Path) -> None:
    before = _stored()
    items = folder / "items.jsonl"
    lines = [json.loads(line) for line in items.read_text().splitlines()]
    changed = [dict(lines[0], instruction="Something else entirely"), *lines[1:]]
    items.write_text("".join(json.dumps(x) + "\n" for x in changed))
    with pytest.raises(BenchmarkChangedError, match=r"item\(s\) 'physics/000'"):
        ingest(folder)
    assert _stored() == before

    # The same folder grown by one new item (the old ones unchanged) is accepted: growth is
    # how standing runs are fed, and the content hash then covers the larger benchmark.
    grown = [*lines, dict(lines[0], id="physics/new")]
    items.write_text("".join(json.dumps(x) + "\n" for x in grown))
    report = ingest(folder)
    assert report.added_samples == {"physics": 1}
    content_hash, prompt, instructions = _stored()
    assert content_hash != before[0] and prompt == before[1] and instructions["physics/000"] == before[2]["physics/000"]


def test_the_cli_refuses_a_changed_benchmark_in_one_line_with_exit_code_2(folder: Path) -> None:
    prompt = folder / "prompts" / "social.v1.txt"
    prompt.write_text("A different rubric: {instruction}\n")
    result = subprocess.run(
        [sys.executable, "-m", "editbench.cli", "ingest", str(folder)], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("error: benchmark 'editbench-example' version '1.0' is already ingested")
    assert "bump `version`" in " ".join(result.stderr.split())
