"""Out-of-memory handling shared by adapters: detect, free, retry smaller.

``torch.cuda.OutOfMemoryError`` (an alias of ``torch.OutOfMemoryError``) is an ordinary
exception, but while it is being handled its traceback pins every tensor of the failed call, so
memory is freed only *after* leaving the ``except`` block; then ``gc.collect()`` and
``torch.cuda.empty_cache()`` give the cached blocks back before the smaller retry.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Sequence
from typing import TypeVar

import torch

T = TypeVar("T")
R = TypeVar("R")

OOM_ERRORS: tuple[type[BaseException], ...] = (torch.OutOfMemoryError,)


def free_accelerator_memory() -> None:
    """Collect garbage and return cached CUDA blocks (a no-op on CPU)."""
    gc.collect()
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        torch.cuda.empty_cache()


def simulated_oom(what: str) -> torch.OutOfMemoryError:
    """A real ``torch.OutOfMemoryError`` for fault-injection hooks (tests and drills only)."""
    return torch.OutOfMemoryError(f"simulated out of memory (fault injection): {what}")


def map_with_backoff(
    items: Sequence[T],
    batch_size: int,
    run_batch: Callable[[Sequence[T]], Sequence[R]],
    on_oom: Callable[[T, str], R],
    batch_log: list[int] | None = None,
) -> list[R]:
    """Run ``run_batch`` over ``items`` in batches, halving the batch after each OOM.

    The reduced size is kept for the rest of this call (the next batch would most likely fail
    the same way). A single item that still runs out of memory is turned into a result by
    ``on_oom(item, message)`` instead of failing everything else. ``batch_log``, when given,
    receives the size of every batch attempted, in order (tests assert the halving with it).
    """
    results: list[R] = []
    size = max(1, int(batch_size))
    start = 0
    while start < len(items):
        batch = items[start : start + size]
        if batch_log is not None:
            batch_log.append(len(batch))
        message = None
        try:
            results.extend(run_batch(batch))
        except OOM_ERRORS as exc:
            message = f"{type(exc).__name__}: {exc}"
        if message is None:
            start += len(batch)
            continue
        # Outside the except block: the exception and its frames are gone, memory can be freed.
        free_accelerator_memory()
        if len(batch) == 1:
            results.append(on_oom(batch[0], message))
            start += 1
        else:
            size = max(1, len(batch) // 2)
    return results
