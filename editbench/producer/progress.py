"""Run progress read from the ledger: for `editbench status`, `run --wait` and the demo."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
)

from editbench.schema import queries
from editbench.schema.db import session_scope
from editbench.schema.models import RunStatus


@dataclass(frozen=True)
class RunStatusView:
    run_id: int
    status: str
    categories: list[dict]
    # Why the run is not moving on by itself, e.g. its judge's budget stopped judging.
    notes: list[str] = field(default_factory=list)

    @property
    def finished(self) -> bool:
        return self.status == RunStatus.DONE.value

    def as_dict(self) -> dict:
        return asdict(self)


def read_status(run_id: int) -> RunStatusView:
    with session_scope() as session:
        run = queries.get_run(session, run_id)
        if run is None:
            raise KeyError(f"no run {run_id}")
        progress = queries.run_progress(session, run_id)
        status = run.status.value
        usage = queries.run_api_usage(session, run_id, "judge")
    notes = []
    if usage is not None and usage.held:
        notes.append(f"judging stopped: {usage.stopped}; {usage.held} judgments wait in pending "
                     f"(`editbench resume {run_id}` continues them)")
    categories = [
        {
            "category": p.name,
            "samples": p.total,
            "edited": p.edits.get("done", 0),
            "edit_failed": p.edits_final - p.edits.get("done", 0),
            "edits_open": p.total - p.edits_final,
            "judgments": p.judgments_total,
            "scored": p.judgments.get("done", 0),
            "judgment_failed": p.judgments_final - p.judgments.get("done", 0),
            "judgments_open": p.judgments_total - p.judgments_final,
        }
        for p in progress
    ]
    return RunStatusView(run_id, status, categories, notes)


def follow_run(run_id: int, *, console: Console | None = None, poll_s: float = 0.5, timeout_s: float | None = None) -> RunStatusView:
    """Show one progress bar per category (edits then judgments) until the run is done."""
    console = console or Console()
    deadline = None if timeout_s is None else time.monotonic() + timeout_s
    columns = (TextColumn("{task.description:<12}"), BarColumn(bar_width=24), MofNCompleteColumn(),
               TimeRemainingColumn(compact=True), TextColumn("{task.fields[note]}"))
    with Progress(*columns, console=console, transient=False) as bars:
        tasks: dict[str, int] = {}
        while True:
            view = read_status(run_id)
            for c in view.categories:
                done = c["samples"] - c["edits_open"] + c["judgments"] - c["judgments_open"]
                total = c["samples"] + c["judgments"]
                note = f"edited {c['edited']} scored {c['scored']}" + (
                    f" [red]failed {c['edit_failed'] + c['judgment_failed']}[/]" if c["edit_failed"] + c["judgment_failed"] else ""
                )
                if c["category"] not in tasks:
                    tasks[c["category"]] = bars.add_task(c["category"], total=total, note=note)
                bars.update(tasks[c["category"]], completed=done, total=total, note=note)
            if view.finished:
                return view
            if deadline is not None and time.monotonic() > deadline:
                raise TimeoutError(f"run {run_id} did not finish within {timeout_s:.0f}s")
            time.sleep(poll_s)
