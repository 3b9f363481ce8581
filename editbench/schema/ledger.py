"""Every write to the ledger goes through these small idempotent functions.

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
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from editbench.schema.models import (
    FINAL_STATES,
    Benchmark,
    Category,
    Edit,
    Judgment,
    Run,
    RunStatus,
    Sample,
    Status,
)


def utcnow() -> datetime:
    return datetime.now(UTC)


def _insert_ignoring_duplicates(session: Session, model: type, rows: list[dict[str, Any]]) -> int:
    """INSERT ... ON CONFLICT DO NOTHING on both SQLite and PostgreSQL; returns rows inserted."""
    if not rows:
        return 0
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    result = session.execute(insert(model).values(rows).on_conflict_do_nothing())
    return result.rowcount or 0


# --------------------------------------------------------------------------- benchmarks


@dataclass(frozen=True)
class CategoryRecord:
    name: str
    description: str
    prompt_path: str
    prompt_text: str
    prompt_version: str
    criteria: list[str]
    weights: dict[str, float]
    pass_rule: dict[str, Any] | None


@dataclass(frozen=True)
class SampleRecord:
    external_id: str
    category: str
    instruction: str
    instruction_language: str
    source_sha256: str
    source_path: str
    source_width: int | None = None
    source_height: int | None = None
    subcategory: str | None = None
    reference_text: str | None = None
    reference_sha256: str | None = None
    reference_path: str | None = None
    tags: list[str] = field(default_factory=list)
    provenance: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class BenchmarkRecord:
    name: str
    version: str
    description: str
    content_hash: str
    score_min: float
    score_max: float
    overall: str
    criteria: list[dict[str, str]]
    source_path: str
    categories: list[CategoryRecord]


@dataclass(frozen=True)
class RegisterResult:
    benchmark_id: int
    created: bool
    added_categories: list[str]
    added_samples: dict[str, int]

    @property
    def added_total(self) -> int:
        return sum(self.added_samples.values())


def register_benchmark(
    session: Session, record: BenchmarkRecord, samples: Sequence[SampleRecord]
) -> RegisterResult:
    """Create or extend a benchmark. Existing categories and samples are never modified, so
    re-registering the same folder is a no-op and a grown folder adds exactly what is new."""
    now = utcnow()
    benchmark = session.scalar(
        select(Benchmark).where(Benchmark.name == record.name, Benchmark.version == record.version)
    )
    created = benchmark is None
    if benchmark is None:
        benchmark = Benchmark(
            name=record.name,
            version=record.version,
            description=record.description,
            content_hash=record.content_hash,
            score_min=record.score_min,
            score_max=record.score_max,
            overall=record.overall,
            criteria=record.criteria,
            source_path=record.source_path,
            created_at=now,
        )
        session.add(benchmark)
        session.flush()
    else:
        benchmark.content_hash = record.content_hash

    existing = {c.name: c for c in session.scalars(select(Category).where(Category.benchmark_id == benchmark.id))}
    added_categories = []
    for cat in record.categories:
        if cat.name in existing:
            continue
        row = Category(
            benchmark_id=benchmark.id,
            name=cat.name,
            description=cat.description,
            prompt_path=cat.prompt_path,
            prompt_text=cat.prompt_text,
            prompt_version=cat.prompt_version,
            criteria=cat.criteria,
            weights=cat.weights,
            pass_rule=cat.pass_rule,
            created_at=now,
        )
        session.add(row)
        existing[cat.name] = row
        added_categories.append(cat.name)
    session.flush()

    rows = [
        {
            "benchmark_id": benchmark.id,
            "category_id": existing[s.category].id,
            "external_id": s.external_id,
            "subcategory": s.subcategory,
            "instruction": s.instruction,
            "instruction_language": s.instruction_language,
            "source_sha256": s.source_sha256,
            "source_path": s.source_path,
            "source_width": s.source_width,
            "source_height": s.source_height,
            "reference_text": s.reference_text,
            "reference_sha256": s.reference_sha256,
            "reference_path": s.reference_path,
            "tags": list(s.tags),
            "provenance": dict(s.provenance),
            "created_at": now,
        }
        for s in samples
    ]
    known = set(session.scalars(select(Sample.external_id).where(Sample.benchmark_id == benchmark.id)))
    new_rows = [r for r in rows if r["external_id"] not in known]
    _insert_ignoring_duplicates(session, Sample, new_rows)
    by_id = {c.id: name for name, c in existing.items()}
    added: dict[str, int] = {}
    for r in new_rows:
        name = by_id[r["category_id"]]
        added[name] = added.get(name, 0) + 1
    return RegisterResult(benchmark.id, created, added_categories, added)


def find_benchmark(session: Session, name: str, version: str | None = None) -> Benchmark | None:
    query = select(Benchmark).where(Benchmark.name == name)
    if version is not None:
        query = query.where(Benchmark.version == version)
    return session.scalars(query.order_by(Benchmark.id.desc())).first()


# --------------------------------------------------------------------------- runs


@dataclass(frozen=True)
class RunSpec:
    benchmark_id: int
    editor_kind: str
    editor_path: str | None
    judge_kind: str
    judge_path: str | None
    editor_params: dict[str, Any] = field(default_factory=dict)
    judge_params: dict[str, Any] = field(default_factory=dict)
    seed: int = 0
    routing: str = "shared"
    gpus: int = 1
    judge_batch_size: int = 8
    follow: bool = False
    categories: list[str] | None = None
    name: str = ""
    run_card: dict[str, Any] = field(default_factory=dict)


def create_run(session: Session, spec: RunSpec) -> int:
    run = Run(
        benchmark_id=spec.benchmark_id,
        name=spec.name,
        editor_kind=spec.editor_kind,
        editor_path=spec.editor_path,
        editor_params=spec.editor_params,
        judge_kind=spec.judge_kind,
        judge_path=spec.judge_path,
        judge_params=spec.judge_params,
        seed=spec.seed,
        routing=spec.routing,
        gpus=spec.gpus,
        judge_batch_size=spec.judge_batch_size,
        follow=spec.follow,
        categories=spec.categories,
        status=RunStatus.RUNNING,
        run_card=spec.run_card,
        created_at=utcnow(),
    )
    session.add(run)
    session.flush()
    add_missing_work(session, run.id)
    return run.id


def add_missing_work(session: Session, run_id: int) -> dict[str, list[int]]:
    """Create pending edit and judgment rows for every sample of the run's categories that has
    none yet. Returns the new sample ids per category name. Used at creation and, for standing
    (``--follow``) runs, whenever new samples are ingested."""
    run = session.get(Run, run_id)
    assert run is not None, f"run {run_id} does not exist"
    query = select(Sample, Category).join(Category, Sample.category_id == Category.id).where(
        Sample.benchmark_id == run.benchmark_id
    )
    if run.categories:
        query = query.where(Category.name.in_(run.categories))
    have = set(session.scalars(select(Edit.sample_id).where(Edit.run_id == run_id)))
    new_edits, new_judgments = [], []
    added: dict[str, list[int]] = {}
    benchmark_criteria = [c["name"] for c in run.benchmark.criteria]
    for sample, category in session.execute(query.order_by(Sample.id)):
        if sample.id in have:
            continue
        new_edits.append({"run_id": run_id, "sample_id": sample.id, "category_id": category.id, "status": Status.PENDING, "attempts": 0})
        for criterion in category.criteria or benchmark_criteria:
            new_judgments.append(
                {"run_id": run_id, "sample_id": sample.id, "category_id": category.id, "criterion": criterion, "status": Status.PENDING, "attempts": 0}
            )
        added.setdefault(category.name, []).append(sample.id)
    _insert_ignoring_duplicates(session, Edit, new_edits)
    _insert_ignoring_duplicates(session, Judgment, new_judgments)
    if added and run.status == RunStatus.DONE:
        run.status, run.finished_at = RunStatus.RUNNING, None
    return added


# --------------------------------------------------------------------------- claims


@dataclass(frozen=True)
class Claim:
    attempt: int


def _claimable(model: type, task_id: str, now: datetime, max_attempts: int) -> Any:
    return and_(
        model.attempts < max_attempts,
        or_(
            model.status == Status.PENDING,
            and_(model.status == Status.RUNNING, or_(model.lease_expires_at < now, model.task_id == task_id)),
        ),
    )


def _exhausted(model: type, task_id: str, now: datetime, max_attempts: int) -> Any:
    return and_(
        model.attempts >= max_attempts,
        model.status.in_([Status.PENDING, Status.RUNNING]),
        or_(model.status == Status.PENDING, model.lease_expires_at < now, model.task_id == task_id),
    )


def claim_edit(
    session: Session, run_id: int, sample_id: int, *, task_id: str, worker: str, lease_s: float, max_attempts: int
) -> Claim | None:
    """Take the edit of (run, sample) for this task, or return None if it is done, held by a
    live claim, or has used up its attempts (then it is recorded as failed)."""
    now = utcnow()
    where = and_(Edit.run_id == run_id, Edit.sample_id == sample_id)
    result = session.execute(
        update(Edit)
        .where(where, _claimable(Edit, task_id, now, max_attempts))
        .values(
            status=Status.RUNNING,
            attempts=Edit.attempts + 1,
            task_id=task_id,
            worker=worker,
            lease_expires_at=now + timedelta(seconds=lease_s),
            started_at=now,
        )
    )
    if result.rowcount == 1:
        return Claim(attempt=session.scalar(select(Edit.attempts).where(where)) or 1)
    exhausted = session.execute(
        update(Edit)
        .where(where, _exhausted(Edit, task_id, now, max_attempts))
        .values(
            status=Status.FAILED,
            error_code="attempts_exhausted",
            error=f"gave up after {max_attempts} attempts (the worker died or was killed each time)",
            finished_at=now,
            lease_expires_at=None,
        )
    )
    if exhausted.rowcount == 1:
        _mark_judgments_missing(session, run_id, sample_id, "edit failed: attempts_exhausted")
    return None


def renew_leases(session: Session, model: type, task_id: str, lease_s: float) -> int:
    """Extend every lease this task holds (called by the worker's heartbeat thread)."""
    result = session.execute(
        update(model)
        .where(model.task_id == task_id, model.status == Status.RUNNING)
        .values(lease_expires_at=utcnow() + timedelta(seconds=lease_s))
    )
    return result.rowcount or 0


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
            status=outcome.status,
            seed=outcome.seed,
            output_sha256=outcome.output_sha256,
            output_path=outcome.output_path,
            error_code=outcome.error_code,
            error=outcome.error,
            duration_s=outcome.duration_s,
            finished_at=now,
            lease_expires_at=None,
        )
    )
    wrote = result.rowcount == 1
    if wrote and outcome.status != Status.DONE:
        _mark_judgments_missing(session, run_id, sample_id, f"edit {outcome.status.value}: {outcome.error_code}")
    return wrote


