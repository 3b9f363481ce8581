"""Everything a report needs about one run, as typed data (the ledger's rows come from
``editbench.schema.queries.run_rows``, five queries).

Reports never talk to Celery, Redis or a model: the ledger is the truth, and what it holds at the
moment of reading is what the report shows (a running run gives a partial report, marked so).

The run's items are the samples it has edit or judgment rows for (``add_missing_work`` creates
them), not every sample of the benchmark: a sample ingested after a non-following run was
created is not part of that run. A (sample, criterion) that the category asks for but that has no
judgment row is still listed, never dropped: ``pending`` while the run is running, ``missing``
with error code ``not_in_ledger`` once it is done.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy.exc import OperationalError, ProgrammingError
from sqlalchemy.orm import Session

from editbench.config import load_settings
from editbench.errors import FailureCode, LedgerUnavailableError, RunNotFoundError
from editbench.records import Benchmark, Category, Criterion, SampleFilter
from editbench.schema import queries
from editbench.schema.db import session_scope
from editbench.schema.models import Edit as EditRow
from editbench.schema.models import Judgment as JudgmentRow

NOT_IN_LEDGER = FailureCode.NOT_IN_LEDGER.value


@dataclass(frozen=True)
class ModelInfo:
    """An editor or judge as the run was configured (kind, local folder, parameters)."""

    kind: str
    path: str | None
    params: Mapping[str, Any]


@dataclass(frozen=True)
class EditData:
    status: str
    seed: int | None
    duration_s: float | None
    output_path: str | None
    output_sha256: str | None
    error_code: str | None
    error: str | None
    attempts: int
    worker: str | None
    started_at: datetime | None
    finished_at: datetime | None


@dataclass(frozen=True)
class JudgmentData:
    criterion: str
    status: str
    score: float | None
    confidence: float | None = None
    reasoning: str | None = None
    raw_output: str | None = None
    error_code: str | None = None
    error: str | None = None
    duration_s: float | None = None
    judge_identity: str | None = None
    prompt_version: str | None = None
    attempts: int = 0
    started_at: datetime | None = None
    finished_at: datetime | None = None
    recorded: bool = True  # False: the ledger has no row for this (sample, criterion)


@dataclass(frozen=True)
class SampleData:
    id: int
    external_id: str
    category: str
    subcategory: str | None
    instruction: str
    instruction_language: str
    source_path: str
    source_sha256: str
    reference_path: str | None
    reference_sha256: str | None
    reference_text: str | None
    tags: tuple[str, ...]
    provenance: Mapping[str, Any]
    edit: EditData | None
    judgments: Mapping[str, JudgmentData]  # criterion name → judgment, in the category's order

    @property
    def key(self) -> tuple[str, str]:
        """What identifies the same item across runs: (category, external id)."""
        return (self.category, self.external_id)


@dataclass(frozen=True)
class ParentRun:
    """The run a re-judging run took its edited images from."""

    id: int
    name: str

    @property
    def label(self) -> str:
        return f"run {self.id}" + (f" ({self.name})" if self.name else "")


@dataclass(frozen=True)
class RunData:
    id: int
    name: str
    status: str
    seed: int
    routing: str
    gpus: int
    judge_batch_size: int
    follow: bool
    category_filter: tuple[str, ...] | None
    created_at: datetime | None
    finished_at: datetime | None
    editor: ModelInfo
    judge: ModelInfo
    run_card: Mapping[str, Any]
    benchmark: Benchmark
    categories: tuple[Category, ...]
    samples: tuple[SampleData, ...] = field(repr=False)
    sample_filter: SampleFilter | None = None
    """``--limit``/``--where`` the run was created with; None: every item of its categories."""
    parent: ParentRun | None = None
    """The run whose edited images this one re-judged (``editbench judge``); None otherwise."""
    # Usage of models served over HTTP (api_usage rows summed), by stage ("edit", "judge");
    # empty for local models.
    api_usage: Mapping[str, queries.UsageTotals] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return f"run {self.id}" + (f" ({self.name})" if self.name else "")

    def category(self, name: str) -> Category:
        for category in self.categories:
            if category.name == name:
                return category
        raise KeyError(name)

    def samples_in(self, category: str) -> list[SampleData]:
        return [s for s in self.samples if s.category == category]


def load_run(session: Session, run_id: int) -> RunData:
    """Read one run and everything its reports show; raises :class:`RunNotFoundError`."""
    rows = queries.run_rows(session, run_id)
    if rows is None:
        raise RunNotFoundError(f"run {run_id} is not in the ledger")
    run, samples, judgments, edits = rows.run, rows.samples, rows.judgments, rows.edits
    benchmark_info = queries.benchmark_record(rows.benchmark)
    used_category_ids = {s.category_id for s in samples}
    wanted = set(run.categories or ())
    default_criteria = tuple(c.name for c in benchmark_info.criteria)

    category_infos: list[Category] = []
    criteria_of: dict[int, tuple[str, ...]] = {}
    for c in rows.categories:
        if c.id not in used_category_ids and c.name not in wanted:
            continue
        declared = tuple(Criterion.from_json(x).name for x in (c.criteria or ())) or default_criteria
        seen = {j.criterion for s in samples if s.category_id == c.id for j in judgments.get(s.id, ())}
        criteria = declared + tuple(sorted(seen - set(declared)))
        criteria_of[c.id] = criteria
        category_infos.append(queries.category_record(c, criteria))
    names = {c.id: c.name for c in category_infos}

    run_done = _value(run.status) == "done"
    sample_data = []
    for s in samples:
        by_criterion = {j.criterion: j for j in judgments.get(s.id, ())}
        per_criterion: dict[str, JudgmentData] = {}
        for criterion in criteria_of[s.category_id]:
            row = by_criterion.get(criterion)
            per_criterion[criterion] = _judgment(row) if row is not None else _absent(criterion, run_done)
        edit = edits.get(s.id)
        sample_data.append(
            SampleData(
                id=s.id,
                external_id=s.external_id,
                category=names[s.category_id],
                subcategory=s.subcategory,
                instruction=s.instruction,
                instruction_language=s.instruction_language or "en",
                source_path=s.source_path,
                source_sha256=s.source_sha256,
                reference_path=s.reference_path,
                reference_sha256=s.reference_sha256,
                reference_text=s.reference_text,
                tags=tuple(s.tags or ()),
                provenance=dict(s.provenance or {}),
                edit=_edit(edit) if edit is not None else None,
                judgments=per_criterion,
            )
        )

    return RunData(
        id=run.id,
        name=run.name or "",
        status=_value(run.status),
        seed=run.seed,
        routing=run.routing,
        gpus=run.gpus,
        judge_batch_size=run.judge_batch_size,
        follow=bool(run.follow),
        category_filter=tuple(run.categories) if run.categories else None,
        created_at=run.created_at,
        finished_at=run.finished_at,
        editor=ModelInfo(run.editor_kind, run.editor_path, dict(run.editor_params or {})),
        judge=ModelInfo(run.judge_kind, run.judge_path, dict(run.judge_params or {})),
        run_card=dict(run.run_card or {}),
        benchmark=benchmark_info,
        categories=tuple(category_infos),
        samples=tuple(sample_data),
        sample_filter=SampleFilter.from_json(run.sample_filter),
        parent=_parent(session, run.parent_run_id),
        api_usage={stage: totals for stage in ("edit", "judge") if (totals := queries.run_api_usage(session, run.id, stage))},
    )


def _parent(session: Session, parent_id: int | None) -> ParentRun | None:
    if parent_id is None:
        return None
    parent = queries.get_run(session, parent_id)
    return ParentRun(parent_id, (parent.name or "") if parent is not None else "")


def read_runs(refs: list[str] | tuple[str, ...]) -> list[RunData]:
    """Load the runs named by ``refs`` (ids or run names) in one short read transaction.

    The transaction ends before anything slow happens: on SQLite every transaction takes the
    write lock (BEGIN IMMEDIATE), and the workers of a running run are waiting on it. Raises
    :class:`RunNotFoundError` for an unknown run and :class:`LedgerUnavailableError` when the
    ledger cannot be read (no database, no schema)."""
    try:
        with session_scope() as session:
            ids = []
            for ref in refs:
                ids.append(queries.require_run(session, ref))  # the CLI's one "no run" message
            return [load_run(session, run_id) for run_id in ids]
    except (OperationalError, ProgrammingError) as exc:
        raise LedgerUnavailableError(str(exc).splitlines()[0]) from exc


def resolve_image(path: str | None, sha256: str | None, home: Path) -> Path | None:
    """Find an image the ledger points at: its recorded path (relative paths are under
    ``home``), else the content-addressed store under ``home/store`` by hash. None if absent.
    An object-store run (``s3://`` locations, EDITBENCH_STORE_URL set) resolves to a copy in
    the local read cache, so reports are written locally from it."""
    if path and "://" in path:
        from editbench.layout import local_copy, store_copy

        return local_copy(path, sha256) or (store_copy(sha256) if sha256 else None)
    if path:
        candidate = Path(path)
        if not candidate.is_absolute():
            candidate = home / candidate
        if candidate.is_file():
            return candidate
    if sha256 and load_settings().store_url:
        from editbench.layout import store_copy

        return store_copy(sha256)
    if sha256:
        from editbench.benchmark.store import ImageStore

        try:
            return ImageStore(home / "store").path_for(sha256)
        except (LookupError, ValueError, OSError):
            return None
    return None


def _value(status: Any) -> str:
    return status.value if hasattr(status, "value") else str(status)


def _edit(e: EditRow) -> EditData:
    return EditData(
        status=_value(e.status),
        seed=e.seed,
        duration_s=e.duration_s,
        output_path=e.output_path,
        output_sha256=e.output_sha256,
        error_code=e.error_code,
        error=e.error,
        attempts=e.attempts or 0,
        worker=e.worker,
        started_at=e.started_at,
        finished_at=e.finished_at,
    )


def _judgment(j: JudgmentRow) -> JudgmentData:
    return JudgmentData(
        criterion=j.criterion,
        status=_value(j.status),
        score=j.score,
        confidence=j.confidence,
        reasoning=j.reasoning,
        raw_output=j.raw_output,
        error_code=j.error_code,
        error=j.error,
        duration_s=j.duration_s,
        judge_identity=j.judge_identity,
        prompt_version=j.prompt_version,
        attempts=j.attempts or 0,
        started_at=j.started_at,
        finished_at=j.finished_at,
    )


def _absent(criterion: str, run_done: bool) -> JudgmentData:
    if run_done:
        return JudgmentData(
            criterion,
            "missing",
            None,
            error_code=NOT_IN_LEDGER,
            error="the category asks for this criterion but the ledger has no judgment row for it",
            recorded=False,
        )
    return JudgmentData(criterion, "pending", None, recorded=False)
