"""The Celery application. Tasks live in ``editbench.workers.tasks``; settings in
``editbench.celeryconfig``."""

from __future__ import annotations

from celery import Celery
from celery.signals import worker_process_init

app = Celery("editbench", include=["editbench.workers.tasks"])
app.config_from_object("editbench.celeryconfig")


@worker_process_init.connect
def _fresh_process_state(**_: object) -> None:
    # A forked child must not reuse the parent's database connections.
    from editbench.schema.db import dispose_engines

    dispose_engines()
