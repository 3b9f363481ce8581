"""Killing workers mid-edit never loses or doubles work."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

import psutil
import pytest
from sqlalchemy import select

from editbench.schema.db import session_scope
from editbench.schema.models import Edit, Status
from tests.integration.harness import (
    assert_exactly_once,
    ingest_example,
    submit_run,
    wait_done,
)

pytestmark = pytest.mark.integration

# Slow enough per edit (~1-2 s on one CPU thread) that the kill lands mid-edit.
SLOW_EDITOR = {"steps": 24, "working_area": "128*128", "true_cfg_scale": 1.0}


def _wait_for_running_edit(run_id: int, timeout_s: float = 120) -> tuple[int, str]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with session_scope() as s:
            row = s.execute(select(Edit.sample_id, Edit.worker).where(Edit.run_id == run_id, Edit.status == Status.RUNNING)).first()
        if row:
            return row[0], row[1]
        time.sleep(0.05)
    raise TimeoutError("no edit started")


def _attempts(run_id: int, sample_id: int) -> int:
    with session_scope() as s:
        return s.scalar(select(Edit.attempts).where(Edit.run_id == run_id, Edit.sample_id == sample_id))


def test_sigkill_of_the_task_process_is_redelivered_and_finished(workers, tiny_models, tmp_path) -> None:
    from editbench.producer.submit import ModelRef

    benchmark = ingest_example(tmp_path, per_category=3)
    workers.start(0)
    workers.wait_ready(1)
    run_id = submit_run(
        benchmark, tiny_models, categories=["physics"], editor=ModelRef("qwen-image-edit", str(tiny_models.editor), dict(SLOW_EDITOR))
    )
    sample_id, worker = _wait_for_running_edit(run_id)
    child_pid = int(worker.rsplit("pid", 1)[1])
    psutil.Process(child_pid).send_signal(signal.SIGKILL)
    # The parent sees WorkerLostError and, with acks_late + reject_on_worker_lost, requeues.
    wait_done(run_id, workers)
    assert_exactly_once(run_id)
    assert _attempts(run_id, sample_id) == 2


def test_sigkill_of_the_whole_worker_then_resume_finishes_the_run(workers, tiny_models, tmp_path) -> None:
    from editbench.producer.submit import ModelRef

    benchmark = ingest_example(tmp_path, per_category=3)
    workers.start(0)
    workers.wait_ready(1)
    run_id = submit_run(
        benchmark, tiny_models, categories=["social"], editor=ModelRef("qwen-image-edit", str(tiny_models.editor), dict(SLOW_EDITOR))
    )
    sample_id, _ = _wait_for_running_edit(run_id)
    workers.stop(0, sig=signal.SIGKILL)  # parent and child, no chance to requeue
    workers.start(1)
    workers.wait_ready(1)
    time.sleep(float(workers.env["EDITBENCH_LEASE_SECONDS"]) + 0.5)  # the dead worker's lease runs out
    resume = subprocess.run(
        [sys.executable, "-m", "editbench.cli", "resume", str(run_id)], env=workers.env, capture_output=True, text=True, timeout=60
    )
    assert resume.returncode == 0, resume.stderr
    assert "re-enqueued" in resume.stdout
    wait_done(run_id, workers)
    assert_exactly_once(run_id)
    assert _attempts(run_id, sample_id) == 2
    with session_scope() as s:
        assert set(s.scalars(select(Edit.status).where(Edit.run_id == run_id))) == {Status.DONE}
