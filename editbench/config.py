"""Settings read from the environment, in one place, with credentials redacted for display.

Every knob has an embedded default so `editbench demo` works on a machine with nothing
installed: SQLite under ``EDITBENCH_HOME`` and, when no broker URL is set, an embedded Redis.
No other module reads an ``EDITBENCH_*`` variable: they all take a :class:`Settings`
(rq's ``defaults.py`` habit: one home for every key and default).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

WEEK_S = 7 * 24 * 3600


@dataclass(frozen=True)
class Variable:
    """One ``EDITBENCH_*`` environment variable: its name, its default as text, what it does."""

    name: str
    default: str
    help: str


# Every variable editbench reads, with its default, in one place. ``load_settings`` reads exactly
# these (plus the ``EDITBENCH_CELERY_*`` family, see ``celeryconfig``); docs/settings.md lists them.
VARIABLES: tuple[Variable, ...] = (
    Variable("EDITBENCH_HOME", ".editbench", "Folder for the SQLite ledger, image store, artifacts, reports, logs and the embedded Redis."),
    Variable(
        "EDITBENCH_DATABASE_URL",
        "sqlite:///$EDITBENCH_HOME/editbench.db",
        "The ledger: SQLite (default) or postgresql://user:pass@host/db.",
    ),
    Variable(
        "EDITBENCH_BROKER_URL",
        "",
        "Redis URL of the broker; empty: the embedded Redis that `editbench up` started (EDITBENCH_HOME/broker.url).",
    ),
    Variable(
        "EDITBENCH_LEASE_SECONDS",
        "60",
        "How long a claim on an edit or judgment lives without a heartbeat; a dead worker's work is free again after it.",
    ),
    Variable(
        "EDITBENCH_MAX_ATTEMPTS", "3", "Claims per work item before it fails with attempts_exhausted (stops a poison sample from looping)."
    ),
    Variable(
        "EDITBENCH_IMAGE_TTL_SECONDS",
        str(WEEK_S),
        "How long an edited image stays in Redis for the judge (the artifact file is the durable copy).",
    ),
    Variable("EDITBENCH_DB_RETRY_SECONDS", "300", "How long a worker keeps retrying a ledger write while the database is unreachable."),
    Variable(
        "EDITBENCH_RESIDENT", "both", "both: editor and judge stay loaded together; one: loading either unloads the other (smaller cards)."
    ),
    Variable("EDITBENCH_DEVICE", "cpu", "Device the worker runs models on (cpu or cuda); set by `editbench worker --gpu/--cpu`."),
    Variable("EDITBENCH_WORKER_SLOT", "", "The worker's GPU index or CPU slot (names its pinned queue); set by `editbench worker`."),
    Variable(
        "EDITBENCH_STORE_URL",
        "",
        "Where images and artifacts live: empty for EDITBENCH_HOME, or s3://bucket/prefix (any S3-compatible service).",
    ),
    Variable(
        "EDITBENCH_S3_ENDPOINT_URL",
        "",
        "Endpoint of an S3-compatible object store (else AWS_ENDPOINT_URL); credentials come from AWS_* variables.",
    ),
    Variable(
        "EDITBENCH_STORE_CACHE_MB", "2048", "Size bound of each host's local read cache of an object store (EDITBENCH_HOME/cache/objects)."
    ),
    Variable(
        "EDITBENCH_COMPILE_CACHE",
        "$EDITBENCH_HOME/compile-cache",
        "Where workers keep torch.compile's caches (Inductor FX graphs, AOTAutograd, Triton kernels), so a compile is paid once per machine, not per worker or `up`; `off`: torch's own defaults.",
    ),
    Variable(
        "EDITBENCH_PRELOAD_MODEL_LIBRARIES",
        "1",
        "1: a worker that serves models (role all or models) imports torch, diffusers, transformers and the built-in adapters in its parent process before Celery forks the child (without initialising CUDA), so the child's first model load skips those imports; 0: the child imports them at its first load.",
    ),
    Variable(
        "EDITBENCH_PNG_COMPRESS_LEVEL",
        "1",
        "zlib level (0-9) of the edited images' PNGs (deflated in parallel strips on the worker's critical path): lossless at any level; higher levels, smaller files of real images, more host time per edit.",
    ),
    Variable("EDITBENCH_DEBUG", "", "1: the CLI prints the full Python traceback of an unexpected error (same as `editbench --debug`)."),
    Variable(
        "EDITBENCH_FAULT_CRASH_ON",
        "",
        "Tests and drills only: comma-separated sample ids whose edit kills its worker process right after the claim.",
    ),
)
CELERY_PREFIX = "EDITBENCH_CELERY_"
_DEFAULTS = {v.name: v.default for v in VARIABLES}


@dataclass(frozen=True)
class Settings:
    """Everything editbench reads from the environment, typed. Build with :func:`load_settings`."""

    home: Path
    database_url: str
    broker_url: str | None
    lease_seconds: float
    max_attempts: int
    image_ttl_seconds: int
    db_retry_seconds: float = 300.0
    resident: str = "both"
    device: str = "cpu"
    worker_slot: int | None = None
    fault_crash_on: frozenset[str] = frozenset()
    store_url: str | None = None
    s3_endpoint_url: str | None = None
    store_cache_mb: float = 2048.0
    compile_cache: Path | None = None
    preload_model_libraries: bool = True
    png_compress_level: int = 1
    debug: bool = False
    # ``EDITBENCH_CELERY_<NAME>`` overrides, raw text keyed by lower-case Celery setting name.
    celery_overrides: Mapping[str, str] = field(default_factory=dict)

    @property
    def store_dir(self) -> Path:
        """Content-addressed copies of benchmark images (never the user's own folder)."""
        return self.home / "store"

    @property
    def artifacts_dir(self) -> Path:
        """Edited images, one folder per run; the durable copy of what Redis holds."""
        return self.home / "artifacts"

    @property
    def models_dir(self) -> Path:
        return self.home / "models"

    def compile_cache_environment(self) -> dict[str, str]:
        """torch's variables that put its compile caches under ``compile_cache`` and switch the
        FX graph and AOTAutograd caches on (issue 15: a second `editbench up` on the machine then
        reuses the first one's compiled graphs and kernels). Empty when the cache is off."""
        if self.compile_cache is None:
            return {}
        return {
            "TORCHINDUCTOR_CACHE_DIR": str(self.compile_cache / "inductor"),
            "TRITON_CACHE_DIR": str(self.compile_cache / "triton"),
            "TORCHINDUCTOR_FX_GRAPH_CACHE": "1",
            "TORCHINDUCTOR_AUTOGRAD_CACHE": "1",
        }

    @property
    def one_model_at_a_time(self) -> bool:
        """``EDITBENCH_RESIDENT=one``: the card holds the editor or the judge, never both."""
        return self.resident == "one"


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Read the settings now (tests and ``editbench worker`` change the environment, so this is
    not cached)."""
    env = os.environ if environ is None else environ

    def get(name: str) -> str:
        return env.get(name) or _DEFAULTS[name]

    home = Path(get("EDITBENCH_HOME")).expanduser().resolve()
    slot = env.get("EDITBENCH_WORKER_SLOT", "")
    cache = env.get("EDITBENCH_COMPILE_CACHE", "").strip()
    return Settings(
        home=home,
        database_url=env.get("EDITBENCH_DATABASE_URL") or f"sqlite:///{home / 'editbench.db'}",
        broker_url=env.get("EDITBENCH_BROKER_URL") or None,
        lease_seconds=float(get("EDITBENCH_LEASE_SECONDS")),
        max_attempts=int(get("EDITBENCH_MAX_ATTEMPTS")),
        image_ttl_seconds=int(get("EDITBENCH_IMAGE_TTL_SECONDS")),
        db_retry_seconds=float(get("EDITBENCH_DB_RETRY_SECONDS")),
        resident=get("EDITBENCH_RESIDENT"),
        device=get("EDITBENCH_DEVICE"),
        worker_slot=int(slot) if slot.strip().isdigit() else None,
        compile_cache=None if cache.lower() == "off" else (Path(cache).expanduser().resolve() if cache else home / "compile-cache"),
        preload_model_libraries=get("EDITBENCH_PRELOAD_MODEL_LIBRARIES").strip().lower() not in {"0", "false", "no", "off"},
        png_compress_level=min(9, max(0, int(get("EDITBENCH_PNG_COMPRESS_LEVEL")))),
        debug=env.get("EDITBENCH_DEBUG", "").strip().lower() in {"1", "true", "yes", "on"},
        fault_crash_on=frozenset(s.strip() for s in env.get("EDITBENCH_FAULT_CRASH_ON", "").split(",") if s.strip()),
        store_url=(env.get("EDITBENCH_STORE_URL") or "").strip() or None,
        s3_endpoint_url=env.get("EDITBENCH_S3_ENDPOINT_URL") or env.get("AWS_ENDPOINT_URL") or None,
        store_cache_mb=float(get("EDITBENCH_STORE_CACHE_MB")),
        celery_overrides={k.removeprefix(CELERY_PREFIX).lower(): v for k, v in env.items() if k.startswith(CELERY_PREFIX)},
    )


# Userinfo runs to the LAST "@" before the path: a password may itself contain a raw "@"
# (``redis://:p@ss@host``), and stopping at the first one would leave the rest of it visible.
_CREDENTIALS = re.compile(r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.\-]*://)(?P<userinfo>[^/\s]+)@")
# redis-py and libpq also take the password as a query parameter (``?password=...``); HTTP APIs
# (Azure OpenAI, signed URLs) take keys and tokens there (``?api-key=...``, ``?sig=...``).
_QUERY_PASSWORD = re.compile(
    r"(?P<key>[?&](?:password|passwd|pwd|key|api[-_]?key|access[-_]?token|token|secret|sig|signature)=)[^&\s#]+",
    re.IGNORECASE,
)


def redact(text: str) -> str:
    """Hide ``user:password@`` (and ``?password=``) in every URL inside ``text`` (logs, status,
    run cards)."""

    def _mask(match: re.Match[str]) -> str:
        userinfo = match.group("userinfo")
        user = userinfo.split(":", 1)[0] if ":" in userinfo else ""
        return f"{match.group('scheme')}{user + ':' if user else ''}***@"

    return _QUERY_PASSWORD.sub(r"\g<key>***", _CREDENTIALS.sub(_mask, text))
