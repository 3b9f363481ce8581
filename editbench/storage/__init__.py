"""Storage: where benchmark images, edited images and thumbnails live (a local folder or an
S3-compatible object store), reached through one interface.

- :class:`Storage` — keys under a root, atomic writes (``editbench.storage.backend``);
- :class:`ReadCache` — a worker's bounded, content-addressed local copy of what it read;
- :class:`StorageSettings` — ``EDITBENCH_STORE_URL`` and friends;
- :mod:`editbench.layout` — the image store, artifacts and thumbnails on top of it.
"""

from editbench.storage.backend import Storage, StorageUnavailableError
from editbench.storage.cache import ReadCache
from editbench.storage.configured import open_storage, read_cache
from editbench.storage.settings import StorageSettings, StorageURLError

__all__ = ["ReadCache", "Storage", "StorageSettings", "StorageURLError", "StorageUnavailableError", "open_storage", "read_cache"]
