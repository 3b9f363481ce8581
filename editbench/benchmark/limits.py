"""How big and how deep benchmark data may be, in one place.

Two kinds of limit live here. The text widths mirror the ledger's columns
(``editbench/schema/models.py``; ``tests/benchmark/test_benchmark_limits.py`` checks they agree):
SQLite stores an over-long string silently while PostgreSQL aborts the whole ingest, so the
loader refuses such a value for its one item, with a reason code, on both. The other limits
bound what one line of a benchmark may cost the loader and every judge prompt built from it.
This module imports nothing from the ledger because the benchmark package is pure (no database).
"""

from __future__ import annotations

MAX_LINE_BYTES = 1 << 20
"""One JSONL line (one item) over 1 MiB is refused before it is parsed."""
MAX_JSON_DEPTH = 32
"""Nesting of arrays/objects in one JSONL line; deeper lines are refused before parsing (a
deep enough line would otherwise exhaust Python's recursion limit)."""
MAX_INSTRUCTION_CHARS = 10_000
"""An instruction is a sentence or a paragraph; each one is pasted into every judge prompt."""
MAX_REFERENCE_CHARS = 10_000
"""``reference_text`` is pasted into judge prompts too."""
MAX_EXTRA_IMAGES = 16
"""Extra input images of one item: each is decoded by the editor and shown to the judge."""
MAX_IMAGE_LABEL_CHARS = 200
"""The label of an extra image ("frame 3", "the garment") is pasted into judge prompts."""

# Ledger column widths (characters).
MAX_ID_CHARS = 300
"""``samples.external_id``."""
MAX_SUBCATEGORY_CHARS = 200
"""``samples.subcategory``."""
MAX_LANGUAGE_CHARS = 16
"""``samples.instruction_language``."""
MAX_BENCHMARK_NAME_CHARS = 200
"""``benchmarks.name``."""
MAX_VERSION_CHARS = 64
"""``benchmarks.version``."""
MAX_CATEGORY_NAME_CHARS = 200
"""``categories.name``."""
MAX_CRITERION_NAME_CHARS = 100
"""``judgments.criterion``: a longer criterion name would fail every judgment of a run."""

COLUMN_LIMITS = {
    ("samples", "external_id"): MAX_ID_CHARS,
    ("samples", "subcategory"): MAX_SUBCATEGORY_CHARS,
    ("samples", "instruction_language"): MAX_LANGUAGE_CHARS,
    ("benchmarks", "name"): MAX_BENCHMARK_NAME_CHARS,
    ("benchmarks", "version"): MAX_VERSION_CHARS,
    ("categories", "name"): MAX_CATEGORY_NAME_CHARS,
    ("judgments", "criterion"): MAX_CRITERION_NAME_CHARS,
}
"""(table, column) -> the limit above that guards it; the test compares each with the model."""

NUL = "\x00"
