"""Runs as objects, with real ``editbench worker`` processes, real Redis and real ledgers:
``runs`` lists them, ``cancel`` takes the queued work back and no worker spends time on it,
``resume`` restarts a cancelled run, ``status`` explains failures, and ``run --wait`` ends with
the headline table and an exit code that says whether every sample was scored."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from PIL import Image
from sqlalchemy import func, select

from editbench.cli import main
from editbench.schema.db import session_scope
from editbench.schema.models import Edit, Run, RunStatus, Sample, Status
from tests.integration.harness import assert_exactly_once, ingest_example, wait_done

pytestmark = pytest.mark.integration


def invoke(*args: str) -> Result:
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def _edits(run_id: int, *statuses: Status) -> int:
    with session_scope() as s:
        query = select(func.count()).select_from(Edit).where(Edit.run_id == run_id)
        if statuses:
            query = query.where(Edit.status.in_(statuses))
        return s.scalar(query) or 0


def _claimed(run_id: int) -> int:
    """Edits any worker ever claimed (attempts > 0): the GPU time the run has cost."""
    with session_scope() as s:
        return s.scalar(select(func.count()).select_from(Edit).where(Edit.run_id == run_id, Edit.attempts > 0)) or 0


def test_cancel_withdraws_queued_work_no_worker_runs_it_and_resume_finishes_the_run(db_url: str, make_workers, tmp_path: Path) -> None:
    workers = make_workers(db_url)
    benchmark = ingest_example(tmp_path, per_category=3)  # 5 categories x 3 = 15 edits
    workers.start(0)
    workers.wait_ready(1)
    submitted = invoke(
        "run",
        "--benchmark",
        benchmark,
        "--name",
        "slow-one",
        "--editor",
        "simulated:",
        "--param",
        "median_s=0.7",
        "--param",
        "sigma=0",
        "--judge",
        "simulated:",
        "--judge-param",
        "per_image_s=0",
    )
    assert submitted.exit_code == 0, submitted.output
    with session_scope() as s:
        run_id = s.scalar(select(Run.id).where(Run.name == "slow-one"))
    deadline = time.monotonic() + 60
    while _edits(run_id, Status.DONE) < 1:
        assert time.monotonic() < deadline, workers.logs()
        time.sleep(0.1)

    cancelled = invoke("cancel", "slow-one")  # by name
    assert cancelled.exit_code == 0, cancelled.output
    assert f"run {run_id} cancelled" in cancelled.output
    withdrawn = int(cancelled.output.split("cancelled: ")[1].split(" ")[0])
    assert withdrawn >= 10  # 15 edits, at most a few done or in a worker's hands
    claimed_at_cancel = _claimed(run_id)
    time.sleep(3.0)  # > 4 simulated edits' time: a worker still running the run would show
    # At most the one edit in the worker's hands when the cancel came finishes; nothing new starts.
    assert _claimed(run_id) <= claimed_at_cancel + 1
    assert _edits(run_id, Status.PENDING) >= 10
    with session_scope() as s:
        assert s.get(Run, run_id).status == RunStatus.CANCELLED

    status = invoke("status", str(run_id), "--json")
    assert json.loads(status.stdout)["status"] == "cancelled"
    listing = json.loads(invoke("runs", "--json").stdout)
    assert [(r["id"], r["name"], r["status"]) for r in listing] == [(run_id, "slow-one", "cancelled")]
    again = invoke("cancel", str(run_id))
    assert again.exit_code == 0 and "already cancelled" in again.output

    resumed = invoke("resume", "slow-one")
    assert resumed.exit_code == 0, resumed.output
    wait_done(run_id, workers, timeout_s=120)
    assert_exactly_once(run_id)
    with session_scope() as s:
        assert s.get(Run, run_id).status == RunStatus.DONE
    assert _edits(run_id, Status.DONE) == 15


def test_run_wait_prints_the_headline_table_and_exits_0_when_every_sample_is_scored(workers, tmp_path: Path) -> None:
    benchmark = ingest_example(tmp_path, per_category=2)
    workers.start(0)
    workers.wait_ready(1)
    result = invoke(
        "run",
        "--benchmark",
        benchmark,
        "--category",
        "physics",
        "--category",
        "social",
        "--editor",
        "simulated:",
        "--param",
        "median_s=0.01",
        "--judge",
        "simulated:",
        "--judge-param",
        "per_image_s=0",
        "--wait",
    )
    assert result.exit_code == 0, result.output
    for label in ("physics · edits", "physics · judgments", "overall (edits+judgments)", "img/s edited"):
        assert label in result.stdout, result.stdout
    # The headline table: one row per category and the overall means.
    for row in ("physics", "social", "overall (macro)", "overall (micro)"):
        assert row in result.stdout.split("overall (edits+judgments)")[-1]
    assert result.stderr == ""
    [row] = json.loads(invoke("runs", "--json").stdout)
    assert (row["status"], row["benchmark"], row["editor"], row["judge"]) == ("done", benchmark, "simulated", "simulated")
    assert row["work_final"] == row["work_total"] > 0 and row["work_failed"] == 0
    assert row["finished_at"] is not None and row["wall_s"] > 0
    assert invoke("runs").exit_code == 0


def test_failures_are_grouped_by_reason_in_status_and_run_wait_exits_1(workers, tmp_path: Path) -> None:
    benchmark = ingest_example(tmp_path, per_category=2)
    with session_scope() as s:
        rows = s.execute(select(Sample.external_id).order_by(Sample.id)).scalars().all()
    edits = tmp_path / "edits"
    edits.mkdir()
    present = rows[: len(rows) // 2]  # half the samples have a precomputed edit, half do not
    for sample_id in present:
        target = edits / f"{sample_id}.png"
        target.parent.mkdir(parents=True, exist_ok=True)
        Image.new("RGB", (32, 32), "gray").save(target)
    workers.start(0)
    workers.wait_ready(1)
    result = invoke(
        "run",
        "--benchmark",
        benchmark,
        "--name",
        "half-missing",
        "--editor",
        f"precomputed:{edits}",
        "--judge",
        "simulated:",
        "--judge-param",
        "per_image_s=0",
        "--wait",
    )
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    [error] = [line for line in result.stderr.splitlines() if line.strip()]
    missing = len(rows) - len(present)
    assert error.startswith("error: run ") and f"finished with {missing} failed edit(s)" in error
    assert "editbench status" in error
    assert "overall (macro)" in result.stdout  # the headline table is printed all the same

    status = invoke("status", "half-missing", "--json")
    assert status.exit_code == 0
    failures = json.loads(status.stdout)["failures"]
    by_key = {(f["stage"], f["status"], f["error_code"]): f for f in failures}
    edit_group = by_key[("edit", "failed", "editor_error")]
    assert edit_group["count"] == missing
    assert "no precomputed image" in edit_group["example_error"]
    assert edit_group["example_sample"] in rows[len(present) :]
    judgment_group = by_key[("judgment", "missing", "edit_failed")]
    assert judgment_group["count"] >= missing  # one per criterion of each failed sample
    text = invoke("status", "half-missing")
    assert "why work failed" in text.stdout and "editor_error" in text.stdout and str(missing) in text.stdout
    wait_done(json.loads(status.stdout)["run_id"], workers)
