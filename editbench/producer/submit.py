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
from editbench.errors import BrokerError, RunConfigError
from editbench.models.fingerprint import config_hash, library_versions
from editbench.producer.model_checks import ModelPlan, prepare_models
from editbench.queue import dispatch
from editbench.queue.connection import require_reachable_broker
from editbench.queue.names import ROUTINGS
from editbench.records import WHERE_FIELDS, SampleFilter, item_values, where_key
from editbench.schema import ledger, queries
from editbench.schema.db import session_scope
from editbench.schema.migrate import ensure_schema, has_schema


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

            digest: str | None = config_hash(CONFIG_DIR)
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
    limit: int | None = None
    """``--limit N``: the first N items of each category (ingest order)."""
    where: list[str] = field(default_factory=list)
    """``--where KEY=VALUE`` pairs (repeatable): only items whose metadata match."""


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
    try:
        data = yaml.safe_load(Path(path).read_text()) or {}
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise RunConfigError(f"{path}: not a readable run.yaml ({str(exc).splitlines()[0] if str(exc) else type(exc).__name__})") from None
    if not isinstance(data, dict):
        raise RunConfigError(f"{path}: expected a mapping at the top level")
    return data


MAX_SEED = 2**63 - 1  # the ledger's BIGINT column


def validate_request(request: RunRequest) -> ModelPlan:
    """Every check that needs no database: option ranges, then each model through its adapter's
    own validator (kind, folder, every parameter name and value). Raises ``RunConfigError``."""
    if request.routing not in ROUTINGS:
        raise RunConfigError(f"unknown routing {request.routing!r}; choose one of {', '.join(ROUTINGS)}")
    for option, value in (("--gpus", request.gpus), ("--judge-batch-size", request.judge_batch_size)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise RunConfigError(f"{option} must be a whole number >= 1, got {value!r}")
    if isinstance(request.seed, bool) or not isinstance(request.seed, int) or not 0 <= request.seed <= MAX_SEED:
        raise RunConfigError(f"--seed must be a whole number from 0 to {MAX_SEED} (2^63 - 1), got {request.seed!r}")
    build_sample_filter(request.limit, request.where)  # a malformed --limit/--where needs no ledger to refuse
    plan = prepare_models(request)  # paths, credentials, served models checked (model_checks)
    _validate_models(request)
    return plan


def _find_benchmark(session, request: RunRequest):
    """The benchmark (and version) the run asks for, its categories checked, or RunConfigError."""
    benchmark = queries.find_benchmark(session, request.benchmark, request.benchmark_version)
    if benchmark is None:
        versions = sorted(queries.benchmark_versions(session, request.benchmark))
        if versions and request.benchmark_version is not None:
            raise RunConfigError(
                f"benchmark {request.benchmark!r} has no version {request.benchmark_version!r}; registered: {', '.join(versions)}"
            )
        raise RunConfigError(f"no benchmark named {request.benchmark!r}; ingest it first (`editbench benchmarks` lists them)")
    categories = queries.benchmark_categories(session, benchmark.id)
    unknown = sorted(set(request.categories or []) - set(categories))
    if unknown:
        raise RunConfigError(f"unknown categories {', '.join(unknown)}; {benchmark.name} has {', '.join(sorted(categories))}")
    sample_filter = build_sample_filter(request.limit, request.where)
    if sample_filter is not None:
        check_sample_filter(sample_filter, queries.benchmark_items(session, benchmark.id, request.categories), benchmark.name)
    return benchmark, categories


def check_request(request: RunRequest) -> ModelPlan:
    """Everything ``submit`` refuses, checked without writing a row: the request itself, then the
    benchmark, its version and the categories in the ledger."""
    plan = validate_request(request)
    if not has_schema():
        raise RunConfigError(f"no benchmark named {request.benchmark!r}: the ledger is empty; ingest one first (`editbench ingest DIR`)")
    with session_scope() as session:
        _find_benchmark(session, request)
    return plan


def create_run(request: RunRequest, plan: ModelPlan | None = None) -> int:
    """Validate against the ledger and record the run; nothing is enqueued yet. ``plan``: the
    result of :func:`check_request` when the caller already checked (served models are probed
    once, not twice)."""
    if plan is None:
        plan = validate_request(request)
    ensure_schema()
    with session_scope() as session:
        benchmark, categories = _find_benchmark(session, request)
        sample_filter = build_sample_filter(request.limit, request.where)
        card = {
            "editbench_version": __version__,
            "git_revision": git_revision(),
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
        if sample_filter is not None:
            card["subset"] = sample_filter.as_json()
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
                sample_filter=sample_filter.as_json() if sample_filter is not None else None,
                judge_placement=plan.judge_placement,
            ),
        )
    return run_id


