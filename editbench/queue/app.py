"""The Celery application. Settings: ``editbench.celeryconfig``. The tasks live in
``editbench.workers.tasks`` and are named in ``editbench.queue.names``; the app only lists that
module by name (``include``), so a worker loads it while the producer, the sweeper and this
package never import worker code."""

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
