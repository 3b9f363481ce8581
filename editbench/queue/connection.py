"""The process-wide Redis client: one connection pool per broker URL, shared by the claim-check
image store and the sweeper's queue-length probe (Celery keeps its own connections)."""

from __future__ import annotations

from functools import lru_cache

import redis

from editbench.queue.broker import broker_url


@lru_cache(maxsize=4)
def _client(url: str) -> redis.Redis:
    if url.startswith("redis+socket://"):
        url = "unix://" + url.removeprefix("redis+socket://")
    return redis.Redis.from_url(url)


def redis_client() -> redis.Redis:
    """A client for the configured broker (``EDITBENCH_BROKER_URL`` or the embedded Redis)."""
    return _client(broker_url())
