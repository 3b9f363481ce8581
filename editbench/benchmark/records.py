"""Read JSONL and CSV record files one line (row) at a time.

Each line is decoded on its own, strictly as UTF-8, so one line pasted from a Latin-1 editor
costs exactly that item, not the whole file. Lines that cannot become a record are yielded as
:class:`Rejection` in place of the record, in file order.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from editbench.benchmark.limits import MAX_JSON_DEPTH, MAX_LINE_BYTES
from editbench.benchmark.spec import ReasonCode, Rejection

Record = dict[str, Any]

_JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"')
_BRACKET = re.compile(rb"[\[\]{}]")


class _DuplicateKey(ValueError):
    pass


def read_jsonl(path: Path, file: str) -> Iterator[tuple[int, Record | Rejection]]:
    """Yield ``(line number, record or rejection)`` for every non-blank line of a JSONL file."""
    for number, raw in enumerate(path.read_bytes().split(b"\n"), start=1):
        raw = raw.rstrip(b"\r")
        if number == 1 and raw.startswith(codecs.BOM_UTF8):
            raw = raw[len(codecs.BOM_UTF8) :]
        if not raw.strip():
            continue
        yield number, _parse_json_line(raw, file, number)


def read_csv(path: Path, file: str, allowed: frozenset[str], required: frozenset[str]) -> Iterator[tuple[int, Record | Rejection]]:
    """Yield ``(line number, record or rejection)`` for every data row of a CSV file with a header.

    The file is decoded with ``surrogateescape`` so that a bad byte only marks its own row:
    rows containing escaped bytes are rejected as ``not_utf8``, the others are used. Empty cells
    are dropped, so an empty ``id`` means "use the default id".
    """
    reader = csv.reader(_csv_text(path))
    header = next(reader, None)
    problem = _check_header(header, file, allowed, required)
    if problem is not None:
        yield 1, problem
        return
    assert header is not None
    columns = [name.strip() for name in header]
    while True:
        try:
            row = next(reader, None)
        except csv.Error as error:  # e.g. a cell over csv.field_size_limit(): the reader cannot go on
            line = reader.line_num
            yield (
                line,
                _reject(file, line, None, ReasonCode.INVALID_FIELD, f"unreadable CSV ({error}); rest of file skipped"),
            )
            return
        if row is None:
            return
        line = reader.line_num
        if not any(cell.strip() for cell in row):
            continue
        if any(has_surrogates(cell) for cell in row):
            yield line, _reject(file, line, None, ReasonCode.NOT_UTF8, "row is not valid UTF-8")
        elif len(row) != len(columns):
            yield (
                line,
                _reject(
                    file,
                    line,
                    None,
                    ReasonCode.INVALID_FIELD,
                    f"row has {len(row)} values but the header has {len(columns)} columns",
                ),
            )
        else:
            yield line, {key: value for key, value in zip(columns, row, strict=True) if value.strip()}


def csv_header_problem(path: Path, file: str, allowed: frozenset[str], required: frozenset[str]) -> Rejection | None:
    """The rejection :func:`read_csv` would yield for the header, if any, without reading rows.

    Lets a caller tell "this whole file is unusable" apart from "some rows are bad".
    """
    return _check_header(next(csv.reader(_csv_text(path)), None), file, allowed, required)


def _csv_text(path: Path) -> io.StringIO:
    text = path.read_bytes().decode("utf-8", errors="surrogateescape").removeprefix("\ufeff")
    return io.StringIO(text, newline="")


def has_surrogates(text: str) -> bool:
    """True if ``text`` holds lone surrogates: undecodable bytes, or a JSON ``\\ud800`` escape."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _parse_json_line(raw: bytes, file: str, number: int) -> Record | Rejection:
    if len(raw) > MAX_LINE_BYTES:
        return _reject(file, number, None, ReasonCode.TOO_LONG, f"line is {len(raw):,} bytes; one item may take {MAX_LINE_BYTES:,}")
    depth = json_depth(raw)
    if depth > MAX_JSON_DEPTH:
        return _reject(file, number, None, ReasonCode.TOO_DEEP, f"JSON is nested {depth} levels deep; at most {MAX_JSON_DEPTH} allowed")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        return _reject(
            file,
            number,
            _guess_id(raw),
            ReasonCode.NOT_UTF8,
            f"line is not valid UTF-8 (byte 0x{raw[error.start]:02x} at offset {error.start})",
        )
    try:
        record = json.loads(text, object_pairs_hook=_no_duplicate_keys, parse_constant=_no_constants)
    except json.JSONDecodeError as error:
        return _reject(file, number, None, ReasonCode.MALFORMED_JSON, f"not valid JSON: {error.msg} at column {error.colno}")
    except ValueError as error:
        return _reject(file, number, _guess_id(raw), ReasonCode.MALFORMED_JSON, str(error))
    if not isinstance(record, dict):
        return _reject(file, number, None, ReasonCode.MALFORMED_JSON, f"line is JSON but a {type(record).__name__}, not an object")
    return record


def json_depth(raw: bytes) -> int:
    """The deepest nesting of ``[``/``{`` in a JSON text, counted without parsing it.

    Brackets inside strings are skipped. Counting first is what keeps a line of 100,000 ``[``
    from reaching :func:`json.loads`, whose recursion would end in an uncaught RecursionError.
    """
    depth = deepest = 0
    for bracket in _BRACKET.findall(_JSON_STRING.sub(b"", raw)):
        if bracket in (b"[", b"{"):
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth -= 1
    return deepest


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> Record:
    # json.loads would silently keep the last of two "instruction" keys.
    record: Record = {}
    for key, value in pairs:
        if key in record:
            raise _DuplicateKey(f"key {key!r} appears twice in one object")
        record[key] = value
    return record


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _guess_id(raw: bytes) -> str | None:
    """Best-effort id for the message of a line we are rejecting anyway."""
    try:
        record = json.loads(raw.decode("utf-8", errors="replace"))
    except ValueError:
        return None
    item_id = record.get("id") if isinstance(record, dict) else None
    return str(item_id) if isinstance(item_id, (str, int)) and not isinstance(item_id, bool) else None


def _check_header(header: list[str] | None, file: str, allowed: frozenset[str], required: frozenset[str]) -> Rejection | None:
    if header is None:
        return _reject(
            file,
            1,
            None,
            ReasonCode.MISSING_FIELD,
            f"file is empty; needs a header row with {', '.join(sorted(required))}",
        )
    if any(has_surrogates(name) for name in header):
        return _reject(file, 1, None, ReasonCode.NOT_UTF8, "header row is not valid UTF-8")
    columns = [name.strip() for name in header]
    missing = sorted(required - set(columns))
    if missing:
        return _reject(file, 1, None, ReasonCode.MISSING_FIELD, f"header lacks column(s) {', '.join(missing)}; found {columns}")
    unknown = sorted(set(columns) - allowed)
    if unknown:
        return _reject(
            file,
            1,
            None,
            ReasonCode.UNKNOWN_FIELD,
            f"unknown column(s) {', '.join(unknown)}; allowed: {', '.join(sorted(allowed))}",
        )
    if len(set(columns)) != len(columns):
        return _reject(file, 1, None, ReasonCode.INVALID_FIELD, f"header repeats a column: {columns}")
    return None


def _reject(file: str, line: int, item_id: str | None, code: ReasonCode, detail: str) -> Rejection:
    who = f": item {item_id!r}" if item_id is not None else ""
    return Rejection(file, item_id, code, f"{file}:{line}{who}: {detail}", line=line)
