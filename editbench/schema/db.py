"""Engines and sessions: SQLite (WAL) by default, PostgreSQL when a URL says so.

Engines are cached per process id because an engine must never be shared across a fork
(Celery's prefork children inherit the parent's memory).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from editbench.config import load_settings

_ENGINES: dict[tuple[int, str], Engine] = {}


def _configure_sqlite(engine: Engine) -> None:
    # pysqlite's lazy BEGIN lets two writers deadlock on lock upgrade (SQLITE_BUSY without
    # waiting); taking the write lock up front with BEGIN IMMEDIATE makes busy_timeout apply.
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):  # type: ignore[no-untyped-def]
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=60000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):  # type: ignore[no-untyped-def]
        connection.exec_driver_sql("BEGIN IMMEDIATE")


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
            engine = create_engine(url, pool_pre_ping=True)
        _ENGINES[key] = engine
    return engine


def dispose_engines() -> None:
    """Forget engines inherited from a parent process (call in a forked child)."""
    for (pid, _), engine in list(_ENGINES.items()):
        if pid != os.getpid():
            engine.dispose(close=False)
    _ENGINES.clear()


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
