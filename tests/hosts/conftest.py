from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.hosts.cluster import HostCluster, unavailable_reason


@pytest.fixture
def host_cluster(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[HostCluster]:
    """Head services + two worker hosts in network namespaces (skips, saying why, without root)."""
    reason = unavailable_reason()
    if reason:
        pytest.skip(reason)
    with HostCluster(tmp_path, n_hosts=2, lease_s=3, cache_mb=0.05) as cluster:
        # The test process reads the ledger directly (it is the head).
        monkeypatch.setenv("EDITBENCH_DATABASE_URL", cluster.database_url)
        yield cluster
