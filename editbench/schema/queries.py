"""Every read of the ledger, in one place beside the one writer (``ledger``).

Producer, queue, workers, reports and the CLI ask questions here instead of building queries of
their own, so the schema can change in one package. Reads never write: each function takes a
session and returns rows, counts or the shared records of :mod:`editbench.records`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import Session

from editbench.errors import FailureCode, RunNotFoundError
from editbench.records import Benchmark as BenchmarkRecord
from editbench.records import Category as CategoryRecord
from editbench.records import Criterion, PassRule
from editbench.schema.models import (
    ApiUsage,
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


# --------------------------------------------------------------------------- benchmarks


def find_benchmark(session: Session, name: str, version: str | None = None) -> Benchmark | None:
    query = select(Benchmark).where(Benchmark.name == name)
    if version is not None:
        query = query.where(Benchmark.version == version)
    return session.scalars(query.order_by(Benchmark.id.desc())).first()


def benchmark_versions(session: Session, name: str) -> list[str]:
    """Every registered version of the benchmark called ``name``."""
    return list(session.scalars(select(Benchmark.version).where(Benchmark.name == name)))


def benchmark_categories(session: Session, benchmark_id: int) -> dict[str, Category]:
    """The benchmark's category rows by name."""
    return {c.name: c for c in session.scalars(select(Category).where(Category.benchmark_id == benchmark_id))}


@dataclass(frozen=True)
class CategoryCount:
    benchmark: str
    version: str
    category: str
    samples: int


def sample_counts(session: Session) -> list[CategoryCount]:
    """Every registered benchmark's categories with their sample counts (``editbench benchmarks``)."""
    rows = session.execute(
        select(Benchmark.name, Benchmark.version, Category.name, func.count(Sample.id))
        .join(Category, Category.benchmark_id == Benchmark.id)
        .outerjoin(Sample, Sample.category_id == Category.id)
        .group_by(Benchmark.id, Category.id)
        .order_by(Benchmark.name, Category.name)
    ).all()
    return [CategoryCount(*row) for row in rows]


def benchmark_record(row: Benchmark) -> BenchmarkRecord:
    """The stored benchmark as the shared record (without its categories)."""
    return BenchmarkRecord(
        id=row.id,
        name=row.name,
        version=row.version,
        description=row.description or "",
        content_hash=row.content_hash,
        score_min=float(row.score_min),
        score_max=float(row.score_max),
        overall=row.overall or "geometric_mean",
        criteria=tuple(Criterion.from_json(c) for c in (row.criteria or ())),
        source_path=row.source_path or "",
        slices=tuple(str(s) for s in (row.slices or ())),
        protocol=dict(row.protocol) if row.protocol else None,
    )


def category_record(row: Category, criteria: tuple[str, ...] | None = None) -> CategoryRecord:
    """The stored category as the shared record; ``criteria`` overrides the stored list."""
    return CategoryRecord(
        id=row.id,
        name=row.name,
        description=row.description or "",
        prompt_path=row.prompt_path or "",
        prompt_text=row.prompt_text or "",
        prompt_version=row.prompt_version or "",
        criteria=criteria if criteria is not None else tuple(Criterion.from_json(c).name for c in (row.criteria or ())),
        weights={str(k): float(v) for k, v in (row.weights or {}).items()},
        pass_rule=PassRule.from_json(row.pass_rule),
    )


# --------------------------------------------------------------------------- runs


def get_run(session: Session, run_id: int) -> Run | None:
    return session.get(Run, run_id)


def run_is_cancelled(session: Session, run_id: int) -> bool:
    """Whether ``editbench cancel`` stopped the run (workers check this before any GPU work)."""
    return session.scalar(select(Run.status).where(Run.id == run_id)) == RunStatus.CANCELLED


def get_sample(session: Session, sample_id: int) -> Sample | None:
    return session.get(Sample, sample_id)


@dataclass(frozen=True)
class StoredExtraImage:
    """One extra input image of a multi-image sample, as the ledger keeps it (by content hash)."""

    label: str
    sha256: str
    path: str


def extra_images(sample: Sample) -> tuple[StoredExtraImage, ...]:
    """The sample's extra input images in the item's order; empty for a single-image sample."""
    return tuple(
        StoredExtraImage(str(entry["label"]), str(entry["sha256"]), str(entry.get("path", ""))) for entry in (sample.extra_images or ())
    )


