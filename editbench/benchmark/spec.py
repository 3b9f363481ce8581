"""What a loaded benchmark *is*: frozen value objects, no I/O.

Everything here is immutable so a spec can be shared between the producer, the report and the
tests without anyone changing it underneath the others, and so two loads of the same folder
compare equal. The benchmark, its categories and criteria are the shared records of
:mod:`editbench.records` (one type per concept); this module adds what only loading has: items,
rejections and their reason codes.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from editbench.records import Benchmark, Category, Criterion, Overall, PassRule

__all__ = ["Benchmark", "Category", "Criterion", "ExtraImage", "ItemSpec", "Overall", "PassRule", "ReasonCode", "Rejection"]


class ReasonCode(str, enum.Enum):  # str mixin: same idiom as editbench.models.base
    """Why an item (or one file in the benchmark folder) was rejected.

    A ``str`` enum so a rejection serialises as plain text in the ledger and JSON reports, and
    compares equal to its string value.
    """

    def __str__(self) -> str:
        return self.value

    MISSING_FILE = "missing_file"
    """A referenced file (image or instructions file) does not exist or is not a regular file."""
    UNREADABLE_FILE = "unreadable_file"
    """The file exists but cannot be read (permissions, I/O error)."""
    EMPTY_FILE = "empty_file"
    """The image file has 0 bytes."""
    NOT_AN_IMAGE = "not_an_image"
    """Pillow cannot identify the file as an image at all."""
    CORRUPT_IMAGE = "corrupt_image"
    """The header is readable but the pixels are not: truncated or damaged data."""
    IMAGE_TOO_LARGE = "image_too_large"
    """More pixels than ``max_pixels`` or Pillow's bomb limit; refused without decoding."""
    PATH_ESCAPE = "path_escape"
    """The path is absolute, or it (or a symlink on it) leads outside the benchmark folder."""
    EMPTY_INSTRUCTION = "empty_instruction"
    """The instruction is empty or only whitespace."""
    NOT_UTF8 = "not_utf8"
    """The line/row is not valid UTF-8 (or holds an unpaired surrogate escape)."""
    DUPLICATE_ID = "duplicate_id"
    """The id was already used by an earlier item; the later one is rejected."""
    UNKNOWN_CATEGORY = "unknown_category"
    """The item's category is not declared in benchmark.yaml."""
    MALFORMED_JSON = "malformed_json"
    """The line is not valid JSON, or not a JSON object."""
    MISSING_FIELD = "missing_field"
    """A required field (or CSV column) is absent or null."""
    INVALID_FIELD = "invalid_field"
    """A field has the wrong type or an unusable value (e.g. ``tags`` is not a list of strings)."""
    UNKNOWN_FIELD = "unknown_field"
    """The record has a field the format does not define (put provenance under ``source``)."""
    UNREFERENCED_IMAGE = "unreferenced_image"
    """Simple layout: an image in a category folder that no instruction row mentions."""
    TOO_LONG = "too_long"
    """A line, an instruction or a text value is longer than its limit (see
    :mod:`editbench.benchmark.limits`): for ids and names, the width of their ledger column."""
    TOO_DEEP = "too_deep"
    """JSON nested deeper than :data:`~editbench.benchmark.limits.MAX_JSON_DEPTH` levels."""
    NUL_CHARACTER = "nul_character"
    """A text value holds a NUL character (``\\u0000``), which PostgreSQL cannot store."""
    UNSAFE_TEMPLATE = "unsafe_template"
    """A prompt field uses a format spec, conversion, attribute or index (``{instruction:>9}``,
    ``{instruction!r}``, ``{criteria[0]}``); only plain ``{name}`` fields are allowed."""


@dataclass(frozen=True)
class ExtraImage:
    """One more input image of a multi-image item, in the item's order, with the label that
    tells the editor's prompt and the judge which image it is (``frame 2``, ``the garment``)."""

    label: str
    path: Path
    sha256: str = ""


@dataclass(frozen=True)
class ItemSpec:
    """One (source image, instruction) pair, validated; image paths are absolute and resolved.

    The ``*_sha256`` and size fields come from the validation pass so the ingest step can store
    images content-addressed without reading them a second time.
    """

    id: str
    category: str
    subcategory: str | None
    instruction: str
    instruction_language: str
    source_image: Path
    reference_text: str | None = None
    reference_image: Path | None = None
    tags: tuple[str, ...] = ()
    source: dict[str, Any] = field(default_factory=dict, hash=False)
    source_sha256: str = ""
    source_width: int = 0
    source_height: int = 0
    reference_sha256: str | None = None
    extra_images: tuple[ExtraImage, ...] = ()


@dataclass(frozen=True)
class Rejection:
    """One bad item (or file) that was skipped, with the reason shown to the benchmark author.

    ``file`` is relative to the benchmark folder; ``line`` is the 1-based line (JSONL) or row
    (CSV) where the item was declared, when known.
    """

    file: str
    item_id: str | None
    reason_code: ReasonCode
    reason: str
    line: int | None = None
