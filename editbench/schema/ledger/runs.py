"""A run's life in the ledger: created with all its work rows, extended while it follows new
ingests, its stalled work released, and closed once everything is final."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from editbench.errors import FailureCode, RunConfigError
from editbench.records import SampleFilter
from editbench.schema.column_text import storable_text, unstorable_reason
from editbench.schema.ledger.claims import _hand_back
from editbench.schema.ledger.rows import insert_ignoring_duplicates, rows_affected, utcnow
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
    sample_filter: dict[str, Any] | None = None
    """``records.SampleFilter.as_json()`` of ``--limit``/``--where``; None: every item."""
    parent_run_id: int | None = None
    """Set for a re-judging run: its edits are the parent's, recorded as they ended there."""
    judge_placement: str = "gpu"
    """``cpu`` for a judge served over HTTP: its batches go to the CPU judge queue."""


def create_run(session: Session, spec: RunSpec) -> int:
    """Record the run and its work rows. Text the ledger cannot store the same way on SQLite and
    PostgreSQL (a NUL, a value wider than its column) is refused before anything is written."""
    for column, value in (
        ("name", spec.name),
        ("editor_kind", spec.editor_kind),
        ("judge_kind", spec.judge_kind),
        ("routing", spec.routing),
    ):
        reason = unstorable_reason("runs", column, value)
        if reason is not None:
            raise RunConfigError(f"the run's {column.replace('_', ' ')} {reason}")
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
        sample_filter=spec.sample_filter,
        parent_run_id=spec.parent_run_id,
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
    if run.parent_run_id is not None:
        return _adopt_parent_edits(session, run)
    query = select(Sample, Category).join(Category, Sample.category_id == Category.id).where(Sample.benchmark_id == run.benchmark_id)
    if run.categories:
        query = query.where(Category.name.in_(run.categories))
    have = set(session.scalars(select(Edit.sample_id).where(Edit.run_id == run_id)))
    new_edits, new_judgments = [], []
    added: dict[str, list[int]] = {}
    benchmark_criteria = [c["name"] for c in run.benchmark.criteria]
    rows: list[tuple[Sample, Category]] = [(sample, category) for sample, category in session.execute(query.order_by(Sample.id))]
    sample_filter = SampleFilter.from_json(run.sample_filter)
    if sample_filter is not None:
        # The filter sees every candidate (present or not) so "first N" means the same N each time.
        rows = sample_filter.pick(rows)
    for sample, category in rows:
        if sample.id in have:
            continue
        new_edits.append({"run_id": run_id, "sample_id": sample.id, "category_id": category.id, "status": Status.PENDING, "attempts": 0})
        for criterion in category.criteria or benchmark_criteria:
            new_judgments.append(
                {
                    "run_id": run_id,
                    "sample_id": sample.id,
                    "category_id": category.id,
                    "criterion": criterion,
                    "status": Status.PENDING,
                    "attempts": 0,
                }
            )
        added.setdefault(category.name, []).append(sample.id)
    insert_ignoring_duplicates(session, Edit, new_edits)
    insert_ignoring_duplicates(session, Judgment, new_judgments)
    if added and run.status == RunStatus.DONE:
        run.status, run.finished_at = RunStatus.RUNNING, None
    return added


