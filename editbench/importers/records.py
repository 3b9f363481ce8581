"""What every importer shares: the report, the skip signal, field checks and the conversion loop.

An importer turns each source record into one native :class:`~editbench.importers.native_writer.ItemLine`.
A record that cannot be converted (missing field, missing image, undecodable bytes, ...) raises
:class:`SkipRecord`; the loop counts it, reports it in one line and carries on. Problems with the
source as a whole (folder not found, no annotation file, pyarrow missing) raise
:class:`ImporterError` and nothing is written.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from editbench.errors import ImporterError
from editbench.protocols.base import EDITBENCH_SCORING, Scoring  # re-exported for importers

if TYPE_CHECKING:
    from editbench.importers.native_writer import (
        ItemLine,
        NativeBenchmarkWriter,
    )
    from editbench.records import Benchmark

logger = logging.getLogger("editbench.importers")

SkipCallback = Callable[[str, str], None]
RawRecord = TypeVar("RawRecord")


class SkipRecord(Exception):
    """One source record is malformed; it is left out and listed in the report."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass
class ImportReport:
    """What an import did: how many items it wrote and which records it left out, and why."""

    kind: str
    dest: Path
    written: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)


def log_skip(record_id: str, reason: str) -> None:
    logger.warning("skipped %s: %s", record_id, reason)


def convert_records(
    writer: NativeBenchmarkWriter,
    report: ImportReport,
    records: Iterable[tuple[str, RawRecord]],
    convert: Callable[[RawRecord, NativeBenchmarkWriter], ItemLine],
    *,
    limit: int | None = None,
    on_skip: SkipCallback | None = None,
) -> None:
    """Convert ``(record_id, raw)`` pairs until the source ends or ``limit`` items are written.

    ``limit`` counts written items, not source records, so ``--limit 5`` yields five usable items
    even when the first records are malformed.
    """
    notify = on_skip or log_skip
    for record_id, raw in records:
        if limit is not None and report.written >= limit:
            break
        try:
            writer.add(convert(raw, writer))
        except SkipRecord as skip:
            report.skipped.append((record_id, skip.reason))
            notify(record_id, skip.reason)
            continue
        report.written += 1


def import_into(
    dest: Path,
    manifest: Benchmark,
    records: Iterable[tuple[str, RawRecord]],
    convert: Callable[[RawRecord, NativeBenchmarkWriter], ItemLine],
    *,
    kind: str,
    provenance: Mapping[str, Any],
    limit: int | None = None,
    overwrite: bool = False,
    on_skip: SkipCallback | None = None,
    scoring: Scoring = EDITBENCH_SCORING,
) -> ImportReport:
    """The whole of an importer once it knows its records: convert them into a native
    benchmark at ``dest`` (written only when everything converted is committed)."""
    from editbench.importers.native_writer import (
        NativeBenchmarkWriter,  # it imports this module
    )

    report = ImportReport(kind=kind, dest=Path(dest))
    with NativeBenchmarkWriter(Path(dest), scoring.manifest_or(manifest), overwrite=overwrite) as writer:
        for relative, text in scoring.files.items():
            writer.add_text_file(relative, text)
        convert_records(writer, report, records, convert, limit=limit, on_skip=on_skip)
        writer.commit(report, provenance)
    return report


def read_json(path: Path) -> Any:
    """A whole annotation file; unreadable or invalid JSON stops the import with the reason."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ImporterError(f"cannot read {path}: {exc}") from exc


# --- field checks shared by the converters -------------------------------------------------


def is_blank(value: Any) -> bool:
    """True for the many ways source files spell "no value": None, "", NaN, whitespace."""
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return isinstance(value, str) and not value.strip()


def require_str(record: Mapping[str, Any], name: str) -> str:
    """The non-empty string field ``name``; ints are accepted for id-like fields."""
    if name not in record or record[name] is None:
        raise SkipRecord(f"missing field {name!r}")
    value = record[name]
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise SkipRecord(f"field {name!r} is {type(value).__name__}, expected a string")
    text = str(value).strip()
    if not text:
        raise SkipRecord(f"field {name!r} is empty")
    return text


def optional_str(record: Mapping[str, Any], name: str) -> str | None:
    value = record.get(name)
    if is_blank(value):
        return None
    if not isinstance(value, str):
        raise SkipRecord(f"field {name!r} is {type(value).__name__}, expected a string")
    return value.strip()


def is_true(value: Any) -> bool:
    """Flags arrive as booleans or as the strings "True"/"true" (RISEBench writes both)."""
    if isinstance(value, str):
        return value.strip().lower() in {"true", "1", "yes"}
    return value is True or (isinstance(value, int) and value == 1)


def single_image_path(record: Mapping[str, Any], name: str) -> str:
    """A field naming one image (a reference): a path string, or a list holding exactly one path.

    A reference is one image, so a list of several is skipped rather than cut to its first.
    """
    if name not in record or is_blank(record[name]):
        raise SkipRecord(f"missing field {name!r}")
    value = record[name]
    if isinstance(value, (list, tuple)):
        if len(value) != 1:
            raise SkipRecord(f"field {name!r} lists {len(value)} images; it names one image")
        value = value[0]
    if not isinstance(value, str) or not value.strip():
        raise SkipRecord(f"field {name!r} is not an image path")
    return value.strip()


def image_paths(record: Mapping[str, Any], name: str) -> list[str]:
    """A field naming one image or an ordered list of them (a multi-image record): the paths,
    in order, the first being the source."""
    if name not in record or is_blank(record[name]):
        raise SkipRecord(f"missing field {name!r}")
    value = record[name]
    values = list(value) if isinstance(value, (list, tuple)) else [value]
    if not values:
        raise SkipRecord(f"field {name!r} lists no image")
    for position, path in enumerate(values):
        if not isinstance(path, str) or not path.strip():
            where = f"field {name!r}" if len(values) == 1 else f"image #{position + 1} of field {name!r}"
            raise SkipRecord(f"{where} is not an image path")
    return [path.strip() for path in values]


def resolve_under(root: Path, relative: str) -> Path:
    """``root / relative`` as an existing file, refusing paths that climb out of ``root``."""
    candidate = (root / relative).resolve()
    if not candidate.is_relative_to(root.resolve()):
        raise SkipRecord(f"image path {relative!r} points outside {root}")
    if not candidate.is_file():
        raise SkipRecord(f"image {relative!r} not found under {root}")
    return candidate
