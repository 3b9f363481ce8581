"""One storage interface for images and artifacts: a local folder or an object-store prefix.

Built on fsspec so that ``/srv/editbench`` and ``s3://bucket/prefix`` (any S3-compatible
service) are the same code path; keys are ``/``-separated paths relative to the root, so the
layout under the root is the same everywhere (``store/ab/<sha256>.png``,
``artifacts/run-1/7.png``, ``cache/thumbs-256/<sha256>.jpg``).

Writes are atomic, because several workers on several hosts may write the same key and a
reader must never see half an image:

- local: write a temp file beside the target, fsync, ``os.replace`` (one rename);
- S3: one ``PutObject`` (or, past 100 MiB, one multipart upload): S3 publishes an object only
  when its upload completes, so no partial object is ever visible under the final key.
  A temp key plus server-side copy would add a second request and buy nothing.
"""

from __future__ import annotations

import functools
import os
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import fsspec

from editbench.config import redact


class StorageUnavailableError(RuntimeError):
    """The object store could not be reached (not: the object is absent).

    Not an OSError on purpose: callers treat OSError as "this image is unreadable" (a per-sample
    failure, final), while an unreachable store is the host's problem — the work is left to its
    lease so that a host that can reach the store takes it over.
    """


def _remote_errors(method: Callable) -> Callable:
    @functools.wraps(method)
    def wrapper(self: Storage, *args, **kwargs):
        if self.is_local:
            return method(self, *args, **kwargs)
        try:
            return method(self, *args, **kwargs)
        except (FileNotFoundError, ValueError):
            raise
        except Exception as exc:
            raise StorageUnavailableError(f"object store {redact(self.url)} unavailable: {type(exc).__name__}: {redact(str(exc))}") from exc

    return wrapper


@dataclass(frozen=True)
class Storage:
    """A root (local folder or ``s3://bucket/prefix``) and the fsspec filesystem that reaches it.

    Keys never start with ``/`` and never contain ``..``: a key is always under the root.
    """

    fs: Any  # fsspec.AbstractFileSystem
    root: str  # the filesystem's own path of the root (no protocol for S3: ``bucket/prefix``)
    url: str  # how a user wrote it (``s3://bucket/prefix`` or an absolute local path)

    # ------------------------------------------------------------------ construction

    @classmethod
    def local(cls, folder: Path) -> Storage:
        folder = Path(folder).expanduser().resolve()
        return cls(fsspec.filesystem("file"), str(folder), str(folder))

    def child(self, prefix: str) -> Storage:
        """The same filesystem rooted at ``prefix`` under this root (e.g. ``store``)."""
        _check_key(prefix)
        return Storage(self.fs, f"{self.root}/{prefix}", f"{self.url.rstrip('/')}/{prefix}")

    @property
    def is_local(self) -> bool:
        protocol = self.fs.protocol
        return "file" in (protocol if isinstance(protocol, tuple) else (protocol,))

    # ------------------------------------------------------------------ addressing

    def _path(self, key: str) -> str:
        _check_key(key)
        return f"{self.root}/{key}"

    def location(self, key: str) -> str:
        """What the ledger records for ``key``: the local path, or the object's full URL."""
        return self._path(key) if self.is_local else f"{self.url.rstrip('/')}/{key}"

    def key_of(self, location: str) -> str | None:
        """Inverse of :meth:`location`; None when ``location`` is not under this root."""
        base = (self.root if self.is_local else self.url.rstrip("/")) + "/"
        if not location.startswith(base):
            return None
        key = location[len(base) :]
        try:
            _check_key(key)
        except ValueError:
            return None
        return key

    def local_path(self, key: str) -> Path | None:
        """The file behind ``key`` when the storage is a local folder, else None."""
        return Path(self._path(key)) if self.is_local else None

    # ------------------------------------------------------------------ operations

    @_remote_errors
    def exists(self, key: str) -> bool:
        return bool(self.fs.exists(self._path(key)))

    @_remote_errors
    def read_bytes(self, key: str) -> bytes:
        """The object's bytes; FileNotFoundError when there is none."""
        return self.fs.cat_file(self._path(key))  # s3fs maps NoSuchKey to FileNotFoundError

    @_remote_errors
    def write_bytes(self, key: str, data: bytes) -> str:
        """Publish ``data`` under ``key`` atomically; returns :meth:`location`."""
        path = self._path(key)
        if self.is_local:
            target = Path(path)
            target.parent.mkdir(parents=True, exist_ok=True)
            temp = target.with_name(f".{target.name}.{os.getpid()}.{threading.get_ident()}.{uuid.uuid4().hex[:8]}.tmp")
            try:
                with open(temp, "wb") as handle:
                    handle.write(data)
                    handle.flush()
                    os.fsync(handle.fileno())
                os.chmod(temp, 0o644)
                os.replace(temp, target)
            finally:
                temp.unlink(missing_ok=True)
        else:
            self.fs.pipe_file(path, data)
        return self.location(key)

    @_remote_errors
    def keys(self, prefix: str) -> list[str]:
        """Keys that start with ``prefix`` (a folder-like prefix plus a name start), sorted."""
        _check_key(prefix)
        folder, _, start = prefix.rpartition("/")
        directory = f"{self.root}/{folder}" if folder else self.root
        try:
            names = self.fs.ls(directory, detail=False)
        except FileNotFoundError:
            return []
        found = []
        for name in names:
            base = str(name).rstrip("/").rsplit("/", 1)[-1]
            if base.startswith(start) and not base.startswith("."):
                found.append(f"{folder}/{base}" if folder else base)
        return sorted(found)

    @_remote_errors
    def delete(self, key: str) -> None:
        try:
            self.fs.rm_file(self._path(key))
        except FileNotFoundError:
            pass


def _check_key(key: str) -> None:
    # A key comes from our own code, but a hash or id read from a message could be forged:
    # nothing may resolve outside the root.
    if not key or key.startswith("/") or "\\" in key or any(part in ("", ".", "..") for part in key.split("/")):
        raise ValueError(f"not a storage key: {key!r}")
