"""The Celery task functions, run in this process (``Task.apply``: eager, no broker, no worker
subprocess) on a real SQLite ledger with the real simulation adapters.

Redis is deliberately unreachable here (a closed port on 127.0.0.1): the claim check must then
fall back to the durable artifact file, as it does when a broker blips in production. The same
tasks run in real worker processes in tests/integration and tests/faults.
"""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from sqlalchemy import select

from editbench.benchmark.example import write_example_benchmark
from editbench.producer.ingest import ingest
from editbench.producer.submit import ModelRef, RunRequest, create_run
from editbench.schema.db import session_scope
from editbench.schema.models import Edit, Judgment, Run, RunStatus, Status


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def run_id(sqlite_db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> int:
    monkeypatch.setenv("EDITBENCH_BROKER_URL", f"redis://127.0.0.1:{_closed_port()}/0")
    folder = write_example_benchmark(tmp_path / "bench", per_category=2)
    ingest(folder)
    return create_run(
        RunRequest(
            benchmark="editbench-example",
            categories=["physics"],
            editor=ModelRef("simulated", None, {"median_s": "0", "sigma": "0"}),
            judge=ModelRef("simulated", None, {"per_image_s": "0"}),
            judge_batch_size=1,
        )
    )


def _edits(run_id: int) -> dict[int, Edit]:
    with session_scope() as s:
        return {e.sample_id: e for e in s.scalars(select(Edit).where(Edit.run_id == run_id))}


def _judgments(run_id: int) -> list[Judgment]:
    with session_scope() as s:
        return list(s.scalars(select(Judgment).where(Judgment.run_id == run_id)))


def test_the_edit_task_records_a_done_edit_and_stores_the_image_without_redis(run_id: int) -> None:
    from editbench.workers.tasks import edit_sample

    sample_id = min(_edits(run_id))
    result = edit_sample.apply(args=(run_id, sample_id), task_id="edit-task-1").get()
    assert result == {"run_id": run_id, "sample_id": sample_id, "status": "done"}
    edit = _edits(run_id)[sample_id]
    assert (edit.status, edit.task_id, edit.attempts) == (Status.DONE, "edit-task-1", 1)
    assert Path(edit.output_path).is_file() and len(edit.output_sha256) == 64


def test_a_redelivered_edit_task_is_a_no_op_once_done(run_id: int) -> None:
    from editbench.workers.tasks import edit_sample

    sample_id = min(_edits(run_id))
    edit_sample.apply(args=(run_id, sample_id), task_id="edit-task-1").get()
    again = edit_sample.apply(args=(run_id, sample_id), task_id="edit-task-2").get()
    assert again["status"] == "skipped"
    assert _edits(run_id)[sample_id].task_id == "edit-task-1"


def test_the_chord_body_waits_while_an_edit_of_its_category_is_open(run_id: int) -> None:
    from celery.exceptions import Retry

    from editbench.workers.tasks import score_category

    category_id = next(iter(_edits(run_id).values())).category_id
    # Called directly (as a worker would run it, minus the broker), the barrier asks for a retry.
    with pytest.raises(Retry):
        score_category.run(None, run_id, category_id)
    assert all(j.status == Status.PENDING for j in _judgments(run_id))


def test_edit_then_score_then_judge_tasks_finish_the_run(run_id: int, monkeypatch: pytest.MonkeyPatch) -> None:
    from editbench.queue.app import app
    from editbench.workers.tasks import edit_sample, score_category, sweep

    edits = _edits(run_id)
    for sample_id in edits:
        edit_sample.apply(args=(run_id, sample_id), task_id=f"edit-{sample_id}").get()
    # The chord body sends one judge batch per sample (batch size 1); eagerly, they run here.
    monkeypatch.setitem(app.conf, "task_always_eager", True)
    category_id = next(iter(edits.values())).category_id
    summary = score_category.apply(args=(None, run_id, category_id), task_id="score-1").get()
    assert summary == {"run_id": run_id, "category_id": category_id, "batches": len(edits)}
    judgments = _judgments(run_id)
    assert judgments and all(j.status == Status.DONE and j.score is not None for j in judgments)
    with session_scope() as s:
        assert s.get(Run, run_id).status == RunStatus.DONE
    assert sweep.apply().get()["runs"] == 0  # nothing open is left for the sweeper


def test_a_failed_edit_is_recorded_with_its_failure_code_and_its_judgments_missing(run_id: int) -> None:
    from editbench.errors import FailureCode
    from editbench.workers.tasks import edit_sample

    sample_id = min(_edits(run_id))
    with session_scope() as s:
        from editbench.schema.models import Sample

        s.get(Sample, sample_id).instruction = "   "
    result = edit_sample.apply(args=(run_id, sample_id), task_id="edit-x")
    # Recorded first, then the task ends FAILURE (Flower counts it) with the typed exception.
    assert result.state == "FAILURE" and type(result.result).__name__ == "RecordedFailure"
    assert "empty_instruction" in str(result.result)
    edit = _edits(run_id)[sample_id]
    assert edit.error_code == FailureCode.EMPTY_INSTRUCTION == "empty_instruction"
    assert {j.status for j in _judgments(run_id) if j.sample_id == sample_id} == {Status.MISSING}


def test_a_judge_batch_with_a_failed_judgment_ends_failure_after_recording_it(run_id: int) -> None:
    from editbench.workers.tasks import edit_sample, judge_batch

    sample_id = min(_edits(run_id))
    edit_sample.apply(args=(run_id, sample_id), task_id="edit-1").get()
    edit = _edits(run_id)[sample_id]
    Path(edit.output_path).unlink()  # Redis is unreachable here too: the image cannot be read back
    result = judge_batch.apply(args=(run_id, edit.category_id, [sample_id]), task_id="judge-1")
    assert result.state == "FAILURE" and type(result.result).__name__ == "RecordedFailure"
    mine = [j for j in _judgments(run_id) if j.sample_id == sample_id]
    assert mine and {(j.status, j.error_code) for j in mine} == {(Status.FAILED, "image_unreadable")}
