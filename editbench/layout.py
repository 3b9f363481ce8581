"""The layout editbench keeps under the storage root, and the helpers call sites use.

``store/``      benchmark images, content-addressed (:class:`editbench.benchmark.store.ImageStore`)
``artifacts/``  edited images, ``run-<id>/<sample id>.png``
``cache/thumbs-256/``  report thumbnails by image sha256 (made by whoever decoded the image)

Locally this is exactly the folder layout of ``EDITBENCH_HOME`` that editbench always had; with
``EDITBENCH_STORE_URL=s3://bucket/prefix`` the same keys live under the prefix, and whatever a
host reads back comes through its bounded :class:`~editbench.storage.ReadCache`.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from editbench.benchmark.store import ImageStore
from editbench.storage.backend import StorageUnavailableError
from editbench.storage.configured import open_storage, read_cache

STORE_PREFIX = "store"
ARTIFACTS_PREFIX = "artifacts"


def image_store() -> ImageStore:
    """The configured content-addressed store (``EDITBENCH_HOME/store`` by default)."""
    storage = open_storage()
    if storage.is_local:
        return ImageStore(Path(storage.root) / STORE_PREFIX)
    return ImageStore(storage.child(STORE_PREFIX), cache=read_cache())


def artifact_key(run_id: int, sample_id: int) -> str:
    return f"{ARTIFACTS_PREFIX}/run-{int(run_id)}/{int(sample_id)}.png"


def write_artifact(run_id: int, sample_id: int, data: bytes) -> str:
    """Publish an edited image atomically; returns what the ledger records as its location
    (the local path as before, or the object's ``s3://`` URL)."""
    location = open_storage().write_bytes(artifact_key(run_id, sample_id), data)
    if (cache := read_cache()) is not None:
        cache.put(hashlib.sha256(data).hexdigest(), data)  # the judge on this host reads it next
    return location


def read_location(location: str, sha256: str | None = None) -> bytes:
    """Bytes at a location the ledger recorded: a local path or an object URL. With ``sha256``
    a cached copy is used when there is one (and a fetched one is admitted to the cache).
    FileNotFoundError when nothing is there."""
    cache = read_cache()
    if sha256 and cache is not None and (data := cache.get(sha256)) is not None:
        return data
    if "://" not in location:
        data = Path(location).read_bytes()
    else:
        storage = open_storage()
        key = storage.key_of(location)
        if key is None:
            raise FileNotFoundError(f"{location} is not under the configured store {storage.url} (set EDITBENCH_STORE_URL)")
        data = storage.read_bytes(key)
    if sha256 and cache is not None:
        cache.put(sha256, data)
    return data


def local_copy(location: str | None, sha256: str | None) -> Path | None:
    """A local file holding the object at ``location`` (an ``s3://`` URL), for reports, which
    read files: its copy in the read cache. None for a local path (the caller has the file) or
    when the object cannot be fetched."""
    if not location or "://" not in location:
        return None
    try:
        data = read_location(location, sha256)
    except (OSError, ValueError, StorageUnavailableError):
        return None  # the report shows a placeholder
    digest = sha256 or hashlib.sha256(data).hexdigest()
    cache = read_cache()
    if cache is not None and (path := cache.put(digest, data)) is not None:
        return path
    return None


def store_copy(sha256: str) -> Path | None:
    """A local file with the content-addressed image ``sha256`` (the store file itself, or the
    read cache's copy for an object store); None if the store does not have it."""
    try:
        return image_store().path_for(sha256)
    except (LookupError, ValueError, OSError, StorageUnavailableError):
        return None
