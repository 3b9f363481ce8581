"""Fixtures for the fault-injection suite.

``module_cluster`` gives a module one SQLite ledger, one ``EDITBENCH_HOME`` and a set of real
``editbench worker --cpu`` processes shared by all its tests (starting a worker and importing the
models in its child costs ~5 s on this machine; sharing keeps the suite within minutes). The
workers consume the session's Redis database, so the cluster is stopped when the module ends,
before any other module starts its own workers.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator

import pytest

from tests.conftest import Workers, _clear_queues


@pytest.fixture(scope="module")
def module_cluster(redis_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[..., Workers]]:
    """Factory ``start(n_workers, **extra_env) -> Workers``; call once per module."""
    from editbench.queue.connection import redis_client
    from editbench.schema import migrate

    patch = pytest.MonkeyPatch()
    pools: list[Workers] = []

    def start(n_workers: int, **extra_env: str) -> Workers:
        root = tmp_path_factory.mktemp("cluster")
        url = f"sqlite:///{root / 'ledger.db'}"
        patch.setenv("EDITBENCH_DATABASE_URL", url)
        patch.setenv("EDITBENCH_HOME", str(root / "home"))
        patch.setenv("EDITBENCH_LEASE_SECONDS", extra_env.get("EDITBENCH_LEASE_SECONDS", "3"))
        migrate.ensure_schema(url)
        _clear_queues(redis_client())  # keeps the session's claim on its Redis database
        env = {**os.environ, "EDITBENCH_BROKER_URL": redis_url, "OMP_NUM_THREADS": "1", **extra_env}
        (root / "logs").mkdir()
        workers = Workers(env, root / "logs", {})
        pools.append(workers)
        for slot in range(n_workers):
            workers.start(slot)
        workers.wait_ready(n_workers)
        return workers

    yield start
    for workers in pools:
        workers.stop_all()
    patch.undo()