def resolve_run(session: Session, ref: str | int) -> int | None:
    """A run id, or a run name (the most recent run with that name); None if neither exists.

    A number is an id when a run has that id, else it is tried as a name (a run may be named
    "2024")."""
    text = str(ref).strip()
    if text.isdigit() and session.get(Run, int(text)) is not None:
        return int(text)
    found = session.scalars(select(Run.id).where(Run.name == text).order_by(Run.id.desc())).first()
    return None if found is None else int(found)


def benchmark_items(session: Session, benchmark_id: int, categories: Sequence[str] | None = None) -> list[tuple[Sample, str]]:
    """The benchmark's samples with their category name, in ingest order (what a run's
    ``--limit``/``--where`` choose from); only the named categories when given."""
    query = select(Sample, Category.name).join(Category, Sample.category_id == Category.id).where(Sample.benchmark_id == benchmark_id)
    if categories:
        query = query.where(Category.name.in_(list(categories)))
    return [(sample, name) for sample, name in session.execute(query.order_by(Sample.id))]


def run_edits(session: Session, run_id: int) -> list[tuple[Edit, Sample, str]]:
    """Every edit row of a run with its sample and category name, in sample order."""
    rows = session.execute(
        select(Edit, Sample, Category.name)
        .join(Sample, Edit.sample_id == Sample.id)
        .join(Category, Edit.category_id == Category.id)
        .where(Edit.run_id == run_id)
        .order_by(Edit.sample_id)
    )
    return [(edit, sample, name) for edit, sample, name in rows]


def run_not_found_message(ref: str | int) -> str:
    """The one wording of "no such run" across the CLI (``editbench runs`` lists them)."""
    return f"no run {str(ref)!r} (editbench runs lists them)"


def require_run(session: Session, ref: str | int) -> int:
    """The id of the run named by ``ref`` (its id or its name), or :class:`RunNotFoundError`
    with the message every command shows. Every command that takes a run goes through here."""
    run_id = resolve_run(session, ref)
    if run_id is None:
        raise RunNotFoundError(run_not_found_message(ref))
    return run_id


@dataclass(frozen=True)
class RunListing:
    """One line of ``editbench runs``."""

    id: int
    name: str
    benchmark: str
    benchmark_version: str
    editor: str
    judge: str
    status: str
    work_total: int
    work_final: int
    work_failed: int
    created_at: datetime
    finished_at: datetime | None


def list_runs(session: Session, *, limit: int | None = None) -> list[RunListing]:
    """Every run, newest first, with its progress counted over edits and judgments together."""
    query = select(Run, Benchmark.name, Benchmark.version).join(Benchmark, Benchmark.id == Run.benchmark_id).order_by(Run.id.desc())
    if limit is not None:
        query = query.limit(limit)
    rows = session.execute(query).all()
    ids = [run.id for run, _, _ in rows]
    counts: dict[int, dict[str, int]] = {i: {} for i in ids}
    for model in (Edit, Judgment):
        for run_id, status, n in session.execute(
            select(model.run_id, model.status, func.count()).where(model.run_id.in_(ids)).group_by(model.run_id, model.status)
        ):
            by_status = counts[run_id]
            key = Status(status).value
            by_status[key] = by_status.get(key, 0) + n
    listings = []
    for run, bench_name, bench_version in rows:
        c = counts[run.id]
        listings.append(
            RunListing(
                id=run.id,
                name=run.name or "",
                benchmark=bench_name,
                benchmark_version=bench_version,
                editor=_model_label(run.editor_kind, run.editor_path),
                judge=_model_label(run.judge_kind, run.judge_path),
                status=RunStatus(run.status).value,
                work_total=sum(c.values()),
                work_final=sum(n for s, n in c.items() if Status(s).is_final),
                work_failed=sum(n for s, n in c.items() if Status(s).is_final and s != Status.DONE.value),
                created_at=run.created_at,
                finished_at=run.finished_at,
            )
        )
    return listings


def _model_label(kind: str, path: str | None) -> str:
    return f"{kind}:{path.rstrip('/').rsplit('/', 1)[-1]}" if path else kind


@dataclass(frozen=True)
class FailureReason:
    """One group of ``editbench status``'s failure table: every item of one stage that ended in
    the same state with the same reason code, with one example."""

    stage: str  # "edit" or "judgment"
    status: str
    error_code: str
    count: int
    example_sample: str
    example_error: str


