"""JSON Schema files for summary.json, run_card.json, compare.json and a samples row, generated from the models.

The schemas ship with the package in ``editbench/report/schemas/`` so a consumer can validate a
report without importing editbench. They are generated, never edited by hand::

    python -m editbench.report.json_schema           # rewrite the checked-in files
    python -m editbench.report.json_schema --check   # exit 1 if a file differs from its model

and ``tests/report/test_schemas.py`` fails when a model changes without its schema.
"""

from __future__ import annotations

import argparse
import json
import sys
from importlib.resources import files
from pathlib import Path
from typing import Any

from editbench.report.documents import (
    CompareResult,
    Document,
    LabelsFile,
    RunCard,
    SampleRow,
    Summary,
)

DRAFT = "https://json-schema.org/draft/2020-12/schema"
DOCUMENTS: dict[str, type[Document]] = {
    "summary": Summary,
    "run_card": RunCard,
    "compare": CompareResult,
    "samples": SampleRow,
    "labels": LabelsFile,
}
"""File stem (summary.json → "summary") → the model that writes it; ``samples`` is one row of
samples.jsonl (one line) and samples.parquet; ``labels`` is written by ``export --layout folder``."""


def schema_path(name: str) -> Path:
    """Where the checked-in schema of a document lives (inside the installed package)."""
    return Path(str(files("editbench.report") / "schemas" / f"{name}.schema.json"))


def build_schema(name: str) -> dict[str, Any]:
    model = DOCUMENTS[name]
    schema = model.model_json_schema(by_alias=True, mode="serialization")
    return {"$schema": DRAFT, "$id": f"urn:editbench:report:{name}", **schema}


def schema_text(name: str) -> str:
    return json.dumps(build_schema(name), indent=2, ensure_ascii=False) + "\n"


def load_schema(name: str) -> dict[str, Any]:
    """The checked-in schema of ``summary``, ``run_card`` or ``compare``."""
    return json.loads(schema_path(name).read_text(encoding="utf-8"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only report schema files that differ from the models")
    args = parser.parse_args(argv)
    stale = []
    for name in DOCUMENTS:
        path, text = schema_path(name), schema_text(name)
        current = path.read_text(encoding="utf-8") if path.exists() else None
        if current == text:
            continue
        stale.append(path)
        if not args.check:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
    for path in stale:
        print(("stale: " if args.check else "wrote: ") + str(path))
    return 1 if args.check and stale else 0


if __name__ == "__main__":
    sys.exit(main())
