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
from editbench.cluster.processes import spawn, stop
from editbench.config import load_settings
from editbench.queue.broker import BROKER_URL_FILE


@dataclass
class ClusterSpec:
    gpus: list[int] = field(default_factory=list)
    cpu_workers: int = 0
    beat: bool = True
    flower: bool = False
    flower_port: int = 5555
    sweep_interval_s: float = 30.0


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
            capture_output=True, text=True, timeout=20, check=False,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "n/a"


@dataclass
class Cluster:
    spec: ClusterSpec
    redis: EmbeddedRedis | None = None
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)

    @property
    def log_dir(self) -> Path:
        return load_settings().home / "logs"

    def start(self) -> Cluster:
        settings = load_settings()
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
            self.processes[f"worker-gpu{gpu}"] = spawn([*editbench, "worker", "--gpu", str(gpu)], env=worker_env, log=self.log_dir / f"worker-gpu{gpu}.log")
        for slot in range(self.spec.cpu_workers):
            self.processes[f"worker-cpu{slot}"] = spawn([*editbench, "worker", "--cpu", "--slot", str(slot)], env=worker_env, log=self.log_dir / f"worker-cpu{slot}.log")
        celery = [sys.executable, "-m", "celery", "-A", "editbench.queue.app:app"]
        if self.spec.beat:
            schedule = settings.home / "beat-schedule"
            self.processes["beat"] = spawn([*celery, "beat", "-s", str(schedule), "--loglevel", "INFO"], env=self.env, log=self.log_dir / "beat.log")
        if self.spec.flower:
            flower_env = dict(self.env)
            if not flower_env.get("FLOWER_BASIC_AUTH"):
                # Without credentials Flower only listens on loopback.
                flower_env["FLOWER_UNAUTHENTICATED_API"] = "true"
            address = "0.0.0.0" if flower_env.get("FLOWER_BASIC_AUTH") else "127.0.0.1"
            self.processes["flower"] = spawn(
                [*celery, "flower", f"--port={self.spec.flower_port}", f"--address={address}"],
                env=flower_env, log=self.log_dir / "flower.log",
            )
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

    def __enter__(self) -> Cluster:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
