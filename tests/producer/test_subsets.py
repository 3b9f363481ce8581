"""``run --limit N`` and ``--where KEY=VALUE``: the run holds exactly the chosen items, says so in
its ledger row, run card and report headers, and bad values are refused with nothing recorded."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from editbench.cli import main
from editbench.producer.ingest import ingest
from editbench.producer.submit import ModelRef, RunRequest, create_run
from editbench.records import SampleFilter
from editbench.schema.db import session_scope
from editbench.schema.models import Edit, Judgment, Run, Sample

# Nothing is sent in these tests (create_run records, submit's refusals come before sending); an
# unreachable broker URL only satisfies "a broker is configured".
NO_BROKER_CONTACT = "redis://127.0.0.1:9/0"


def _bench(tmp_path: Path, per_category: int = 4) -> str:
    """The example benchmark with every other item in Chinese and one item tagged ``hard``."""
    from editbench.benchmark.example import write_example_benchmark

    folder = write_example_benchmark(tmp_path / "bench", per_category=per_category)
    items = [json.loads(line) for line in (folder / "items.jsonl").read_text().splitlines()]
    for i, item in enumerate(items):
        item["instruction_language"] = "zh" if i % 2 else "en"
        item["source"]["split"] = "dev" if i < per_category else "test"
        if item["id"] == "causal/001":
            item["tags"].append("hard")
    (folder / "items.jsonl").write_text("".join(json.dumps(item) + "\n" for item in items))
    return ingest(folder).benchmark


def _request(benchmark: str, **kw) -> RunRequest:
    return RunRequest(benchmark=benchmark, editor=ModelRef("identity", None), judge=ModelRef("simulated", None), **kw)


def _run_samples(run_id: int) -> list[tuple[str, str, str]]:
    with session_scope() as s:
        rows = s.execute(
            select(Sample.external_id, Sample.instruction_language, Sample.category_id)
            .join(Edit, Edit.sample_id == Sample.id)
            .where(Edit.run_id == run_id)
            .order_by(Sample.id)
        ).all()
    return [(ext, lang, str(cat)) for ext, lang, cat in rows]


def _counts() -> tuple[int, int, int]:
    with session_scope() as s:
        return tuple(s.scalar(select(func.count()).select_from(m)) for m in (Run, Edit, Judgment))  # type: ignore[return-value]


def test_limit_keeps_the_first_n_items_of_each_category_in_ingest_order(sqlite_db, tmp_path):
    benchmark = _bench(tmp_path)
    run_id = create_run(_request(benchmark, limit=2, categories=["physics", "social"]))
    assert [ext for ext, *_ in _run_samples(run_id)] == ["physics/000", "physics/001", "social/000", "social/001"]
    with session_scope() as s:
        run = s.get(Run, run_id)
        assert run.sample_filter == {"limit": 2, "where": {}}
        assert run.run_card["subset"] == {"limit": 2, "where": {}}
        # Judgments exist only for the chosen items (physics has 3 criteria, social 2).
        assert s.scalar(select(func.count()).select_from(Judgment).where(Judgment.run_id == run_id)) == 2 * 3 + 2 * 2


def test_where_matches_language_tags_and_source_keys_and_combines_with_limit(sqlite_db, tmp_path):
    benchmark = _bench(tmp_path)
    zh = create_run(_request(benchmark, where=["language=zh"]))
    assert {lang for _, lang, _ in _run_samples(zh)} == {"zh"} and len(_run_samples(zh)) == 10
    hard = create_run(_request(benchmark, where=["tag=hard"]))
    assert [ext for ext, *_ in _run_samples(hard)] == ["causal/001"]
    # Keys AND; a repeated key ORs; --limit counts only matching items.
    both = create_run(_request(benchmark, where=["split=test", "instruction_language=en", "language=zh"], limit=1))
    with session_scope() as s:
        assert s.get(Run, both).sample_filter == {"limit": 1, "where": {"split": ["test"], "language": ["en", "zh"]}}
    chosen = [ext for ext, *_ in _run_samples(both)]
    assert chosen == ["environment/000", "social/000", "causal/000", "referential/000"]  # physics is all dev


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--limit", "0"], "--limit must be a positive number of items per category, got 0"),
        (["--limit", "-3"], "--limit must be a positive number of items per category, got -3"),
        (["--where", "language"], "--where expects KEY=VALUE (e.g. language=en), got 'language'"),
        (["--where", "=en"], "--where expects KEY=VALUE"),
        (["--where", "colour=red"], "unknown --where key 'colour'; items of editbench-example have: language, subcategory, tag, "),
        (["--where", "language=fr"], "no item of editbench-example matches --where language=fr (values present: language: en, zh)"),
        (["--where", "tag=hard", "--category", "physics"], "no item of editbench-example matches --where tag=hard"),
    ],
)
def test_bad_limit_or_where_is_refused_in_one_line_and_nothing_is_recorded(sqlite_db, tmp_path, monkeypatch, args, message):
    monkeypatch.setenv("EDITBENCH_BROKER_URL", NO_BROKER_CONTACT)
    benchmark = _bench(tmp_path)
    before = _counts()
    result = CliRunner().invoke(main, ["run", "--benchmark", benchmark, "--editor", "identity:", "--judge", "simulated:", *args])
    assert result.exit_code != 0
    assert message in result.output
    assert "Traceback" not in result.output and len(result.output.strip().splitlines()) == 1
    assert _counts() == before


def test_subset_is_printed_in_every_report_header_and_the_run_card(sqlite_db, tmp_path):
    from editbench.report import write_report

    benchmark = _bench(tmp_path)
    run_id = create_run(_request(benchmark, limit=1, where=["language=en"]))
    with session_scope() as s:
        paths = write_report(s, run_id, tmp_path / "report")
    line = "first 1 item per category · language=en"
    assert f"**Subset:** {line} (not the whole benchmark)" in paths.report_md.read_text()
    assert f"<b>Subset:</b> {line} (not the whole benchmark)" in paths.report_html.read_text()
    card = json.loads(paths.run_card_json.read_text())
    assert card["run"]["subset"] == {"limit": 1, "where": {"language": ["en"]}, "description": line}
    assert card["parent_run"] is None
    summary = json.loads(paths.summary_json.read_text())
    assert any(w.startswith(f"subset of the benchmark ({line})") for w in summary["warnings"])


def test_a_run_without_subset_has_no_subset_anywhere(sqlite_db, tmp_path):
    from editbench.report import write_report

    run_id = create_run(_request(_bench(tmp_path, per_category=1)))
    with session_scope() as s:
        assert s.get(Run, run_id).sample_filter is None
        paths = write_report(s, run_id, tmp_path / "report")
    assert "Subset" not in paths.report_md.read_text() and "Subset:" not in paths.report_html.read_text()
    assert json.loads(paths.run_card_json.read_text())["run"]["subset"] is None


def test_a_following_run_applies_its_filter_to_later_ingests(sqlite_db, tmp_path):
    """``--follow`` with ``--where``: items ingested later join only if they match."""
    from editbench.schema import ledger

    benchmark = _bench(tmp_path)
    run_id = create_run(_request(benchmark, where=["language=en"], limit=3, follow=True))
    assert len(_run_samples(run_id)) == 5 * 2  # 2 English items per category (of 4)
    folder = tmp_path / "bench"
    items = [json.loads(line) for line in (folder / "items.jsonl").read_text().splitlines()]
    extra = [dict(items[0], id="physics/new-en", instruction_language="en"), dict(items[0], id="physics/new-zh", instruction_language="zh")]
    (folder / "items.jsonl").write_text("".join(json.dumps(i) + "\n" for i in items + extra))
    ingest(folder)
    with session_scope() as s:
        added = ledger.add_missing_work(s, run_id)
    assert {k: len(v) for k, v in added.items()} == {"physics": 1}
    assert "physics/new-en" in [ext for ext, *_ in _run_samples(run_id)]


def test_sample_filter_round_trips_and_describes_itself():
    f = SampleFilter(5, {"language": ("en", "zh"), "tag": ("intersection",)})
    assert SampleFilter.from_json(f.as_json()) == f
    assert f.describe() == "first 5 items per category · language=en|zh · tag=intersection"
    assert SampleFilter.from_json(None) is None


def test_run_yaml_carries_limit_and_where_too(sqlite_db, tmp_path, monkeypatch):
    monkeypatch.setenv("EDITBENCH_BROKER_URL", NO_BROKER_CONTACT)
    benchmark = _bench(tmp_path)
    config = tmp_path / "run.yaml"
    base = f"benchmark: {benchmark}\neditor: {{kind: identity}}\njudge: {{kind: simulated}}\n"
    config.write_text(base + "limit: 0\n")
    result = CliRunner().invoke(main, ["run", "--config", str(config)])
    assert result.exit_code != 0 and "--limit must be a positive number of items per category, got 0" in result.output
    config.write_text(base + "where: {language: [fr, de]}\n")
    result = CliRunner().invoke(main, ["run", "--config", str(config)])
    assert "no item of editbench-example matches --where language=fr --where language=de" in result.output
    assert _counts() == (0, 0, 0)


def test_where_reads_source_values_as_text_booleans_lists_and_absent_keys():
    from types import SimpleNamespace

    def item(**source):
        return SimpleNamespace(instruction_language="en", subcategory=None, tags=["a"], provenance=source)

    intersection = SampleFilter(None, {"intersection_exist": ("true",)})
    assert intersection.matches(item(intersection_exist=True))
    assert not intersection.matches(item(intersection_exist=False)) and not intersection.matches(item())
    assert SampleFilter(None, {"split": ("test",)}).matches(item(split=["dev", "test"]))
    assert SampleFilter(None, {"template": ("3",)}).matches(item(template=3))
    assert not SampleFilter(None, {"subcategory": ("x",)}).matches(item())
    assert SampleFilter(None, {"tag": ("a",), "language": ("zh", "en")}).matches(item())