def _mark_judgments_missing(session: Session, run_id: int, sample_id: int, reason: str) -> None:
    """A sample whose edit failed can never be scored; say so instead of leaving it pending."""
    session.execute(
        update(Judgment)
        .where(Judgment.run_id == run_id, Judgment.sample_id == sample_id, Judgment.status == Status.PENDING)
        .values(status=Status.MISSING, error_code="edit_failed", error=reason, finished_at=utcnow())
    )


def claim_judgments(
    session: Session, run_id: int, sample_ids: Iterable[int], *, task_id: str, worker: str, lease_s: float, max_attempts: int
) -> list[int]:
    """Claim all judgments of these samples whose edit is done; returns the sample ids claimed.
    A sample is claimed whole (every criterion) so one judge call can score it."""
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
            worker=worker,
            lease_expires_at=now + timedelta(seconds=lease_s),
            started_at=now,
        )
    )
    session.execute(
        update(Judgment)
        .where(scope, _exhausted(Judgment, task_id, now, max_attempts))
        .values(status=Status.FAILED, error_code="attempts_exhausted", error=f"gave up after {max_attempts} attempts", finished_at=now)
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


def record_judgments(
    session: Session, run_id: int, sample_id: int, task_id: str, outcomes: Sequence[JudgmentOutcome]
) -> int:
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
                status=o.status,
                score=o.score,
                confidence=o.confidence,
                reasoning=o.reasoning,
                raw_output=o.raw_output,
                error_code=o.error_code,
                error=o.error,
                judge_identity=o.judge_identity,
                prompt_version=o.prompt_version,
                duration_s=o.duration_s,
                finished_at=now,
                lease_expires_at=None,
            )
        )
        written += result.rowcount or 0
    return written


