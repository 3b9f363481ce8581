"""The process-wide Redis client: one connection pool per broker URL, shared by the claim-check
image store and the sweeper's queue-length probe (Celery keeps its own connections)."""

from __future__ import annotations

from functools import lru_cache

import redis

from editbench.config import redact
from editbench.errors import BrokerError
from editbench.queue.broker import broker_url


@lru_cache(maxsize=4)
def _client(url: str) -> redis.Redis:
    if url.startswith("redis+socket://"):
        url = "unix://" + url.removeprefix("redis+socket://")
    return redis.Redis.from_url(url)


def require_reachable_broker(timeout_s: float = 2.0) -> str:
    """The broker URL, after one PING answered within ``timeout_s``: commands that would record
    something and then enqueue it ask this first, so a broker that is down is one clear error
    before anything is written (redis-py alone would retry for ~20 s, then raise mid-submit)."""
    url = broker_url(required=True)
    assert url is not None  # required=True raises instead
    target = "unix://" + url.removeprefix("redis+socket://") if url.startswith("redis+socket://") else url
    client = redis.Redis.from_url(target, socket_connect_timeout=timeout_s, socket_timeout=timeout_s, retry_on_timeout=False)
    try:
        client.ping()
    except (redis.RedisError, OSError) as exc:
        raise BrokerError(
            f"the broker at {redact(url)} does not answer ({exc}); start `editbench up` or check EDITBENCH_BROKER_URL"
        ) from None
    finally:
        client.close()
    return url


def redis_client() -> redis.Redis:
    """A client for the configured broker (``EDITBENCH_BROKER_URL`` or the embedded Redis)."""
    return _client(broker_url())
