"""Per-sample seeds that do not depend on order, worker or retry.

A run has one seed; each sample's seed is derived from (run seed, sample id) with SHA-256, so
the same sample gets the same noise whichever worker picks it up, however often it is retried,
and whatever else is in the benchmark. Python's ``hash()`` is salted per process and would
break exactly that.
"""

from __future__ import annotations

import hashlib

# 63 bits: fits a signed 64-bit database column and ``torch.Generator.manual_seed``.
SEED_BITS = 63


def derive_seed(run_seed: int, sample_id: str) -> int:
    """Stable seed for ``sample_id`` within a run seeded with ``run_seed``."""
    digest = hashlib.sha256(f"editbench-seed-v1\x00{int(run_seed)}\x00{sample_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") & ((1 << SEED_BITS) - 1)
