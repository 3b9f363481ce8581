"""Record a run (with its run card) in the ledger and enqueue its work.

The run card is written before anything is enqueued: whatever happens later, the ledger says
exactly which models, parameters, seeds and prompt versions produced the numbers.
"""

from __future__ import annotations

import platform
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from editbench import __version__
from editbench.errors import RunConfigError
from editbench.models.fingerprint import config_hash, library_versions
from editbench.producer.model_checks import prepare_models
from editbench.queue import dispatch
from editbench.queue.broker import broker_url
from editbench.queue.names import ROUTINGS
from editbench.schema import ledger, queries
from editbench.schema.db import session_scope
from editbench.schema.migrate import ensure_schema


@dataclass
class ModelRef:
    """``KIND:PATH`` as given on the command line (PATH may be empty for ``identity``)."""

    kind: str
    path: str | None
    params: dict[str, Any] = field(default_factory=dict)
    # Set at submit from the adapter (producer.model_checks): PATH names a model on a server.
    path_is_model_name: bool = False

    @classmethod
    def parse(cls, text: str, params: dict[str, Any] | None = None) -> ModelRef:
        """PATH is kept as written: at submit it is resolved to an absolute folder, unless the
        adapter says it names a model on a server (``openai:gpt-4.1``)."""
        kind, _, path = text.partition(":")
        if not kind:
            raise RunConfigError(f"expected KIND:PATH, got {text!r}")
        return cls(kind, path or None, dict(params or {}))

    def card(self) -> dict[str, Any]:
        folder = Path(self.path) if self.path and not self.path_is_model_name else None
        capacity = self.params.get("capacity")
        if capacity:
            # Weights are random and built from editbench's packaged configs: that is the identity.
            from editbench.models.capacity import CONFIG_DIR

            digest = config_hash(CONFIG_DIR)
        else:
            digest = config_hash(folder) if folder and folder.is_dir() else None
        return {"kind": self.kind, "path": self.path, "config_hash": digest, "capacity": capacity, "params": self.params}


@dataclass
class RunRequest:
    benchmark: str
    editor: ModelRef
    judge: ModelRef
    benchmark_version: str | None = None
    categories: list[str] | None = None
    seed: int = 0
    routing: str = "shared"
    gpus: int = 1
    judge_batch_size: int = 8
    follow: bool = False
    name: str = ""


def parse_params(pairs: list[str]) -> dict[str, str]:
    """``["steps=8", "true_cfg_scale=4"]`` → dict; adapters coerce the strings to their types."""
    params = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise RunConfigError(f"expected key=value, got {pair!r}")
        params[key.strip()] = value.strip()
    return params


def load_run_config(path: Path) -> dict[str, Any]:
    """A run.yaml: the same fields as the command-line options (see examples/)."""
    data = yaml.safe_load(Path(path).read_text()) or {}
    if not isinstance(data, dict):
        raise RunConfigError(f"{path}: expected a mapping at the top level")
    return data


def create_run(request: RunRequest) -> int:
    """Validate against the ledger and record the run; nothing is enqueued yet."""
    if request.routing not in ROUTINGS:
        raise RunConfigError(f"unknown routing {request.routing!r}; choose one of {', '.join(ROUTINGS)}")
    plan = prepare_models(request)  # paths, credentials, served models checked (model_checks)
    _validate_models(request)
    ensure_schema()
    with session_scope() as session:
        benchmark = queries.find_benchmark(session, request.benchmark, request.benchmark_version)
        if benchmark is None:
            raise RunConfigError(f"no benchmark named {request.benchmark!r}; ingest it first (`editbench benchmarks` lists them)")
        categories = queries.benchmark_categories(session, benchmark.id)
        unknown = sorted(set(request.categories or []) - set(categories))
        if unknown:
            raise RunConfigError(f"unknown categories {', '.join(unknown)}; {benchmark.name} has {', '.join(sorted(categories))}")
        card = {
            "editbench_version": __version__,
            "git_revision": _git_revision(),
            "benchmark": {"name": benchmark.name, "version": benchmark.version, "content_hash": benchmark.content_hash},
            "editor": request.editor.card(),
            "judge": request.judge.card(),
            "seed": request.seed,
            "routing": request.routing,
            "gpus": request.gpus,
            "judge_batch_size": request.judge_batch_size,
            "prompt_versions": {name: c.prompt_version for name, c in categories.items()},
            "capacity_planning": bool(request.editor.params.get("capacity") or request.judge.params.get("capacity")),
            "libraries": library_versions(),
            "python": platform.python_version(),
        }
        run_id = ledger.create_run(
            session,
            ledger.RunSpec(
                benchmark_id=benchmark.id,
                editor_kind=request.editor.kind,
                editor_path=request.editor.path,
                editor_params=request.editor.params,
                judge_kind=request.judge.kind,
                judge_path=request.judge.path,
                judge_params=request.judge.params,
                seed=request.seed,
                routing=request.routing,
                gpus=request.gpus,
                judge_batch_size=request.judge_batch_size,
                follow=request.follow,
                categories=request.categories,
                name=request.name,
                run_card=card,
                judge_placement=plan.judge_placement,
            ),
        )
    return run_id


def _validate_models(request: RunRequest) -> None:
    """Unknown kind, broken plugin, or a model its adapter refuses (e.g. a diffusers pipeline it
    cannot drive): one clear line before anything is recorded."""
    from editbench.models.base import validate_model

    for role, ref in (("editor", request.editor), ("judge", request.judge)):
        try:
            validate_model(role, ref.kind, ref.path, ref.params)
        except (LookupError, ImportError, ValueError, OSError) as exc:
            raise RunConfigError(f"--{role} {ref.kind}: {exc}") from None


def submit(request: RunRequest) -> int:
    broker_url(required=True)  # fail before recording anything if there is no broker to send to
    run_id = create_run(request)
    dispatch.submit_run(run_id)
    return run_id


def _git_revision() -> str | None:
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5, cwd=Path(__file__).parent)
        return out.stdout.strip() or None if out.returncode == 0 else None
    except (OSError, subprocess.SubprocessError):
        return None