# --------------------------------------------------------------------------- progress


@dataclass(frozen=True)
class CategoryProgress:
    category_id: int
    name: str
    total: int
    edits: dict[str, int]
    judgments: dict[str, int]

    @property
    def edits_final(self) -> int:
        return sum(n for s, n in self.edits.items() if Status(s).is_final)

    @property
    def edits_finished(self) -> bool:
        return self.edits_final == self.total

    @property
    def judgments_total(self) -> int:
        return sum(self.judgments.values())

    @property
    def judgments_final(self) -> int:
        return sum(n for s, n in self.judgments.items() if Status(s).is_final)

    @property
    def finished(self) -> bool:
        return self.edits_finished and self.judgments_final == self.judgments_total


def run_progress(session: Session, run_id: int) -> list[CategoryProgress]:
    names = dict(
        session.execute(
            select(Category.id, Category.name).join(Edit, Edit.category_id == Category.id).where(Edit.run_id == run_id).distinct()
        ).all()
    )
    edits: dict[int, dict[str, int]] = {cid: {} for cid in names}
    for cid, status, n in session.execute(
        select(Edit.category_id, Edit.status, func.count()).where(Edit.run_id == run_id).group_by(Edit.category_id, Edit.status)
    ):
        edits[cid][Status(status).value] = n
    judgments: dict[int, dict[str, int]] = {cid: {} for cid in names}
    for cid, status, n in session.execute(
        select(Judgment.category_id, Judgment.status, func.count())
        .where(Judgment.run_id == run_id)
        .group_by(Judgment.category_id, Judgment.status)
    ):
        judgments[cid][Status(status).value] = n
    return [
        CategoryProgress(cid, names[cid], sum(edits[cid].values()), edits[cid], judgments[cid])
        for cid in sorted(names, key=lambda c: names[c])
    ]


