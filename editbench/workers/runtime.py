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
from editbench.errors import ModelLoadError
from editbench.models.base import Editor, Judge, adapter_factory
from editbench.models.load_times import LoadTimes
from editbench.models.preload import already_imported, fork_poisoned
from editbench.schema import ledger
from editbench.schema.db import session_scope
from editbench.schema.models import Edit, Judgment

log = logging.getLogger("editbench.worker")


def one_model_at_a_time() -> bool:
    """``EDITBENCH_RESIDENT=one``: the card holds the editor or the judge, never both."""
    return load_settings().one_model_at_a_time


def worker_identity() -> str:
    """Host, slot and process of this worker: recorded with every claim (who held the lease)."""
    slot = load_settings().worker_slot
    return f"{socket.gethostname()}/slot{'?' if slot is None else slot}/pid{os.getpid()}"


def device() -> str:
    """Where models run: the ``device`` setting, which ``editbench worker`` sets."""
    return load_settings().device


@dataclass
class ModelCache:
    """At most one editor and one judge per process, keyed by everything that defines them."""

    loads: list[str] = field(default_factory=list)
    _resident: dict[str, tuple[str, Any]] = field(default_factory=dict)  # role -> (key, model)

    def editor(self, kind: str, path: str | None, params: dict[str, Any]) -> Editor:
        return self._get("editor", kind, path, params)

    def judge(self, kind: str, path: str | None, params: dict[str, Any]) -> Judge:
        return self._get("judge", kind, path, params)

    def _get(self, role: str, kind: str, path: str | None, params: dict[str, Any]) -> Any:
        key = json.dumps([kind, path, params], sort_keys=True, default=str)
        held = self._resident.get(role)
        if held is None or held[0] != key:
            # Drop what this load replaces (and, one model at a time, the other role too)
            # before loading, so the two never sit in memory together.
            self._resident.pop(role, None)
            if one_model_at_a_time():
                self._resident.clear()
            _release_memory()
            model = self._load(role, kind, path, params)
            held = self._resident[role] = (key, model)
        return held[1]

    def _load(self, role: str, kind: str, path: str | None, params: dict[str, Any]) -> Any:
        """Load and log where the time went (issue 15): the adapter's import, CUDA's
        initialisation, the parts the adapter reports (``load_times``: imports, build,
        to_device, setup) and the rest; how many modules the load imported and which model
        libraries were already imported (preloaded by the worker parent, see boot.py)."""
        started = time.perf_counter()
        modules_before = len(sys.modules)
        preloaded = already_imported()
        parts = LoadTimes()
        try:
            with parts("adapter_import"):
                factory = adapter_factory(role, kind)
            if device().startswith("cuda"):
                with parts("cuda_init"):
                    _init_cuda()
            model = factory(path, device=device(), **params)
        except Exception as exc:  # whatever the cause, the run cannot go on here
            log.error("model load failed: %s %s from %s: %s: %s", role, kind, path, type(exc).__name__, exc)
            raise ModelLoadError(role, kind, path, exc) from exc
        total = time.perf_counter() - started
        adapter_times = getattr(model, "load_times", None)
        if isinstance(adapter_times, LoadTimes):
            for name, seconds in adapter_times.seconds.items():
                parts.seconds[name] = parts.seconds.get(name, 0.0) + seconds
        parts.seconds["other"] = max(0.0, total - sum(parts.seconds.values()))
        self.loads.append(f"{role}:{kind}")
        # The first part of the line is what bench/ and tests parse: keep it as it is.
        log.info(
            "model load: %s %s from %s in %.1fs (load #%d in this process); parts: %s; modules imported: %d; preloaded: %s; %s",
            role,
            kind,
            path,
            total,
            len(self.loads),
            parts.describe(),
            len(sys.modules) - modules_before,
            " ".join(preloaded) or "none",
            "forked after CUDA was touched (CUDA unusable here)" if fork_poisoned() else "fork clean",
        )
        return model


def _init_cuda() -> None:
    """Initialise CUDA now (timed apart from the model build), where torch and a GPU are there."""
    try:
        import torch
    except ImportError:  # an API-only model on a GPU worker without torch
        return
    if torch.cuda.is_available() and not torch.cuda.is_initialized():
        torch.cuda.init()


def _release_memory() -> None:
    gc.collect()
    if "torch" in sys.modules:
        import torch

        if torch.cuda.is_available():
            torch.cuda.empty_cache()


MODELS = ModelCache()


class PhaseTimes(LoadTimes):
    """Wall seconds per phase of one task, for the worker log (issue 15: where the host-side
    overhead around the model call goes). ``with phases("store"): ...`` adds to "store"; the
    same timer as a model load's parts, printed in milliseconds."""

    def describe(self) -> str:
        return " ".join(f"{name}={1000 * s:.0f}ms" for name, s in self.seconds.items())


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
            except Exception:  # noqa: BLE001 - a missed beat only shortens the lease; never kill the task
                pass

    thread = threading.Thread(target=beat, name=f"lease-{task_id}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=5)