def failure_reasons(session: Session, run_id: int) -> list[FailureReason]:
    """Why the run's unscored work ended as it did: grouped by (stage, state, reason code),
    largest group first, each with the first sample's message as its example."""
    reasons = []
    for stage, model in (("edit", Edit), ("judgment", Judgment)):
        groups = session.execute(
            select(model.status, model.error_code, func.count(), func.min(model.id))
            .where(model.run_id == run_id, model.status.not_in([Status.PENDING, Status.RUNNING, Status.DONE]))
            .group_by(model.status, model.error_code)
        ).all()
        for status, code, n, first_id in groups:
            example = session.execute(
                select(Sample.external_id, model.error).join(Sample, Sample.id == model.sample_id).where(model.id == first_id)
            ).one()
            reasons.append(FailureReason(stage, Status(status).value, code or "unknown", int(n), example[0], (example[1] or "").strip()))
    return sorted(reasons, key=lambda r: (r.stage != "edit", -r.count, r.error_code))


def run_routing(session: Session, run_id: int) -> tuple[str, int]:
    """(routing, number of GPU queues) the run was submitted with."""
    run = session.get(Run, run_id)
    assert run is not None, f"run {run_id} does not exist"
    return run.routing, run.gpus


def run_judge_placement(session: Session, run_id: int) -> str:
    """``gpu`` or ``cpu``: where the run's judge batches are routed (decided at submit)."""
    run = session.get(Run, run_id)
    assert run is not None, f"run {run_id} does not exist"
    return run.judge_placement or "gpu"


def sample_positions(session: Session, run_id: int) -> dict[int, int]:
    """Stable index of each sample in the run (round-robin pins sample i to GPU i mod N)."""
    ids = session.scalars(select(Edit.sample_id).where(Edit.run_id == run_id).order_by(Edit.sample_id))
    return {sample_id: i for i, sample_id in enumerate(ids)}


def categories_of_samples(session: Session, run_id: int) -> dict[int, int]:
    """sample id → category id, for every sample of the run."""
    return dict(session.execute(select(Edit.sample_id, Edit.category_id).where(Edit.run_id == run_id)).all())


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


def open_runs(session: Session) -> list[Run]:
    return list(session.scalars(select(Run).where(Run.status == RunStatus.RUNNING).order_by(Run.id)))


def live_leases(session: Session, run_id: int) -> int:
    now = utcnow()
    return sum(
        session.scalar(
            select(func.count())
            .select_from(model)
            .where(model.run_id == run_id, model.status == Status.RUNNING, model.lease_expires_at >= now)
        )
        or 0
        for model in (Edit, Judgment)
    )


# --------------------------------------------------------------------------- judging


@dataclass(frozen=True)
class JudgeInputs:
    """What a judge batch reads once: the samples with their edits, the rubric and the judge."""

    pairs: list[tuple[Sample, Edit]]
    criteria: tuple[Criterion, ...]
    prompt_text: str
    prompt_version: str
    scale: tuple[int, int]
    judge_kind: str
    judge_path: str | None
    judge_params: dict[str, Any]
    protocol: dict[str, Any] | None = None  # the benchmark's official protocol, if imported with one
    category_name: str = ""


def judge_inputs(session: Session, run_id: int, category_id: int, sample_ids: Sequence[int]) -> JudgeInputs:
    run = session.get(Run, run_id)
    category = session.get(Category, category_id)
    assert run is not None and category is not None, f"run {run_id} / category {category_id} do not exist"
    benchmark = session.get(Benchmark, run.benchmark_id)
    assert benchmark is not None  # foreign key
    pairs = session.execute(
        select(Sample, Edit).join(Edit, Edit.sample_id == Sample.id).where(Edit.run_id == run_id, Sample.id.in_(list(sample_ids)))
    ).all()
    described = {c.name: c.description for c in (Criterion.from_json(x) for x in benchmark.criteria)}
    names = category.criteria or list(described)
    return JudgeInputs(
        pairs=[(sample, edit) for sample, edit in pairs],
        criteria=tuple(Criterion(n, described.get(n, "")) for n in names),
        prompt_text=category.prompt_text,
        prompt_version=category.prompt_version,
        scale=(int(benchmark.score_min), int(benchmark.score_max)),
        judge_kind=run.judge_kind,
        judge_path=run.judge_path,
        judge_params=dict(run.judge_params),
        protocol=dict(benchmark.protocol) if benchmark.protocol else None,
        category_name=category.name,
    )


