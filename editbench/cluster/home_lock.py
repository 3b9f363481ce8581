"""One cluster per ``EDITBENCH_HOME`` per host: an advisory lock held while ``up`` (or ``demo``) runs.

Without it a second ``editbench up`` on the same home started a second embedded Redis on the
same socket and append-only file, and on exit deleted the first one's socket, after which every
command said "no broker configured". The lock is ``fcntl.flock`` on a file in the home: the
kernel drops it when the holder exits, even on SIGKILL, so a stale lock file is never a problem.
The file name carries the host name because several hosts may share one home over NFS (see
docs/deploy.md, "Several hosts on one broker"), each running its own ``up``.
"""

from __future__ import annotations

import fcntl
import os
import socket
from dataclasses import dataclass
from pathlib import Path


class AlreadyRunningError(RuntimeError):
    """Another process on this host holds the home's lock; ``pid`` is what it wrote there."""

    def __init__(self, home: Path, pid: int | None) -> None:
        shown = f"pid {pid}" if pid is not None else "pid unknown"
        super().__init__(
            f"editbench up is already running for EDITBENCH_HOME={home} ({shown}); stop it first, or set EDITBENCH_HOME to another folder"
        )
        self.home, self.pid = home, pid


@dataclass
class HomeLock:
    home: Path
    _fd: int | None = None

    @property
    def path(self) -> Path:
        return self.home / f"up.{socket.gethostname()}.lock"

    def acquire(self) -> HomeLock:
        """Take the lock or raise :class:`AlreadyRunningError` at once (never waits)."""
        self.home.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 32).decode("ascii", errors="replace").strip()
            os.close(fd)
            raise AlreadyRunningError(self.home, int(holder) if holder.isdigit() else None) from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd
        return self

    def release(self) -> None:
        """Drop the lock. The file stays: deleting it could let two processes lock two files."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
