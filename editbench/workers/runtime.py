"""Per-process worker state: the resident models and the lease heartbeat.

A worker child loads a model on its first task and keeps it for its whole life (loading a
full-size editor takes minutes). With ``EDITBENCH_RESIDENT=both`` (default) the editor and the
judge stay loaded together — measured to fit one 80 GB card with the text encoder freed; with
``one`` loading either unloads the other (for smaller cards).
"""

from __future__ import annotations

import gc
import json
import logging
import os
import socket
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from editbench.config import load_settings
from editbench.models.base import Editor, Judge, load_editor, load_judge
from editbench.schema import ledger
from editbench.schema.db import session_scope
from editbench.schema.models import Edit, Judgment

log = logging.getLogger("editbench.worker")


def one_model_at_a_time() -> bool:
    """``EDITBENCH_RESIDENT=one``: the card holds the editor or the judge, never both."""
    return os.environ.get("EDITBENCH_RESIDENT", "both") == "one"


def worker_identity() -> str:
    gpu = os.environ.get("EDITBENCH_WORKER_SLOT", "?")
    return f"{socket.gethostname()}/slot{gpu}/pid{os.getpid()}"


def device() -> str:
    return os.environ.get("EDITBENCH_DEVICE", "cpu")


@dataclass
class ModelCache:
    """At most one editor and one judge per process, keyed by everything that defines them."""

    loads: list[str] = field(default_factory=list)
    _editor: tuple[str, Editor] | None = None
    _judge: tuple[str, Judge] | None = None

    @staticmethod
    def _key(kind: str, path: str | None, params: dict[str, Any]) -> str:
        return json.dumps([kind, path, params], sort_keys=True, default=str)

    def editor(self, kind: str, path: str | None, params: dict[str, Any]) -> Editor:
        key = self._key(kind, path, params)
        if self._editor is None or self._editor[0] != key:
            self._editor = None
            if one_model_at_a_time():
                self._judge = None
            _release_memory()
            started = time.perf_counter()
            self._editor = (key, load_editor(kind, path, device=device(), **params))
            self.loads.append(f"editor:{kind}")
            log.info("model load: editor %s from %s in %.1fs (load #%d in this process)", kind, path, time.perf_counter() - started, len(self.loads))
        return self._editor[1]

    def judge(self, kind: str, path: str | None, params: dict[str, Any]) -> Judge:
        key = self._key(kind, path, params)
        if self._judge is None or self._judge[0] != key:
            self._judge = None
            if one_model_at_a_time():
                self._editor = None
            _release_memory()
            started = time.perf_counter()
            self._judge = (key, load_judge(kind, path, device=device(), **params))
            self.loads.append(f"judge:{kind}")
            log.info("model load: judge %s from %s in %.1fs (load #%d in this process)", kind, path, time.perf_counter() - started, len(self.loads))
        return self._judge[1]


def _release_memory() -> None:
    gc.collect()
    if "torch" in sys.modules:
        import torch

        if torch.cuda.is_available():
            torch.cuda.empty_cache()


MODELS = ModelCache()


@contextmanager
def heartbeat(task_id: str) -> Iterator[None]:
    """Renew this task's leases every third of the lease until the block ends, so a live but
    slow worker keeps its claim while a dead one loses it within one lease."""
    lease_s = load_settings().lease_seconds
    stop = threading.Event()

    def beat() -> None:
        while not stop.wait(lease_s / 3):
            try:
                with session_scope() as session:
                    ledger.renew_leases(session, Edit, task_id, lease_s)
                    ledger.renew_leases(session, Judgment, task_id, lease_s)
            except Exception:  # a missed beat only shortens the lease; never kill the task
                pass

    thread = threading.Thread(target=beat, name=f"lease-{task_id}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=5)
