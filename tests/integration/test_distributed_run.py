"""Whole runs through real Redis, real `editbench worker` processes and the tiny real models."""

from __future__ import annotations

import os

import pytest
from sqlalchemy import func, select

from editbench.config import load_settings
from editbench.schema.db import session_scope
from editbench.schema.models import Edit, Judgment, Sample, Status
from editbench.thumbnails import thumbnail_cache
from tests.integration.harness import (
    assert_exactly_once,
    ingest_example,
    submit_run,
    wait_done,
)

pytestmark = pytest.mark.integration


def test_two_category_run_scores_every_sample_once(workers, tiny_models, tmp_path) -> None:
    benchmark = ingest_example(tmp_path, per_category=3)
    workers.start(0)
    workers.start(1)
    workers.wait_ready(2)
    run_id = submit_run(benchmark, tiny_models, categories=["physics", "social"], gpus=2)
    wait_done(run_id, workers)
    assert_exactly_once(run_id)
    with session_scope() as s:
        assert s.scalar(select(func.count()).select_from(Edit).where(Edit.run_id == run_id, Edit.status == Status.DONE)) == 6
        judgments = s.execute(select(Judgment.status, Judgment.score).where(Judgment.run_id == run_id)).all()
        # physics is scored on 3 criteria in the example benchmark, social on 2.
        assert len(judgments) == 3 * 3 + 3 * 2
        assert all(status == Status.DONE and 0 <= score <= 10 for status, score in judgments)
        # Edited images went through Redis and the artifact store, never through task payloads.
        paths = s.scalars(select(Edit.output_path).where(Edit.run_id == run_id)).all()
        assert all(os.path.exists(p) for p in paths)
        # Ingest and the workers thumbnailed every image they held, so a report decodes none again.
        hashes = s.scalars(select(Edit.output_sha256).where(Edit.run_id == run_id)).all()
        hashes += s.scalars(select(Sample.source_sha256).join(Edit, Edit.sample_id == Sample.id).where(Edit.run_id == run_id)).all()
    cache = thumbnail_cache(load_settings().home)
    assert all((cache / f"{h}.jpg").exists() for h in hashes)


def test_round_robin_pins_sample_i_to_worker_i_mod_n(workers, tiny_models, tmp_path) -> None:
    benchmark = ingest_example(tmp_path, per_category=3)
    workers.start(0)
    workers.start(1)
    workers.wait_ready(2)
    run_id = submit_run(benchmark, tiny_models, categories=["causal", "referential"], routing="round-robin", gpus=2)
    wait_done(run_id, workers)
    assert_exactly_once(run_id)
    with session_scope() as s:
        rows = s.execute(select(Edit.sample_id, Edit.worker).where(Edit.run_id == run_id).order_by(Edit.sample_id)).all()
    for position, (_, worker) in enumerate(rows):
        assert f"/slot{position % 2}/" in worker, (position, worker)


def test_bad_sample_fails_alone_and_its_category_is_still_scored(workers, tiny_models, tmp_path) -> None:
    from editbench.benchmark.store import ImageStore
    from editbench.config import load_settings

    benchmark = ingest_example(tmp_path, per_category=3)
    with session_scope() as s:
        victim = s.scalars(select(Sample).join(Sample.category).where(Sample.category.has(name="physics")).order_by(Sample.id)).first()
        victim_id, sha = victim.id, victim.source_sha256
    # Corrupt the stored copy after ingest: the run must record it and carry on.
    ImageStore(load_settings().store_dir).path_for(sha).write_bytes(b"\x89PNG\r\n\x1a\n garbage")
    workers.start(0)
    workers.wait_ready(1)
    run_id = submit_run(benchmark, tiny_models, categories=["physics"])
    wait_done(run_id, workers)
    assert_exactly_once(run_id)
    with session_scope() as s:
        edits = {e.sample_id: e for e in s.scalars(select(Edit).where(Edit.run_id == run_id))}
        assert (edits[victim_id].status, edits[victim_id].error_code) == (Status.FAILED, "corrupt_image")
        judged = s.execute(select(Judgment.sample_id, Judgment.status).where(Judgment.run_id == run_id)).all()
    assert {st for sid, st in judged if sid == victim_id} == {Status.MISSING}
    assert {st for sid, st in judged if sid != victim_id} == {Status.DONE}


