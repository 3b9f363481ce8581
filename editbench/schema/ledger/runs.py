"""A run's life in the ledger: created with all its work rows, extended while it follows new
ingests, its stalled work released, and closed once everything is final."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from editbench.schema.ledger.rows import insert_ignoring_duplicates, utcnow
from editbench.schema.models import (
    FINAL_STATES,
    Category,
    Edit,
    Judgment,
    Run,
    RunStatus,
    Sample,
    Status,
)


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
    judge_placement: str = "gpu"


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
        judge_placement=spec.judge_placement,
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
    insert_ignoring_duplicates(session, Edit, new_edits)
    insert_ignoring_duplicates(session, Judgment, new_judgments)
    if added and run.status == RunStatus.DONE:
        run.status, run.finished_at = RunStatus.RUNNING, None
    return added


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


def set_run_follow(session: Session, run_id: int, follow: bool) -> None:
    run = session.get(Run, run_id)
    assert run is not None
    run.follow = follow


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


def update_judge_params(session: Session, run_id: int, changes: dict[str, Any], note: dict[str, Any]) -> None:
    """Change some of a recorded run's judge parameters (``resume`` raising a budget); the run
    card keeps the original and lists every change under ``judge_param_changes``."""
    run = session.get(Run, run_id)
    assert run is not None, f"run {run_id} does not exist"
    run.judge_params = {**(run.judge_params or {}), **changes}
    card = dict(run.run_card or {})
    card["judge_param_changes"] = [*card.get("judge_param_changes", []), {**note, "params": dict(changes)}]
    run.run_card = card
