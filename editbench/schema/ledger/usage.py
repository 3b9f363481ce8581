"""What served models cost: one ``api_usage`` row per judge batch that sent requests.

Written in the same transaction as the batch's results (``workers.score``), keyed by a batch key
the worker draws once per attempt, so a transaction retried after a database blip writes the row
once and a batch that is redone after a crash (its requests really were sent twice) counts twice.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from editbench.schema.ledger.rows import insert_ignoring_duplicates, utcnow
from editbench.schema.models import ApiUsage

COUNTERS = (
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


@dataclass(frozen=True)
class UsageRecord:
    batch_key: str
    run_id: int
    stage: str
    counters: dict[str, int]
    cost_usd: float | None = None
    category_id: int | None = None
    task_id: str | None = None
    worker: str | None = None
    stopped: str | None = None


def record_api_usage(session: Session, record: UsageRecord) -> bool:
    """Insert the batch's usage once; returns whether this call wrote it."""
    row = {
        "batch_key": record.batch_key,
        "run_id": record.run_id,
        "stage": record.stage,
        "category_id": record.category_id,
        "task_id": record.task_id,
        "worker": record.worker,
        "cost_usd": record.cost_usd,
        "stopped": record.stopped,
        "created_at": utcnow(),
        **{name: int(record.counters.get(name, 0) or 0) for name in COUNTERS},
    }
    return insert_ignoring_duplicates(session, ApiUsage, [row]) == 1
