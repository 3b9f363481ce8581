"""The JSON that ``editbench status --json`` and ``editbench runs --json`` print, as typed models,
and their JSON Schema files (shipped in ``editbench/producer/schemas/``, generated, never edited
by hand)::

    python -m editbench.producer.json_documents           # rewrite the checked-in files
    python -m editbench.producer.json_documents --check   # exit 1 if a file differs from its model

Scripts that poll a run read these; ``tests/cli/test_json_output.py`` validates real output
against the shipped files and fails when a model changes without its schema.
"""

from __future__ import annotations

import argparse
import json
import sys
from importlib.resources import files
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, RootModel

DRAFT = "https://json-schema.org/draft/2020-12/schema"


class _Document(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CategoryCounts(_Document):
    """One category of a run: samples (edits) and judgments, by how they ended."""

    category: str
    samples: int
    edited: int
    edit_failed: int
    edits_open: int
    judgments: int
    scored: int
    judgment_failed: int
    judgments_open: int


class Totals(_Document):
    """The same counts summed over the run's categories."""

    samples: int
    edited: int
    edit_failed: int
    edits_open: int
    judgments: int
    scored: int
    judgment_failed: int
    judgments_open: int


class FailureGroupDocument(_Document):
    """Work of one stage that ended in one state with one reason code, with one example."""

    stage: str
    status: str
    error_code: str
    count: int
    example_sample: str
    example_error: str


class StatusDocument(_Document):
    """``editbench status RUN --json``."""

    run_id: int
    status: str
    """running, done, stopped or cancelled."""
    categories: list[CategoryCounts]
    stop_reason: str | None
    """Why a worker stopped the run (status ``stopped``: a model could not be loaded); else null."""
    name: str
    failures: list[FailureGroupDocument]
    created_at: str | None
    finished_at: str | None
    notes: list[str]
    """Why the run is not moving on by itself (e.g. its judge's budget stopped judging)."""
    totals: Totals


class RunListingDocument(_Document):
    """One run of ``editbench runs --json``; work counts are edits and judgments together."""

    id: int
    name: str
    benchmark: str
    benchmark_version: str
    editor: str
    judge: str
    status: str
    work_total: int
    work_final: int
    work_failed: int
    created_at: str
    finished_at: str | None
    wall_s: float


class RunsDocument(RootModel[list[RunListingDocument]]):
    """``editbench runs --json``: newest run first."""


DOCUMENTS: dict[str, type[BaseModel]] = {"status": StatusDocument, "runs": RunsDocument}


def schema_path(name: str) -> Path:
    return Path(str(files("editbench.producer") / "schemas" / f"{name}.schema.json"))


def schema_text(name: str) -> str:
    schema: dict[str, Any] = DOCUMENTS[name].model_json_schema(mode="serialization")
    return json.dumps({"$schema": DRAFT, "$id": f"urn:editbench:cli:{name}", **schema}, indent=2) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--check", action="store_true", help="exit 1 if a checked-in schema differs from its model")
    args = parser.parse_args(argv)
    stale = []
    for name in DOCUMENTS:
        path = schema_path(name)
        text = schema_text(name)
        if args.check:
            if not path.exists() or path.read_text() != text:
                stale.append(str(path))
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
    if stale:
        print("stale JSON schemas (run python -m editbench.producer.json_documents): " + ", ".join(stale), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
