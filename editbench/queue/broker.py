"""Where the broker is: ``EDITBENCH_BROKER_URL``, else the embedded Redis that ``editbench up``
started (its URL is written to ``EDITBENCH_HOME/broker.url``)."""

from __future__ import annotations

import os

from editbench.config import load_settings
from editbench.errors import NoBrokerError

BROKER_URL_FILE = "broker.url"


def broker_url(required: bool = True) -> str | None:
    settings = load_settings()
    if settings.broker_url:
        return settings.broker_url
    marker = settings.home / BROKER_URL_FILE
    if marker.exists():
        url = marker.read_text().strip()
        socket_path = url.removeprefix("redis+socket://")
        if url.startswith("redis+socket://") and not os.path.exists(socket_path):
            if required:
                raise NoBrokerError(f"the embedded Redis recorded in {marker} is not running; start `editbench up`")
            return None
        return url
    if required:
        raise NoBrokerError(
            "no broker configured: start one with `editbench up` (embedded Redis, no install needed) "
            "or point EDITBENCH_BROKER_URL at your Redis (e.g. redis://:password@host:6379/0)"
        )
    return None
