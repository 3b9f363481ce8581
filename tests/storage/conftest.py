from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from tests.storage.s3server import S3Server


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory) -> Iterator[S3Server]:
    server = S3Server(log=tmp_path_factory.mktemp("moto") / "moto.log").start()
    yield server
    server.stop()


@pytest.fixture
def s3_env(s3_server: S3Server, monkeypatch, tmp_path) -> dict[str, str]:
    """EDITBENCH_STORE_URL on a fresh bucket of the test's S3 server (and a fresh home)."""
    from editbench.storage.configured import reset

    bucket = f"eb-{uuid.uuid4().hex[:12]}"
    s3_server.create_bucket(bucket)
    env = {**s3_server.env(bucket), "EDITBENCH_HOME": str(tmp_path / "home")}
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    reset()
    yield env | {"bucket": bucket}
    reset()
