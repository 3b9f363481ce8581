"""``editbench judge RUN``: a finished run judged again by another judge through real Redis and
real worker processes, with no edit task executed, a full report and a judge-agreement compare;
and the refusals (missing or changed images, unfinished or unknown parent) with nothing recorded."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from editbench.cli import main
from editbench.producer.rejudge import RejudgeRequest, submit_rejudge
from editbench.producer.submit import ModelRef, RunRequest, submit
from editbench.schema.db import session_scope
from editbench.schema.models import Edit, Judgment, Run, Status
from tests.integration.harness import assert_exactly_once, ingest_example, wait_done

pytestmark = pytest.mark.integration

FAST_EDITOR = ModelRef("simulated", None, {"median_s": "0", "sigma": "0"})
FIRST_JUDGE = ModelRef("simulated", None, {"seed": "0"})
SECOND_JUDGE = ModelRef("simulated", None, {"seed": "7"})


def _edit_tasks_received(logs: Path) -> int:
    """Edit tasks the workers took off the queue, from their own logs (Celery logs each receipt)."""
    return sum(len(re.findall(r"Task editbench\.edit_sample\[[^\]]+\] received", p.read_text())) for p in logs.glob("*.log"))


def _edits(run_id: int) -> list[tuple]:
    with session_scope() as s:
        return [
            (e.sample_id, e.status, e.output_sha256, e.output_path, e.seed, e.attempts, e.task_id, e.worker)
            for e in s.scalars(select(Edit).where(Edit.run_id == run_id).order_by(Edit.sample_id))
        ]


def _run_count() -> int:
    with session_scope() as s:
        return s.scalar(select(func.count()).select_from(Run))


def test_judging_a_finished_run_again_runs_no_edit_and_compares_the_judges(db_url, make_workers, tmp_path) -> None:
    workers = make_workers(db_url)
    benchmark = ingest_example(tmp_path, per_category=3)
    workers.start(0)
    workers.wait_ready(1)
    parent = submit(
        RunRequest(benchmark=benchmark, editor=FAST_EDITOR, judge=FIRST_JUDGE, categories=["physics", "social"], name="first-judge")
    )
    wait_done(parent, workers)
    edit_tasks_before = _edit_tasks_received(workers.log_dir)
    assert edit_tasks_before == 6

    child = submit_rejudge(RejudgeRequest("first-judge", SECOND_JUDGE, name="second-judge"))  # a run name works
    wait_done(child, workers)
    assert_exactly_once(child)
    # Not one edit task was sent or executed for the new run: its workers saw none, and the ledger
    # shows its edits never claimed (0 attempts, no task, no worker), carrying the parent's images.
    assert _edit_tasks_received(workers.log_dir) == edit_tasks_before
    parent_edits, child_edits = _edits(parent), _edits(child)
    assert [e[:5] for e in child_edits] == [e[:5] for e in parent_edits]
    assert all(e[1] == Status.DONE and e[5:] == (0, None, None) for e in child_edits)
    with session_scope() as s:
        judged = s.execute(select(Judgment.status, Judgment.attempts).where(Judgment.run_id == child)).all()
        assert len(judged) == 3 * 3 + 3 * 2 and set(judged) == {(Status.DONE, 1)}
        assert s.get(Run, child).parent_run_id == parent

    runner = CliRunner()
    report = runner.invoke(main, ["report", "second-judge", "--out", str(tmp_path / "report")])
    assert report.exit_code == 0, report.output
    assert "6/6 samples scored" in report.output
    card = json.loads((tmp_path / "report" / "run_card.json").read_text())
    assert card["parent_run"] == {"id": parent, "name": "first-judge"}
    assert card["editor"]["kind"] == "simulated" and card["judge"]["params"] == {"seed": "7"}
    assert card["recorded"]["parent_run"] == {"id": parent, "name": "first-judge"}
    assert f"**Re-judged:** the edited images of run {parent} (first-judge)" in (tmp_path / "report" / "report.md").read_text()

    compared = runner.invoke(main, ["compare", str(parent), str(child), "--out", str(tmp_path / "compare")])
    assert compared.exit_code == 0, compared.output
    assert f"run {parent} vs run {child} (judges)" in compared.output
    assert "judge agreement (same edited images):" in compared.output
    for name, n in (("physics", 3), ("social", 3), ("all items", 6)):
        assert re.search(rf"^  {name} +ρ +\S+  τ +\S+  n={n}$", compared.output, re.MULTILINE), compared.output
    result = json.loads((tmp_path / "compare" / "compare.json").read_text())
    comparison = result["comparisons"][0]
    assert comparison["shared_edits"] is True and comparison["categories"]["physics"]["n_identical_edits"] == 3
    markdown = (tmp_path / "compare" / "compare.md").read_text()
    assert markdown.index("### Judge agreement (same edited images)") < markdown.index("### Differences (B − A)")
    assert "Kendall τ" in markdown
    html = (tmp_path / "compare" / "compare.html").read_text()
    assert html.index("Judge agreement (same edited images)") < html.index("Differences (B − A)")

    # The parent's artifacts are then deleted or altered: judging it again is refused, per image.
    paths = {row[0]: Path(row[3]) for row in parent_edits}
    first, second = sorted(paths)[:2]
    paths[first].unlink()
    paths[second].write_bytes(b"not the image that was judged")
    runs_before = _run_count()
    refused = runner.invoke(main, ["judge", str(parent), "--judge", "simulated:"])
    assert refused.exit_code != 0 and "Traceback" not in refused.output
    assert f"cannot judge run {parent} again: 2 of its edited images are missing or changed" in refused.output
    assert f"{paths[first]} (file not found)" in refused.output
    assert re.search(rf"{re.escape(str(paths[second]))} \(sha256 \w+ ≠ recorded \w+\)", refused.output)
    assert _run_count() == runs_before


def test_judging_an_unfinished_or_unknown_run_is_refused_and_records_nothing(sqlite_db, tmp_path, monkeypatch) -> None:
    from editbench.producer.submit import create_run

    monkeypatch.setenv("EDITBENCH_BROKER_URL", "redis://127.0.0.1:9/0")  # configured, never contacted
    benchmark = ingest_example(tmp_path, per_category=1)
    pending = create_run(RunRequest(benchmark=benchmark, editor=FAST_EDITOR, judge=FIRST_JUDGE))
    runner = CliRunner()
    runs_before = _run_count()
    result = runner.invoke(main, ["judge", str(pending), "--judge", "simulated:"])
    assert result.exit_code != 0
    assert f"run {pending} still has 5 edit(s) open; judge it once its edits are final" in result.output
    result = runner.invoke(main, ["judge", "no-such-run", "--judge", "simulated:"])
    assert result.exit_code != 0 and "no run 'no-such-run'" in result.output
    result = runner.invoke(main, ["judge", str(pending), "--judge", "no-such-judge:"])
    assert result.exit_code != 0 and "--judge no-such-judge" in result.output
    assert _run_count() == runs_before
