"""Text the ledger cannot store is refused before ingest writes anything, identically on SQLite
and PostgreSQL (``db_url`` runs each test on both). Before the limits, a NUL in one instruction
or one over-long id aborted the whole ingest on PostgreSQL and was stored silently on SQLite."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from editbench.benchmark import BenchmarkFormatError, ReasonCode, limits
from editbench.producer.ingest import ingest
from editbench.schema.db import session_scope
from editbench.schema.models import Benchmark, Category, Sample


def _samples() -> dict[str, Sample]:
    with session_scope() as s:
        return {row.external_id: row for row in s.scalars(select(Sample))}


def _count(model) -> int:
    with session_scope() as s:
        return s.scalar(select(func.count()).select_from(model))


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"instruction": "Make it\u0000 blue"}, ReasonCode.NUL_CHARACTER),
        ({"reference_text": "a\u0000b"}, ReasonCode.NUL_CHARACTER),
        ({"subcategory": "\u0000"}, ReasonCode.NUL_CHARACTER),
        ({"tags": ["t\u0000"]}, ReasonCode.NUL_CHARACTER),
        ({"source": {"note": "x\u0000"}}, ReasonCode.NUL_CHARACTER),
        ({"id": "i" * (limits.MAX_ID_CHARS + 1)}, ReasonCode.TOO_LONG),
        ({"subcategory": "s" * (limits.MAX_SUBCATEGORY_CHARS + 1)}, ReasonCode.TOO_LONG),
        ({"instruction_language": "l" * (limits.MAX_LANGUAGE_CHARS + 1)}, ReasonCode.TOO_LONG),
        ({"instruction": "y" * (limits.MAX_INSTRUCTION_CHARS + 1)}, ReasonCode.TOO_LONG),
    ],
    ids=[
        "nul-instruction",
        "nul-reference",
        "nul-subcategory",
        "nul-tag",
        "nul-source",
        "long-id",
        "long-subcategory",
        "long-language",
        "long-instruction",
    ],
)
def test_an_item_the_ledger_cannot_store_is_rejected_and_the_rest_ingested(db_url, bench, item, fields, code):
    bad = item("bad") | fields
    bench.write_items(bad)
    report = ingest(bench.root)
    assert [r.reason_code for r in report.rejections] == [code], report.rejections
    assert sorted(_samples()) == ["good-1", "good-2"]
    assert report.added_total == 2


def test_values_exactly_as_wide_as_their_columns_are_stored_unchanged(db_url, bench, item):
    wide = item(
        "i" * limits.MAX_ID_CHARS,
        subcategory="s" * limits.MAX_SUBCATEGORY_CHARS,
        instruction_language="l" * limits.MAX_LANGUAGE_CHARS,
        instruction="y" * limits.MAX_INSTRUCTION_CHARS,
    )
    manifest = bench.root / "benchmark.yaml"
    text = manifest.read_text()
    text = text.replace("name: test-bench", "name: " + "n" * limits.MAX_BENCHMARK_NAME_CHARS)
    text = text.replace('version: "1.0"', 'version: "' + "9" * limits.MAX_VERSION_CHARS + '"')
    text = text.replace("- name: beta", "- name: " + "c" * limits.MAX_CATEGORY_NAME_CHARS)
    manifest.write_text(text)
    bench.write_items(wide)
    (bench.root / "items.jsonl").write_text(
        (bench.root / "items.jsonl").read_text().replace('"category": "beta"', '"category": "' + "c" * 200 + '"')
    )
    report = ingest(bench.root)
    assert report.rejections == []
    stored = _samples()["i" * limits.MAX_ID_CHARS]
    assert (len(stored.subcategory), len(stored.instruction_language), len(stored.instruction)) == (200, 16, 10_000)
    with session_scope() as s:
        benchmark = s.scalars(select(Benchmark)).one()
        assert (len(benchmark.name), len(benchmark.version)) == (200, 64)
        assert sorted(len(c.name) for c in s.scalars(select(Category))) == [5, 200]


@pytest.mark.parametrize(
    ("replace", "by", "code"),
    [
        ('description: "Loader test fixture"', 'description: "nul \\0 here"', ReasonCode.NUL_CHARACTER),
        ("- name: beta", "- name: " + "c" * (limits.MAX_CATEGORY_NAME_CHARS + 1), ReasonCode.TOO_LONG),
        ('version: "1.0"', 'version: "' + "9" * (limits.MAX_VERSION_CHARS + 1) + '"', ReasonCode.TOO_LONG),
        ("name: test-bench", "name: " + "n" * (limits.MAX_BENCHMARK_NAME_CHARS + 1), ReasonCode.TOO_LONG),
    ],
    ids=["nul-description", "long-category", "long-version", "long-name"],
)
def test_a_manifest_the_ledger_cannot_store_is_refused_and_nothing_is_recorded(db_url, bench, replace, by, code):
    manifest = bench.root / "benchmark.yaml"
    manifest.write_text(manifest.read_text().replace(replace, by, 1))
    bench.write_items()
    with pytest.raises(BenchmarkFormatError) as raised:
        ingest(bench.root)
    assert raised.value.reason_code == code
    assert (_count(Benchmark), _count(Category), _count(Sample)) == (0, 0, 0)


def test_a_prompt_with_a_nul_character_is_refused_and_nothing_is_recorded(db_url, bench):
    (bench.root / "prompts" / "alpha.v1.txt").write_text("Judge {instruction}\u0000", encoding="utf-8")
    bench.write_items()
    with pytest.raises(BenchmarkFormatError, match="NUL"):
        ingest(bench.root)
    assert (_count(Benchmark), _count(Category), _count(Sample)) == (0, 0, 0)


def test_ingest_cli_shows_a_manifest_refusal_as_one_error_line_with_its_code(db_url, bench):
    from click.testing import CliRunner

    from editbench.cli import main

    manifest = bench.root / "benchmark.yaml"
    manifest.write_text(manifest.read_text().replace("- name: beta", "- name: " + "c" * 201, 1))
    bench.write_items()
    result = CliRunner().invoke(main, ["ingest", str(bench.root)])
    assert result.exit_code == 2
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: ") and lines[0].endswith("[too_long]"), result.output
    assert "Traceback" not in result.output
    assert (_count(Benchmark), _count(Category), _count(Sample)) == (0, 0, 0)
