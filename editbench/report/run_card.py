"""run_card.json: what it takes to reproduce (or distrust) a run's numbers.

What the run recorded when it was submitted (``runs.run_card``) is kept verbatim under
``recorded``; everything else is derived from the ledger. Values that can only be read now — the
library versions and git revision of the process writing the report — are labelled ``at_report``
so they are never mistaken for what the run itself used.

``gpu_seconds`` is the sum of the recorded edit and judge durations. It counts the work the
ledger saw finish; time lost to crashed attempts is not in it. The score worker writes a sample's
share of its judge batch on *every* criterion row of that sample, so judge time is counted once
per sample (the largest of its rows), not once per criterion.
"""

from __future__ import annotations

import hashlib
import json
import platform
import subprocess
from collections import Counter
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from editbench.report.data import ModelInfo, RunData
from editbench.report.documents import (
    RUN_CARD_FORMAT,
    ApiUsage,
    BenchmarkCard,
    Compute,
    EditSeeds,
    GitRevision,
    GitRevisions,
    JudgeCard,
    LibraryVersions,
    ModelCard,
    ParentRunCard,
    PromptUse,
    ReportInfo,
    RunCard,
    RunSettings,
    Seeds,
    Subset,
    Times,
    UsageTotals,
)
from editbench.schema.queries import UsageTotals as UsageTotalsRow

FORMAT = RUN_CARD_FORMAT
LIBRARIES = (
    "editbench",
    "torch",
    "diffusers",
    "transformers",
    "accelerate",
    "numpy",
    "pillow",
    "sqlalchemy",
    "celery",
)


