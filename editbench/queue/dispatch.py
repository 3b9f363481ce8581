"""Turning ledger state into Celery messages: chords per category, judge batches, the sweeper.

Messages are only intentions: every task is idempotent on (run, sample, stage), so sending one
twice costs a no-op, and the ledger alone decides what is done. Tasks are addressed by name, so
this module needs the Celery app but not the worker code (which pulls in the models).
"""

from __future__ import annotations

import base64
import json
from collections import defaultdict
from dataclasses import dataclass, field
from typing import cast

from celery import chord
from celery.result import AsyncResult

from editbench.queue.app import app
from editbench.queue.connection import redis_client
from editbench.queue.names import (
    CONTROL_QUEUE,
    EDIT_TASK,
    JUDGE_BATCH_TASK,
    QUEUE_KEY_PATTERN,
    SCORE_CATEGORY_TASK,
    all_queues,
    edit_queue,
    judge_queue,
)
from editbench.schema import ledger, queries
from editbench.schema.db import session_scope, transact


def enqueue_category(run_id: int, category_id: int, sample_ids: list[int]) -> None:
    """One chord: header = an edit task per sample (GPU queues), body = the category's scoring."""
    positions, (routing, gpus) = transact(lambda session: (queries.sample_positions(session, run_id), queries.run_routing(session, run_id)))
    header = [app.signature(EDIT_TASK, args=(run_id, sid), queue=edit_queue(routing, positions.get(sid, 0), gpus)) for sid in sample_ids]
    body = app.signature(SCORE_CATEGORY_TASK, args=(run_id, category_id), queue=CONTROL_QUEUE)
    # A header task of a failed sample ends in Celery state FAILURE (so Flower counts it), and
    # Celery then fails the body with a ChordError instead of calling it. Its error callback is
    # the same scoring, sent on its own: the category is scored all the same (the body only
    # plans from the ledger, so which of the two runs it does not matter).
    body.link_error(app.signature(SCORE_CATEGORY_TASK, args=(None, run_id, category_id), queue=CONTROL_QUEUE, immutable=True))
    if header:
        _stop_listening(chord(header)(body))
    else:
        enqueue_scoring(run_id, category_id)


def _stop_listening(result: AsyncResult) -> None:
    """The producer never waits on results, but Celery's Redis backend subscribes to each sent
    task's result channel; unsubscribe now, while Redis is reachable, rather than from
    ``AsyncResult.__del__`` during interpreter shutdown (which prints a traceback)."""
    consumer = app.backend.result_consumer
    pending = [result]
    while pending:
        current = pending.pop()
        consumer.cancel_for(current.id)
        pending.extend(getattr(current, "results", None) or [])
        if current.parent is not None:
            pending.append(current.parent)


def enqueue_scoring(run_id: int, category_id: int) -> None:
    _stop_listening(app.signature(SCORE_CATEGORY_TASK, args=(None, run_id, category_id), queue=CONTROL_QUEUE).apply_async())


def enqueue_judge_batches(run_id: int, category_id: int, batches: list[list[int]]) -> None:
    # Runs in the chord body (a worker): a database blip must delay it, not lose the scoring.
    (routing, gpus), placement = transact(
        lambda session: (queries.run_routing(session, run_id), queries.run_judge_placement(session, run_id))
    )
    for i, batch in enumerate(batches):
        # Judge queues are drained before edit queues (``names.worker_queues``): the next free
        # worker judges this category before taking another category's pending edit.
        queue = judge_queue(placement, routing, i, gpus)
        _stop_listening(app.signature(JUDGE_BATCH_TASK, args=(run_id, category_id, batch), queue=queue).apply_async())


def submit_run(run_id: int) -> int:
    """Enqueue everything of a run that is not final yet. Returns the number of chords sent."""
    by_category: dict[int, list[int]] = defaultdict(list)
    with session_scope() as session:
        category_of = queries.categories_of_samples(session, run_id)
        for sample_id in queries.pending_edit_samples(session, run_id, include_stalled=False):
            by_category[category_of[sample_id]].append(sample_id)
        progress = queries.run_progress(session, run_id)
    for category_id, sample_ids in sorted(by_category.items()):
        enqueue_category(run_id, category_id, sample_ids)
    for p in progress:
        if p.category_id not in by_category and not p.finished:
            enqueue_scoring(run_id, p.category_id)
    # A run with nothing left to do (e.g. only empty categories) is finished now: no task will.
    transact(lambda session: ledger.finish_run_if_complete(session, run_id))
    return len(by_category)


@dataclass
class SweepReport:
    runs: int = 0
    released_edits: int = 0
    requeued_edits: int = 0
    scored_categories: int = 0
    new_samples: int = 0
    finished_runs: list[int] = field(default_factory=list)

    def as_dict(self) -> dict[str, int]:
        return {
            "runs": self.runs,
            "released_edits": self.released_edits,
            "requeued_edits": self.requeued_edits,
            "scored_categories": self.scored_categories,
            "new_samples": self.new_samples,
            "finished_runs": len(self.finished_runs),
        }


def queued_messages(gpus: int) -> int:
    """Messages waiting in editbench's queues (kombu keeps a Redis list per queue)."""
    client = redis_client()
    return sum(client.llen(name) for name in all_queues(gpus))


