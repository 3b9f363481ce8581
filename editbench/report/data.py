"""Everything a report needs about one run, read from the ledger in five queries.

Reports never talk to Celery, Redis or a model: the ledger is the truth, and what it holds at the
moment of reading is what the report shows (a running run gives a partial report, marked so).

The run's items are the samples it has edit or judgment rows for (``add_missing_work`` creates
them), not every sample of the benchmark: a sample ingested after a non-following run was
created is not part of that run. A (sample, criterion) that the category asks for but that has no
judgment row is still listed, never dropped: ``pending`` while the run is running, ``missing``
with error code ``not_in_ledger`` once it is done.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from editbench.schema.models import Benchmark, Category, Edit, Judgment, Run, Sample

NOT_IN_LEDGER = "not_in_ledger"


class RunNotFoundError(LookupError):
    """No run with that id in the ledger."""


@dataclass(frozen=True)
class CriterionInfo:
    name: str
    description: str = ""


@dataclass(frozen=True)
class BenchmarkInfo:
    id: int
    name: str
    version: str
    description: str
    content_hash: str
    score_min: float
    score_max: float
    overall: str
    criteria: tuple[CriterionInfo, ...]
    source_path: str


@dataclass(frozen=True)
class CategoryInfo:
    id: int
    name: str
    description: str
    criteria: tuple[str, ...]
    weights: Mapping[str, float]
    pass_rule: Mapping[str, Any] | None
    prompt_path: str
    prompt_version: str


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
    benchmark: BenchmarkInfo
    categories: tuple[CategoryInfo, ...]
    samples: tuple[SampleData, ...] = field(repr=False)

    @property
    def label(self) -> str:
        return f"run {self.id}" + (f" ({self.name})" if self.name else "")

    def category(self, name: str) -> CategoryInfo:
        for category in self.categories:
            if category.name == name:
                return category
        raise KeyError(name)

    def samples_in(self, category: str) -> list[SampleData]:
        return [s for s in self.samples if s.category == category]


def load_run(session: Session, run_id: int) -> RunData:
    """Read one run and everything its reports show; raises :class:`RunNotFoundError`."""
    run = session.get(Run, run_id)
    if run is None:
        raise RunNotFoundError(f"run {run_id} is not in the ledger")
    benchmark = session.get(Benchmark, run.benchmark_id)
    assert benchmark is not None  # foreign key
    benchmark_info = _benchmark_info(benchmark)

    edits = {e.sample_id: e for e in session.scalars(select(Edit).where(Edit.run_id == run_id))}
    judgments: dict[int, list[Judgment]] = {}
    for j in session.scalars(select(Judgment).where(Judgment.run_id == run_id).order_by(Judgment.id)):
        judgments.setdefault(j.sample_id, []).append(j)

    categories = list(
        session.scalars(select(Category).where(Category.benchmark_id == benchmark.id).order_by(Category.id))
    )
    in_run = select(Edit.sample_id).where(Edit.run_id == run_id).union(
        select(Judgment.sample_id).where(Judgment.run_id == run_id)
    )
    samples = list(session.scalars(select(Sample).where(Sample.id.in_(in_run)).order_by(Sample.id)))
    used_category_ids = {s.category_id for s in samples}
    wanted = set(run.categories or ())
    default_criteria = tuple(c.name for c in benchmark_info.criteria)

    category_infos: list[CategoryInfo] = []
    criteria_of: dict[int, tuple[str, ...]] = {}
    for c in categories:
        if c.id not in used_category_ids and c.name not in wanted:
            continue
        declared = tuple(_criterion_name(x) for x in (c.criteria or ())) or default_criteria
        seen = {j.criterion for s in samples if s.category_id == c.id for j in judgments.get(s.id, ())}
        criteria = declared + tuple(sorted(seen - set(declared)))
        criteria_of[c.id] = criteria
        category_infos.append(
            CategoryInfo(
                id=c.id,
                name=c.name,
                description=c.description or "",
                criteria=criteria,
                weights={str(k): float(v) for k, v in (c.weights or {}).items()},
                pass_rule=dict(c.pass_rule) if c.pass_rule else None,
                prompt_path=c.prompt_path or "",
                prompt_version=c.prompt_version or "",
            )
        )
    names = {c.id: c.name for c in category_infos}

    run_done = _value(run.status) == "done"
    sample_data = []
    for s in samples:
        rows = {j.criterion: j for j in judgments.get(s.id, ())}
        per_criterion: dict[str, JudgmentData] = {}
        for criterion in criteria_of[s.category_id]:
            row = rows.get(criterion)
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
    )


def resolve_image(path: str | None, sha256: str | None, home: Path) -> Path | None:
    """Find an image the ledger points at: its recorded path (relative paths are under
    ``home``), else the content-addressed store under ``home/store`` by hash. None if absent.
    An object-store run (``s3://`` locations, EDITBENCH_STORE_URL set) resolves to a copy in
    the local read cache, so reports are written locally from it."""
    if path and "://" in path:
        from editbench.storage.images import local_copy, store_copy

        return local_copy(path, sha256) or (store_copy(sha256) if sha256 else None)
    if path:
        candidate = Path(path)
        if not candidate.is_absolute():
            candidate = home / candidate
        if candidate.is_file():
            return candidate
    if sha256 and os.environ.get("EDITBENCH_STORE_URL"):
        from editbench.storage.images import store_copy

        return store_copy(sha256)
    if sha256:
        from editbench.benchmark.store import ImageStore

        try:
            return ImageStore(home / "store").path_for(sha256)
        except (LookupError, ValueError, OSError):
            return None
    return None


def _benchmark_info(b: Benchmark) -> BenchmarkInfo:
    criteria = tuple(
        CriterionInfo(c["name"], c.get("description", "")) if isinstance(c, dict) else CriterionInfo(str(c))
        for c in (b.criteria or ())
    )
    return BenchmarkInfo(
        id=b.id,
        name=b.name,
        version=b.version,
        description=b.description or "",
        content_hash=b.content_hash,
        score_min=float(b.score_min),
        score_max=float(b.score_max),
        overall=b.overall or "geometric_mean",
        criteria=criteria,
        source_path=b.source_path or "",
    )


def _criterion_name(entry: Any) -> str:
    return str(entry["name"]) if isinstance(entry, dict) else str(entry)


def _value(status: Any) -> str:
    return status.value if hasattr(status, "value") else str(status)


def _edit(e: Edit) -> EditData:
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


def _judgment(j: Judgment) -> JudgmentData:
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