# --------------------------------------------------------------------------- reports


@dataclass(frozen=True)
class RunRows:
    """Everything stored about one run, in five queries (reports turn it into their data)."""

    run: Run
    benchmark: Benchmark
    edits: dict[int, Edit]  # by sample id
    judgments: dict[int, list[Judgment]]  # by sample id, in insertion order
    categories: list[Category]  # every category of the benchmark, in id order
    samples: list[Sample]  # the samples the run has rows for, in id order


def run_rows(session: Session, run_id: int) -> RunRows | None:
    """Read one run and everything its reports show; None if there is no such run.

    The run's items are the samples it has edit or judgment rows for (``add_missing_work``
    creates them), not every sample of the benchmark."""
    run = session.get(Run, run_id)
    if run is None:
        return None
    benchmark = session.get(Benchmark, run.benchmark_id)
    assert benchmark is not None  # foreign key
    edits = {e.sample_id: e for e in session.scalars(select(Edit).where(Edit.run_id == run_id))}
    judgments: dict[int, list[Judgment]] = {}
    for j in session.scalars(select(Judgment).where(Judgment.run_id == run_id).order_by(Judgment.id)):
        judgments.setdefault(j.sample_id, []).append(j)
    categories = list(session.scalars(select(Category).where(Category.benchmark_id == benchmark.id).order_by(Category.id)))
    in_run = select(Edit.sample_id).where(Edit.run_id == run_id).union(select(Judgment.sample_id).where(Judgment.run_id == run_id))
    samples = list(session.scalars(select(Sample).where(Sample.id.in_(in_run)).order_by(Sample.id)))
    return RunRows(run, benchmark, edits, judgments, categories, samples)


# --------------------------------------------------------------------------- served models


@dataclass(frozen=True)
class UsageTotals:
    """A run's API usage summed over its batches (``api_usage`` rows) for one stage."""

    batches: int
    counters: dict[str, int]
    cost_usd: float | None
    stopped: str | None
    """The latest reason a batch stopped early (e.g. the budget), or None."""
    held: int
    """Judgments waiting in ``pending`` because the budget stopped them (``budget_exhausted``)."""


_USAGE_COUNTERS = (
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


def run_api_usage(session: Session, run_id: int, stage: str = "judge") -> UsageTotals | None:
    """Totals of the run's ``api_usage`` rows, or None when it has none (a local judge)."""
    sums = session.execute(
        select(
            func.count(ApiUsage.id),
            func.count(ApiUsage.cost_usd),
            func.sum(ApiUsage.cost_usd),
            *(func.coalesce(func.sum(getattr(ApiUsage, name)), 0) for name in _USAGE_COUNTERS),
        ).where(ApiUsage.run_id == run_id, ApiUsage.stage == stage)
    ).one()
    batches, priced, cost, *counts = sums
    if not batches:
        return None
    stopped = session.scalar(
        select(ApiUsage.stopped)
        .where(ApiUsage.run_id == run_id, ApiUsage.stage == stage, ApiUsage.stopped.is_not(None))
        .order_by(ApiUsage.id.desc())
        .limit(1)
    )
    held = (
        session.scalar(
            select(func.count())
            .select_from(Judgment)
            .where(Judgment.run_id == run_id, Judgment.status == Status.PENDING, Judgment.error_code == FailureCode.BUDGET_EXHAUSTED.value)
        )
        if stage == "judge"
        else 0
    )
    return UsageTotals(
        batches=int(batches),
        counters={name: int(value) for name, value in zip(_USAGE_COUNTERS, counts)},
        cost_usd=float(cost) if priced else None,
        stopped=stopped,
        held=int(held or 0),
    )


def budget_held_categories(session: Session, run_id: int) -> set[int]:
    """Categories whose open judgments all wait because the judge's budget ran out: the sweeper
    leaves them alone (they would only stop again); ``resume`` sends them."""
    rows = session.execute(
        select(
            Judgment.category_id,
            func.count(),
            func.sum(case((Judgment.error_code == FailureCode.BUDGET_EXHAUSTED.value, 1), else_=0)),
        )
        .where(Judgment.run_id == run_id, Judgment.status.in_([Status.PENDING, Status.RUNNING]))
        .group_by(Judgment.category_id)
    ).all()
    return {category for category, open_count, held in rows if held and held == open_count}
