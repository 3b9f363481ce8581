"""Text on its way into the ledger: the column widths in one place, and how model text is made
storable the same way on SQLite and PostgreSQL.

SQLite stores a NUL character and a string longer than its ``VARCHAR(n)`` without complaint;
PostgreSQL refuses both and aborts the whole transaction (a judge batch of 64 judgments lost for
one NUL in one answer). So the two are made to agree here, before any write:

- text a *model* produced (judge answers and reasoning, error messages, adapter-supplied codes)
  is kept, made storable: each NUL becomes ``␀`` (U+2400, visible, so the change is flagged in
  the text itself) and a value wider than its column is cut to fit with a marker saying how
  much was cut. Losing a judgment over its raw text would be worse than a marked truncation.
- text a *user* typed (a run's name...) is refused with a message instead
  (:func:`unstorable_reason`), so nothing is recorded for a command that cannot be stored.

:func:`column_limits` is read from the SQLAlchemy models, so it never drifts from them;
``editbench.benchmark.limits`` mirrors the widths ingest needs (the benchmark package is pure)
and a test keeps the two equal.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from sqlalchemy import String

from editbench.schema.models import Base

NUL = "\x00"
NUL_MARK = "\u2400"
"""What a NUL in model text becomes: ``␀`` (the Unicode symbol for NUL)."""


@cache
def column_limits() -> dict[str, dict[str, int]]:
    """``{table: {column: width}}`` for every width-limited text column of the ledger."""
    limits: dict[str, dict[str, int]] = {}
    for table in Base.metadata.sorted_tables:
        for column in table.columns:
            length = getattr(column.type, "length", None)
            if isinstance(column.type, String) and length:
                limits.setdefault(table.name, {})[column.name] = int(length)
    return limits


def truncation_marker(cut: int) -> str:
    return f"…[{cut} more characters cut]"


def storable_text(value: str | None, width: int | None = None) -> str | None:
    """``value`` as the ledger can store it on both databases (see the module docstring)."""
    if value is None:
        return None
    text = value.replace(NUL, NUL_MARK)
    if width is None or len(text) <= width:
        return text
    for keep in range(width, -1, -1):  # the marker's own length depends on how much is cut
        marker = truncation_marker(len(text) - keep)
        if keep + len(marker) <= width:
            return text[:keep] + marker
    return text[:width]  # a column narrower than any marker: cut silently rather than fail


def storable_values(table: str, values: dict[str, Any]) -> dict[str, Any]:
    """Every string in ``values`` (column -> value of ``table``) made storable."""
    widths = column_limits().get(table, {})
    return {k: storable_text(v, widths.get(k)) if isinstance(v, str) else v for k, v in values.items()}


def unstorable_reason(table: str, column: str, value: str | None) -> str | None:
    """Why a *user's* value cannot be stored as given (then refuse the command), or None."""
    if value is None:
        return None
    if NUL in value:
        return "contains a NUL character"
    width = column_limits().get(table, {}).get(column)
    if width is not None and len(value) > width:
        return f"is {len(value)} characters long; at most {width} are stored"
    return None
