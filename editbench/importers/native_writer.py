"""Write a native editbench benchmark folder from dataclasses.

This is the one place that knows the on-disk layout for *writing* (see
``docs/importers.md``)::

    DEST/
      benchmark.yaml        name, version, score scale, criteria, overall rule, categories
      items.jsonl           one item per line
      prompts/<category>.v1.txt
      images/...            copied or extracted source and reference images
      import-report.json    what was imported from where, and every skipped record

The folder is assembled in a hidden sibling directory and renamed into place by
:meth:`NativeBenchmarkWriter.commit`, so an interrupted import never leaves a half-written folder
that a loader would accept. Every image passes the loader's own check
(:func:`editbench.benchmark.images.check_image`: pixel limit, full decode) before an item may
point at it, so ``editbench ingest`` never rejects what an importer wrote.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from types import TracebackType
from typing import Any

import yaml
from PIL import Image, UnidentifiedImageError

from editbench.benchmark.images import DEFAULT_MAX_PIXELS, ImageProblem, check_image
from editbench.benchmark.manifest import NAME_PATTERN
from editbench.benchmark.prompts import check_template
from editbench.errors import BenchmarkFormatError
from editbench.importers.records import ImporterError, ImportReport, SkipRecord
from editbench.records import Benchmark, Category, Overall

# Category names become file names (prompts/<category>.v1.txt), so keep them path-safe.
CATEGORY_NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
_EXTENSIONS = {"PNG": ".png", "JPEG": ".jpg", "WEBP": ".webp", "GIF": ".gif", "BMP": ".bmp", "TIFF": ".tiff"}


@dataclass(frozen=True)
class ItemLine:
    """One line of ``items.jsonl``; image paths are relative to the benchmark folder."""

    id: str
    category: str
    instruction: str
    source_image: str
    instruction_language: str = "en"
    subcategory: str | None = None
    reference_text: str | None = None
    reference_image: str | None = None
    tags: tuple[str, ...] = ()
    source: Mapping[str, Any] = field(default_factory=dict)
    extra_images: tuple[tuple[str, str], ...] = ()  # (label, relative path), after the source, in order

    def to_json(self) -> dict[str, Any]:
        line: dict[str, Any] = {
            "id": self.id,
            "category": self.category,
            "instruction": self.instruction,
            "instruction_language": self.instruction_language,
            "source_image": self.source_image,
        }
        optional = {
            "subcategory": self.subcategory,
            "reference_text": self.reference_text,
            "reference_image": self.reference_image,
            "extra_images": [{"label": label, "path": path} for label, path in self.extra_images],
            "tags": list(self.tags),
            "source": dict(self.source),
        }
        line.update({key: value for key, value in optional.items() if value})
        return line


def image_extension(data: bytes) -> str:
    """The file extension for ``data`` from its header (nothing is decoded yet)."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            image_format = image.format or ""
    except UnidentifiedImageError:
        raise SkipRecord("unusable image: not a recognised image format") from None
    except Exception as exc:  # noqa: BLE001 - Pillow plugins raise many types on bad headers
        raise SkipRecord(f"unusable image: unreadable image header: {exc}") from None
    return _EXTENSIONS.get(image_format, f".{image_format.lower() or 'img'}")


