"""Celery tasks: thin wrappers that unpack ids, call a plain function, return a small dict.

The plain functions (``edit.edit_sample``, ``score.judge_samples``, ``dispatch.sweep_open_runs``) are what
unit tests call; these wrappers are what real workers run.
"""

from __future__ import annotations

from celery import Task

from editbench.errors import RecordedFailure
from editbench.queue import dispatch
from editbench.queue.app import app
from editbench.queue.names import (
    EDIT_TASK,
    JUDGE_BATCH_TASK,
    SCORE_CATEGORY_TASK,
    SWEEP_TASK,
)
from editbench.schema import queries
from editbench.schema.db import transact
from editbench.workers.edit import edit_sample as _edit_sample
from editbench.workers.score import judge_samples, plan_category_scoring

# A chord body that finds the barrier unmet (a duplicate claim is still editing) looks again.
_BARRIER_RETRY_S = 5.0
_BARRIER_MAX_RETRIES = 720


def _cancelled(run_id: int) -> bool:
    """A task of a run that ``editbench cancel`` stopped does nothing: no claim, no model, no GPU
    time (its rows stay ``pending`` for ``editbench resume``). Checked on entry because a worker
    may already hold a message that the cancel could not take back from the queue."""
    return bool(transact(lambda session: queries.run_is_cancelled(session, run_id)))


@app.task(name=EDIT_TASK, bind=True, throws=(RecordedFailure,))
def edit_sample(self: Task, run_id: int, sample_id: int) -> dict[str, object]:
    """A failed sample is recorded first, then the task ends ``FAILURE`` (Flower counts it; the
    chord's error callback still scores the category: ``dispatch.enqueue_category``)."""
    if _cancelled(run_id):
        return {"run_id": run_id, "sample_id": sample_id, "status": "cancelled"}
    result = _edit_sample(run_id, sample_id, self.request.id)
    if result.status == "failed":
        raise RecordedFailure(f"run {run_id} sample {sample_id}: edit failed ({result.error_code}); recorded in the ledger")
    return result.as_dict()


@app.task(name=SCORE_CATEGORY_TASK, bind=True, max_retries=_BARRIER_MAX_RETRIES)
def score_category(self: Task, _header_results: object, run_id: int, category_id: int) -> dict[str, int]:
    """Chord body: the category's edits are through; fan out its judge batches."""
    if _cancelled(run_id):
        return {"run_id": run_id, "category_id": category_id, "batches": 0}
    plan = plan_category_scoring(run_id, category_id)
    if plan.batches is None:
        raise self.retry(countdown=_BARRIER_RETRY_S)
    dispatch.enqueue_judge_batches(run_id, category_id, plan.batches)
    return {"run_id": run_id, "category_id": category_id, "batches": len(plan.batches)}


@app.task(name=JUDGE_BATCH_TASK, bind=True, throws=(RecordedFailure,))
def judge_batch(self: Task, run_id: int, category_id: int, sample_ids: list[int]) -> dict[str, int]:
    """Ends ``FAILURE`` when a judgment of the batch was recorded ``failed`` (after recording)."""
    if _cancelled(run_id):
        return {"run_id": run_id, "category_id": category_id, "judged": 0}
    result = judge_samples(run_id, category_id, sample_ids, self.request.id)
    if result.failed:
        raise RecordedFailure(f"run {run_id} category {category_id}: {result.failed} judgment(s) failed; recorded in the ledger")
    return result.as_dict()


@app.task(name=SWEEP_TASK)
def sweep() -> dict[str, int]:
    """Periodic (beat): re-enqueue lost or stalled work of every open run from the ledger."""
    return dispatch.sweep_open_runs().as_dict()