@dataclass(frozen=True)
class Withdrawal:
    """What ``withdraw_run`` took back from the broker."""

    removed: int  # messages deleted from the queues before any worker saw them
    revoked: int  # task ids revoked (workers that already prefetched one drop it)


def withdraw_run(run_id: int) -> Withdrawal:
    """Take a cancelled run's queued work back: delete its messages from editbench's queues and
    revoke their task ids, so no worker spends GPU time on them. Messages a worker already holds
    are stopped by the task entry's cancelled-run check (``workers.tasks``); the ledger keeps the
    work ``pending``, so ``editbench resume`` can send it again."""
    client = redis_client()
    removed, task_ids = 0, []
    for key in client.scan_iter(match=QUEUE_KEY_PATTERN):
        if client.type(key) != b"list":
            continue
        for raw in cast(list[bytes], client.lrange(key, 0, -1)):  # no decode_responses: bytes
            task_id = _task_of_run(raw, run_id)
            if task_id is not None and client.lrem(key, 1, raw):  # type: ignore[arg-type]  # redis-py accepts bytes values
                removed += 1
                task_ids.append(task_id)
    if task_ids:
        app.control.revoke(task_ids)
    return Withdrawal(removed=removed, revoked=len(task_ids))


def _task_of_run(raw: bytes, run_id: int) -> str | None:
    """The task id of a queued kombu message if it is one of ``run_id``'s tasks, else None."""
    try:
        message = json.loads(raw)
        headers = message.get("headers") or {}
        body = message.get("body")
        if message.get("properties", {}).get("body_encoding") == "base64":
            body = base64.b64decode(body)
        args = json.loads(body)[0]
    except (ValueError, TypeError, KeyError, IndexError, AttributeError):
        return None  # not a message editbench sent: leave it alone
    task = headers.get("task")
    if task not in (EDIT_TASK, SCORE_CATEGORY_TASK, JUDGE_BATCH_TASK) or not isinstance(args, list) or not args:
        return None
    # score_category is a chord body: its first argument is the header's results (or None).
    owner = args[1] if task == SCORE_CATEGORY_TASK and len(args) > 1 else args[0]
    return str(headers.get("id")) if owner == run_id else None


def sweep_run(run_id: int, *, force: bool = False, report: SweepReport | None = None) -> SweepReport:
    """Bring one run forward from the ledger alone.

    - work whose lease expired (dead worker) goes back to pending and is re-enqueued;
    - pending work is re-enqueued when nothing is queued or running for it (the broker lost
      it), or always with ``force`` (``editbench resume``);
    - a category whose edits are all final but whose judgments are open gets its scoring
      (the chord body was lost);
    - a standing run (``--follow``) picks up samples ingested since.
    """
    report = report or SweepReport()
    report.runs += 1

    def read(session):  # idempotent, so ``transact`` may run it again after a database blip
        run = queries.get_run(session, run_id)
        if run is None:
            return None
        added: list[int] = []
        if run.follow:
            added = [sid for ids in ledger.add_missing_work(session, run_id).values() for sid in ids]
        released, judged_categories = ledger.release_stalled(session, run_id)
        idle = force or (queries.live_leases(session, run_id) == 0 and queued_messages(run.gpus) == 0)
        pending = queries.pending_edit_samples(session, run_id, include_stalled=False)
        return (
            added,
            released,
            judged_categories,
            idle,
            pending,
            queries.categories_of_samples(session, run_id),
            queries.run_progress(session, run_id),
            set() if force else queries.budget_held_categories(session, run_id),
        )

    state = transact(read)
    if state is None:
        return report
    added, released, judged_categories, idle, pending, category_of, progress, budget_held = state
    report.new_samples += len(added)
    report.released_edits += len(released)
    requeue: dict[int, list[int]] = defaultdict(list)
    # Newly added and released work was certainly not in any queue: send it now.
    certainly_unqueued = {s for _, s in released} | set(added)
    for sample_id in pending:
        if idle or sample_id in certainly_unqueued:
            requeue[category_of[sample_id]].append(sample_id)
    for category_id, sample_ids in sorted(requeue.items()):
        enqueue_category(run_id, category_id, sample_ids)
        report.requeued_edits += len(sample_ids)
    for p in progress:
        open_judgments = p.judgments_final < p.judgments_total
        if p.category_id in requeue or not open_judgments or p.category_id in budget_held:
            continue  # (a category stopped by the judge's budget waits for `resume`)
        if p.edits_finished and (idle or p.category_id in judged_categories):
            enqueue_scoring(run_id, p.category_id)
            report.scored_categories += 1
        elif force and not p.edits_finished:
            # Its open edits are all running under live leases, but their chord may have been
            # lost with the broker: without a new body nobody would score the category once they
            # finish. The body waits (retries) until the barrier is met; a duplicate is harmless.
            enqueue_scoring(run_id, p.category_id)
            report.scored_categories += 1
    if transact(lambda session: ledger.finish_run_if_complete(session, run_id)):
        report.finished_runs.append(run_id)
    return report


def sweep_open_runs() -> SweepReport:
    report = SweepReport()
    run_ids = transact(lambda session: [r.id for r in queries.open_runs(session)])
    for run_id in run_ids:
        sweep_run(run_id, report=report)
    return report