def _adopt_parent_edits(session: Session, run: Run) -> dict[str, list[int]]:
    """A re-judging run's work: each final edit of the parent, copied as it ended there (status,
    seed, image hash and path: the image itself is not copied), with pending judgments where the
    edit is done and ``missing`` ones where it failed. No edit row is left pending, so no edit
    task is ever sent for this run: its chords have empty headers and go straight to scoring.
    Edits still open in the parent are skipped (``editbench judge`` refuses such a parent); a
    following re-judging run adopts them once they end."""
    have = set(session.scalars(select(Edit.sample_id).where(Edit.run_id == run.id)))
    parent_edits = session.execute(
        select(Edit, Category)
        .join(Category, Edit.category_id == Category.id)
        .where(Edit.run_id == run.parent_run_id, Edit.status.in_(FINAL_STATES))
        .order_by(Edit.sample_id)
    ).all()
    benchmark_criteria = [c["name"] for c in run.benchmark.criteria]
    now = utcnow()
    new_edits, new_judgments = [], []
    added: dict[str, list[int]] = {}
    for edit, category in parent_edits:
        if edit.sample_id in have:
            continue
        done = edit.status == Status.DONE
        new_edits.append(
            {
                "run_id": run.id,
                "sample_id": edit.sample_id,
                "category_id": category.id,
                "status": edit.status,
                "attempts": 0,
                "seed": edit.seed,
                "output_sha256": edit.output_sha256,
                "output_path": edit.output_path,
                "error_code": edit.error_code,
                "error": edit.error,
                "finished_at": now,
            }
        )
        for criterion in category.criteria or benchmark_criteria:
            # Every row has the same keys: one multi-row INSERT needs that.
            new_judgments.append(
                {
                    "run_id": run.id,
                    "sample_id": edit.sample_id,
                    "category_id": category.id,
                    "criterion": criterion,
                    "attempts": 0,
                    "status": Status.PENDING if done else Status.MISSING,
                    "error_code": None if done else FailureCode.EDIT_FAILED.value,
                    "error": None if done else f"edit {Status(edit.status).value} in run {run.parent_run_id}: {edit.error_code}",
                    "finished_at": None if done else now,
                }
            )
        added.setdefault(category.name, []).append(edit.sample_id)
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
    if run is None or run.status != RunStatus.RUNNING:
        return False
    open_judgments = session.scalar(
        select(func.count()).select_from(Judgment).where(Judgment.run_id == run_id, Judgment.status.not_in(FINAL_STATES))
    )
    open_edits = session.scalar(select(func.count()).select_from(Edit).where(Edit.run_id == run_id, Edit.status.not_in(FINAL_STATES)))
    open_items = (open_judgments or 0) + (open_edits or 0)
    if open_items == 0 and not run.follow:
        run.status, run.finished_at = RunStatus.DONE, utcnow()
        return True
    return False


def stop_run(session: Session, run_id: int, reason: str) -> bool:
    """Stop a running run with one stated reason (a worker could not load its model). Its open
    work stays pending; nothing more is claimed until :func:`reopen_run`. The first reason wins:
    a second worker failing the same way does not overwrite it. Returns whether it stopped now."""
    result = session.execute(
        update(Run)
        .where(Run.id == run_id, Run.status == RunStatus.RUNNING)
        .values(status=RunStatus.STOPPED, stop_reason=storable_text(reason))
    )
    return rows_affected(result) == 1


def cancel_run(session: Session, run_id: int) -> bool:
    """Mark a running run ``cancelled``: its open work stays ``pending`` (so ``resume`` can take
    it up again) and workers skip every task of the run from now on. Returns False when the run
    was not running (already done or cancelled): nothing changes then."""
    run = session.execute(
        select(Run).where(Run.id == run_id).with_for_update().execution_options(populate_existing=True)
    ).scalar_one_or_none()
    if run is None or run.status != RunStatus.RUNNING:
        return False
    run.status, run.finished_at = RunStatus.CANCELLED, utcnow()
    return True


def reopen_run(session: Session, run_id: int) -> bool:
    """Set a stopped or cancelled run running again (``editbench resume``), clearing its stop
    reason. Returns whether it was stopped or cancelled."""
    run = session.execute(
        select(Run).where(Run.id == run_id).with_for_update().execution_options(populate_existing=True)
    ).scalar_one_or_none()
    if run is None or run.status not in (RunStatus.STOPPED, RunStatus.CANCELLED):
        return False
    run.status, run.finished_at, run.stop_reason = RunStatus.RUNNING, None, None
    return True


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
        _hand_back(session, Edit, run_id, Edit.lease_expires_at < now, give_back_attempt=False)
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
        _hand_back(session, Judgment, run_id, Judgment.lease_expires_at < now, give_back_attempt=False)
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