def finish_run_if_complete(session: Session, run_id: int) -> bool:
    """Mark the run done when every edit and judgment is final (never for a standing run that
    follows new ingests: those stay open until the user stops following)."""
    # Lock the run row first: two workers finishing the last two batches at once would otherwise
    # each count the other's rows as still running (write skew under PostgreSQL's READ
    # COMMITTED) and neither would close the run. After the lock, the counts below see the
    # other transaction's commit. (SQLite's BEGIN IMMEDIATE already serialises writers.)
    run = session.execute(
        select(Run).where(Run.id == run_id).with_for_update().execution_options(populate_existing=True)
    ).scalar_one_or_none()
    if run is None or run.status == RunStatus.DONE:
        return False
    open_items = session.scalar(
        select(func.count()).select_from(Judgment).where(Judgment.run_id == run_id, Judgment.status.not_in(FINAL_STATES))
    ) + session.scalar(
        select(func.count()).select_from(Edit).where(Edit.run_id == run_id, Edit.status.not_in(FINAL_STATES))
    )
    if open_items == 0 and not run.follow:
        run.status, run.finished_at = RunStatus.DONE, utcnow()
        return True
    return False


def pending_edit_samples(session: Session, run_id: int, category_id: int | None = None, *, include_stalled: bool = True) -> list[int]:
    """Samples whose edit is pending, or running under an expired lease (its worker died)."""
    now = utcnow()
    cond = Edit.status == Status.PENDING
    if include_stalled:
        cond = or_(cond, and_(Edit.status == Status.RUNNING, Edit.lease_expires_at < now))
    query = select(Edit.sample_id).where(Edit.run_id == run_id, cond)
    if category_id is not None:
        query = query.where(Edit.category_id == category_id)
    return list(session.scalars(query.order_by(Edit.sample_id)))


