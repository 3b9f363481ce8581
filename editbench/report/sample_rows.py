"""samples.jsonl and samples.parquet: every (sample, criterion) of a run as one flat row.

summary.json holds aggregates; researchers also want the rows behind them (to slice, re-weight,
correlate with another judge, or load into pandas/polars/DuckDB). Both files hold the same rows,
typed by :class:`~editbench.report.documents.SampleRow` (JSON Schema
``editbench/report/schemas/samples.schema.json``); the Parquet column types are derived from
that model, so the two never drift apart.
"""

from __future__ import annotations

import json
import os
import types
import typing
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from editbench.report.data import RunData
from editbench.report.documents import SampleRow
from editbench.report.images import ImageKey
from editbench.report.summary import score_sample


def sample_rows(run: RunData, images: Mapping[ImageKey, str] | None = None) -> Iterator[SampleRow]:
    """The rows of ``run`` in benchmark order, criteria in the category's order. ``images``
    maps (sample id, role) to an image path relative to the report folder."""
    images = images or {}
    for s in run.samples:
        score = score_sample(s, run.category(s.category), run.benchmark)
        edit = s.edit
        for criterion, j in s.judgments.items():
            yield SampleRow(
                run_id=run.id,
                run_name=run.name,
                benchmark=run.benchmark.name,
                benchmark_version=run.benchmark.version,
                sample_id=s.id,
                item_id=s.external_id,
                category=s.category,
                subcategory=s.subcategory,
                instruction=s.instruction,
                instruction_language=s.instruction_language,
                tags=list(s.tags),
                source=json.dumps(dict(s.provenance), sort_keys=True, ensure_ascii=False, default=str),
                reference_text=s.reference_text,
                criterion=criterion,
                status=j.status,
                score=j.score,
                confidence=j.confidence,
                error_code=j.error_code,
                error=j.error,
                reasoning=j.reasoning,
                raw_output=j.raw_output,
                judge_identity=j.judge_identity,
                prompt_version=j.prompt_version,
                judge_attempts=j.attempts,
                judge_duration_s=j.duration_s,
                sample_status=score.status,
                overall=score.overall,
                passed=score.passed,
                edit_status=edit.status if edit else "missing",
                edit_error_code=edit.error_code if edit else None,
                edit_error=edit.error if edit else None,
                seed=edit.seed if edit else None,
                edit_attempts=edit.attempts if edit else 0,
                edit_duration_s=edit.duration_s if edit else None,
                source_image=images.get((s.id, "source")),
                edited_image=images.get((s.id, "edited")),
                reference_image=images.get((s.id, "reference")),
                source_path=s.source_path,
                source_sha256=s.source_sha256,
                edited_path=edit.output_path if edit else None,
                edited_sha256=edit.output_sha256 if edit else None,
                reference_path=s.reference_path,
                reference_sha256=s.reference_sha256,
            )


def write_jsonl(path: Path, rows: list[SampleRow]) -> None:
    """One JSON object per line, UTF-8, written via a temp file and a rename."""
    temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with temp.open("w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row.to_json_dict(), ensure_ascii=False) + "\n")
    os.replace(temp, path)


def arrow_schema() -> Any:
    """The Parquet schema, one column per :class:`SampleRow` field, typed from its annotation."""
    import pyarrow as pa

    scalars = {int: pa.int64(), float: pa.float64(), str: pa.string(), bool: pa.bool_()}
    fields = []
    hints = typing.get_type_hints(SampleRow)
    for name in SampleRow.model_fields:
        hint = hints[name]
        args = typing.get_args(hint)
        nullable = isinstance(hint, types.UnionType) and type(None) in args
        base = next(a for a in args if a is not type(None)) if nullable else hint
        if typing.get_origin(base) is list:
            arrow_type = pa.list_(scalars[typing.get_args(base)[0]])
        else:
            arrow_type = scalars[base]
        fields.append(pa.field(name, arrow_type, nullable=nullable))
    return pa.schema(fields, metadata={"format": "editbench.samples/1"})


def write_parquet(path: Path, rows: list[SampleRow]) -> bool:
    """Write the rows as Parquet; False (nothing written) when pyarrow is not installed."""
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        return False
    table = pa.Table.from_pylist([row.to_json_dict() for row in rows], schema=arrow_schema())
    temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    pq.write_table(table, temp)
    os.replace(temp, path)
    return True
