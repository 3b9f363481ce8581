"""Open the configured storage (once per process) and its read cache."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

import fsspec

from editbench.storage.backend import Storage
from editbench.storage.cache import ReadCache
from editbench.storage.settings import StorageSettings


def open_storage(settings: StorageSettings | None = None) -> Storage:
    """The storage root: EDITBENCH_HOME, a local folder, or ``s3://bucket/prefix``."""
    settings = settings or StorageSettings.from_env()
    # Per process: an s3fs client (its event loop and connections) must not cross a fork, and
    # Celery's prefork pool forks after the parent may have used one.
    return _open(settings.home, settings.url, settings.endpoint_url, os.getpid())


def read_cache(settings: StorageSettings | None = None) -> ReadCache | None:
    """The bounded local cache for a remote store; None for a local one (it would only copy)."""
    settings = settings or StorageSettings.from_env()
    if not settings.is_remote:
        return None
    return _cache(settings.cache_dir, settings.cache_max_bytes, os.getpid())


@lru_cache(maxsize=8)
def _open(home: Path, url: str | None, endpoint_url: str | None, pid: int) -> Storage:
    if not url:
        return Storage.local(home)
    if not url.startswith("s3://"):
        return Storage.local(Path(url.removeprefix("file://")))
    fs = fsspec.filesystem(
        "s3",
        skip_instance_cache=True,
        # Another host writes objects we must see at once: no cached directory listings.
        use_listings_cache=False,
        client_kwargs={"endpoint_url": endpoint_url} if endpoint_url else {},
        # Fail over in seconds, not minutes, when the store is unreachable (the ledger's lease
        # then hands the work to a host that can reach it).
        config_kwargs={"connect_timeout": 5, "read_timeout": 60, "retries": {"max_attempts": 3, "mode": "standard"}},
    )
    root = url[len("s3://") :].strip("/")
    return Storage(fs, root, f"s3://{root}")


@lru_cache(maxsize=8)
def _cache(folder: Path, max_bytes: int, pid: int) -> ReadCache:
    return ReadCache(folder, max_bytes)


def reset() -> None:
    """Forget opened storages (tests that change the environment between cases)."""
    _open.cache_clear()
    _cache.cache_clear()
