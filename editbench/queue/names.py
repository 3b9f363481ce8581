"""Queue names, task names and Redis key prefixes: the one place that knows how work is addressed.

GPU workers consume the shared queue (idle GPUs pull the next sample: the default), their own
pinned queue (``--routing round-robin`` sends sample i to GPU i mod N) and the control queue
(the light chord bodies and the sweeper).
"""

from __future__ import annotations

SHARED_QUEUE = "editbench.gpu"
CONTROL_QUEUE = "editbench.control"
PINNED_QUEUE_PREFIX = "editbench.gpu."

KEY_PREFIX = "editbench:"
EDITED_IMAGE_KEY = KEY_PREFIX + "img:{run_id}:{sample_id}"

ROUTINGS = ("shared", "round-robin")

# Every Redis list that holds editbench's queued messages (the queues above, with kombu's
# priority suffixes): what ``dispatch.withdraw_run`` scans when a run is cancelled.
QUEUE_KEY_PATTERN = "editbench.*"

# Task names: the producer and the sweeper send work by name, so the queue never imports the
# worker code that implements the tasks (``editbench.workers.tasks``).
EDIT_TASK = "editbench.edit_sample"
SCORE_CATEGORY_TASK = "editbench.score_category"
JUDGE_BATCH_TASK = "editbench.judge_batch"
SWEEP_TASK = "editbench.sweep"


def pinned_queue(index: int) -> str:
    return f"{PINNED_QUEUE_PREFIX}{index}"


def worker_queues(index: int) -> list[str]:
    """Every queue the worker for GPU (or CPU slot) ``index`` consumes."""
    return [SHARED_QUEUE, pinned_queue(index), CONTROL_QUEUE]


def edit_queue(routing: str, position: int, gpus: int) -> str:
    """Queue for the edit of the ``position``-th sample of a run."""
    if routing == "round-robin":
        return pinned_queue(position % max(gpus, 1))
    return SHARED_QUEUE


def edited_image_key(run_id: int, sample_id: int) -> str:
    return EDITED_IMAGE_KEY.format(run_id=run_id, sample_id=sample_id)
