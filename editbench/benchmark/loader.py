"""``load_benchmark``: a folder in, a validated spec plus items plus rejections out.

Two layouts are accepted (see docs/benchmark-format.md): the native one, detected by
``benchmark.yaml``, and the simple one-folder-per-category layout. Either way bad items become
:class:`Rejection` records next to the good items, and only a broken benchmark definition
raises :class:`BenchmarkFormatError`.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from editbench.benchmark.hashing import content_hash
from editbench.benchmark.images import DEFAULT_MAX_PIXELS
from editbench.benchmark.items import ItemValidator, Origin
from editbench.benchmark.manifest import MANIFEST, read_manifest
from editbench.benchmark.prompts import read_prompt
from editbench.benchmark.records import read_jsonl
from editbench.benchmark.simple_layout import read_simple_layout
from editbench.benchmark.spec import Benchmark, ItemSpec, ReasonCode, Rejection
from editbench.errors import BenchmarkFormatError

ITEMS_FILE = "items.jsonl"
PROTOCOL_FILE = "protocol.json"
NATIVE, SIMPLE = "native", "simple"


@dataclass(frozen=True)
class LoadedBenchmark:
    """The result of a load: ``items`` are usable as they are, ``rejections`` must be shown."""

    spec: Benchmark
    items: list[ItemSpec]
    rejections: list[Rejection]
    root: Path
    layout: str

    def items_in(self, category: str) -> list[ItemSpec]:
        return [item for item in self.items if item.category == category]


def load_benchmark(path: Path, *, max_pixels: int = DEFAULT_MAX_PIXELS) -> LoadedBenchmark:
    """Load and validate the benchmark at ``path`` (a folder, or its ``benchmark.yaml``)."""
    if max_pixels <= 0:
        raise ValueError(f"max_pixels must be positive, got {max_pixels}")
    root = _benchmark_root(Path(path))
    if (root / MANIFEST).is_file():
        spec, items, rejections = _read_native(root, max_pixels)
        layout = NATIVE
    else:
        spec, items, rejections = read_simple_layout(root, max_pixels)
        layout = SIMPLE
    spec = dataclasses.replace(spec, content_hash=content_hash(spec, items))
    return LoadedBenchmark(spec, items, rejections, root, layout)


def _benchmark_root(path: Path) -> Path:
    """Resolve once, so every later "is it inside the folder?" check compares real paths."""
    if path.is_file() and path.name == MANIFEST:
        path = path.parent
    if not path.is_dir():
        raise BenchmarkFormatError(f"{path}: no such benchmark folder")
    root = path.resolve()
    if (root / "benchmark.yml").exists() and not (root / MANIFEST).exists():
        # Without this, a misnamed manifest silently falls back to the simple layout.
        raise BenchmarkFormatError(f"{root}: found benchmark.yml; rename it to {MANIFEST}")
    return root


def _read_native(root: Path, max_pixels: int) -> tuple[Benchmark, list[ItemSpec], list[Rejection]]:
    refuse_link_outside(root, MANIFEST)
    spec = read_manifest(root)
    items_path = root / ITEMS_FILE
    if not items_path.is_file():
        raise BenchmarkFormatError(f"{root}: {MANIFEST} is present but {ITEMS_FILE} is missing")
    refuse_link_outside(root, ITEMS_FILE)
    if (root / PROTOCOL_FILE).is_file():
        spec = dataclasses.replace(spec, protocol=read_protocol(root))
    validator = ItemValidator(root, (category.name for category in spec.categories), max_pixels)
    items: list[ItemSpec] = []
    rejections: list[Rejection] = []
    for line, record in read_jsonl(items_path, ITEMS_FILE):
        result = record if isinstance(record, Rejection) else validator.validate(record, Origin(ITEMS_FILE, line, root))
        if isinstance(result, Rejection):
            rejections.append(result)
        else:
            items.append(result)
    return spec, items, rejections


def read_protocol(root: Path) -> dict[str, Any]:
    """``protocol.json`` of a benchmark imported with ``--protocol official``, each official
    prompt's text read from its file into ``prompts[name]["text"]``, so the ledger (and every
    judge worker) has the exact questions without the folder."""
    refuse_link_outside(root, PROTOCOL_FILE)
    try:
        record = json.loads((root / PROTOCOL_FILE).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BenchmarkFormatError(f"{root / PROTOCOL_FILE}: cannot read it: {exc}") from None
    prompts = record.get("prompts") if isinstance(record, dict) else None
    if not isinstance(prompts, dict) or not isinstance(record.get("categories"), dict):
        raise BenchmarkFormatError(f"{root / PROTOCOL_FILE}: expected an object with 'prompts' and 'categories'")
    for name, entry in prompts.items():
        if not isinstance(entry, dict) or not isinstance(entry.get("file"), str):
            raise BenchmarkFormatError(f"{root / PROTOCOL_FILE}: prompt {name!r} names no file")
        entry["text"] = read_prompt(root, entry["file"]).text
    return record


def refuse_link_outside(root: Path, relative: str) -> None:
    """Refuse a metadata file that is (or passes through) a symlink leading out of ``root``.

    Items and prompts are already held inside the folder; without this, ``items.jsonl`` or
    ``benchmark.yaml`` linked to a file elsewhere would be read and registered from there.
    """
    if not (root / relative).resolve().is_relative_to(root):
        raise BenchmarkFormatError(
            f"{root}: {relative} is a symlink that leads outside the benchmark folder; copy the file in instead",
            ReasonCode.PATH_ESCAPE,
        )
