"""Seeing a submitted run through: ``editbench resume`` and ``editbench follow``.

Both only bring the ledger's state back into the queue (the sweeper's job, done now and for one
run); every task is idempotent, so calling either any number of times does nothing twice.
"""

from __future__ import annotations

from typing import Any

from editbench.errors import RunConfigError, RunNotFoundError
from editbench.queue.broker import broker_url
from editbench.queue.dispatch import SweepReport, sweep_run
from editbench.schema import ledger, queries
from editbench.schema.db import session_scope


def resume_run(run_id: int, judge_params: dict[str, Any] | None = None) -> SweepReport:
    """Finish a run from the ledger after a crash, or restart a stopped or cancelled one:
    released, pending and unscored work is sent again. ``judge_params`` changes the judge
    parameters its adapter allows on a recorded run (a raised ``budget_usd`` after the budget
    stopped judging).

    A run a worker stopped (its model could not be loaded) or that ``editbench cancel`` stopped
    is set running again first: its samples were left pending for exactly this. Raises
    ``NoBrokerError`` (before touching anything) when there is no broker."""
    broker_url(required=True)
    if judge_params:
        change_judge_params(run_id, judge_params)
    with session_scope() as session:
        ledger.reopen_run(session, run_id)
    return sweep_run(run_id, force=True)


def change_judge_params(run_id: int, params: dict[str, Any]) -> None:
    """Record new values of resumable judge parameters (the adapter's ``resumable_params``);
    anything else is refused in one line, since it could change the scores of a recorded run."""
    from editbench.models.base import adapter_trait

    with session_scope() as session:
        run = queries.get_run(session, run_id)
        if run is None:
            raise RunNotFoundError(f"run {run_id} is not in the ledger")
        kind = run.judge_kind
    allowed = tuple(adapter_trait("judge", kind, "resumable_params", ()) or ())
    refused = sorted(set(params) - set(allowed))
    if refused:
        raise RunConfigError(
            f"--judge-param {', '.join(refused)}: a recorded run's judge {kind!r} only takes "
            + (", ".join(allowed) if allowed else "no parameter changes")
            + " on resume (the rest would change its scores)"
        )
    with session_scope() as session:
        ledger.update_judge_params(session, run_id, dict(params), {"at": ledger.utcnow().isoformat(), "by": "resume"})


def set_following(run_id: int, follow: bool) -> SweepReport:
    """Make the run a standing run (samples ingested later join it) or stop that; then bring it
    forward once, so newly added work is enqueued and a run with nothing left is closed."""
    broker_url(required=True)
    with session_scope() as session:
        ledger.set_run_follow(session, run_id, follow)
    return sweep_run(run_id)
