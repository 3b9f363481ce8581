"""Claims: how a worker takes, keeps, records and loses an edit or a judgment.

Work items (edits and judgments) move ``pending → running → final`` under a *lease*: a worker
claims a row with a conditional UPDATE (only one claimer can win), renews the lease while it
works, and records the outcome only if it still holds the claim (fencing by task id). A worker
that dies stops renewing; once its lease expires anyone may claim the row again. A redelivered
Celery message carries the same task id, so it may take over its own dead attempt at once.
Attempts are counted, so a poison sample ends ``failed`` with ``attempts_exhausted`` instead of
looping forever.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, or_, select, update
from sqlalchemy.orm import Session

from editbench.errors import FailureCode
from editbench.schema.column_text import storable_text, storable_values
from editbench.schema.ledger.rows import rows_affected, utcnow
from editbench.schema.models import Edit, Judgment, Run, RunStatus, Status

#: The two kinds of leased work item; both map the same claim columns.
WorkItem = type[Edit] | type[Judgment]


def _text(code: str | None) -> str | None:
    """A failure code as the plain text the column stores (a ``FailureCode`` is a ``str``)."""
    return None if code is None else str(code)


@dataclass(frozen=True)
class Claim:
    attempt: int


def _claimable(model: WorkItem, task_id: str, now: datetime, max_attempts: int) -> Any:
    return and_(
        model.attempts < max_attempts,
        or_(
            model.status == Status.PENDING,
            and_(model.status == Status.RUNNING, or_(model.lease_expires_at < now, model.task_id == task_id)),
        ),
    )


def _exhausted(model: WorkItem, task_id: str, now: datetime, max_attempts: int) -> Any:
    return and_(
        model.attempts >= max_attempts,
        model.status.in_([Status.PENDING, Status.RUNNING]),
        or_(model.status == Status.PENDING, model.lease_expires_at < now, model.task_id == task_id),
    )


def claim_edit(
    session: Session, run_id: int, sample_id: int, *, task_id: str, worker: str, lease_s: float, max_attempts: int
) -> Claim | None:
    """Take the edit of (run, sample) for this task, or return None if it is done, held by a
    live claim, or has used up its attempts (then it is recorded as failed). Nothing of a
    stopped run is claimed: its work waits, pending, for ``resume``."""
    if _run_is_stopped(session, run_id):
        return None
    now = utcnow()
    where = and_(Edit.run_id == run_id, Edit.sample_id == sample_id)
    result = session.execute(
        update(Edit)
        .where(where, _claimable(Edit, task_id, now, max_attempts))
        .values(
            status=Status.RUNNING,
            attempts=Edit.attempts + 1,
            task_id=task_id,
            worker=storable_text(worker, 200),
            lease_expires_at=now + timedelta(seconds=lease_s),
            started_at=now,
        )
    )
    if rows_affected(result) == 1:
        return Claim(attempt=session.scalar(select(Edit.attempts).where(where)) or 1)
    exhausted = session.execute(
        update(Edit)
        .where(where, _exhausted(Edit, task_id, now, max_attempts))
        .values(
            status=Status.FAILED,
            error_code=FailureCode.ATTEMPTS_EXHAUSTED.value,
            error=f"gave up after {max_attempts} attempts (the worker died or was killed each time)",
            finished_at=now,
            lease_expires_at=None,
        )
    )
    if rows_affected(exhausted) == 1:
        _mark_judgments_missing(session, run_id, sample_id, f"edit failed: {FailureCode.ATTEMPTS_EXHAUSTED}")
    return None


def _run_is_stopped(session: Session, run_id: int) -> bool:
    return session.scalar(select(Run.status).where(Run.id == run_id)) == RunStatus.STOPPED


def release_claims(session: Session, model: WorkItem, run_id: int, task_id: str) -> int:
    """Hand back, as pending and with the attempt not counted, every row this task holds.

    For work that was never tried on its merits (the model could not even be loaded): the
    sample is not at fault, so it must neither fail nor use up an attempt."""
    return _hand_back(session, model, run_id, model.task_id == task_id, give_back_attempt=True, forget_claimer=True)


def renew_leases(session: Session, model: WorkItem, task_id: str, lease_s: float) -> int:
    """Extend every lease this task holds (called by the worker's heartbeat thread)."""
    result = session.execute(
        update(model)
        .where(model.task_id == task_id, model.status == Status.RUNNING)
        .values(lease_expires_at=utcnow() + timedelta(seconds=lease_s))
    )
    return rows_affected(result)


def holds_edit_claim(session: Session, run_id: int, sample_id: int, task_id: str) -> bool:
    """Whether this task still holds the edit's claim, locking the row until the transaction
    ends (``FOR UPDATE`` on PostgreSQL; SQLite's ``BEGIN IMMEDIATE`` already serialises
    writers). Inside that transaction nobody can take the claim over, so a worker may publish
    its artifact there and then record the outcome: the file write is fenced like the row."""
    held = session.scalar(
        select(Edit.id)
        .where(Edit.run_id == run_id, Edit.sample_id == sample_id, Edit.task_id == task_id, Edit.status == Status.RUNNING)
        .with_for_update()
    )
    return held is not None


@dataclass(frozen=True)
class EditOutcome:
    status: Status
    seed: int | None = None
    output_sha256: str | None = None
    output_path: str | None = None
    error_code: str | None = None
    error: str | None = None
    duration_s: float | None = None


def record_edit(session: Session, run_id: int, sample_id: int, task_id: str, outcome: EditOutcome) -> bool:
    """Write the edit's outcome if this task still holds the claim. Returns whether it wrote.
    A failed edit makes the sample's judgments ``missing``: they can never be scored."""
    now = utcnow()
    result = session.execute(
        update(Edit)
        .where(Edit.run_id == run_id, Edit.sample_id == sample_id, Edit.task_id == task_id, Edit.status == Status.RUNNING)
        .values(
            **storable_values(
                "edits",
                {
                    "status": outcome.status,
                    "seed": outcome.seed,
                    "output_sha256": outcome.output_sha256,
                    "output_path": outcome.output_path,
                    "error_code": _text(outcome.error_code),
                    "error": outcome.error,
                    "duration_s": outcome.duration_s,
                    "finished_at": now,
                    "lease_expires_at": None,
                },
            )
        )
    )
    wrote = rows_affected(result) == 1
    if wrote and outcome.status != Status.DONE:
        _mark_judgments_missing(session, run_id, sample_id, f"edit {outcome.status.value}: {outcome.error_code}")
    return wrote


def _mark_judgments_missing(session: Session, run_id: int, sample_id: int, reason: str) -> None:
    """A sample whose edit failed can never be scored; say so instead of leaving it pending."""
    session.execute(
        update(Judgment)
        .where(Judgment.run_id == run_id, Judgment.sample_id == sample_id, Judgment.status == Status.PENDING)
        .values(status=Status.MISSING, error_code=FailureCode.EDIT_FAILED.value, error=reason, finished_at=utcnow())
    )


def claim_judgments(
    session: Session, run_id: int, sample_ids: Iterable[int], *, task_id: str, worker: str, lease_s: float, max_attempts: int
) -> list[int]:
    """Claim all judgments of these samples whose edit is done; returns the sample ids claimed.
    A sample is claimed whole (every criterion) so one judge call can score it."""
    if _run_is_stopped(session, run_id):
        return []
    now = utcnow()
    ids = list(sample_ids)
    done_edits = select(Edit.sample_id).where(Edit.run_id == run_id, Edit.status == Status.DONE)
    scope = and_(Judgment.run_id == run_id, Judgment.sample_id.in_(ids), Judgment.sample_id.in_(done_edits))
    session.execute(
        update(Judgment)
        .where(scope, _claimable(Judgment, task_id, now, max_attempts))
        .values(
            status=Status.RUNNING,
            attempts=Judgment.attempts + 1,
            task_id=task_id,
            worker=storable_text(worker, 200),
            lease_expires_at=now + timedelta(seconds=lease_s),
            started_at=now,
        )
    )
    session.execute(
        update(Judgment)
        .where(scope, _exhausted(Judgment, task_id, now, max_attempts))
        .values(
            status=Status.FAILED,
            error_code=FailureCode.ATTEMPTS_EXHAUSTED.value,
            error=f"gave up after {max_attempts} attempts",
            finished_at=now,
        )
    )
    claimed = session.scalars(
        select(Judgment.sample_id).where(scope, Judgment.task_id == task_id, Judgment.status == Status.RUNNING).distinct()
    )
    return sorted(claimed)


@dataclass(frozen=True)
class JudgmentOutcome:
    criterion: str
    status: Status
    score: float | None = None
    confidence: float | None = None
    reasoning: str | None = None
    raw_output: str | None = None
    error_code: str | None = None
    error: str | None = None
    judge_identity: str | None = None
    prompt_version: str | None = None
    duration_s: float | None = None


def record_judgments(session: Session, run_id: int, sample_id: int, task_id: str, outcomes: Sequence[JudgmentOutcome]) -> int:
    """Write per-criterion outcomes for one sample, fenced by the claiming task id."""
    now = utcnow()
    written = 0
    for o in outcomes:
        result = session.execute(
            update(Judgment)
            .where(
                Judgment.run_id == run_id,
                Judgment.sample_id == sample_id,
                Judgment.criterion == o.criterion,
                Judgment.task_id == task_id,
                Judgment.status == Status.RUNNING,
            )
            .values(
                # Model text (answers, reasoning, errors) made storable alike on both databases:
                # one NUL in one answer must not abort the whole batch on PostgreSQL.
                **storable_values(
                    "judgments",
                    {
                        "status": o.status,
                        "score": o.score,
                        "confidence": o.confidence,
                        "reasoning": o.reasoning,
                        "raw_output": o.raw_output,
                        "error_code": _text(o.error_code),
                        "error": o.error,
                        "judge_identity": o.judge_identity,
                        "prompt_version": o.prompt_version,
                        "duration_s": o.duration_s,
                        "finished_at": now,
                        "lease_expires_at": None,
                    },
                )
            )
        )
        written += rows_affected(result)
    return written


def fail_unanswered_judgments(session: Session, run_id: int, task_id: str) -> int:
    """A judge that returned no score for a claimed criterion must not leave it running."""
    result = session.execute(
        update(Judgment)
        .where(Judgment.run_id == run_id, Judgment.task_id == task_id, Judgment.status == Status.RUNNING)
        .values(
            status=Status.FAILED,
            error_code=FailureCode.NO_SCORE.value,
            error="the judge returned no score for this criterion",
            finished_at=utcnow(),
            lease_expires_at=None,
        )
    )
    return rows_affected(result)


def release_unstarted_judgments(session: Session, run_id: int, sample_ids: Iterable[int], task_id: str, *, code: str, reason: str) -> int:
    """Put judgments this task claimed but never started back to ``pending`` (the judge's budget
    ran out before them): the attempt is given back, and ``code``/``reason`` say why they wait,
    so ``status`` can show it and ``resume`` continues them. Fenced by the task id like a record."""
    ids = list(sample_ids)
    if not ids:
        return 0
    return _hand_back(
        session, Judgment, run_id, Judgment.sample_id.in_(ids), Judgment.task_id == task_id, give_back_attempt=True, why=(code, reason)
    )


def _hand_back(
    session: Session,
    model: WorkItem,
    run_id: int,
    *where: ColumnElement[bool],
    give_back_attempt: bool,
    forget_claimer: bool = False,
    why: tuple[str, str] | None = None,
) -> int:
    """Put the running rows of ``model`` in ``run_id`` that match ``where`` back to ``pending``,
    lease cleared; returns how many. Every hand-back in the ledger goes through here so they
    cannot drift apart in what ``running`` means or which lease columns they clear.

    The callers differ only in what the hand-back says about the attempt and the claimer:
    ``give_back_attempt`` un-counts the attempt (the sample was not at fault); ``forget_claimer``
    clears ``task_id``/``worker``/``started_at`` as if never claimed; ``why`` records
    (``error_code``, ``error``) saying why the row waits. A lease that merely expired keeps all
    three: the attempt was spent, and the dead claimer stays on record.
    """
    values: dict[str, Any] = {"status": Status.PENDING, "lease_expires_at": None}
    if give_back_attempt:
        values["attempts"] = model.attempts - 1
    if forget_claimer:
        values.update(task_id=None, worker=None, started_at=None)
    if why is not None:
        values.update(error_code=why[0], error=why[1])
    result = session.execute(update(model).where(model.run_id == run_id, *where, model.status == Status.RUNNING).values(**values))
    return rows_affected(result)
