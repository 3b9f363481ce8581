"""Runs as objects: find one by id or name, list them, cancel one.

Every command that takes a run resolves it here (through ``queries.require_run``), so an
unknown run reads the same everywhere: ``no run 'x' (editbench runs lists them)``. Reads map an
unreachable or empty ledger to :class:`LedgerUnavailableError`, so the CLI prints one line for
it instead of a driver's traceback.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from editbench.config import load_settings, redact
from editbench.errors import LedgerUnavailableError
from editbench.queue.broker import broker_url
from editbench.queue.dispatch import Withdrawal, withdraw_run
from editbench.schema import ledger, queries
from editbench.schema.db import session_scope
from editbench.schema.migrate import has_schema

T = TypeVar("T")


@contextmanager
def _ledger_errors() -> Iterator[None]:
    """A database that cannot be reached (or a query it cannot answer) is one clear error."""
    try:
        yield
    except DBAPIError as exc:
        where = redact(load_settings().database_url)
        first = str(exc.orig if exc.orig is not None else exc).strip().splitlines()
        raise LedgerUnavailableError(f"the ledger at {where} cannot be read: {first[0] if first else type(exc).__name__}") from exc


def read(operation: Callable[[Session], T], *, empty: T | None = None, missing_run: str | int | None = None) -> T:
    """Run a read-only ``operation`` on the ledger. A ledger with no editbench schema yet (nothing
    was ever ingested or submitted) answers ``empty`` when given, else "no run" for
    ``missing_run``, else :class:`LedgerUnavailableError`; nothing is created by asking."""
    with _ledger_errors():
        if not has_schema():
            if empty is not None:
                return empty
            if missing_run is not None:
                from editbench.errors import RunNotFoundError

                raise RunNotFoundError(queries.run_not_found_message(missing_run))
            raise LedgerUnavailableError(f"the ledger at {redact(load_settings().database_url)} is empty: ingest a benchmark first")
        with session_scope() as session:
            return operation(session)


def find_run(ref: str | int) -> int:
    """The id of the run named ``ref`` (an id or a run name), or :class:`RunNotFoundError`."""
    return read(lambda session: queries.require_run(session, ref), missing_run=ref)


def list_runs(limit: int | None = None) -> list[queries.RunListing]:
    """Every run, newest first (``editbench runs``)."""
    return read(lambda session: queries.list_runs(session, limit=limit), empty=[])


@dataclass(frozen=True)
class CancelReport:
    run_id: int
    cancelled: bool  # False: the run was already done or cancelled, nothing changed
    status: str
    withdrawal: Withdrawal | None
    pending: int  # work items left pending for ``editbench resume``


def cancel_run(ref: str | int) -> CancelReport:
    """Cancel a run: mark it ``cancelled`` in the ledger first (from then on every worker skips
    its tasks), then take its queued messages back from the broker. Open work stays pending, so
    ``editbench resume RUN`` restarts it. Needs the broker (to withdraw the queued work); raises
    ``NoBrokerError`` before touching the ledger when there is none."""
    run_id = find_run(ref)
    broker_url(required=True)

    def mark(session: Session) -> tuple[bool, str, int]:
        changed = ledger.cancel_run(session, run_id)
        run = queries.get_run(session, run_id)
        assert run is not None  # resolved above; runs are never deleted
        progress = queries.run_progress(session, run_id)
        pending = sum(p.total - p.edits_final + p.judgments_total - p.judgments_final for p in progress)
        return changed, run.status.value, pending

    with _ledger_errors(), session_scope() as session:
        changed, status, pending = mark(session)
    withdrawal = withdraw_run(run_id) if changed else None
    return CancelReport(run_id, changed, status, withdrawal, pending)
