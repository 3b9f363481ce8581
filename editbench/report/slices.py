"""Slices: grouping a run's items by a metadata key the benchmark declares (``slices`` in
benchmark.yaml), so GEdit-Bench's English and Chinese columns or its intersection subset are
tables of their own rather than a post-processing script.

A key names an item field (``language``/``instruction_language``, ``subcategory``) or a key
of the item's ``source`` object; an item without it falls in the group :data:`NOT_SET`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Final

from editbench.report.data import SampleData

NOT_SET: Final = "(not set)"
LANGUAGE_KEYS: Final = ("language", "instruction_language")


def slice_source(key: str) -> str:
    """Where the values of ``key`` come from, in words (written into summary.json)."""
    if key in LANGUAGE_KEYS:
        return "item field instruction_language"
    if key == "subcategory":
        return "item field subcategory"
    return f"item source.{key}"


def slice_value(sample: SampleData, key: str) -> str:
    """The item's value for ``key`` as a group label (booleans as ``true``/``false``)."""
    if key in LANGUAGE_KEYS:
        return sample.instruction_language
    if key == "subcategory":
        return sample.subcategory or NOT_SET
    value = sample.provenance.get(key)
    if value is None:
        return NOT_SET
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (str, int, float)):
        return str(value)
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


def group_samples(samples: Iterable[SampleData], key: str) -> dict[str, list[SampleData]]:
    """Value → the samples that have it, values sorted (``(not set)`` last), sample order kept."""
    groups: dict[str, list[SampleData]] = {}
    for sample in samples:
        groups.setdefault(slice_value(sample, key), []).append(sample)
    return dict(sorted(groups.items(), key=lambda kv: (kv[0] == NOT_SET, kv[0])))
