"""`editbench example`, `ingest` and `benchmarks` through the real CLI and a real ledger."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from editbench.cli import main
from editbench.schema.db import session_scope
from editbench.schema.models import Benchmark, Category, Sample


def _count(model) -> int:
    with session_scope() as s:
        return s.scalar(select(func.count()).select_from(model))


def test_example_ingest_list_and_reingest_is_a_no_op(db_url: str, tmp_path: Path) -> None:
    runner = CliRunner()
    assert runner.invoke(main, ["example", str(tmp_path / "bench")]).exit_code == 0
    first = runner.invoke(main, ["ingest", str(tmp_path / "bench")])
    assert first.exit_code == 0, first.output
    assert "physics +8" in first.output
    listing = runner.invoke(main, ["benchmarks"])
    for category in ("physics", "environment", "social", "causal", "referential"):
        assert category in listing.output
    assert (_count(Benchmark), _count(Category), _count(Sample)) == (1, 5, 40)
    again = runner.invoke(main, ["ingest", str(tmp_path / "bench")])
    assert again.exit_code == 0 and "nothing new" in again.output
    assert (_count(Benchmark), _count(Category), _count(Sample)) == (1, 5, 40)


def test_bad_item_is_reported_and_the_rest_ingested(db_url: str, tmp_path: Path) -> None:
    runner = CliRunner()
    runner.invoke(main, ["example", str(tmp_path / "bench"), "--per-category", "2"])
    items = tmp_path / "bench" / "items.jsonl"
    bad = {
        "id": "bad-1",
        "category": "physics",
        "instruction": "   ",
        "source_image": json.loads(items.read_text().splitlines()[0])["source_image"],
    }
    items.write_text(items.read_text() + json.dumps(bad) + "\n")
    result = runner.invoke(main, ["ingest", str(tmp_path / "bench")])
    assert result.exit_code == 1
    assert "bad-1" in result.output and "empty_instruction" in result.output
    assert _count(Sample) == 10


def test_a_crash_mid_ingest_leaves_the_ledger_as_before(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from editbench.benchmark.example import write_example_benchmark
    from editbench.producer.ingest import ingest
    from editbench.schema.ledger import benchmarks as ledger_benchmarks

    folder = write_example_benchmark(tmp_path / "bench", per_category=2)
    real_insert = ledger_benchmarks.insert_ignoring_duplicates

    def insert_then_die(session, model, rows):
        real_insert(session, model, rows)  # the rows are written inside the transaction...
        raise KeyboardInterrupt("simulated crash after writing samples")  # ...then the process dies

    monkeypatch.setattr(ledger_benchmarks, "insert_ignoring_duplicates", insert_then_die)
    with pytest.raises(KeyboardInterrupt):
        ingest(folder)
    assert (_count(Benchmark), _count(Category), _count(Sample)) == (0, 0, 0)
    monkeypatch.setattr(ledger_benchmarks, "insert_ignoring_duplicates", real_insert)
    assert ingest(folder).added_total == 10


@pytest.mark.slow  # a subprocess or a large build: integration tier
def test_watch_ingests_items_as_they_appear(sqlite_db: str, tmp_path: Path) -> None:
    from editbench.benchmark.example import write_example_benchmark

    folder = write_example_benchmark(tmp_path / "bench", per_category=2)
    items = folder / "items.jsonl"
    lines = items.read_text().splitlines()
    items.write_text("\n".join(lines[:4]) + "\n")
    log = tmp_path / "watch.log"
    with open(log, "w") as out:
        watcher = subprocess.Popen(
            [sys.executable, "-m", "editbench.cli", "ingest", str(folder), "--watch", "--interval", "0.3"],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=dict(os.environ),
        )
    try:
        _wait_for(lambda: _count(Sample) == 4, log)
        items.write_text("\n".join(lines) + "\n")
        _wait_for(lambda: _count(Sample) == len(lines), log)
    finally:
        watcher.terminate()
        watcher.wait(timeout=10)
    # One line per batch that added something: the initial 4 items, then the other 6.
    added = [line for line in log.read_text().splitlines() if line.startswith("registered") or line.startswith("updated")]
    assert len(added) == 2, log.read_text()


def _wait_for(condition, log: Path, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if condition():
                return
        except Exception:  # noqa: BLE001 - the watcher may still be creating the schema
            pass
        time.sleep(0.2)
    raise TimeoutError(log.read_text())
