"""The ledger: SQLAlchemy models (``models``), engines (``db``), migrations and the one module
that writes rows (``ledger``)."""

from editbench.schema.models import (
    FINAL_STATES,
    Benchmark,
    Category,
    Edit,
    Judgment,
    Run,
    RunStatus,
    Sample,
    Status,
)

__all__ = [
    "FINAL_STATES",
    "Benchmark",
    "Category",
    "Edit",
    "Judgment",
    "Run",
    "RunStatus",
    "Sample",
    "Status",
]
