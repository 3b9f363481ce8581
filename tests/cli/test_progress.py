"""The progress view tells the truth: a measured ETA (none until something finished), and Ctrl-C
stops watching, not the run, and says how to re-attach."""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from editbench.producer.progress import (
    RunStatusView,
    Throughput,
    eta_seconds,
    format_duration,
)


def _view(edits_open: int, judgments_open: int, status: str = "running") -> RunStatusView:
    category = {
        "category": "physics",
        "samples": 10,
        "edited": 10 - edits_open,
        "edit_failed": 0,
        "edits_open": edits_open,
        "judgments": 20,
        "scored": 20 - judgments_open,
        "judgment_failed": 0,
        "judgments_open": judgments_open,
    }
    return RunStatusView(1, status, [category])


def test_eta_adds_the_remaining_edits_and_judgments_at_their_measured_rates() -> None:
    # 4 edits left at 2 img/s (2 s) + 10 judgments left at 5/s (2 s)
    assert eta_seconds(_view(4, 10), edit_rate=2.0, judge_rate=5.0) == pytest.approx(4.0)
    # a stage with nothing left needs no rate
    assert eta_seconds(_view(0, 10), edit_rate=None, judge_rate=5.0) == pytest.approx(2.0)


def test_there_is_no_eta_until_a_rate_has_been_measured() -> None:
    assert eta_seconds(_view(4, 10), edit_rate=None, judge_rate=5.0) is None
    meter = Throughput(started=100.0, edits_at_start=3, judgments_at_start=0)
    assert meter.rates(3, 0, now=100.5) == (None, None)  # under a second: no rate yet
    assert meter.rates(3, 0, now=110.0) == (None, None)  # nothing finished while watching
    assert meter.rates(8, 20, now=110.0) == (pytest.approx(0.5), pytest.approx(2.0))
    assert format_duration(None) == "—"
    assert format_duration(75) == "1m15s" and format_duration(3 * 3600 + 120) == "3h02m" and format_duration(9) == "9s"


def test_a_run_is_clean_only_when_done_with_every_judgment_scored() -> None:
    assert _view(0, 0, "done").complete_and_clean
    assert not _view(0, 0, "cancelled").complete_and_clean
    failed = _view(0, 0, "done")
    failed.categories[0]["scored"] -= 1
    failed.categories[0]["judgment_failed"] += 1
    assert not failed.complete_and_clean


@pytest.mark.integration
def test_ctrl_c_while_watching_says_the_run_goes_on_and_how_to_re_attach(sqlite_db: str, redis_url: str, tmp_path: Path) -> None:
    from editbench.producer.runs import cancel_run
    from editbench.producer.submit import ModelRef, RunRequest, submit
    from tests.integration.harness import ingest_example

    benchmark = ingest_example(tmp_path, per_category=1)
    # No worker is started: the run stays open while we watch it.
    run_id = submit(RunRequest(benchmark=benchmark, editor=ModelRef("simulated", None), judge=ModelRef("simulated", None)))
    try:
        # A terminal-like stdout (rich draws live bars only on a terminal), read until the bars show.
        watcher = subprocess.Popen(
            [sys.executable, "-m", "editbench.cli", "status", str(run_id), "--watch"],
            env={**os.environ, "COLUMNS": "120", "FORCE_COLOR": "1", "TTY_COMPATIBLE": "1"},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        seen = b""
        deadline = time.monotonic() + 90
        while b"overall" not in seen:
            assert time.monotonic() < deadline and watcher.poll() is None, seen
            ready, _, _ = select.select([watcher.stdout], [], [], 1.0)
            if ready:
                seen += os.read(watcher.stdout.fileno(), 65536)
        watcher.send_signal(signal.SIGINT)
        out_bytes, err_bytes = watcher.communicate(timeout=30)
        out, err = (seen + out_bytes).decode(errors="replace"), err_bytes.decode(errors="replace")
        assert watcher.returncode == 130, (out, err)
        assert "Traceback" not in out + err
        assert f"run {run_id} goes on in the workers" in err
        assert f"Re-attach: editbench status {run_id} --watch" in err
        assert "overall (edits+judgments)" in out
    finally:
        cancel_run(run_id)  # take its queued messages back so no later test's worker sees them