def pending_judgment_samples(session: Session, run_id: int, category_id: int) -> list[int]:
    """Samples with a done edit and a judgment still pending or stalled."""
    now = utcnow()
    done_edits = select(Edit.sample_id).where(Edit.run_id == run_id, Edit.status == Status.DONE)
    query = (
        select(Judgment.sample_id)
        .where(
            Judgment.run_id == run_id,
            Judgment.category_id == category_id,
            Judgment.sample_id.in_(done_edits),
            or_(Judgment.status == Status.PENDING, and_(Judgment.status == Status.RUNNING, Judgment.lease_expires_at < now)),
        )
        .distinct()
    )
    return sorted(session.scalars(query))


def set_run_follow(session: Session, run_id: int, follow: bool) -> None:
    run = session.get(Run, run_id)
    assert run is not None
    run.follow = follow


def open_runs(session: Session) -> list[Run]:
    return list(session.scalars(select(Run).where(Run.status == RunStatus.RUNNING).order_by(Run.id)))


def release_stalled(session: Session, run_id: int) -> tuple[list[tuple[int, int]], list[int]]:
    """Return work whose lease expired (its worker died) to ``pending``.

    Returns the released edits as (category_id, sample_id) and the categories whose judgments
    were released. A late write from a worker presumed dead is then refused by the fencing in
    ``record_edit``/``record_judgments`` (status is no longer ``running``).
    """
    now = utcnow()
    stalled_edits = [
        (c, s)
        for c, s in session.execute(
            select(Edit.category_id, Edit.sample_id).where(
                Edit.run_id == run_id, Edit.status == Status.RUNNING, Edit.lease_expires_at < now
            )
        )
    ]
    if stalled_edits:
        session.execute(
            update(Edit)
            .where(Edit.run_id == run_id, Edit.status == Status.RUNNING, Edit.lease_expires_at < now)
            .values(status=Status.PENDING, lease_expires_at=None)
        )
    judgment_categories = sorted(
        set(
            session.scalars(
                select(Judgment.category_id).where(
                    Judgment.run_id == run_id, Judgment.status == Status.RUNNING, Judgment.lease_expires_at < now
                )
            )
        )
    )
    if judgment_categories:
        session.execute(
            update(Judgment)
            .where(Judgment.run_id == run_id, Judgment.status == Status.RUNNING, Judgment.lease_expires_at < now)
            .values(status=Status.PENDING, lease_expires_at=None)
        )
    return stalled_edits, judgment_categories


def live_leases(session: Session, run_id: int) -> int:
    now = utcnow()
    return sum(
        session.scalar(
            select(func.count()).select_from(model).where(
                model.run_id == run_id, model.status == Status.RUNNING, model.lease_expires_at >= now
            )
        )
        or 0
        for model in (Edit, Judgment)
    )


def fail_unanswered_judgments(session: Session, run_id: int, task_id: str) -> int:
    """A judge that returned no score for a claimed criterion must not leave it running."""
    result = session.execute(
        update(Judgment)
        .where(Judgment.run_id == run_id, Judgment.task_id == task_id, Judgment.status == Status.RUNNING)
        .values(status=Status.FAILED, error_code="no_score", error="the judge returned no score for this criterion", finished_at=utcnow(), lease_expires_at=None)
    )
    return result.rowcount or 0
