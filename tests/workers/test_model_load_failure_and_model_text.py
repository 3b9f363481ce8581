"""A model that cannot be loaded stops its run with one reason; text a model says reaches the
ledger alike on SQLite and PostgreSQL. Real `editbench worker` processes, real Redis, the real
simulation adapters (their ``fail_to_load`` and ``raw_output`` drills)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from sqlalchemy import select, update

from editbench.benchmark.example import write_example_benchmark
from editbench.producer.ingest import ingest
from editbench.producer.progress import read_status
from editbench.producer.resume import resume_run
from editbench.producer.submit import ModelRef, RunRequest, submit
from editbench.schema.column_text import NUL_MARK
from editbench.schema.db import session_scope
from editbench.schema.models import Edit, Judgment, Run, RunStatus, Status

pytestmark = pytest.mark.integration

MISSING = "No module named 'flash_attn_drill'"


def _submit(tmp_path: Path, editor: dict, judge: dict) -> int:
    folder = write_example_benchmark(tmp_path / "bench", per_category=3)
    ingest(folder)
    return submit(
        RunRequest(
            benchmark="editbench-example",
            categories=["physics", "social"],
            judge_batch_size=2,
            editor=ModelRef("simulated", None, {"median_s": "0", "sigma": "0", **editor}),
            judge=ModelRef("simulated", None, {"per_image_s": "0", **judge}),
        )
    )


def _wait_status(run_id: int, wanted: str, workers, timeout_s: float = 90) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if read_status(run_id).status == wanted:
            return
        time.sleep(0.2)
    raise TimeoutError(f"run {run_id} never became {wanted}: {read_status(run_id)}\n{workers.logs()}")


def _rows(run_id: int) -> tuple[list[Edit], list[Judgment]]:
    with session_scope() as s:
        return (
            list(s.scalars(select(Edit).where(Edit.run_id == run_id))),
            list(s.scalars(select(Judgment).where(Judgment.run_id == run_id))),
        )


@pytest.mark.parametrize("role", ["editor", "judge"])
def test_a_model_that_cannot_load_stops_the_run_with_one_reason_and_resume_finishes_it_once_fixed(
    role: str, sqlite_db: str, make_workers, tmp_path: Path
) -> None:
    workers = make_workers(sqlite_db)
    workers.start(0)
    workers.wait_ready(1)
    drill = {"fail_to_load": MISSING}
    run_id = _submit(tmp_path, drill if role == "editor" else {}, drill if role == "judge" else {})

    _wait_status(run_id, "stopped", workers)
    time.sleep(2)  # every queued task has had its chance to (not) claim anything
    view = read_status(run_id)
    assert view.stopped and not view.finished
    assert view.stop_reason == f"the {role} 'simulated' could not be loaded: ModuleNotFoundError: {MISSING}"
    edits, judgments = _rows(run_id)
    if role == "editor":
        # Not one sample burnt: all still pending, no attempt spent, no reason recorded on them.
        assert {(e.status, e.attempts, e.error_code) for e in edits} == {(Status.PENDING, 0, None)}
    else:
        # Judge batches are taken before pending edits (queue priority), so the judge may fail to
        # load while other categories still have edits waiting: those stay pending, none failed.
        assert {e.status for e in edits} <= {Status.DONE, Status.PENDING} and Status.DONE in {e.status for e in edits}
        assert all(e.error_code is None for e in edits)
    assert {(j.status, j.attempts, j.error_code) for j in judgments} == {(Status.PENDING, 0, None)}
    # One stated reason in the log too, and no per-sample failure anywhere.
    assert "stopped: the " + role in workers.logs()

    # The cause is fixed (as installing the dependency would): resume finishes the run.
    params = Run.editor_params if role == "editor" else Run.judge_params
    with session_scope() as s:
        run = s.get(Run, run_id)
        fixed = {k: v for k, v in (run.editor_params if role == "editor" else run.judge_params).items() if k != "fail_to_load"}
        s.execute(update(Run).where(Run.id == run_id).values({params.key: fixed}))
    resume_run(run_id)
    _wait_status(run_id, "done", workers)
    edits, judgments = _rows(run_id)
    assert len(edits) == 6 and {e.status for e in edits} == {Status.DONE}
    assert len(judgments) == 3 * 3 + 3 * 2 and {j.status for j in judgments} == {Status.DONE}
    with session_scope() as s:
        assert s.get(Run, run_id).stop_reason is None


def test_a_nul_in_a_judge_answer_is_stored_flagged_on_both_databases_and_the_batch_is_kept(
    db_url: str, make_workers, tmp_path: Path
) -> None:
    """Before: on PostgreSQL the NUL aborted the batch's transaction three lease cycles running,
    and every judgment of the batch ended failed/attempts_exhausted."""
    workers = make_workers(db_url)
    workers.start(0)
    workers.wait_ready(1)
    answer = "score: 7\x00" + "x" * 50 + "\x00end"
    run_id = _submit(tmp_path, {}, {"raw_output": answer})
    _wait_status(run_id, "done", workers, timeout_s=120)
    _, judgments = _rows(run_id)
    assert len(judgments) == 15
    assert {(j.status, j.error_code) for j in judgments} == {(Status.DONE, None)}
    stored = answer.replace("\x00", NUL_MARK)
    assert {j.raw_output for j in judgments} == {stored} and {j.reasoning for j in judgments} == {stored}
    with session_scope() as s:
        assert s.get(Run, run_id).status == RunStatus.DONE
