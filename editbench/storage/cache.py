"""A bounded, content-addressed read cache on a worker's local disk.

With an object store, every source image would otherwise be downloaded once per use (edit,
then judge). Entries are named by the sha256 of their bytes and a file is only admitted (and
only served) if its bytes hash to its name, so a hit is always the right content: there is
nothing to invalidate, because a hash names one content forever.

Bounded by size, least recently used first: a hit touches the file's mtime, and when the
folder outgrows ``max_bytes`` the oldest files go. Several worker processes on one host may
share the folder; writes are atomic renames, so they never see each other's half files, and
every admission rescans the folder, so the bound holds for all of them together.
"""

from __future__ import annotations

import hashlib
import os
import threading
import uuid
from pathlib import Path

DEFAULT_MAX_BYTES = 2 * 1024**3


class ReadCache:
    def __init__(self, root: Path, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self.root = Path(root)
        self.max_bytes = max(0, int(max_bytes))
        self._lock = threading.Lock()

    def path(self, sha256: str) -> Path:
        _check_sha256(sha256)
        return self.root / sha256[:2] / sha256

    def get(self, sha256: str) -> bytes | None:
        """The cached bytes of ``sha256``, or None (absent, or damaged: then it is removed)."""
        path = self.path(sha256)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            return None
        if hashlib.sha256(data).hexdigest() != sha256:
            path.unlink(missing_ok=True)
            return None
        try:
            os.utime(path)  # most recently used
        except OSError:
            pass
        return data

    def put(self, sha256: str, data: bytes) -> Path | None:
        """Admit ``data`` under its hash; refused (None) when the bytes do not hash to ``sha256``
        or the object alone is larger than the whole cache."""
        if hashlib.sha256(data).hexdigest() != sha256 or len(data) > self.max_bytes:
            return None
        path = self.path(sha256)
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            temp = path.with_name(f".{sha256}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")
            temp.write_bytes(data)
            os.replace(temp, path)
            self._evict_if_over()
        return path

    def size_bytes(self) -> int:
        return sum(size for _, size, _ in self._entries())

    def _entries(self) -> list[tuple[Path, int, float]]:
        entries: list[tuple[Path, int, float]] = []
        if not self.root.is_dir():
            return entries
        for shard in self.root.iterdir():
            if not shard.is_dir():
                continue
            for file in shard.iterdir():
                try:
                    stat = file.stat()
                except FileNotFoundError:  # evicted by a neighbour process meanwhile
                    continue
                entries.append((file, stat.st_size, stat.st_mtime))
        return entries

    def _evict_if_over(self) -> None:
        # A fresh scan each time, not a running total: other processes on the host (one worker
        # per GPU) share the folder. A few thousand stat calls cost milliseconds; a put follows
        # a download or an edit that takes far longer.
        with self._lock:
            entries = self._entries()
            total = sum(size for _, size, _ in entries)
            for file, size, _ in sorted(entries, key=lambda e: e[2]):
                if total <= self.max_bytes:
                    break
                file.unlink(missing_ok=True)
                total -= size


def _check_sha256(sha256: str) -> None:
    if not isinstance(sha256, str) or len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
        raise ValueError(f"not a lowercase hex sha256: {sha256!r}")
