"""``editbench up``: a broker (embedded unless one is configured), one worker per GPU or CPU
slot, the beat scheduler (periodic sweeper) and optionally Flower — all stopped together."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from editbench.cluster.embedded_redis import EmbeddedRedis
from editbench.cluster.home_lock import HomeLock
from editbench.cluster.processes import spawn, stop
from editbench.config import Settings, load_settings
from editbench.queue.broker import BROKER_URL_FILE


@dataclass
class ClusterSpec:
    gpus: list[int] = field(default_factory=list)
    cpu_workers: int = 0
    beat: bool = True
    flower: bool = False
    flower_port: int = 5555
    flower_address: str = "127.0.0.1"
    sweep_interval_s: float = 30.0
    # Queues each kind of worker takes (editbench worker --serve): see editbench.queue.names.
    gpu_role: str = "all"
    cpu_role: str = "all"


def visible_gpus() -> list[int]:
    """GPU indices without initialising CUDA in this (parent) process: nvidia-smi, else none."""
    if os.environ.get("CUDA_VISIBLE_DEVICES") is not None:
        ids = [x for x in os.environ["CUDA_VISIBLE_DEVICES"].split(",") if x.strip()]
        return [int(x) for x in ids if x.strip().isdigit()]
    try:
        out = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return []
    return [i for i, line in enumerate(out.stdout.splitlines()) if line.startswith("GPU ")]


def gpu_description(fields: str = "name,memory.total,driver_version") -> str:
    """What ``nvidia-smi`` says of this host's GPUs (one line each), for run records and
    benchmark results; ``n/a`` where there is none."""
    try:
        return subprocess.run(
            ["nvidia-smi", f"--query-gpu={fields}", "--format=csv,noheader"],
            capture_output=True,
            text=True,
            timeout=20,
            check=False,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "n/a"


LOOPBACK = frozenset({"127.0.0.1", "::1", "localhost"})


def flower_address_problem(address: str, env: dict[str, str]) -> str | None:
    """Why Flower may not listen on ``address`` with this environment, or None if it may."""
    if address in LOOPBACK or env.get("FLOWER_BASIC_AUTH"):
        return None
    return (
        f"Flower without FLOWER_BASIC_AUTH only listens on 127.0.0.1, not {address}; "
        "set FLOWER_BASIC_AUTH=user:password (and put Flower behind TLS) to expose it"
    )


def flower_command(spec: ClusterSpec, env: dict[str, str]) -> tuple[list[str], dict[str, str]]:
    """Flower's arguments (after ``celery -A app``) and environment for ``up --flower``.

    Without credentials Flower runs on loopback in its read-only mode and with its HTTP API off:
    Flower 2 answers an unauthenticated API with ``Access-Control-Allow-Origin: *`` and checks
    no CSRF token, so any web page open in a browser on this host could POST
    ``/api/worker/shutdown/...`` (and ``up`` would then stop the whole cluster). Read-only
    refuses every state-changing endpoint; without FLOWER_UNAUTHENTICATED_API the API (and its
    CORS header) is gone too, while the dashboard pages still work. With FLOWER_BASIC_AUTH set,
    Flower refuses cross-site requests itself, so the controls stay and ``--flower-address``
    may expose it (behind TLS: basic auth over plain HTTP shows the password to the network).
    """
    problem = flower_address_problem(spec.flower_address, env)
    if problem is not None:
        raise ValueError(problem)
    flower_env = {key: value for key, value in env.items() if key != "FLOWER_UNAUTHENTICATED_API"}
    argv = ["flower", f"--port={spec.flower_port}", f"--address={spec.flower_address}"]
    if not env.get("FLOWER_BASIC_AUTH"):
        argv.append("--read_only=True")
    return argv, flower_env


@dataclass
class Cluster:
    spec: ClusterSpec
    redis: EmbeddedRedis | None = None
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)
    lock: HomeLock | None = None

    @property
    def log_dir(self) -> Path:
        return load_settings().home / "logs"

    def start(self) -> Cluster:
        """Start everything; raises :class:`~editbench.cluster.home_lock.AlreadyRunningError`,
        having started and changed nothing, when another cluster holds this home."""
        settings = load_settings()
        self.lock = HomeLock(settings.home).acquire()
        try:
            return self._start(settings)
        except BaseException:  # a half-started cluster (or a Ctrl-C) leaves nothing running
            self.stop()
            raise

    def _start(self, settings: Settings) -> Cluster:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.env = dict(os.environ)
        if not settings.broker_url:
            self.redis = EmbeddedRedis(settings.home / "redis").start()
            self.env["EDITBENCH_BROKER_URL"] = self.redis.url
            # This process (the producer side of `up` and `demo`) talks to the same broker.
            os.environ["EDITBENCH_BROKER_URL"] = self.redis.url
            (settings.home / BROKER_URL_FILE).write_text(self.redis.url)
        self.env["EDITBENCH_CELERY_SWEEP_INTERVAL"] = str(self.spec.sweep_interval_s)
        editbench = [sys.executable, "-m", "editbench.cli"]
        # Workers share the host's cores (image preprocessing, tokenisation, VAE glue run there)
        # instead of each starting one torch thread per core: on a 4-GPU host that
        # oversubscription slowed every edit by ~20%.
        threads = str(max(1, (os.cpu_count() or 1) // max(len(self.spec.gpus) + self.spec.cpu_workers, 1)))
        worker_env = {**self.env, "OMP_NUM_THREADS": self.env.get("OMP_NUM_THREADS", threads)}
        for gpu in self.spec.gpus:
            self.processes[f"worker-gpu{gpu}"] = spawn(
                [*editbench, "worker", "--gpu", str(gpu), "--serve", self.spec.gpu_role],
                env=worker_env,
                log=self.log_dir / f"worker-gpu{gpu}.log",
            )
        for slot in range(self.spec.cpu_workers):
            self.processes[f"worker-cpu{slot}"] = spawn(
                [*editbench, "worker", "--cpu", "--slot", str(slot), "--serve", self.spec.cpu_role],
                env=worker_env,
                log=self.log_dir / f"worker-cpu{slot}.log",
            )
        celery = [sys.executable, "-m", "celery", "-A", "editbench.queue.app:app"]
        if self.spec.beat:
            schedule = settings.home / "beat-schedule"
            self.processes["beat"] = spawn(
                [*celery, "beat", "-s", str(schedule), "--loglevel", "INFO"], env=self.env, log=self.log_dir / "beat.log"
            )
        if self.spec.flower:
            flower_argv, flower_env = flower_command(self.spec, self.env)
            self.processes["flower"] = spawn([*celery, *flower_argv], env=flower_env, log=self.log_dir / "flower.log")
        return self

    def wait_for_workers(self, count: int, timeout_s: float = 120.0) -> None:
        """Block until ``count`` workers answer a ping (their model loads lazily, later)."""
        from editbench.queue.app import app

        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            dead = [name for name, p in self.processes.items() if p.poll() is not None]
            if dead:
                raise RuntimeError(f"{', '.join(dead)} exited during start-up; see {self.log_dir}")
            replies = app.control.ping(timeout=1.0) or []
            if len(replies) >= count:
                return
            time.sleep(0.5)
        raise TimeoutError(f"only some of {count} workers came up within {timeout_s:.0f}s; see {self.log_dir}")

    def stop(self) -> None:
        """Workers first (a warm shutdown finishes or returns their task), then beat, Redis."""
        for name, process in sorted(self.processes.items(), key=lambda kv: not kv[0].startswith("worker")):
            stop(process, grace_s=20 if name.startswith("worker") else 5)
        self.processes.clear()
        if self.redis is not None:
            (load_settings().home / BROKER_URL_FILE).unlink(missing_ok=True)
            self.redis.stop()
            self.redis = None
        if self.lock is not None:
            self.lock.release()
            self.lock = None

    def __enter__(self) -> Cluster:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
