"""Queue names, task names and Redis key prefixes: the one place that knows how work is addressed.

GPU workers consume the shared queue (idle GPUs pull the next sample: the default), their own
pinned queue (``--routing round-robin`` sends sample i to GPU i mod N), the control queue (the
light chord bodies and the sweeper) and the judge queues (judge batches, shared or pinned).

Order matters: :func:`worker_queues` lists them control first, then judge, then edit, and the
broker is told to drain them in that order (Redis transport ``queue_order_strategy:
"priority"``, see ``celeryconfig``). So a worker that finishes an edit takes a finished
category's chord body and judge batches before the next pending edit: judging of one category
overlaps with the edits of the others instead of forming a tail after the last edit (issue 15).
Judge batches of a judge served over HTTP (a run whose ``judge_placement`` is ``cpu``) go to the
CPU judge queue instead, so CPU workers (``editbench worker --cpu --serve api``) judge while the
GPU workers edit.

What a worker consumes is its *role* (``editbench worker --serve``):

- ``all`` (default): everything — control, judge queues, CPU judge queue, GPU queues. One kind
  of worker suffices, whatever the run.
- ``models``: everything but the CPU judge queue: a GPU worker beside CPU judge workers, so API
  judge batches never take a GPU's turn.
- ``api``: control and the CPU judge queue only.
"""

from __future__ import annotations

SHARED_QUEUE = "editbench.gpu"
CONTROL_QUEUE = "editbench.control"
CPU_JUDGE_QUEUE = "editbench.judge.cpu"
PINNED_QUEUE_PREFIX = "editbench.gpu."
JUDGE_QUEUE = "editbench.judge"
PINNED_JUDGE_QUEUE_PREFIX = "editbench.judge."

KEY_PREFIX = "editbench:"
EDITED_IMAGE_KEY = KEY_PREFIX + "img:{run_id}:{sample_id}"

ROUTINGS = ("shared", "round-robin")
WORKER_ROLES = ("all", "models", "api")

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


def pinned_judge_queue(index: int) -> str:
    return f"{PINNED_JUDGE_QUEUE_PREFIX}{index}"


def worker_queues(index: int, role: str = "all") -> list[str]:
    """Every queue the worker for GPU (or CPU slot) ``index`` consumes in ``role``, most urgent
    first (the worker drains them in this order): chord bodies and the sweeper, judge batches,
    then edits."""
    if role not in WORKER_ROLES:
        raise ValueError(f"unknown worker role {role!r}; choose one of {', '.join(WORKER_ROLES)}")
    if role == "api":
        return [CONTROL_QUEUE, CPU_JUDGE_QUEUE]
    judges = [JUDGE_QUEUE, pinned_judge_queue(index), *([CPU_JUDGE_QUEUE] if role == "all" else [])]
    return [CONTROL_QUEUE, *judges, SHARED_QUEUE, pinned_queue(index)]


def all_queues(gpus: int) -> list[str]:
    """Every queue of a cluster of ``gpus`` workers (what the sweeper counts as still queued)."""
    slots = range(max(gpus, 1))
    return [
        CONTROL_QUEUE,
        JUDGE_QUEUE,
        CPU_JUDGE_QUEUE,
        SHARED_QUEUE,
        *(pinned_judge_queue(i) for i in slots),
        *(pinned_queue(i) for i in slots),
    ]


def edit_queue(routing: str, position: int, gpus: int) -> str:
    """Queue for the edit of the ``position``-th sample of a run."""
    if routing == "round-robin":
        return pinned_queue(position % max(gpus, 1))
    return SHARED_QUEUE


def judge_queue(placement: str, routing: str, batch_index: int, gpus: int) -> str:
    """Queue for the ``batch_index``-th judge batch of a category: the CPU judge queue for a judge
    served over HTTP; else round-robin pins batch i to GPU i mod N, as it pins edits, and
    otherwise any free worker takes it."""
    if placement == "cpu":
        return CPU_JUDGE_QUEUE
    if routing == "round-robin":
        return pinned_judge_queue(batch_index % max(gpus, 1))
    return JUDGE_QUEUE


def edited_image_key(run_id: int, sample_id: int) -> str:
    return EDITED_IMAGE_KEY.format(run_id=run_id, sample_id=sample_id)
