"""Text reaches the ledger the same way on SQLite and PostgreSQL: model text made storable (NUL
flagged, over-wide values cut with a marker), user text that cannot be stored refused."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from editbench import records
from editbench.benchmark import limits as benchmark_limits
from editbench.errors import RunConfigError
from editbench.schema import ledger
from editbench.schema.column_text import (
    NUL_MARK,
    column_limits,
    storable_text,
    truncation_marker,
)
from editbench.schema.db import session_scope
from editbench.schema.models import Edit, Judgment, Run, Status


def test_column_limits_are_read_from_the_models_and_agree_with_the_ingest_limits() -> None:
    limits = column_limits()
    assert limits["runs"]["name"] == 200 and limits["judgments"]["error_code"] == 64
    for (table, column), width in benchmark_limits.COLUMN_LIMITS.items():
        assert limits[table][column] == width


def test_model_text_keeps_its_length_budget_and_says_what_was_cut() -> None:
    assert storable_text("a\x00b") == f"a{NUL_MARK}b"
    assert storable_text("x" * 64, 64) == "x" * 64
    cut = storable_text("y" * 1000, 64)
    assert len(cut) == 64 and cut.startswith("y" * 30) and cut.endswith(truncation_marker(1000 - cut.index("…")))
    assert storable_text(None, 10) is None


def _one_sample_run(session, name: str = "") -> tuple[int, int]:
    record = records.Benchmark(
        name="text",
        version="1",
        description="",
        content_hash="x",
        score_min=0,
        score_max=10,
        overall="min",
        criteria=(records.Criterion("c"),),
        source_path="/nowhere",
        categories=(records.Category("cat"),),
    )
    sample = ledger.SampleRecord(
        external_id="s", category="cat", instruction="do", instruction_language="en", source_sha256="0" * 64, source_path="/nowhere/s.png"
    )
    bench = ledger.register_benchmark(session, record, [sample])
    run_id = ledger.create_run(session, ledger.RunSpec(bench.benchmark_id, "identity", None, "simulated", None, name=name))
    return run_id, session.scalar(select(Edit.sample_id).where(Edit.run_id == run_id))


def test_nul_and_over_long_model_text_is_stored_alike_on_both_databases(db_url: str) -> None:
    with session_scope() as s:
        run_id, sample_id = _one_sample_run(s)
    with session_scope() as s:
        assert ledger.claim_edit(s, run_id, sample_id, task_id="t1", worker="w" * 500, lease_s=60, max_attempts=3)
        ledger.record_edit(s, run_id, sample_id, "t1", ledger.EditOutcome(Status.DONE, seed=1, output_sha256="a" * 64))
    with session_scope() as s:
        assert ledger.claim_judgments(s, run_id, [sample_id], task_id="j1", worker="w", lease_s=60, max_attempts=3)
        outcome = ledger.JudgmentOutcome(
            "c", Status.FAILED, raw_output="7\x00", reasoning="\x00" * 3, error_code="x\x00" * 100, error="boom\x00"
        )
        assert ledger.record_judgments(s, run_id, sample_id, "j1", [outcome]) == 1
    with session_scope() as s:
        j = s.scalar(select(Judgment).where(Judgment.run_id == run_id))
        assert (j.raw_output, j.reasoning, j.error) == (f"7{NUL_MARK}", NUL_MARK * 3, f"boom{NUL_MARK}")
        assert len(j.error_code) == 64 and "more characters cut" in j.error_code
        assert len(s.scalar(select(Edit.worker).where(Edit.run_id == run_id))) == 200


@pytest.mark.parametrize("name", ["n" * 201, "bad\x00name"])
def test_a_run_name_the_ledger_cannot_store_is_refused_and_nothing_is_recorded(db_url: str, name: str) -> None:
    refused = pytest.raises(RunConfigError, match="the run's name (is 201 characters long|contains a NUL)")
    with refused, session_scope() as s:
        _one_sample_run(s, name=name)
    with session_scope() as s:
        assert s.scalar(select(func.count()).select_from(Run)) == 0