def test_duplicated_tasks_write_nothing_twice(workers, tiny_models, tmp_path) -> None:
    from editbench.queue.app import app

    benchmark = ingest_example(tmp_path, per_category=2)
    workers.start(0)
    workers.wait_ready(1)
    run_id = submit_run(benchmark, tiny_models, categories=["social"])
    wait_done(run_id, workers)
    with session_scope() as s:
        before = [
            (e.sample_id, e.attempts, e.finished_at) for e in s.scalars(select(Edit).where(Edit.run_id == run_id).order_by(Edit.sample_id))
        ]
        category_id = s.scalars(select(Edit.category_id).where(Edit.run_id == run_id)).first()
        judgments_before = [
            (j.id, j.attempts, j.score) for j in s.scalars(select(Judgment).where(Judgment.run_id == run_id).order_by(Judgment.id))
        ]
    sample_ids = [sid for sid, *_ in before]
    # Deliver every edit and the judge batch again, as a broker redelivery or a double submit would.
    results = [app.signature("editbench.edit_sample", args=(run_id, sid)).apply_async() for sid in sample_ids]
    results.append(app.signature("editbench.judge_batch", args=(run_id, category_id, sample_ids)).apply_async())
    outputs = [r.get(timeout=60) for r in results]
    assert [o["status"] for o in outputs[:-1]] == ["skipped"] * len(sample_ids)
    assert outputs[-1]["judged"] == 0
    with session_scope() as s:
        after = [
            (e.sample_id, e.attempts, e.finished_at) for e in s.scalars(select(Edit).where(Edit.run_id == run_id).order_by(Edit.sample_id))
        ]
        judgments_after = [
            (j.id, j.attempts, j.score) for j in s.scalars(select(Judgment).where(Judgment.run_id == run_id).order_by(Judgment.id))
        ]
    assert after == before and judgments_after == judgments_before
    assert_exactly_once(run_id)


def test_standing_run_picks_up_a_category_ingested_later(workers, tiny_models, tmp_path) -> None:
    import shutil

    from editbench.benchmark.example import write_example_benchmark
    from editbench.producer.ingest import ingest
    from editbench.queue.dispatch import sweep_open_runs

    full = write_example_benchmark(tmp_path / "full", per_category=2)
    partial = tmp_path / "partial"
    shutil.copytree(full, partial)
    # Start with only the physics items; the rest arrive later.
    lines = (full / "items.jsonl").read_text().splitlines()
    (partial / "items.jsonl").write_text("\n".join(line for line in lines if '"physics"' in line) + "\n")
    benchmark = ingest(partial).benchmark
    workers.start(0)
    workers.wait_ready(1)
    run_id = submit_run(benchmark, tiny_models, follow=True)
    (partial / "items.jsonl").write_text("\n".join(lines) + "\n")
    report = ingest(partial)
    assert report.added_total == len(lines) - 2
    assert sweep_open_runs().new_samples == len(lines) - 2  # what the beat sweeper does every interval
    import time

    from editbench.producer.progress import read_status

    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        view = read_status(run_id)
        if sum(c["samples"] for c in view.categories) == len(lines) and all(
            c["judgments_open"] == 0 and c["edits_open"] == 0 for c in view.categories
        ):
            break
        time.sleep(0.25)
    else:
        raise TimeoutError(workers.logs())
    with session_scope() as s:
        assert s.scalar(select(func.count()).select_from(Edit).where(Edit.run_id == run_id, Edit.status == Status.DONE)) == len(lines)
    assert_exactly_once(run_id)
    # Once the user stops following, the run closes as soon as its work is final.
    from click.testing import CliRunner

    from editbench.cli import main

    result = CliRunner().invoke(main, ["follow", str(run_id), "--off"])
    assert result.exit_code == 0, result.output
    assert "run complete" in result.output
    assert read_status(run_id).finished


def test_one_resident_model_switches_from_editor_to_judge_once(workers, tiny_models, tmp_path) -> None:
    """EDITBENCH_RESIDENT=one (cards too small for both models): a worker loads its editor once
    and its judge once, and no judgment starts before the last edit finished. (FIFO queues give
    this order on a plain run; the barrier in plan_category_scoring also keeps it when resume
    or a standing run puts edits behind judge batches.)"""
    import re

    benchmark = ingest_example(tmp_path, per_category=3)
    workers.env["EDITBENCH_RESIDENT"] = "one"
    workers.start(0)
    workers.wait_ready(1)
    run_id = submit_run(benchmark, tiny_models, categories=["physics", "social", "causal"], judge_batch_size=2)
    wait_done(run_id, workers)
    assert_exactly_once(run_id)
    loads = re.findall(r"model load: (\w+)", (workers.log_dir / "worker-0.log").read_text())
    assert loads == ["editor", "judge"], loads
    with session_scope() as s:
        last_edit = s.scalar(select(func.max(Edit.finished_at)).where(Edit.run_id == run_id))
        first_judgment = s.scalar(select(func.min(Judgment.started_at)).where(Judgment.run_id == run_id))
    assert first_judgment >= last_edit
