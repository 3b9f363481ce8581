"""Integration-test harness: a small ingested benchmark, run submission and exactly-once checks."""

from __future__ import annotations

import time
from pathlib import Path

from sqlalchemy import func, select

from editbench.schema.db import session_scope
from editbench.schema.models import Edit, Judgment, Status

OPEN = [Status.PENDING, Status.RUNNING]


EDITOR_PARAMS = {"steps": 2, "working_area": "64*64", "true_cfg_scale": 1.0}
JUDGE_PARAMS = {"mode": "logits"}


def ingest_example(tmp_path: Path, per_category: int = 3) -> str:
    from editbench.benchmark.example import write_example_benchmark
    from editbench.producer.ingest import ingest

    folder = write_example_benchmark(tmp_path / "bench", per_category=per_category)
    return ingest(folder).benchmark


def submit_run(benchmark: str, tiny_models, **kw) -> int:
    from editbench.producer.submit import ModelRef, RunRequest, submit

    editor = kw.pop("editor", ModelRef("qwen-image-edit", str(tiny_models.editor), dict(EDITOR_PARAMS)))
    judge = kw.pop("judge", ModelRef("qwen3-vl", str(tiny_models.judge), dict(JUDGE_PARAMS)))
    return submit(RunRequest(benchmark=benchmark, editor=editor, judge=judge, **kw))


def wait_done(run_id: int, workers, timeout_s: float = 180) -> None:
    from editbench.producer.progress import read_status

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if read_status(run_id).finished:
            return
        time.sleep(0.25)
    raise TimeoutError(f"run {run_id} not done: {read_status(run_id)}\n{workers.logs()}")


def assert_exactly_once(run_id: int) -> None:
    """One edit row per sample and one judgment per criterion, all final."""
    with session_scope() as s:
        edits = s.execute(select(Edit.sample_id, func.count()).where(Edit.run_id == run_id).group_by(Edit.sample_id)).all()
        assert edits and all(n == 1 for _, n in edits)
        judgments = s.execute(
            select(Judgment.sample_id, Judgment.criterion, func.count())
            .where(Judgment.run_id == run_id)
            .group_by(Judgment.sample_id, Judgment.criterion)
        ).all()
        assert judgments and all(n == 1 for *_, n in judgments)
        open_edits = s.scalar(select(func.count()).select_from(Edit).where(Edit.run_id == run_id, Edit.status.in_(OPEN)))
        open_judgments = s.scalar(select(func.count()).select_from(Judgment).where(Judgment.run_id == run_id, Judgment.status.in_(OPEN)))
        assert (open_edits, open_judgments) == (0, 0)
