"""A worker that lost its claim writes no artifact.

Worker A is frozen (SIGSTOP) mid-edit, past its lease; ``resume`` hands the sample to worker B,
which edits, records and publishes it, and the run is judged. Then A wakes up and finishes the
same edit. Fencing used to protect only A's ledger row: A still replaced B's artifact file and
the Redis copy the judge reads. Now A publishes only inside the transaction that proves it holds
the claim, so it discards its staged file and touches nothing. Both databases (PostgreSQL takes
the row lock with ``FOR UPDATE``).
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest

from editbench.config import load_settings
from editbench.producer.resume import resume_run
from editbench.producer.submit import ModelRef, RunRequest, submit
from editbench.queue.connection import redis_client
from editbench.queue.names import edited_image_key
from editbench.schema.db import session_scope
from editbench.schema.models import Edit, Status
from tests.faults.harness import (
    assert_run_complete,
    edits,
    pid_of,
    running_edit,
    wait_for,
    wait_run_done,
)
from tests.integration.harness import ingest_example

pytestmark = pytest.mark.integration

LEASE_S = 3


def test_a_worker_frozen_past_its_lease_writes_no_artifact_and_no_redis_copy_after_another_took_over(
    db_url: str, make_workers, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EDITBENCH_LEASE_SECONDS", str(LEASE_S))
    workers = make_workers(db_url)
    benchmark = ingest_example(tmp_path, per_category=1)
    workers.start(0)
    workers.wait_ready(1)
    run_id = submit(
        RunRequest(
            benchmark=benchmark,
            categories=["physics"],
            editor=ModelRef("simulated", None, {"median_s": "3", "sigma": "0"}),
            judge=ModelRef("simulated", None, {"per_image_s": "0"}),
        )
    )

    sample_id, identity_a = wait_for(lambda: running_edit(run_id), 60, "worker A to claim the edit", logs=workers.logs)
    child_a = pid_of(identity_a)
    os.kill(child_a, signal.SIGSTOP)
    try:

        def lease_expired() -> bool:
            with session_scope() as s:
                row = s.get(Edit, edits(run_id)[sample_id].id)
                return row.lease_expires_at is not None and row.lease_expires_at.timestamp() < time.time() - 0.5

        wait_for(lease_expired, 3 * LEASE_S, "A's lease to run out", poll_s=0.2)

        workers.start(1)
        workers.wait_ready(2)
        resume_run(run_id)  # releases the stalled edit and queues it again: B takes it
        wait_run_done(run_id, logs=workers.logs)
        taken_over = edits(run_id)[sample_id]
        assert (taken_over.status, taken_over.attempts) == (Status.DONE, 2) and "/slot1/" in taken_over.worker

        artifact = Path(taken_over.output_path)
        published = artifact.stat()
        b_bytes = artifact.read_bytes()
        # A marker in the Redis copy: any write by A would replace it.
        redis_client().set(edited_image_key(run_id, sample_id), b"written-by-B")
    finally:
        os.kill(child_a, signal.SIGCONT)

    log_a = workers.log_dir / "worker-0.log"
    wait_for(lambda: "succeeded in" in log_a.read_text(), 30, "A to finish its stale edit", poll_s=0.2, logs=workers.logs)
    after = artifact.stat()
    assert (after.st_ino, after.st_mtime_ns) == (published.st_ino, published.st_mtime_ns)
    assert artifact.read_bytes() == b_bytes
    assert redis_client().get(edited_image_key(run_id, sample_id)) == b"written-by-B"
    assert "'status': 'fenced'" in log_a.read_text()
    assert "finished after its claim was lost; nothing written" in log_a.read_text()
    row = edits(run_id)[sample_id]
    assert (row.status, row.worker, row.output_sha256) == (Status.DONE, taken_over.worker, taken_over.output_sha256)
    # One file for the one edited sample, no staged leftovers from A.
    assert_run_complete(run_id, load_settings().artifacts_dir)
