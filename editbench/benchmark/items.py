"""Turn one parsed record into a validated :class:`ItemSpec`, or one :class:`Rejection`.

Every check raises the private :class:`_Invalid`, caught once in :meth:`ItemValidator.validate`,
so each check stays a few lines and a bad item can never take its neighbours down with it.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any, TypeVar

from editbench.benchmark import limits
from editbench.benchmark.images import ImageInfo, ImageProblem, check_image
from editbench.benchmark.records import Record, has_surrogates
from editbench.benchmark.spec import ExtraImage, ItemSpec, ReasonCode, Rejection

REQUIRED_FIELDS = ("id", "category", "instruction", "source_image")
OPTIONAL_FIELDS = (
    "subcategory",
    "instruction_language",
    "reference_text",
    "reference_image",
    "extra_images",
    "tags",
    "source",
)
EXTRA_IMAGE_KEYS = ("label", "path")
DEFAULT_LANGUAGE = "en"
_T = TypeVar("_T", str, str | None)


@dataclass(frozen=True)
class Origin:
    """Where a record came from: ``file`` (relative to the benchmark root) and its line.

    ``base_dir`` is the folder its image paths are relative to: the benchmark root in the native
    layout, the category folder in the simple one.
    """

    file: str
    line: int | None
    base_dir: Path


class _Invalid(Exception):
    def __init__(self, code: ReasonCode, detail: str, file: str | None = None) -> None:
        super().__init__(detail)
        self.code, self.detail, self.file = code, detail, file


class ItemValidator:
    """Validates records one by one, remembering ids (for duplicates) and checked images.

    Image checks are cached per resolved path because benchmarks often pair one source image
    with several instructions, and decoding it once is enough.
    """

    def __init__(self, root: Path, categories: Iterable[str], max_pixels: int) -> None:
        self.root = root
        self.categories = frozenset(categories)
        self.max_pixels = max_pixels
        self.referenced: set[Path] = set()
        self._first_seen: dict[str, str] = {}
        self._checked: dict[Path, ImageInfo | ImageProblem] = {}

    def validate(self, record: Record, origin: Origin) -> ItemSpec | Rejection:
        item_id = _readable_id(record)
        try:
            return self._validate(record, origin)
        except _Invalid as invalid:
            where = f"{origin.file}:{origin.line}" if origin.line is not None else origin.file
            who = f": item {item_id!r}" if item_id is not None else ""
            return Rejection(invalid.file or origin.file, item_id, invalid.code, f"{where}{who}: {invalid.detail}", origin.line)

    def _validate(self, record: Record, origin: Origin) -> ItemSpec:
        _check_fields(record)
        item_id = _limited(_text(record, "id", allow_int=True), "id", limits.MAX_ID_CHARS)
        self._claim_id(item_id, origin)
        if any(has_surrogates(text) for text in _strings(record)):
            raise _Invalid(ReasonCode.NOT_UTF8, "contains an unpaired surrogate (\\ud800-\\udfff escape), not valid UTF-8")
        if any(limits.NUL in text for text in _strings(record)):
            # SQLite would store it; PostgreSQL refuses the whole ingest transaction.
            raise _Invalid(ReasonCode.NUL_CHARACTER, "contains a NUL character (\\u0000); remove it")
        instruction = _limited(_text(record, "instruction").strip(), "instruction", limits.MAX_INSTRUCTION_CHARS)
        if not instruction:
            raise _Invalid(ReasonCode.EMPTY_INSTRUCTION, "instruction is empty")
        category = _text(record, "category")
        if category not in self.categories:
            raise _Invalid(
                ReasonCode.UNKNOWN_CATEGORY,
                f"category {category!r} is not declared; declared: {', '.join(sorted(self.categories))}",
            )
        # Cheap field checks before any image is opened.
        subcategory = _limited(_optional_text(record, "subcategory"), "subcategory", limits.MAX_SUBCATEGORY_CHARS)
        language = _limited(
            _optional_text(record, "instruction_language") or DEFAULT_LANGUAGE,
            "instruction_language",
            limits.MAX_LANGUAGE_CHARS,
        )
        reference_text = _limited(_optional_text(record, "reference_text"), "reference_text", limits.MAX_REFERENCE_CHARS)
        tags, source = _tags(record), _source(record)
        extra_fields = _extra_image_fields(record)
        source_path, source_info = self._image(record["source_image"], "source_image", origin)
        extra_images = tuple(
            ExtraImage(label, *self._checked_extra(value, f"extra_images[{index}] ({label!r})", origin))
            for index, (label, value) in enumerate(extra_fields)
        )
        reference_path, reference_info = None, None
        if record.get("reference_image") not in (None, ""):
            reference_path, reference_info = self._image(record["reference_image"], "reference_image", origin)
        return ItemSpec(
            id=item_id,
            category=category,
            subcategory=subcategory,
            instruction=instruction,
            instruction_language=language,
            source_image=source_path,
            reference_text=reference_text,
            reference_image=reference_path,
            tags=tags,
            source=source,
            source_sha256=source_info.sha256,
            source_width=source_info.width,
            source_height=source_info.height,
            reference_sha256=reference_info.sha256 if reference_info else None,
            extra_images=extra_images,
        )

    def _checked_extra(self, value: str, field: str, origin: Origin) -> tuple[Path, str]:
        path, info = self._image(value, field, origin)
        return path, info.sha256

    def _claim_id(self, item_id: str, origin: Origin) -> None:
        """The first line with an id owns it, even if that line is rejected for another reason."""
        where = f"{origin.file}:{origin.line}"
        first = self._first_seen.setdefault(item_id, where)
        if first != where:
            raise _Invalid(ReasonCode.DUPLICATE_ID, f"id {item_id!r} was already used at {first}")

    def _image(self, value: Any, field: str, origin: Origin) -> tuple[Path, ImageInfo]:
        if not isinstance(value, str) or not value.strip():
            raise _Invalid(ReasonCode.INVALID_FIELD, f"{field} must be a non-empty relative path, got {value!r}")
        shown = _relative_to_root(origin.base_dir / value, self.root)
        path = self._resolve_inside(value, field, origin.base_dir, shown)
        self.referenced.add(path)
        if path not in self._checked:
            self._checked[path] = check_image(path, self.max_pixels)
        result = self._checked[path]
        if isinstance(result, ImageProblem):
            raise _Invalid(result.reason_code, f"{field} {shown!r}: {result.reason}", file=shown)
        return path, result

    def _resolve_inside(self, value: str, field: str, base_dir: Path, shown: str) -> Path:
        """Resolve symlinks and ``..`` and insist the result is still inside the benchmark root.

        Resolving before comparing is what catches a symlink inside the folder that points at,
        say, ``/etc``; a purely textual ``..`` check would not.
        """
        if "\x00" in value:
            raise _Invalid(ReasonCode.INVALID_FIELD, f"{field} contains a NUL byte")
        if PurePosixPath(value).is_absolute() or PureWindowsPath(value).is_absolute() or value.startswith("\\"):
            raise _Invalid(
                ReasonCode.PATH_ESCAPE,
                f"{field} {value!r} is absolute; use a path relative to the benchmark folder",
                file=value,
            )
        try:
            path = (base_dir / value).resolve()
        except (OSError, RuntimeError) as error:  # RuntimeError: symlink loop on Python 3.11
            raise _Invalid(ReasonCode.MISSING_FILE, f"{field} {value!r} cannot be resolved: {error}", file=shown) from None
        if not path.is_relative_to(self.root):
            raise _Invalid(ReasonCode.PATH_ESCAPE, f"{field} {value!r} leads outside the benchmark folder", file=shown)
        return path


def _check_fields(record: Record) -> None:
    unknown = sorted(key for key in record if key not in REQUIRED_FIELDS and key not in OPTIONAL_FIELDS)
    if unknown:
        raise _Invalid(
            ReasonCode.UNKNOWN_FIELD,
            f'unknown field(s) {", ".join(unknown)}; put provenance under "source"',
        )
    missing = [key for key in REQUIRED_FIELDS if record.get(key) is None]
    if missing:
        raise _Invalid(ReasonCode.MISSING_FIELD, f"missing required field(s) {', '.join(missing)}")


def _text(record: Record, key: str, *, allow_int: bool = False) -> str:
    value = record[key]
    if allow_int and isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        raise _Invalid(ReasonCode.INVALID_FIELD, f"{key} must be a string, got {type(value).__name__}")
    if key != "instruction" and not value.strip():
        raise _Invalid(ReasonCode.INVALID_FIELD, f"{key} is empty")
    return value


def _limited(value: _T, key: str, limit: int) -> _T:
    """``value`` unchanged if it fits ``limit`` characters (its ledger column, for names)."""
    if value is not None and len(value) > limit:
        raise _Invalid(ReasonCode.TOO_LONG, f"{key} is {len(value):,} characters long; at most {limit:,} allowed")
    return value


def _optional_text(record: Record, key: str) -> str | None:
    value = record.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise _Invalid(ReasonCode.INVALID_FIELD, f"{key} must be a string or absent, got {type(value).__name__}")
    return value.strip() or None


def _extra_image_fields(record: Record) -> list[tuple[str, str]]:
    """``extra_images`` as (label, path) pairs, in order: the shape is checked before any image
    is opened; the paths then get the source image's own checks (and reason codes)."""
    value = record.get("extra_images")
    if value is None:
        return []
    if not isinstance(value, list):
        raise _Invalid(
            ReasonCode.INVALID_FIELD,
            f'extra_images must be a list of {{"label": ..., "path": ...}} objects, got {type(value).__name__}',
        )
    if len(value) > limits.MAX_EXTRA_IMAGES:
        raise _Invalid(ReasonCode.TOO_LONG, f"extra_images lists {len(value)} images; at most {limits.MAX_EXTRA_IMAGES} allowed")
    pairs: list[tuple[str, str]] = []
    for index, entry in enumerate(value):
        where = f"extra_images[{index}]"
        if not isinstance(entry, dict):
            raise _Invalid(ReasonCode.INVALID_FIELD, f'{where} must be an object {{"label": ..., "path": ...}}, got {entry!r}')
        unknown = sorted(key for key in entry if key not in EXTRA_IMAGE_KEYS)
        if unknown:
            raise _Invalid(ReasonCode.UNKNOWN_FIELD, f"{where} has unknown field(s) {', '.join(unknown)}; allowed: label, path")
        missing = [key for key in EXTRA_IMAGE_KEYS if entry.get(key) is None]
        if missing:
            raise _Invalid(ReasonCode.MISSING_FIELD, f"{where} lacks {', '.join(missing)}")
        label = entry["label"]
        if not isinstance(label, str) or not label.strip():
            raise _Invalid(ReasonCode.INVALID_FIELD, f"{where}.label must be a non-empty string, got {label!r}")
        label = _limited(label.strip(), f"{where}.label", limits.MAX_IMAGE_LABEL_CHARS)
        if any(label == seen for seen, _ in pairs):
            raise _Invalid(ReasonCode.INVALID_FIELD, f"{where}.label {label!r} is used twice; labels name one image each")
        pairs.append((label, entry["path"]))
    return pairs


def _tags(record: Record) -> tuple[str, ...]:
    tags = record.get("tags")
    if tags is None:
        return ()
    if not isinstance(tags, list) or not all(isinstance(tag, str) for tag in tags):
        raise _Invalid(ReasonCode.INVALID_FIELD, f"tags must be a list of strings, got {tags!r}")
    return tuple(tags)


def _source(record: Record) -> dict[str, Any]:
    source = record.get("source")
    if source is None:
        return {}
    if not isinstance(source, dict):
        raise _Invalid(ReasonCode.INVALID_FIELD, f"source must be an object, got {type(source).__name__}")
    return source


def _strings(value: Any) -> Iterable[str]:
    """Every string in a record, keys included, so nested ``source`` data is checked too."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(key)
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _readable_id(record: Record) -> str | None:
    item_id = record.get("id")
    if isinstance(item_id, bool) or not isinstance(item_id, (str, int)):
        return None
    return str(item_id)


def _relative_to_root(path: Path, root: Path) -> str:
    """The path as the author would write it from the root, for messages (no symlink resolving)."""
    return PurePosixPath(os.path.normpath(os.path.relpath(path, root))).as_posix()
