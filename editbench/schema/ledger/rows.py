"""Two primitives every ledger write uses: the clock, and an INSERT that ignores duplicates
(what makes re-registering and re-creating work idempotent on both backends)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import CursorResult, Result
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session


def utcnow() -> datetime:
    return datetime.now(UTC)


def rows_affected(result: Result[Any]) -> int:
    """How many rows an INSERT/UPDATE/DELETE touched (0 where the driver cannot tell).

    ``Session.execute`` is typed as returning a plain ``Result``; a DML statement always runs
    through a cursor, so the result is a ``CursorResult`` and has ``rowcount``."""
    return cast(CursorResult[Any], result).rowcount or 0


def insert_ignoring_duplicates(session: Session, model: type, rows: list[dict[str, Any]]) -> int:
    """INSERT ... ON CONFLICT DO NOTHING on both SQLite and PostgreSQL; returns rows inserted."""
    if not rows:
        return 0
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    result = session.execute(insert(model).values(rows).on_conflict_do_nothing())
    return rows_affected(result)
