"""Where a model load's time goes: the parts an adapter reports beside the total.

An adapter may keep a :class:`LoadTimes` as its ``load_times`` attribute and time the parts of
its own load with it (``with self.load_times("build"): ...``); the worker's model cache prints
them in its "model load: ..." log line with its own parts (adapter import, CUDA init) and the
rest of the total. The usual parts: ``imports`` (library classes resolved), ``build`` (weights
read, or random weights built), ``to_device``, ``setup`` (speedups, attention backend, compile
wrappers; the compile itself happens at the first call).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field


@dataclass
class LoadTimes:
    """Wall seconds per named part, in the order first timed."""

    seconds: dict[str, float] = field(default_factory=dict)

    @contextmanager
    def __call__(self, name: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - started

    def describe(self) -> str:
        return " ".join(f"{name}={s:.2f}s" for name, s in self.seconds.items())
