"""Judge batches jump the edit queue (issue 15): a finished category is judged while the others
still edit, instead of every judgment waiting behind the run's last edit."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from editbench.producer.submit import ModelRef, RunRequest, submit
from editbench.queue.names import (
    CONTROL_QUEUE,
    CPU_JUDGE_QUEUE,
    JUDGE_QUEUE,
    SHARED_QUEUE,
    all_queues,
    judge_queue,
    pinned_judge_queue,
    pinned_queue,
    worker_queues,
)
from editbench.schema.db import session_scope
from editbench.schema.models import Category, Edit, Judgment, Sample
from tests.integration.harness import assert_exactly_once, ingest_example, wait_done


@pytest.mark.unit
def test_workers_list_control_then_judge_then_edit_queues() -> None:
    assert worker_queues(1) == [CONTROL_QUEUE, JUDGE_QUEUE, pinned_judge_queue(1), CPU_JUDGE_QUEUE, SHARED_QUEUE, pinned_queue(1)]
    assert judge_queue("gpu", "shared", 5, 2) == JUDGE_QUEUE
    assert judge_queue("gpu", "round-robin", 5, 2) == pinned_judge_queue(1)
    # The sweeper's "nothing queued" check must see judge batches too.
    assert {JUDGE_QUEUE, pinned_judge_queue(0), pinned_judge_queue(1)} <= set(all_queues(2))


def test_celery_drains_queues_in_the_order_workers_list_them(redis_url) -> None:
    # Needs ``redis_url``: the app must read its configuration after the fixture set the broker.
    from editbench.queue.app import app

    assert app.conf.broker_transport_options["queue_order_strategy"] == "priority"


@pytest.mark.integration
def test_a_finished_category_is_judged_before_the_other_category_finishes_editing(workers, tmp_path) -> None:
    """One worker, two categories submitted together: the first category's judging starts
    before the second category's last edit has finished (ledger timestamps)."""
    benchmark = ingest_example(tmp_path, per_category=4)
    workers.start(0)
    workers.wait_ready(1)
    run_id = submit(
        RunRequest(
            benchmark=benchmark,
            categories=["physics", "social"],
            judge_batch_size=2,
            editor=ModelRef("simulated", None, {"median_s": 0.3, "sigma": 0.0}),
            judge=ModelRef("simulated", None, {"per_image_s": 0.01}),
        )
    )
    wait_done(run_id, workers, timeout_s=120)
    assert_exactly_once(run_id)

    def category_times(name: str) -> tuple:
        with session_scope() as s:
            in_category = (Sample.category_id == Category.id) & (Category.name == name)
            edits = select(func.min(Edit.started_at), func.max(Edit.finished_at)).join(Sample, Edit.sample_id == Sample.id)
            judgments = select(func.min(Judgment.started_at), func.max(Judgment.finished_at)).join(Sample, Judgment.sample_id == Sample.id)
            return (
                s.execute(edits.join(Category, in_category).where(Edit.run_id == run_id)).one(),
                s.execute(judgments.join(Category, in_category).where(Judgment.run_id == run_id)).one(),
            )

    (first_edit_a, last_edit_a), (first_judgment_a, last_judgment_a) = category_times("physics")
    (first_edit_b, last_edit_b), _ = category_times("social")
    assert first_edit_a < first_edit_b, "physics was submitted first, so it edits first"
    assert last_edit_a <= first_judgment_a < last_edit_b, (
        f"physics judged from {first_judgment_a}, social edited until {last_edit_b}\n{workers.logs()}"
    )
    # Stronger: the worker drains the judge queue before it takes the next edit, so the whole of
    # physics is judged before social's first edit starts (FIFO put it after social's last edit).
    assert last_judgment_a <= first_edit_b, (last_judgment_a, first_edit_b)
