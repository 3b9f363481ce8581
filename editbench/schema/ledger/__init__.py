"""The ledger's one writer: every INSERT and UPDATE of editbench goes through this package.

Work items (edits and judgments) move ``pending → running → final`` under a *lease*; the whole
protocol is stated in ``claims``. One module per job:

- ``benchmarks``: register a benchmark, its categories and samples (idempotent);
- ``runs``: create a run with its work rows, follow new ingests, release stalled work, close,
  cancel or reopen it;
- ``claims``: claim, renew, record and fence edits and judgments;
- ``usage``: what served models cost, one row per judge batch;
- ``rows``: the clock and the duplicate-ignoring INSERT they share.

Reads live beside it in :mod:`editbench.schema.queries`. Callers use the names re-exported here
(``ledger.claim_edit(...)``), so the split into modules is invisible to them.
"""

from editbench.schema.ledger.benchmarks import (
    RegisterResult,
    SampleRecord,
    register_benchmark,
)
from editbench.schema.ledger.claims import (
    Claim,
    EditOutcome,
    JudgmentOutcome,
    claim_edit,
    claim_judgments,
    fail_unanswered_judgments,
    holds_edit_claim,
    record_edit,
    record_judgments,
    release_claims,
    release_unstarted_judgments,
    renew_leases,
)
from editbench.schema.ledger.rows import utcnow
from editbench.schema.ledger.runs import (
    RunSpec,
    add_missing_work,
    cancel_run,
    create_run,
    finish_run_if_complete,
    release_stalled,
    reopen_run,
    set_run_follow,
    stop_run,
    update_judge_params,
)
from editbench.schema.ledger.usage import UsageRecord, record_api_usage

__all__ = [
    "Claim",
    "EditOutcome",
    "JudgmentOutcome",
    "RegisterResult",
    "RunSpec",
    "SampleRecord",
    "UsageRecord",
    "add_missing_work",
    "cancel_run",
    "claim_edit",
    "claim_judgments",
    "create_run",
    "fail_unanswered_judgments",
    "finish_run_if_complete",
    "holds_edit_claim",
    "record_api_usage",
    "record_edit",
    "record_judgments",
    "register_benchmark",
    "release_claims",
    "release_stalled",
    "release_unstarted_judgments",
    "renew_leases",
    "reopen_run",
    "set_run_follow",
    "stop_run",
    "update_judge_params",
    "utcnow",
]
