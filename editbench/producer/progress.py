"""Run progress read from the ledger: for `editbench status`, `run --wait` and the demo.

The view tells the truth about two different stages: edits (GPU time per image) and judgments
(one per criterion, batched) get separate bars per category, because a category can be fully
edited and not judged at all. Failures are part of progress (a failed edit is *finished*), and
they are shown grouped by reason so a run whose every sample fails says why at once.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime

from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
)

from editbench.producer.runs import read
from editbench.schema import queries
from editbench.schema.models import RunStatus

# How many characters of a failure's example message ``status`` shows (the full text is in the
# ledger and in report.md).
EXAMPLE_CHARS = 240


@dataclass(frozen=True)
class FailureGroup:
    """Failed, unparseable, refused or missing work of one stage with one reason code."""

    stage: str
    status: str
    error_code: str
    count: int
    example_sample: str
    example_error: str


@dataclass(frozen=True)
class RunStatusView:
    run_id: int
    status: str
    categories: list[dict]
    stop_reason: str | None = None  # why a worker stopped the run (status ``stopped``)
    name: str = ""
    failures: list[FailureGroup] = field(default_factory=list)
    created_at: str | None = None
    finished_at: str | None = None
    # Why the run is not moving on by itself, e.g. its judge's budget stopped judging.
    notes: list[str] = field(default_factory=list)

    @property
    def finished(self) -> bool:
        """No worker will do anything more for this run (done, or cancelled)."""
        return self.status in (RunStatus.DONE.value, RunStatus.CANCELLED.value)

    @property
    def totals(self) -> dict[str, int]:
        keys = ("samples", "edited", "edit_failed", "edits_open", "judgments", "scored", "judgment_failed", "judgments_open")
        return {k: sum(c[k] for c in self.categories) for k in keys}

    @property
    def complete_and_clean(self) -> bool:
        """Done, and every judgment of every sample scored (what ``run --wait`` exits 0 for)."""
        t = self.totals
        return self.status == RunStatus.DONE.value and t["edit_failed"] == 0 and t["scored"] == t["judgments"]

    @property
    def stopped(self) -> bool:
        """Nothing more will happen until ``editbench resume``: waiting would wait forever."""
        return self.status == RunStatus.STOPPED.value

    def as_dict(self) -> dict:
        data = asdict(self)
        data["totals"] = self.totals
        return data


def read_status(run_id: int) -> RunStatusView:
    def query(session):
        run = queries.get_run(session, run_id)
        if run is None:
            from editbench.errors import RunNotFoundError

            raise RunNotFoundError(queries.run_not_found_message(run_id))
        return (
            run,
            queries.run_progress(session, run_id),
            queries.failure_reasons(session, run_id),
            queries.run_api_usage(session, run_id, "judge"),
        )

    run, progress, reasons, usage = read(query, missing_run=run_id)
    notes = []
    if usage is not None and usage.held:
        notes.append(
            f"judging stopped: {usage.stopped}; {usage.held} judgments wait in pending (`editbench resume {run_id}` continues them)"
        )
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
    failures = [FailureGroup(r.stage, r.status, r.error_code, r.count, r.example_sample, _shorten(r.example_error)) for r in reasons]
    return RunStatusView(
        run_id,
        run.status.value,
        categories,
        stop_reason=run.stop_reason,
        name=run.name or "",
        failures=failures,
        created_at=_iso(run.created_at),
        finished_at=_iso(run.finished_at),
        notes=notes,
    )


def _iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).isoformat()


def _shorten(text: str) -> str:
    one_line = " ".join(text.split())
    return one_line if len(one_line) <= EXAMPLE_CHARS else one_line[: EXAMPLE_CHARS - 1] + "…"


@dataclass
class Throughput:
    """Items finished per second over the time this view has been watching, and the ETA that
    rate implies. Measured, never guessed: with nothing finished yet there is no ETA."""

    started: float
    edits_at_start: int
    judgments_at_start: int

    def rates(self, edits_done: int, judgments_done: int, now: float) -> tuple[float | None, float | None]:
        elapsed = now - self.started
        if elapsed < 1.0:
            return None, None
        edit_rate = (edits_done - self.edits_at_start) / elapsed
        judge_rate = (judgments_done - self.judgments_at_start) / elapsed
        return (edit_rate or None), (judge_rate or None)


def eta_seconds(view: RunStatusView, edit_rate: float | None, judge_rate: float | None) -> float | None:
    """Remaining edits at the edit rate plus remaining judgments at the judging rate (the
    stages share the GPUs, so their times add up); None until both rates are known."""
    t = view.totals
    remaining_edit_s = t["edits_open"] / edit_rate if t["edits_open"] and edit_rate else 0.0 if not t["edits_open"] else None
    remaining_judge_s = t["judgments_open"] / judge_rate if t["judgments_open"] and judge_rate else 0.0 if not t["judgments_open"] else None
    if remaining_edit_s is None or remaining_judge_s is None:
        return None
    return remaining_edit_s + remaining_judge_s


def format_duration(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    seconds = round(seconds)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m{secs:02d}s" if minutes else f"{secs}s"


def _rate_text(edit_rate: float | None, judge_rate: float | None) -> str:
    edits = f"{edit_rate:.2f} img/s edited" if edit_rate else "— img/s edited"
    judged = f"{judge_rate:.2f} judgments/s" if judge_rate else "— judgments/s"
    return f"{edits} · {judged}"


def follow_run(run_id: int, *, console: Console | None = None, poll_s: float = 0.5, timeout_s: float | None = None) -> RunStatusView:
    """Live bars until no worker will do more for the run (done or cancelled): per category one
    bar for edits and one for judgments, an overall bar with throughput and a labelled ETA.
    Failed work counts as finished (it will not be retried) and is shown in red beside the bar.

    Ctrl-C stops watching, not the run: ``KeyboardInterrupt`` propagates for the caller to say
    how to re-attach."""
    console = console or Console()
    deadline = None if timeout_s is None else time.monotonic() + timeout_s
    columns = (
        TextColumn("{task.description:<24}"),
        BarColumn(bar_width=24),
        MofNCompleteColumn(),
        TextColumn("{task.fields[note]}"),
    )
    view = read_status(run_id)
    t0 = view.totals
    meter = Throughput(time.monotonic(), t0["edited"] + t0["edit_failed"], t0["scored"] + t0["judgment_failed"])
    with Progress(*columns, console=console, transient=False) as bars:
        tasks: dict[str, TaskID] = {}

        def bar(key: str, description: str, completed: int, total: int, note: str) -> None:
            if key not in tasks:
                tasks[key] = bars.add_task(description, total=total or 1, note=note)
            bars.update(tasks[key], completed=completed, total=total or 1, note=note)

        while True:
            for c in view.categories:
                edit_failed = f"[red]{c['edit_failed']} failed[/]" if c["edit_failed"] else ""
                bar(f"{c['category']}/edits", f"{c['category']} · edits", c["samples"] - c["edits_open"], c["samples"], edit_failed)
                judge_failed = f"[red]{c['judgment_failed']} unscored[/]" if c["judgment_failed"] else ""
                bar(
                    f"{c['category']}/judgments",
                    f"{c['category']} · judgments",
                    c["judgments"] - c["judgments_open"],
                    c["judgments"],
                    judge_failed,
                )
            t = view.totals
            edit_rate, judge_rate = meter.rates(t["edited"] + t["edit_failed"], t["scored"] + t["judgment_failed"], time.monotonic())
            eta = "done" if view.finished else f"ETA {format_duration(eta_seconds(view, edit_rate, judge_rate))}"
            bar(
                "overall",
                "overall (edits+judgments)",
                t["samples"] - t["edits_open"] + t["judgments"] - t["judgments_open"],
                t["samples"] + t["judgments"],
                f"{_rate_text(edit_rate, judge_rate)} · {eta}",
            )
            if view.finished:
                return view
            if view.stopped:
                console.print(
                    f"[red]run {run_id} stopped:[/] {escape(view.stop_reason or '')}\n"
                    f"its samples are still pending: fix the cause, then `editbench resume {run_id}`"
                )
                return view
            if deadline is not None and time.monotonic() > deadline:
                raise TimeoutError(f"run {run_id} did not finish within {timeout_s:.0f}s")
            time.sleep(poll_s)
            view = read_status(run_id)
