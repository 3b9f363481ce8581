"""Seeing a submitted run through: ``editbench resume`` and ``editbench follow``.

Both only bring the ledger's state back into the queue (the sweeper's job, done now and for one
run); every task is idempotent, so calling either any number of times does nothing twice.
"""

from __future__ import annotations

from editbench.queue.broker import broker_url
from editbench.queue.dispatch import SweepReport, sweep_run
from editbench.schema import ledger
from editbench.schema.db import session_scope


def resume_run(run_id: int) -> SweepReport:
    """Finish a run from the ledger after a crash, or restart a stopped or cancelled one:
    released, pending and unscored work is sent again.

    A run a worker stopped (its model could not be loaded) or that ``editbench cancel`` stopped
    is set running again first: its samples were left pending for exactly this. Raises
    ``NoBrokerError`` (before touching anything) when there is no broker."""
    broker_url(required=True)
    with session_scope() as session:
        ledger.reopen_run(session, run_id)
    return sweep_run(run_id, force=True)


def set_following(run_id: int, follow: bool) -> SweepReport:
    """Make the run a standing run (samples ingested later join it) or stop that; then bring it
    forward once, so newly added work is enqueued and a run with nothing left is closed."""
    broker_url(required=True)
    with session_scope() as session:
        ledger.set_run_follow(session, run_id, follow)
    return sweep_run(run_id)
