"""Celery settings, in Celery's own convention (``app.config_from_object``).

Every value can be overridden from the environment as ``EDITBENCH_CELERY_<NAME>`` (upper case),
e.g. ``EDITBENCH_CELERY_TASK_TIME_LIMIT=7200``. Why each one is set is said beside it; the
measured pitfalls behind them are in docs/deploy.md.
"""

from __future__ import annotations

from typing import Any

from editbench.config import load_settings
from editbench.queue.broker import broker_url as _resolve_broker
from editbench.queue.names import (
    CONTROL_QUEUE,
    JUDGE_BATCH_TASK,
    JUDGE_QUEUE,
    SCORE_CATEGORY_TASK,
    SHARED_QUEUE,
    SWEEP_TASK,
)

_OVERRIDES = load_settings().celery_overrides


def _env(name: str, default: Any) -> Any:
    raw = _OVERRIDES.get(name)
    if raw is None:
        return default
    if isinstance(default, bool):
        return raw.lower() in ("1", "true", "yes", "on")
    return type(default)(raw)


broker_url = _resolve_broker(required=False) or "redis://127.0.0.1:6379/0"
result_backend = broker_url

# JSON only, end to end: a pickle payload pushed onto a queue is refused, never executed.
task_serializer = "json"
result_serializer = "json"
accept_content = ["json"]
result_accept_content = ["json"]

# A task is acknowledged only after it finished; if its process dies the message goes back.
# The ledger's attempt counter (EDITBENCH_MAX_ATTEMPTS) stops a poison sample from looping.
task_acks_late = True
task_reject_on_worker_lost = True
worker_prefetch_multiplier = 1
worker_concurrency = 1

# A real 50-step 1024² edit takes ~40 s on an H100; the limits only catch hangs.
task_soft_time_limit = _env("task_soft_time_limit", 3300)
task_time_limit = _env("task_time_limit", 3600)
# Must exceed the hard time limit, or Redis re-delivers a task that is still running.
_visibility = _env("visibility_timeout", 2 * task_time_limit)
# "priority": a worker drains its queues in the order it lists them (``names.worker_queues``:
# control, judge, then edit queues) instead of Redis's default round robin, so judge batches of a
# finished category run before the next pending edit (issue 15). Set by the consumer only.
broker_transport_options = {"visibility_timeout": _visibility, "queue_order_strategy": _env("queue_order_strategy", "priority")}
result_backend_transport_options = {"visibility_timeout": _visibility}
broker_connection_retry_on_startup = True

# Flower and `editbench status` need events.
worker_send_task_events = True
task_send_sent_event = True
task_track_started = True
result_extended = True
result_expires = _env("result_expires", 7 * 24 * 3600)

# Models are loaded once per worker child and kept: never recycle the child by task count.
worker_max_tasks_per_child = _env("worker_max_tasks_per_child", 0) or None
worker_soft_shutdown_timeout = _env("worker_soft_shutdown_timeout", 30.0)
# Loading a full-size model in the child can take minutes.
worker_proc_alive_timeout = _env("worker_proc_alive_timeout", 600.0)
worker_hijack_root_logger = False

task_default_queue = SHARED_QUEUE
task_routes = {
    SCORE_CATEGORY_TASK: {"queue": CONTROL_QUEUE},
    SWEEP_TASK: {"queue": CONTROL_QUEUE},
    JUDGE_BATCH_TASK: {"queue": JUDGE_QUEUE},
}

_sweep_interval = _env("sweep_interval", 30.0)
beat_schedule = {
    # A sweep older than its interval is superseded by the next one: let it expire instead of
    # piling up while no worker is running.
    "sweep-open-runs": {"task": SWEEP_TASK, "schedule": _sweep_interval, "options": {"expires": _sweep_interval}},
}