class NativeBenchmarkWriter:
    """Collects categories, images and items, then writes them all at once on :meth:`commit`."""

    def __init__(
        self,
        dest: Path,
        manifest: Benchmark,
        *,
        overwrite: bool = False,
        max_pixels: int = DEFAULT_MAX_PIXELS,
    ) -> None:
        if not NAME_PATTERN.fullmatch(manifest.name):
            raise ValueError(f"benchmark name {manifest.name!r} must match {NAME_PATTERN.pattern}")
        if manifest.overall not in {rule.value for rule in Overall}:
            raise ValueError(f"overall rule {manifest.overall!r} is not one of {[r.value for r in Overall]}")
        self.dest = Path(dest).absolute()
        self.manifest = manifest
        self._overwrite = overwrite
        self._max_pixels = max_pixels
        self._check_dest()
        self.dest.parent.mkdir(parents=True, exist_ok=True)
        self._staging = Path(tempfile.mkdtemp(prefix=f".{self.dest.name}.partial-", dir=self.dest.parent))
        self._criteria = {criterion.name for criterion in manifest.criteria}
        self._categories: dict[str, Category] = {}
        self._items: list[ItemLine] = []
        self._ids: set[str] = set()
        self._image_origins: dict[str, str] = {}  # relative path -> content digest
        self._text_files: dict[str, str] = {}  # relative path -> text (protocol files)

    # --- context manager: a failed import leaves nothing behind ---------------------------

    def __enter__(self) -> NativeBenchmarkWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.abort()

    def abort(self) -> None:
        shutil.rmtree(self._staging, ignore_errors=True)

    # --- building --------------------------------------------------------------------------

    def declare_category(self, category: Category) -> None:
        """Declare ``category`` once; later declarations of the same name are ignored."""
        if category.name in self._categories:
            return
        if not CATEGORY_NAME_RE.fullmatch(category.name):
            raise SkipRecord(f"category {category.name!r} is not a usable name ({CATEGORY_NAME_RE.pattern})")
        unknown = set(category.criteria or ()) | set(category.weights or {})
        unknown -= self._criteria
        if unknown:
            raise ValueError(f"category {category.name!r} names unknown criteria {sorted(unknown)}")
        try:
            check_template(category.prompt_text, f"{category.name}.v1.txt")
        except BenchmarkFormatError as exc:
            raise ValueError(str(exc)) from exc
        self._categories[category.name] = category

    def add_text_file(self, relative: str, text: str) -> None:
        """Write ``text`` to ``relative`` in the folder on commit (an official protocol's files)."""
        parts = PurePosixPath(relative).parts
        if not parts or any(part in ("", ".", "..") for part in parts) or relative.startswith("/"):
            raise ValueError(f"{relative!r} is not a plain relative path")
        if parts[0] == "images" or relative in ("benchmark.yaml", "items.jsonl", "import-report.json"):
            raise ValueError(f"{relative!r} would replace a file the writer owns")
        self._text_files[relative] = text

    def has_item(self, item_id: str) -> bool:
        return item_id in self._ids

    def write_image_bytes(self, data: bytes, stem: str) -> str:
        """Store ``data`` as ``images/<stem>.<ext>``; returns the path relative to the folder."""
        return self._store(data, f"{stem}{image_extension(data)}")

    def copy_image(self, path: Path, relative: str) -> str:
        """Copy the image file ``path`` to ``images/<relative>``; returns the relative path."""
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise SkipRecord(f"cannot read image {path}: {exc.strerror or exc}") from None
        return self._store(data, relative)

    def add(self, item: ItemLine) -> None:
        if item.id in self._ids:
            raise SkipRecord(f"duplicate id {item.id!r}")
        if item.category not in self._categories:
            raise ValueError(f"item {item.id!r} uses undeclared category {item.category!r}")
        if not item.instruction.strip():
            raise SkipRecord("instruction is empty")
        for path in (item.source_image, item.reference_image, *(path for _, path in item.extra_images)):
            if path is not None and path not in self._image_origins:
                raise ValueError(f"item {item.id!r} points at {path!r}, which this writer did not store")
        self._ids.add(item.id)
        self._items.append(item)

    # --- writing -----------------------------------------------------------------------------

    def commit(self, report: ImportReport, provenance: Mapping[str, Any]) -> None:
        """Write benchmark.yaml, items.jsonl, prompts and import-report.json, then move into place."""
        if not self._items:
            raise ImporterError(f"nothing to write: no record could be imported ({len(report.skipped)} skipped)")
        used = [name for name in self._categories if any(item.category == name for item in self._items)]
        (self._staging / "prompts").mkdir(exist_ok=True)
        for relative, text in self._text_files.items():
            target = self._staging / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
        for name in used:
            (self._staging / "prompts" / f"{name}.v1.txt").write_text(self._categories[name].prompt_text, encoding="utf-8")
        benchmark = self._benchmark_yaml(used)
        (self._staging / "benchmark.yaml").write_text(
            yaml.safe_dump(benchmark, sort_keys=False, allow_unicode=True, width=100), encoding="utf-8"
        )
        with (self._staging / "items.jsonl").open("w", encoding="utf-8") as lines:
            for item in self._items:
                lines.write(json.dumps(item.to_json(), ensure_ascii=False) + "\n")
        self._drop_unreferenced_images()
        record = {
            **provenance,
            "written": len(self._items),
            "skipped": [{"id": record_id, "reason": reason} for record_id, reason in report.skipped],
        }
        (self._staging / "import-report.json").write_text(json.dumps(record, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        self._move_into_place()

    def _benchmark_yaml(self, used: list[str]) -> dict[str, Any]:
        categories = []
        for name in used:
            category = self._categories[name]
            entry: dict[str, Any] = {
                "name": name,
                "description": category.description,
                "prompt": f"prompts/{name}.v1.txt",
            }
            # Empty criteria/weights: the benchmark's criteria, equally weighted (keys left out).
            if category.criteria:
                entry["criteria"] = list(category.criteria)
            if category.weights:
                entry["weights"] = dict(category.weights)
            if category.pass_rule is not None:
                entry["pass_rule"] = category.pass_rule.as_json()
            categories.append(entry)
        manifest: dict[str, Any] = {
            "name": self.manifest.name,
            "version": str(self.manifest.version),
            "description": self.manifest.description,
            "score_scale": {"min": self.manifest.score_min, "max": self.manifest.score_max},
            "criteria": [c.as_json() for c in self.manifest.criteria],
            "overall": self.manifest.overall,
            "categories": categories,
        }
        if self.manifest.slices:
            manifest["slices"] = list(self.manifest.slices)
        return manifest

    def _store(self, data: bytes, relative: str) -> str:
        rel = _images_path(relative)
        digest = hashlib.sha256(data).hexdigest()
        if self._image_origins.get(rel) == digest:
            return rel  # the same image shared by several items is stored once
        if rel in self._image_origins:
            rel = _free_name(rel, self._image_origins)
        target = self._staging / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        # The loader's own check (size limit, full decode), so ingest never rejects what we wrote.
        checked = check_image(target, self._max_pixels)
        if isinstance(checked, ImageProblem):
            target.unlink()
            raise SkipRecord(f"unusable image: {checked.reason}")
        self._image_origins[rel] = digest
        return rel

    def _drop_unreferenced_images(self) -> None:
        # An item skipped after its image was stored (e.g. a bad reference image) leaves an orphan.
        referenced = {item.source_image for item in self._items}
        referenced |= {item.reference_image for item in self._items if item.reference_image}
        referenced |= {path for item in self._items for _, path in item.extra_images}
        for rel in set(self._image_origins) - referenced:
            (self._staging / rel).unlink(missing_ok=True)
            del self._image_origins[rel]

    def _check_dest(self) -> None:
        if not self.dest.exists():
            return
        if not self.dest.is_dir():
            raise ImporterError(f"{self.dest} exists and is not a folder")
        if not any(self.dest.iterdir()):
            return
        if not self._overwrite:
            raise ImporterError(f"{self.dest} is not empty; choose a new folder or pass --overwrite")
        if not (self.dest / "benchmark.yaml").is_file():
            raise ImporterError(f"refusing to overwrite {self.dest}: it is not a benchmark folder (no benchmark.yaml)")

    def _move_into_place(self) -> None:
        old = None
        if self.dest.exists():
            if any(self.dest.iterdir()):
                old = self.dest.with_name(f".{self.dest.name}.old-{os.getpid()}")
                self.dest.rename(old)
            else:
                self.dest.rmdir()
        self._staging.rename(self.dest)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)


def _images_path(relative: str) -> str:
    parts = PurePosixPath(relative.replace("\\", "/")).parts
    if not parts or any(part in ("", ".", "..") for part in parts) or parts[0] == "/":
        raise SkipRecord(f"image path {relative!r} is not a plain relative path")
    return str(PurePosixPath("images", *parts))


def _free_name(rel: str, taken: Mapping[str, str]) -> str:
    path = PurePosixPath(rel)
    for n in range(2, 10_000):
        candidate = str(path.with_name(f"{path.stem}-{n}{path.suffix}"))
        if candidate not in taken:
            return candidate
    raise SkipRecord(f"too many different images named {rel!r}")