def params_hash(model: ModelInfo) -> str:
    """sha256 of the canonical JSON of (kind, path, params): equal hashes, equal configuration."""
    canonical = json.dumps({"kind": model.kind, "path": model.path, "params": model.params}, sort_keys=True, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is None:  # SQLite hands back naive datetimes that were stored as UTC
        value = value.replace(tzinfo=UTC)
    return value.isoformat()


def _model(model: ModelInfo, recorded: Any) -> ModelCard:
    identity = recorded if isinstance(recorded, dict) else {}
    return ModelCard(
        kind=model.kind,
        path=model.path,
        params=dict(model.params),
        config_hash=identity.get("config_hash"),
        params_hash=params_hash(model),
        identity=identity or None,
    )


def library_versions() -> dict[str, str | None]:
    versions: dict[str, str | None] = {"python": platform.python_version()}
    for name in LIBRARIES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def git_revision(path: Path | None = None) -> GitRevision | None:
    """The checkout's HEAD and whether it has uncommitted changes; None outside a git repo."""
    where = str(path or Path(__file__).resolve().parent)
    try:
        head = subprocess.run(
            ["git", "-C", where, "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", where, "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return GitRevision(commit=head, dirty=bool(dirty))


def _recorded_libraries(recorded: dict[str, Any]) -> dict[str, Any] | None:
    """What the producer wrote at submission: ``libraries`` (+ ``python``, ``editbench_version``)."""
    libraries = recorded.get("libraries") or recorded.get("library_versions")
    if not isinstance(libraries, dict):
        return None
    extra = {"python": recorded.get("python"), "editbench": recorded.get("editbench_version")}
    return {**{k: v for k, v in extra.items() if v}, **libraries}


def build_run_card(run: RunData) -> RunCard:
    recorded = dict(run.run_card)
    edit_seconds = [s.edit.duration_s for s in run.samples if s.edit and s.edit.duration_s is not None]
    judge_seconds = [
        max(durations) for s in run.samples if (durations := [j.duration_s for j in s.judgments.values() if j.duration_s is not None])
    ]
    started = [s.edit.started_at for s in run.samples if s.edit and s.edit.started_at]
    if not started:  # a re-judging run edited nothing: its work starts with its judgments
        started = [j.started_at for s in run.samples for j in s.judgments.values() if j.started_at]
    finished = [
        t
        for s in run.samples
        for t in ([s.edit.finished_at] if s.edit else []) + [j.finished_at for j in s.judgments.values()]
        if t is not None
    ]
    seeds = [s.edit.seed for s in run.samples if s.edit and s.edit.seed is not None]

    prompts = {}
    for cat in run.categories:
        used: Counter[str] = Counter(
            j.prompt_version or "unrecorded" for s in run.samples_in(cat.name) for j in s.judgments.values() if j.status == "done"
        )
        prompts[cat.name] = PromptUse(
            prompt_path=cat.prompt_path,
            prompt_version=cat.prompt_version,
            versions_used=dict(used.most_common()),
        )
    identities: Counter[str] = Counter(
        j.judge_identity or "unrecorded" for s in run.samples for j in s.judgments.values() if j.status == "done"
    )

    editor = _model(run.editor, recorded.get("editor"))
    judge = _model(run.judge, recorded.get("judge"))
    return RunCard(
        run=RunSettings(
            id=run.id,
            name=run.name,
            status=run.status,
            routing=run.routing,
            gpus=run.gpus,
            judge_batch_size=run.judge_batch_size,
            follow=run.follow,
            categories=list(run.category_filter) if run.category_filter else None,
            subset=_subset(run),
        ),
        parent_run=ParentRunCard(id=run.parent.id, name=run.parent.name) if run.parent else None,
        benchmark=BenchmarkCard(
            name=run.benchmark.name,
            version=run.benchmark.version,
            content_hash=run.benchmark.content_hash,
            source_path=run.benchmark.source_path,
            overall=run.benchmark.overall,
            score_scale=(run.benchmark.score_min, run.benchmark.score_max),
        ),
        editor=editor,
        judge=JudgeCard(**dict(judge), identities_used=dict(identities.most_common())),
        seeds=Seeds(
            run=run.seed,
            edits=EditSeeds(
                n=len(seeds),
                distinct=len(set(seeds)),
                min=min(seeds) if seeds else None,
                max=max(seeds) if seeds else None,
            ),
        ),
        prompts=prompts,
        times=Times(
            created_at=_iso(run.created_at),
            first_work_started_at=_iso(min(started)) if started else None,
            last_work_finished_at=_iso(max(finished)) if finished else None,
            finished_at=_iso(run.finished_at),
        ),
        compute=Compute(
            gpu_seconds=sum(edit_seconds) + sum(judge_seconds),
            edit_seconds=sum(edit_seconds),
            judge_seconds=sum(judge_seconds),
            n_edits_timed=len(edit_seconds),
            n_samples_judge_timed=len(judge_seconds),
            definition="sum of recorded edit durations plus judge durations counted once per sample (finished work only)",
        ),
        api_usage=_api_usage(run),
        library_versions=LibraryVersions(recorded=_recorded_libraries(recorded), at_report=library_versions()),
        git_revision=GitRevisions(recorded=recorded.get("git_revision"), at_report=git_revision()),
        recorded=recorded,
        report=ReportInfo(generated_at=datetime.now(UTC).isoformat(timespec="seconds")),
    )


def _subset(run: RunData) -> Subset | None:
    f = run.sample_filter
    if f is None or not f.active:
        return None
    return Subset(limit=f.limit, where={k: list(v) for k, v in f.where.items()}, description=f.describe())


def _api_usage(run: RunData) -> ApiUsage | None:
    """The served models' recorded usage (``api_usage`` rows), or None: the key is then absent."""
    if not run.api_usage:
        return None
    return ApiUsage(
        **{role: _totals(run.api_usage[stage]) for role, stage in (("editor", "edit"), ("judge", "judge")) if stage in run.api_usage}
    )


def _totals(totals: UsageTotalsRow) -> UsageTotals:
    counters = totals.counters
    return UsageTotals(
        batches=totals.batches,
        **counters,
        total_tokens=counters["prompt_tokens"] + counters["completion_tokens"],
        cost_usd=totals.cost_usd,
        stopped=totals.stopped,
        held=totals.held,
    )
