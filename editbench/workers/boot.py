"""Starting a worker: one single-concurrency Celery worker for one GPU or CPU slot.

The slot and device become settings (``EDITBENCH_WORKER_SLOT``, ``EDITBENCH_DEVICE``) before
Celery forks its child, so the child's runtime reads them from :func:`editbench.config.load_settings`
like every other setting. ``CUDA_VISIBLE_DEVICES`` pins the process to its GPU: set here, in the
parent, which never touches CUDA itself.

A worker that serves models (role ``all`` or ``models``) imports its model libraries in the
parent before the fork (``EDITBENCH_PRELOAD_MODEL_LIBRARIES``, :mod:`editbench.models.preload`):
Celery forks the pool child from this process after ``worker_main`` starts, so the child inherits
them and its first model load skips seconds of imports. The imports never initialise CUDA (a
child forked after that could not use the GPU).
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass

from editbench.config import load_settings
from editbench.queue.names import worker_queues


@dataclass(frozen=True)
class WorkerSpec:
    """What one worker serves: GPU ``gpu``, or CPU slot ``slot`` when ``gpu`` is None."""

    gpu: int | None = None
    slot: int = 0
    loglevel: str = "INFO"
    # Which queues it consumes (editbench.queue.names.WORKER_ROLES): all, models, or api.
    role: str = "all"

    @property
    def index(self) -> int:
        """The worker's slot: the GPU index, or the CPU slot (names its pinned queue)."""
        return self.gpu if self.gpu is not None else self.slot

    @property
    def serves_models(self) -> bool:
        """Whether it may load local models: every role but ``api`` (control and served judges)."""
        return self.role != "api"

    @property
    def device(self) -> str:
        return "cuda" if self.gpu is not None else "cpu"

    @property
    def hostname(self) -> str:
        kind = "gpu" if self.gpu is not None else "cpu"
        return f"editbench-{kind}{self.index}@%h"

    def environment(self) -> dict[str, str]:
        """The settings this worker's processes run under: the slot, the device and torch's
        compile-cache locations (``EDITBENCH_COMPILE_CACHE``; a variable the user set wins)."""
        caches = {k: v for k, v in load_settings().compile_cache_environment().items() if k not in os.environ}
        return {
            **caches,
            "CUDA_VISIBLE_DEVICES": "" if self.gpu is None else str(self.gpu),
            "EDITBENCH_DEVICE": self.device,
            "EDITBENCH_WORKER_SLOT": str(self.index),
        }


def run_worker(spec: WorkerSpec) -> None:
    """Serve until stopped (blocks). Consumes the queues of its role: by default the shared GPU
    queue, the worker's pinned queue (round-robin routing), the CPU judge queue and the control
    queue (see :mod:`editbench.queue.names`)."""
    os.environ.update(spec.environment())
    if spec.serves_models and load_settings().preload_model_libraries:
        from editbench.models.preload import preload_model_libraries

        # Celery's logging is not set up yet: one line on stderr, which is the worker's log.
        print(preload_model_libraries(spec.device).describe(), file=sys.stderr, flush=True)
    from editbench.queue.app import app

    app.worker_main(
        [
            "worker",
            "--pool",
            "prefork",
            "--concurrency",
            "1",
            "--queues",
            ",".join(worker_queues(spec.index, spec.role)),
            "--hostname",
            spec.hostname,
            "--task-events",
            "--loglevel",
            spec.loglevel,
            "--without-gossip",
            "--without-mingle",
        ]
    )
