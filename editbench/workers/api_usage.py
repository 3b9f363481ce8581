"""Served models count what they spend (``model.usage``): this module turns that into ledger
rows — per judge batch, with a per-run budget, and per edit (``openai-images``).

A judge that has ``score_with_usage(requests, spent=...)`` is given the run's total so far (the
sum of the run's ``api_usage`` rows), so its ``budget_usd``/``budget_tokens`` is a budget for the
whole run across batches and workers. Batches running at the same time each see the total as it
was when they started: the overshoot is at most the requests in flight on all workers. When the
budget runs out the judge raises ``BudgetExhausted`` after its in-flight requests finish; the
finished results are kept and the samples never started are returned as ``unjudged`` so the
caller puts them back to ``pending`` (``resume`` continues them). Any other judge is called
through the plain :class:`~editbench.models.base.Judge` protocol and records no usage.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from editbench.models.base import Judge, JudgeRequest, JudgeResult
from editbench.schema import ledger, queries
from editbench.schema.db import transact

USAGE_FIELDS = (
    "requests",
    "retries",
    "rate_limited",
    "server_errors",
    "timeouts",
    "failed",
    "prompt_tokens",
    "completion_tokens",
    "images",
)


@dataclass
class ScoredBatch:
    results: list[JudgeResult]
    usage: ledger.UsageRecord | None = None
    unjudged: list[int] = field(default_factory=list)  # sample ids never started
    stopped: str | None = None


def score_batch(judge: Judge, requests: Sequence[JudgeRequest], *, run_id: int, category_id: int, task_id: str, worker: str) -> ScoredBatch:
    """Score ``requests``; with a usage-counting judge also return its usage row and, when its
    budget ran out, the unjudged samples."""
    score_with_usage = getattr(judge, "score_with_usage", None)
    if not callable(score_with_usage):
        return ScoredBatch(judge.score(requests))
    from editbench.models.openai_judge import (
        BudgetExhausted,  # the exception of the protocol
    )

    spent = _run_spent(run_id, judge)
    stopped = None
    unjudged: list[int] = []
    try:
        batch = score_with_usage(requests, spent=spent)
    except BudgetExhausted as exc:
        batch, stopped = exc.batch, str(exc)
        unjudged = [int(key) for key in exc.unjudged]
    record = _usage_record(
        batch.usage, run_id=run_id, stage="judge", category_id=category_id, task_id=task_id, worker=worker, stopped=stopped
    )
    return ScoredBatch(list(batch.results), record, unjudged, stopped)


class UsageMeter:
    """What a served editor spends on one edit: its ``usage`` before and after (a worker runs one
    task at a time, so the difference is this edit's). Models without ``usage`` record nothing."""

    def __init__(self, model: Any) -> None:
        self.model = model
        self.before = getattr(model, "usage", None)

    def record(self, *, run_id: int, category_id: int, task_id: str, worker: str) -> ledger.UsageRecord | None:
        if self.before is None:
            return None
        spent = self.model.usage - self.before
        if not spent.requests:
            return None
        return _usage_record(spent, run_id=run_id, stage="edit", category_id=category_id, task_id=task_id, worker=worker)


def _usage_record(
    usage: Any, *, run_id: int, stage: str, category_id: int, task_id: str, worker: str, stopped: str | None = None
) -> ledger.UsageRecord:
    return ledger.UsageRecord(
        batch_key=uuid.uuid4().hex,
        run_id=run_id,
        stage=stage,
        counters={name: int(getattr(usage, name, 0) or 0) for name in USAGE_FIELDS},
        cost_usd=getattr(usage, "cost_usd", None),
        category_id=category_id,
        task_id=task_id,
        worker=worker,
        stopped=stopped,
    )


def _run_spent(run_id: int, judge: Any) -> Any:
    """The run's usage so far as the judge's own ``Usage`` type (what its budget counts)."""
    totals = transact(lambda session: queries.run_api_usage(session, run_id, "judge"))
    usage_type = type(judge.usage)
    if totals is None:
        return usage_type(cost_usd=0.0 if getattr(judge.usage, "cost_usd", None) is not None else None)
    return usage_type(**totals.counters, cost_usd=totals.cost_usd)
