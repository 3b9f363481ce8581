"""Scenarios 4-6 on one shared pair of workers: a poison sample that kills its worker every time,
an editor and a judge that run out of memory, a judge that answers garbage, an input image that
vanished from the store after ingest, and a chord whose body (the category's scoring) was lost.

Every failure must end in a final ledger state with a reason code, never as a number, and never
stop the rest of the run.

Fault hooks used (all test-only, documented where they live):
- ``EDITBENCH_FAULT_CRASH_ON`` (editbench/workers/edit.py): ``os._exit(1)`` after claiming the
  listed samples, on every delivery;
- ``simulate_oom_for`` (editor parameter, editbench/models/qwen_image_edit.py): a real
  ``torch.OutOfMemoryError`` inside the editor for the listed samples;
- ``simulate_oom_above`` (judge parameter, editbench/models/qwen3_vl.py): a real
  ``torch.OutOfMemoryError`` for any judge batch larger than N.
"""

from __future__ import annotations

import time

import pytest
from sqlalchemy import select

from editbench.schema.db import session_scope
from editbench.schema.models import Sample, Status
from tests.faults.harness import (
    FAST_EDITOR,
    assert_run_complete,
    edits,
    judgments,
    wait_for,
    wait_run_done,
)
from tests.integration.harness import ingest_example, submit_run

pytestmark = pytest.mark.integration

POISON = "physics/000"
EDITOR_OOM = "physics/001"
VANISHED = "social/000"
MAX_ATTEMPTS = 2


@pytest.fixture(scope="module")
def cluster(module_cluster, tmp_path_factory):
    workers = module_cluster(2, EDITBENCH_FAULT_CRASH_ON=POISON, EDITBENCH_MAX_ATTEMPTS=str(MAX_ATTEMPTS))
    workers.benchmark = ingest_example(tmp_path_factory.mktemp("bench"), per_category=3)
    return workers


def _sample_ids() -> dict[str, int]:
    with session_scope() as s:
        return dict(s.execute(select(Sample.external_id, Sample.id)).all())


def _editor(**extra):
    from editbench.producer.submit import ModelRef

    def make(tiny_models):
        return ModelRef("qwen-image-edit", str(tiny_models.editor), {**FAST_EDITOR, **extra})

    return make


def _judge(tiny_models, **params):
    from editbench.producer.submit import ModelRef

    return ModelRef("qwen3-vl", str(tiny_models.judge), params)


def test_poison_oom_and_vanished_input_fail_alone_with_reason_codes(cluster, tiny_models) -> None:
    from editbench.benchmark.store import ImageStore
    from editbench.config import load_settings

    ids = _sample_ids()
    with session_scope() as s:
        shas = dict(s.execute(select(Sample.external_id, Sample.source_sha256)).all())
    assert list(shas.values()).count(shas[VANISHED]) == 1  # no other sample shares that file
    ImageStore(load_settings().store_dir).path_for(shas[VANISHED]).unlink()

    run_id = submit_run(
        cluster.benchmark,
        tiny_models,
        categories=["physics", "social"],
        judge_batch_size=3,
        editor=_editor(simulate_oom_for=EDITOR_OOM)(tiny_models),
        # Any judge batch above one item "runs out of memory": batches halve down to 1 and finish.
        judge=_judge(tiny_models, mode="logits", simulate_oom_above=1),
    )
    wait_run_done(run_id, logs=cluster.logs)
    assert_run_complete(run_id)
    rows = edits(run_id)
    poison, oom, vanished = rows[ids[POISON]], rows[ids[EDITOR_OOM]], rows[ids[VANISHED]]
    # The poison sample killed its worker's child on each of its MAX_ATTEMPTS deliveries, then
    # the next delivery found the cap reached and recorded it instead of running it again.
    assert (poison.status, poison.error_code, poison.attempts) == (Status.FAILED, "attempts_exhausted", MAX_ATTEMPTS)
    assert (oom.status, oom.error_code, oom.attempts) == (Status.FAILED, "oom", 1)
    assert "OutOfMemoryError" in oom.error
    assert (vanished.status, vanished.error_code) == (Status.FAILED, "missing_file")
    bad = {ids[POISON], ids[EDITOR_OOM], ids[VANISHED]}
    assert all(e.status == Status.DONE and e.attempts == 1 for sid, e in rows.items() if sid not in bad)
    for j in judgments(run_id):
        if j.sample_id in bad:
            assert (j.status, j.error_code, j.score) == (Status.MISSING, "edit_failed", None)
        else:  # the judge's simulated OOMs were absorbed by halving its batches
            assert j.status == Status.DONE and 0 <= j.score <= 10, (j.status, j.error_code, j.error)
    # The crashes really happened (whole logs: ``logs()`` keeps only each one's tail, and the
    # failed samples' chord errors are logged after the crashes).
    assert "exited with 'exitcode 1'" in "".join(p.read_text() for p in cluster.log_dir.glob("*.log"))


