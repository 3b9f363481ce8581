"""A run of an officially-imported benchmark judges in protocol mode: each official question is
asked on its own with its own images, each answer is read by the benchmark's official parser, and
the scores are recorded per criterion; the report then carries the paper's table.

Real-format fixtures (shared/realdata), synthetic official checkouts (tests/protocols/conftest.py),
the simulated editor and the simulated judge, which answers every official question in the
official format; the Celery task functions run in this process (``Task.apply``).
"""

from __future__ import annotations

import socket
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import select

from editbench.importers import run_import
from editbench.producer.ingest import ingest
from editbench.producer.submit import ModelRef, RunRequest, create_run
from editbench.schema.db import session_scope
from editbench.schema.models import Category, Edit, Judgment, Run, RunStatus, Status
from tests.protocols.test_import_official import IMAGE_ROOTS, SOURCES

LIMITS = {"imgedit": 40}
NAMES = {"gedit": "gedit-bench", "kris": "kris-bench", "rise": "risebench", "imgedit": "imgedit"}


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def official_run(kind: str, realdata: Path, checkout: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> int:
    """Import with the official protocol, ingest, edit and judge every item; the run id."""
    from editbench.queue.app import app
    from editbench.workers.tasks import edit_sample, score_category

    root = IMAGE_ROOTS.get(kind)
    dest = tmp_path / f"{kind}-official"
    run_import(
        kind,
        realdata / SOURCES[kind],
        dest,
        image_root=realdata / root if root else None,
        protocol="official",
        official_repo=checkout,
        limit=LIMITS.get(kind),
        on_skip=lambda *_: None,
    )
    report = ingest(dest)
    monkeypatch.setenv("EDITBENCH_BROKER_URL", f"redis://127.0.0.1:{_closed_port()}/0")
    run_id = create_run(
        RunRequest(
            benchmark=report.benchmark,
            benchmark_version=report.version,
            editor=ModelRef("simulated", None, {"median_s": "0", "sigma": "0"}),
            judge=ModelRef("simulated", None, {"per_image_s": "0"}),
            judge_batch_size=64,
        )
    )
    with session_scope() as s:
        edits = [(e.sample_id, e.category_id) for e in s.scalars(select(Edit).where(Edit.run_id == run_id))]
    for sample_id, _ in edits:
        edit_sample.apply(args=(run_id, sample_id), task_id=f"edit-{sample_id}").get(
            propagate=False
        )  # a failed sample ends FAILURE, after recording
    monkeypatch.setitem(app.conf, "task_always_eager", True)
    for category_id in sorted({c for _, c in edits}):
        score_category.apply(args=(None, run_id, category_id), task_id=f"score-{category_id}").get()
    with session_scope() as s:
        assert s.get(Run, run_id).status == RunStatus.DONE
    return run_id


def _judgments(run_id: int) -> list[Judgment]:
    with session_scope() as s:
        return list(s.scalars(select(Judgment).where(Judgment.run_id == run_id)))


@pytest.mark.parametrize("kind", ["gedit", "kris", "rise", "imgedit"])
def test_the_judge_asks_each_official_question_and_reads_it_with_the_official_parser(
    kind, realdata, official_checkout, tmp_path, sqlite_db, monkeypatch
):
    run_id = official_run(kind, realdata, official_checkout(kind), tmp_path, monkeypatch)
    judgments = _judgments(run_id)
    outcomes = Counter((j.status, j.error_code) for j in judgments)
    done = [j for j in judgments if j.status == Status.DONE]
    assert done and all(j.score is not None for j in done), outcomes
    # RISEBench-64 has no consistency-free sample, so every criterion is asked; the only gaps are
    # KRIS multi-image items, which the one-image simulated editor refuses (unsupported_input).
    assert set(outcomes) <= {(Status.DONE, None), (Status.MISSING, "edit_failed")}, outcomes
    with session_scope() as s:
        failed_edits = {e.error_code for e in s.scalars(select(Edit).where(Edit.run_id == run_id, Edit.status == Status.FAILED))}
    assert failed_edits == ({"unsupported_input"} if kind == "kris" else set())
    formats = {
        "gedit": '{"score": [',
        "kris": '_score": ',
        "rise": "Final Score: ",
        "imgedit": ": ",
    }
    assert all(formats[kind] in j.raw_output for j in done)
    if kind == "kris":  # the dual question scores two criteria from one answer
        knowledge = [j for j in done if j.criterion == "knowledge_plausibility"]
        following = {j.sample_id: j.raw_output for j in done if j.criterion == "instruction_following"}
        assert knowledge and all(following[j.sample_id] == j.raw_output for j in knowledge)
    if kind == "rise":
        with session_scope() as s:
            category = s.scalar(select(Category.id).where(Category.name == "logical_reasoning"))
        logical = [j.score for j in done if j.criterion == "instruction_reasoning" and j.category_id == category]
        assert logical and set(logical) <= {1.0, 5.0}  # official 0/1 answers mapped as gpt_eval.py does


def _report(run_id: int, out: Path) -> tuple[dict, str, str]:
    import json

    import jsonschema

    from editbench.report import write_report
    from editbench.report.json_schema import load_schema

    with session_scope() as s:
        paths = write_report(s, run_id, out)
    summary = json.loads(paths.summary_json.read_text())
    jsonschema.validate(summary, load_schema("summary"))
    return summary, paths.report_md.read_text(), paths.report_html.read_text()


def _scores(run_id: int) -> dict[tuple[int, str], float]:
    return {(j.sample_id, j.criterion): j.score for j in _judgments(run_id) if j.status == Status.DONE}


def _mean(values: list[float]) -> float:
    return sum(values) / len(values)


@pytest.mark.parametrize("kind", ["gedit", "kris", "rise", "imgedit"])
def test_the_report_of_an_official_run_carries_the_papers_table_and_names_the_protocol(
    kind, realdata, official_checkout, tmp_path, sqlite_db, monkeypatch
):
    from editbench.protocols import gedit, kris
    from editbench.schema.models import Sample

    run_id = official_run(kind, realdata, official_checkout(kind), tmp_path, monkeypatch)
    summary, markdown, html = _report(run_id, tmp_path / "report")
    official = summary["official"]
    assert official["kind"] == kind and official["commit"] is None  # the synthetic checkout is no git tree
    assert official["repository"] in markdown and "Protocol: official" in markdown and "Protocol: official" in html
    assert "## Official table" in markdown and "Official table" in html
    scores = _scores(run_id)
    with session_scope() as s:
        samples = {x.id: (x.category.name, x.instruction_language, tuple(x.tags or ())) for x in s.scalars(select(Sample))}
    sections = official["sections"]

    if kind == "gedit":
        assert list(sections) == ["en/fullset", "en/intersection", "cn/fullset", "cn/intersection"]
        assert [r["group"] for r in sections["en/fullset"]] == [*gedit.GROUPS, "Average"]
        assert official["columns"] == ["SC", "PQ", "O"]
        # The official SC of a task type is the mean of the per-criterion SC scores in the ledger.
        for row in sections["en/fullset"][:-1]:
            sc = [v for (sid, c), v in scores.items() if c == "semantic_consistency" and samples[sid][:2] == (row["group"], "en")]
            assert row["values"]["SC"] == pytest.approx(_mean(sc)) and row["count"] == len(sc)
        assert "### EN" in markdown and "### CN" in markdown and "| task type | full SC | full PQ | full O | intersection SC |" in markdown
    elif kind == "kris":
        assert list(sections) == ["categories", "dimensions", "knowledge_types"]
        assert [r["group"] for r in sections["knowledge_types"]] == [*kris.TAXONOMY, "Overall"]
        overall = sections["knowledge_types"][-1]["values"]
        consistency = [v for (_, c), v in scores.items() if c == "visual_consistency"]
        assert overall["visual_consistency"] == pytest.approx(_mean(consistency))
        assert overall["visual_consistency_100"] == pytest.approx((_mean(consistency) - 1) * 25)
        assert "### per knowledge type" in markdown and "visual_consistency (0–100)" in markdown
    elif kind == "rise":
        rows = sections["scores"]
        assert [r["group"] for r in rows[:5]] == ["Overall", "Temporal", "Causal", "Spatial", "Logical"]
        by_sample: dict[int, list[float]] = {}
        for (sid, _), value in scores.items():
            by_sample.setdefault(sid, []).append(value)
        accurate = [all(v == 5 for v in values) for values in by_sample.values()]
        assert rows[0]["values"]["Accuracy"] == pytest.approx(sum(accurate) / len(accurate))
        assert "| row | n | Score-Origin | Score-Percentage | Accuracy |" in markdown
    else:
        rows = sections["edit_types"]
        assert rows[-1]["group"] == "Overall"
        for row in rows[:-1]:
            per_item = {}
            for (sid, _), value in scores.items():
                if samples[sid][0] == row["group"]:
                    per_item.setdefault(sid, []).append(value)
            expected = round(_mean([round(_mean(v), 2) for v in per_item.values()]), 2)
            assert row["values"]["score"] == pytest.approx(expected)
        assert "| edit type | n | score |" in markdown


def test_a_report_of_editbenchs_own_rubric_says_so_and_has_no_official_table(sqlite_db, tmp_path, monkeypatch):
    from editbench.benchmark.example import write_example_benchmark
    from editbench.workers.tasks import edit_sample

    ingest(write_example_benchmark(tmp_path / "bench", per_category=1))
    monkeypatch.setenv("EDITBENCH_BROKER_URL", f"redis://127.0.0.1:{_closed_port()}/0")
    run_id = create_run(
        RunRequest(
            benchmark="editbench-example",
            categories=["physics"],
            editor=ModelRef("simulated", None, {"median_s": "0", "sigma": "0"}),
            judge=ModelRef("simulated", None, {}),
        )
    )
    with session_scope() as s:
        sample_id = s.scalar(select(Edit.sample_id).where(Edit.run_id == run_id))
    edit_sample.apply(args=(run_id, sample_id), task_id="edit-1").get(propagate=False)
    summary, markdown, html = _report(run_id, tmp_path / "report")
    assert "official" not in summary
    assert "Protocol: editbench's own rubric" in markdown and "editbench&#39;s own rubric" in html
    assert "Official table" not in markdown