def build_sample_filter(limit: int | None, where: list[str] | tuple[str, ...]) -> SampleFilter | None:
    """``--limit``/``--where`` as a filter (None when neither is given); refuses N <= 0 and a pair
    that is not KEY=VALUE."""
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit <= 0):
        raise RunConfigError(f"--limit must be a positive number of items per category, got {limit!r}")
    wanted: dict[str, tuple[str, ...]] = {}
    for pair in where:
        key, sep, value = str(pair).partition("=")
        key, value = where_key(key.strip()), value.strip()
        if not sep or not key or not value:
            raise RunConfigError(f"--where expects KEY=VALUE (e.g. language=en), got {pair!r}")
        wanted[key] = (*wanted.get(key, ()), value)
    if limit is None and not wanted:
        return None
    return SampleFilter(limit, wanted)


def check_sample_filter(sample_filter: SampleFilter, items: list[tuple[Any, str]], benchmark: str) -> None:
    """Refuse a filter with a key no item has, or one that leaves no item: one line each."""
    source_keys = sorted({str(k) for sample, _ in items for k in (sample.provenance or {})})
    known = [*WHERE_FIELDS, *(k for k in source_keys if k not in WHERE_FIELDS)]
    for key in sample_filter.where:
        if key not in known:
            raise RunConfigError(f"unknown --where key {key!r}; items of {benchmark} have: {', '.join(known)}")
    if not sample_filter.pick(items) and sample_filter.where:
        shown = "; ".join(f"{key}: {', '.join(_values(items, key)) or 'none'}" for key in sample_filter.where)
        asked = " ".join(f"--where {key}={v}" for key, values in sample_filter.where.items() for v in values)
        raise RunConfigError(f"no item of {benchmark} matches {asked} (values present: {shown})")


def _values(items: list[tuple[Any, str]], key: str, shown: int = 12) -> list[str]:
    """The distinct values of ``key`` among the items, for an error message (at most ``shown``)."""
    values = sorted({v for sample, _ in items for v in item_values(sample, key)})
    return values[:shown] + (["..."] if len(values) > shown else [])


def _validate_models(request: RunRequest) -> None:
    """Unknown kind, broken plugin, or a model its adapter refuses (e.g. a diffusers pipeline it
    cannot drive): one clear line before anything is recorded."""
    from editbench.models.base import validate_model

    for role, ref in (("editor", request.editor), ("judge", request.judge)):
        try:
            validate_model(role, ref.kind, ref.path, ref.params)
        except (LookupError, ImportError, ValueError, TypeError, OSError) as exc:
            message = str(exc)
            # Adapters name themselves ("qwen-image-edit: unknown parameter ..."): say it once.
            prefix = f"--{role}" if message.startswith(f"{ref.kind}") else f"--{role} {ref.kind}:"
            raise RunConfigError(f"{prefix} {message}") from None


def submit(request: RunRequest) -> int:
    """Check everything, then record the run, then enqueue it. A refused request records
    nothing: input errors raise ``RunConfigError`` and a broker that does not answer raises
    ``BrokerError`` before the first write. Should enqueueing still fail (the broker went away
    in between), the run is marked ``cancelled`` rather than left open, and the error says how to
    restart it (``editbench resume``)."""
    plan = check_request(request)
    require_reachable_broker()
    run_id = create_run(request, plan)
    try:
        dispatch.submit_run(run_id)
    except Exception as exc:
        with session_scope() as session:
            ledger.cancel_run(session, run_id)
        raise BrokerError(
            f"run {run_id} was recorded but could not be queued ({type(exc).__name__}: {exc}); it is marked cancelled: "
            f"`editbench resume {run_id}` queues it once the broker answers"
        ) from exc
    return run_id


def git_revision() -> str | None:
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5, cwd=Path(__file__).parent)
        return out.stdout.strip() or None if out.returncode == 0 else None
    except (OSError, subprocess.SubprocessError):
        return None
