"""Celery's own task state (what Flower shows) says when a sample failed, and the category's
chord still scores everything else. Real workers, real Redis, the simulation adapters."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from editbench.benchmark.example import write_example_benchmark
from editbench.benchmark.store import ImageStore
from editbench.config import load_settings
from editbench.producer.ingest import ingest
from editbench.producer.submit import ModelRef, RunRequest, submit
from editbench.queue.app import app
from editbench.schema.db import session_scope
from editbench.schema.models import Edit, Judgment, Sample, Status
from tests.integration.harness import assert_exactly_once, wait_done

pytestmark = pytest.mark.integration


def test_a_failed_edit_ends_in_celery_state_failure_once_and_its_chord_still_scores_the_category(workers, tmp_path: Path) -> None:
    ingest(write_example_benchmark(tmp_path / "bench", per_category=3))
    with session_scope() as s:
        victim = s.scalars(select(Sample).where(Sample.category.has(name="physics")).order_by(Sample.id)).first()
        victim_id, sha = victim.id, victim.source_sha256
    ImageStore(load_settings().store_dir).path_for(sha).write_bytes(b"\x89PNG\r\n\x1a\n garbage")
    workers.start(0)
    workers.wait_ready(1)
    run_id = submit(
        RunRequest(
            benchmark="editbench-example",
            categories=["physics", "social"],
            editor=ModelRef("simulated", None, {"median_s": "0", "sigma": "0"}),
            judge=ModelRef("simulated", None, {"per_image_s": "0"}),
        )
    )
    # No sweeper runs here: the run finishes only if the physics chord scored its category
    # although one of its header tasks ended FAILURE.
    wait_done(run_id, workers, timeout_s=90)
    assert_exactly_once(run_id)
    with session_scope() as s:
        edits = {e.sample_id: e for e in s.scalars(select(Edit).where(Edit.run_id == run_id))}
        judged = s.execute(select(Judgment.sample_id, Judgment.status).where(Judgment.run_id == run_id)).all()
    assert (edits[victim_id].status, edits[victim_id].error_code, edits[victim_id].attempts) == (Status.FAILED, "corrupt_image", 1)
    assert {st for sid, st in judged if sid != victim_id} == {Status.DONE}

    states = {sid: app.AsyncResult(e.task_id).state for sid, e in edits.items()}
    assert states.pop(victim_id) == "FAILURE"
    assert set(states.values()) == {"SUCCESS"}
    failure = app.AsyncResult(edits[victim_id].task_id).result
    assert type(failure).__name__ == "RecordedFailure" and "corrupt_image" in str(failure)
    # An expected failure (declared in ``throws``): logged in one line, without a traceback of
    # its own, and never retried (the ledger shows one attempt). (Celery logs the chord body's
    # ChordError with a traceback; its error callback then scores the category.)
    log = "".join(p.read_text() for p in workers.log_dir.glob("*.log"))
    assert log.count("raised expected: RecordedFailure(") == 1
    assert "ChordError: Dependency" in log
    assert log.count("Traceback") == log.count("ChordError: Dependency")
