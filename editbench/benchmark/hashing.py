"""The benchmark content hash: one sha256 that changes iff what gets evaluated changes.

It covers the normalised spec (criteria, scale, prompts by content hash, weights, pass rules)
and every item with its images' content hashes, but no absolute paths and no file names, so
the same folder copied to another machine (or re-ingested) hashes the same, while editing one
instruction, one pixel or one prompt word gives a new hash.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from typing import Any

from editbench.benchmark.spec import Benchmark, Category, ItemSpec

HASH_FORMAT = 1
"""Bump when the hashed representation changes, so old and new hashes never collide by accident."""


def content_hash(spec: Benchmark, items: Iterable[ItemSpec]) -> str:
    document = {
        "hash_format": HASH_FORMAT,
        "spec": _spec_record(spec),
        "items": sorted((_item_record(item) for item in items), key=lambda record: record["id"]),
    }
    canonical = json.dumps(document, sort_keys=True, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _spec_record(spec: Benchmark) -> dict[str, Any]:
    record: dict[str, Any] = {
        "name": spec.name,
        "version": spec.version,
        "description": spec.description,
        "score_scale": [spec.score_min, spec.score_max],
        "criteria": [[c.name, c.description] for c in spec.criteria],
        "overall": str(spec.overall),
        "categories": [_category_record(c) for c in spec.categories],
    }
    if spec.slices:  # only when declared, so the hash of a benchmark without slices is unchanged
        record["slices"] = list(spec.slices)
    if spec.protocol:
        # The official questions asked (texts inlined), not where the checkout was.
        record["protocol"] = {key: value for key, value in spec.protocol.items() if key != "checkout"}
    return record


def _category_record(category: Category) -> dict[str, Any]:
    return {
        "name": category.name,
        "description": category.description,
        "prompt_sha256": category.prompt_sha256,
        "criteria": list(category.criteria),
        "weights": {name: float(weight) for name, weight in category.weights.items()},
        "pass_rule": category.pass_rule.all_at_least if category.pass_rule else None,
    }


def _item_record(item: ItemSpec) -> dict[str, Any]:
    record: dict[str, Any] = {
        "id": item.id,
        "category": item.category,
        "subcategory": item.subcategory,
        "instruction": item.instruction,
        "instruction_language": item.instruction_language,
        "reference_text": item.reference_text,
        "tags": list(item.tags),
        "source": item.source,
        "source_image_sha256": item.source_sha256,
        "reference_image_sha256": item.reference_sha256,
    }
    if item.extra_images:
        # Only when present, so every single-image benchmark keeps the hash it always had.
        record["extra_images"] = [[extra.label, extra.sha256] for extra in item.extra_images]
    return record
