"""Scenario 3: the database is briefly unavailable while workers claim work and record results.

PostgreSQL: the run's database stops accepting connections and every open connection to it is
terminated (``ALTER DATABASE ... ALLOW_CONNECTIONS false`` + ``pg_terminate_backend``), then it
comes back. ``REVOKE CONNECT ... FROM PUBLIC`` alone would not do: the test server's only role is
a superuser, which ignores CONNECT privileges, while ALLOW_CONNECTIONS binds every role.
SQLite: another connection holds ``BEGIN EXCLUSIVE`` on the ledger file.

Outages are triggered at two moments of the run: while edits are being claimed and recorded, and when a category's
edits are all final (its chord body and judge batches run then). Nothing may be lost: workers
retry ledger writes (``transact``) until the database answers again.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import create_engine, text

from editbench.producer.progress import read_status
from editbench.schema.models import Status
from tests.conftest import PG_ADMIN_URL
from tests.faults.harness import (
    FAST_EDITOR,
    assert_run_complete,
    edits,
    judgments,
    wait_for,
    wait_run_done,
)
from tests.integration.harness import ingest_example, submit_run

pytestmark = pytest.mark.integration

OUTAGE_S = 2.5


@contextmanager
def postgres_down(url: str) -> Iterator[None]:
    name = url.rsplit("/", 1)[1]
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS false'))
            conn.execute(text(f'REVOKE CONNECT ON DATABASE "{name}" FROM PUBLIC'))
            killed = conn.execute(
                text("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = :n AND pid <> pg_backend_pid()"),
                {"n": name},
            ).scalar()
        yield killed
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'GRANT CONNECT ON DATABASE "{name}" TO PUBLIC'))
            conn.execute(text(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS true'))
        admin.dispose()


@contextmanager
def sqlite_locked(url: str) -> Iterator[None]:
    """Another process's connection holding the write lock (here: a thread's own connection)."""
    locked, release = threading.Event(), threading.Event()

    def hold() -> None:
        conn = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None, timeout=30)
        conn.execute("BEGIN EXCLUSIVE")
        locked.set()
        release.wait(30)
        conn.execute("COMMIT")
        conn.close()

    thread = threading.Thread(target=hold, daemon=True)
    thread.start()
    assert locked.wait(30)
    try:
        yield
    finally:
        release.set()
        thread.join(30)


def _category_being_scored(run_id: int) -> bool:
    return any(c["edits_open"] == 0 and c["judgments_open"] > 0 for c in read_status(run_id).categories)


def _run_with_outages(workers, db_url: str, tiny_models, tmp_path, outage) -> int:
    from editbench.producer.submit import ModelRef

    benchmark = ingest_example(tmp_path, per_category=3)
    workers.start(0)
    workers.start(1)
    workers.wait_ready(2)
    # judge_batch_size=1: many small judge tasks, so the second outage meets some of them.
    run_id = submit_run(
        benchmark,
        tiny_models,
        categories=["physics", "social"],
        judge_batch_size=1,
        editor=ModelRef("qwen-image-edit", str(tiny_models.editor), dict(FAST_EDITOR)),
    )
    # Once a worker has its models loaded, it claims and records edits every few tens of ms.
    wait_for(lambda: any(e.status == Status.DONE for e in edits(run_id).values()), 60, "a first edit", poll_s=0.02, logs=workers.logs)
    with outage(db_url):
        time.sleep(OUTAGE_S)
    wait_for(lambda: _category_being_scored(run_id), 60, "a category's scoring", poll_s=0.02, logs=workers.logs)
    with outage(db_url):
        time.sleep(OUTAGE_S)
    wait_run_done(run_id, logs=workers.logs)
    assert_run_complete(run_id)
    assert {e.status for e in edits(run_id).values()} == {Status.DONE}
    assert {j.status for j in judgments(run_id)} == {Status.DONE}, workers.logs()
    return run_id


def test_postgres_outage_mid_run_loses_nothing(make_workers, postgres_db, tiny_models, tmp_path) -> None:
    workers = make_workers(postgres_db)
    _run_with_outages(workers, postgres_db, tiny_models, tmp_path, postgres_down)
    # The outages were real: workers saw them and retried.
    logs = "".join(p.read_text() for p in workers.log_dir.glob("*.log"))
    assert "database unavailable; retrying" in logs


def test_sqlite_locked_by_another_connection_mid_run_loses_nothing(make_workers, sqlite_db, tiny_models, tmp_path) -> None:
    workers = make_workers(sqlite_db)
    _run_with_outages(workers, sqlite_db, tiny_models, tmp_path, sqlite_locked)
