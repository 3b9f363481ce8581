"""Engines and sessions: SQLite (WAL) by default, PostgreSQL when a URL says so.

Engines are cached per process id because an engine must never be shared across a fork
(Celery's prefork children inherit the parent's memory).
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from editbench.config import load_settings

log = logging.getLogger(__name__)
_ENGINES: dict[tuple[int, str], Engine] = {}


def _configure_sqlite(engine: Engine) -> None:
    # pysqlite's lazy BEGIN lets two writers deadlock on lock upgrade (SQLITE_BUSY without
    # waiting); taking the write lock up front with BEGIN IMMEDIATE makes busy_timeout apply.
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=60000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def _with_driver(url: str) -> str:
    """SQLAlchemy 2.1 maps a bare ``postgresql://`` to psycopg 3; we ship psycopg2
    (``editbench[postgres]``), so say so explicitly unless the user chose a driver."""
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg2://" + url.split("://", 1)[1]
    return url


def get_engine(url: str | None = None) -> Engine:
    url = url or load_settings().database_url
    key = (os.getpid(), url)
    engine = _ENGINES.get(key)
    if engine is None:
        if url.startswith("sqlite:///"):
            Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
            engine = create_engine(url, connect_args={"timeout": 60})
            _configure_sqlite(engine)
        else:
            engine = create_engine(_with_driver(url), pool_pre_ping=True)
        _ENGINES[key] = engine
    return engine


def dispose_engines() -> None:
    """Forget engines inherited from a parent process (call in a forked child)."""
    for (pid, _), engine in list(_ENGINES.items()):
        if pid != os.getpid():
            engine.dispose(close=False)
    _ENGINES.clear()


def close_engines(url: str) -> None:
    """Close and forget this process's engine for ``url`` (e.g. before dropping its database),
    so the next :func:`get_engine` connects afresh."""
    for key in [k for k in _ENGINES if k[1] == url]:
        _ENGINES.pop(key).dispose()


@contextmanager
def session_scope(url: str | None = None) -> Iterator[Session]:
    """One transaction: commit on success, roll back on any exception."""
    factory = sessionmaker(bind=get_engine(url), expire_on_commit=False)
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


T = TypeVar("T")


def transact(operation: Callable[[Session], T], *, url: str | None = None, retry_for_s: float | None = None) -> T:
    """Run ``operation`` in its own transaction, retrying while the database is unreachable.

    Workers record results through this, so a PostgreSQL restart or a long SQLite lock delays a
    write instead of losing it. Safe because every ledger function is idempotent (claims are
    re-entrant for the same task id, records are fenced by it).
    """
    budget = load_settings().db_retry_seconds if retry_for_s is None else retry_for_s
    deadline = time.monotonic() + budget
    delay = 0.2
    while True:
        try:
            with session_scope(url) as session:
                return operation(session)
        except DBAPIError as exc:
            # OperationalError: server down or locked; any other DBAPI error that invalidated
            # the connection (psycopg2's "connection already closed"): both are transient.
            if not (isinstance(exc, OperationalError) or exc.connection_invalidated) or time.monotonic() + delay > deadline:
                raise
            log.warning("database unavailable; retrying in %.1fs", delay, exc_info=True)
            time.sleep(delay)
            delay = min(delay * 2, 10.0)