def test_judge_that_always_runs_out_of_memory_fails_its_judgments_as_oom(cluster, tiny_models) -> None:
    run_id = submit_run(
        cluster.benchmark,
        tiny_models,
        categories=["causal", "environment"],
        editor=_editor()(tiny_models),
        judge=_judge(tiny_models, mode="logits", simulate_oom_above=0),
    )
    wait_run_done(run_id, logs=cluster.logs)
    assert_run_complete(run_id)
    assert {e.status for e in edits(run_id).values()} == {Status.DONE}
    found = judgments(run_id)
    assert {(j.status, j.error_code) for j in found} == {(Status.FAILED, "oom")}
    assert all(j.score is None and "OutOfMemoryError" in j.error for j in found)


def test_garbage_from_the_judge_is_a_parse_error_never_a_number(cluster, tiny_models) -> None:
    from editbench.producer.progress import read_status

    # A random tiny judge in generate mode writes noise, never the JSON the parser needs.
    run_id = submit_run(
        cluster.benchmark,
        tiny_models,
        categories=["causal", "referential"],
        editor=_editor()(tiny_models),
        judge=_judge(tiny_models, mode="generate", max_new_tokens=12, max_reasks=1),
    )
    wait_run_done(run_id, logs=cluster.logs)
    assert_run_complete(run_id)
    found = judgments(run_id)
    assert found and all(j.status in (Status.PARSE_ERROR, Status.REFUSAL) for j in found), [(j.status, j.raw_output) for j in found]
    assert all(j.score is None and j.error_code and j.raw_output is not None for j in found)
    view = read_status(run_id)
    assert all(c["scored"] == 0 and c["judgment_failed"] == c["judgments"] for c in view.categories)


def test_lost_chord_body_is_replaced_by_the_sweeper(cluster, tiny_models) -> None:
    """Edits are sent without their chord (as if the body or the chord's state were lost); once
    they are through, the periodic sweeper notices finished edits with open judgments."""
    from editbench.producer.submit import RunRequest, create_run
    from editbench.queue.app import app
    from editbench.queue.dispatch import sweep_open_runs

    run_id = create_run(
        RunRequest(
            benchmark=cluster.benchmark,
            editor=_editor()(tiny_models),
            judge=_judge(tiny_models, mode="logits"),
            categories=["environment", "referential"],
        )
    )
    sample_ids = sorted(edits(run_id))
    for sid in sample_ids:
        app.signature("editbench.edit_sample", args=(run_id, sid), queue="editbench.gpu").apply_async().forget()
    wait_for(lambda: all(e.status == Status.DONE for e in edits(run_id).values()), 60, "the edits", logs=cluster.logs)
    time.sleep(1.0)
    assert {j.status for j in judgments(run_id)} == {Status.PENDING}  # nobody will score them...
    report = sweep_open_runs()  # ...until the sweeper (beat runs this every interval) does
    assert report.scored_categories == 2 and report.requeued_edits == 0
    wait_run_done(run_id, logs=cluster.logs)
    assert_run_complete(run_id)
    assert {j.status for j in judgments(run_id)} == {Status.DONE}
    assert sweep_open_runs().scored_categories == 0  # and a finished run is left alone
