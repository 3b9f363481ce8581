"""``editbench judge RUN``: judge a finished run's edited images again, with another judge.

The new run is an ordinary run whose ``parent_run_id`` names RUN: the ledger gives it RUN's
final edits as its own (status, seed, image hash and path, nothing copied; see
``ledger.runs._adopt_parent_edits``) and pending judgments for the done ones. No edit row is
pending, so no edit task is ever sent: every category's chord has an empty header and goes
straight to scoring, and the sweeper, ``resume`` and exactly-once fencing work unchanged.

Before anything is recorded, every image the new run will judge is checked on disk against the
sha256 the parent recorded: a deleted or altered artifact refuses the command with one line per
image, because judging a different picture under the old hash would silently mix two runs.
"""

from __future__ import annotations

import hashlib
import platform
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from editbench import __version__
from editbench.config import load_settings
from editbench.errors import RunConfigError
from editbench.models.fingerprint import library_versions
from editbench.producer.submit import ModelRef, git_revision
from editbench.queue import dispatch
from editbench.queue.broker import broker_url
from editbench.schema import ledger, queries
from editbench.schema.db import session_scope
from editbench.schema.migrate import ensure_schema
from editbench.schema.models import Status

MISSING_SHOWN = 50
"""At most this many missing images are listed one per line (then a count of the rest)."""


@dataclass
class RejudgeRequest:
    """``editbench judge RUN --judge KIND:PATH``: RUN is an id or a run name."""

    parent: str
    judge: ModelRef
    name: str = ""
    judge_batch_size: int | None = None
    """Samples per judge batch; default: the parent run's."""


@dataclass(frozen=True)
class MissingImage:
    category: str
    external_id: str
    path: str | None
    reason: str

    def line(self) -> str:
        return f"  {self.category}/{self.external_id}: {self.path or '(no path recorded)'} ({self.reason})"


def create_rejudge_run(request: RejudgeRequest) -> int:
    """Check the parent and its images, then record the new run; nothing is enqueued yet."""
    _validate_judge(request.judge)
    if request.judge_batch_size is not None and request.judge_batch_size <= 0:
        raise RunConfigError(f"--judge-batch-size must be positive, got {request.judge_batch_size}")
    ensure_schema()
    home = load_settings().home
    with session_scope() as session:
        parent_id = queries.resolve_run(session, request.parent)
        parent = queries.get_run(session, parent_id) if parent_id is not None else None
        if parent is None:
            raise RunConfigError(f"no run with id or name {request.parent!r}")
        edits = queries.run_edits(session, parent.id)
        if not edits:
            raise RunConfigError(f"run {parent.id} has no edits to judge")
        still_open = [e for e, _, _ in edits if not Status(e.status).is_final]
        if still_open:
            raise RunConfigError(
                f"run {parent.id} still has {len(still_open)} edit(s) open; judge it once its edits are final "
                f"(`editbench status {parent.id}`)"
            )
        missing = [m for edit, sample, category in edits if (m := _check_image(edit, sample, category, home))]
        if missing:
            shown = [m.line() for m in missing[:MISSING_SHOWN]]
            more = [f"  ... and {len(missing) - MISSING_SHOWN} more"] if len(missing) > MISSING_SHOWN else []
            head = (
                f"cannot judge run {parent.id} again: {len(missing)} of its edited images are missing or "
                "changed (artifacts deleted?); nothing was recorded:"
            )
            raise RunConfigError("\n".join([head, *shown, *more]))
        recorded = dict(parent.run_card or {})
        benchmark = parent.benchmark
        categories = queries.benchmark_categories(session, benchmark.id)
        card: dict[str, Any] = {
            "editbench_version": __version__,
            "git_revision": git_revision(),
            "benchmark": {"name": benchmark.name, "version": benchmark.version, "content_hash": benchmark.content_hash},
            "editor": recorded.get("editor") or {"kind": parent.editor_kind, "path": parent.editor_path, "params": parent.editor_params},
            "judge": request.judge.card(),
            "seed": parent.seed,
            "routing": parent.routing,
            "gpus": parent.gpus,
            "judge_batch_size": request.judge_batch_size or parent.judge_batch_size,
            "prompt_versions": {name: c.prompt_version for name, c in categories.items()},
            "capacity_planning": bool(request.judge.params.get("capacity")),
            "libraries": library_versions(),
            "python": platform.python_version(),
            "parent_run": {"id": parent.id, "name": parent.name or ""},
        }
        if parent.sample_filter:
            card["subset"] = dict(parent.sample_filter)
        return ledger.create_run(
            session,
            ledger.RunSpec(
                benchmark_id=benchmark.id,
                # The edited images are the parent's: its editor made them, under its seed.
                editor_kind=parent.editor_kind,
                editor_path=parent.editor_path,
                editor_params=dict(parent.editor_params or {}),
                judge_kind=request.judge.kind,
                judge_path=request.judge.path,
                judge_params=request.judge.params,
                seed=parent.seed,
                routing=parent.routing,
                gpus=parent.gpus,
                judge_batch_size=request.judge_batch_size or parent.judge_batch_size,
                follow=False,
                categories=list(parent.categories) if parent.categories else None,
                name=request.name,
                run_card=card,
                sample_filter=dict(parent.sample_filter) if parent.sample_filter else None,
                parent_run_id=parent.id,
            ),
        )


def submit_rejudge(request: RejudgeRequest) -> int:
    """Record the re-judging run and send its scoring (no edit task). Returns the new run id."""
    broker_url(required=True)  # fail before recording anything if there is no broker to send to
    run_id = create_rejudge_run(request)
    dispatch.submit_run(run_id)
    return run_id


def _check_image(edit: Any, sample: Any, category: str, home: Path) -> MissingImage | None:
    """None when the done edit's image is on disk with the recorded hash (failed edits have none)."""
    if edit.status != Status.DONE:
        return None
    if not edit.output_path:
        return MissingImage(category, sample.external_id, None, "no image recorded")
    path = Path(edit.output_path)
    if not path.is_absolute():
        path = home / path
    try:
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
    except FileNotFoundError:
        return MissingImage(category, sample.external_id, str(path), "file not found")
    except OSError as exc:
        return MissingImage(category, sample.external_id, str(path), f"unreadable: {exc.strerror or exc}")
    if edit.output_sha256 and digest != edit.output_sha256:
        return MissingImage(category, sample.external_id, str(path), f"sha256 {digest[:12]} ≠ recorded {edit.output_sha256[:12]}")
    return None


def _validate_judge(judge: ModelRef) -> None:
    from editbench.models.base import validate_model

    try:
        validate_model("judge", judge.kind, judge.path, judge.params)
    except (LookupError, ImportError, ValueError, OSError) as exc:
        raise RunConfigError(f"--judge {judge.kind}: {exc}") from None
