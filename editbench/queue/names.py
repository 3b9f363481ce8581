"""Queue names, task names and Redis key prefixes: the one place that knows how work is addressed.

GPU workers consume the shared queue (idle GPUs pull the next sample: the default), their own
pinned queue (``--routing round-robin`` sends sample i to GPU i mod N) and the control queue
(the light chord bodies and the sweeper). Judge batches of a judge served over HTTP (a run whose
``judge_placement`` is ``cpu``) go to the CPU judge queue instead, so CPU workers
(``editbench worker --cpu --serve api``) judge while the GPU workers edit.

What a worker consumes is its *role* (``editbench worker --serve``):

- ``all`` (default): everything — GPU queues, CPU judge queue, control. One kind of worker
  suffices, whatever the run.
- ``models``: GPU queues and control only: a GPU worker beside CPU judge workers, so API judge
  batches never take a GPU's turn.
- ``api``: the CPU judge queue and control only.
"""

from __future__ import annotations

SHARED_QUEUE = "editbench.gpu"
CONTROL_QUEUE = "editbench.control"
CPU_JUDGE_QUEUE = "editbench.judge.cpu"
PINNED_QUEUE_PREFIX = "editbench.gpu."

KEY_PREFIX = "editbench:"
EDITED_IMAGE_KEY = KEY_PREFIX + "img:{run_id}:{sample_id}"

ROUTINGS = ("shared", "round-robin")
WORKER_ROLES = ("all", "models", "api")

# Task names: the producer and the sweeper send work by name, so the queue never imports the
# worker code that implements the tasks (``editbench.workers.tasks``).
EDIT_TASK = "editbench.edit_sample"
SCORE_CATEGORY_TASK = "editbench.score_category"
JUDGE_BATCH_TASK = "editbench.judge_batch"
SWEEP_TASK = "editbench.sweep"


def pinned_queue(index: int) -> str:
    return f"{PINNED_QUEUE_PREFIX}{index}"


def worker_queues(index: int, role: str = "all") -> list[str]:
    """Every queue the worker for GPU (or CPU slot) ``index`` consumes in ``role``."""
    if role not in WORKER_ROLES:
        raise ValueError(f"unknown worker role {role!r}; choose one of {', '.join(WORKER_ROLES)}")
    if role == "api":
        return [CPU_JUDGE_QUEUE, CONTROL_QUEUE]
    queues = [SHARED_QUEUE, pinned_queue(index), CONTROL_QUEUE]
    return [*queues, CPU_JUDGE_QUEUE] if role == "all" else queues


def judge_queue(placement: str, routing: str, position: int, gpus: int) -> str:
    """Queue for the ``position``-th judge batch of a category: the CPU judge queue for a judge
    served over HTTP, else as edits are routed."""
    if placement == "cpu":
        return CPU_JUDGE_QUEUE
    return edit_queue(routing, position, gpus)


def edit_queue(routing: str, position: int, gpus: int) -> str:
    """Queue for the edit of the ``position``-th sample of a run."""
    if routing == "round-robin":
        return pinned_queue(position % max(gpus, 1))
    return SHARED_QUEUE


def edited_image_key(run_id: int, sample_id: int) -> str:
    return EDITED_IMAGE_KEY.format(run_id=run_id, sample_id=sample_id)
