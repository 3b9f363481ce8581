"""Official evaluation protocols of the published benchmarks editbench imports.

One module per benchmark (``gedit``, ``kris``, ``rise``, ``imgedit``), each with

- ``load(checkout)``: read the judge prompts from the user's local checkout of the benchmark's
  repository (editbench ships no copy of them) → :class:`~editbench.protocols.base.OfficialScoring`;
- answer parsers for the official answer formats (``parse_answer`` and friends);
- ``aggregate(samples)``: the official results table from per-sample judge answers →
  :class:`~editbench.protocols.base.OfficialTable`, pinned against the official scripts by
  ``tests/protocols``.

:func:`official_scoring` turns a loaded protocol into what ``editbench import ... --protocol
official`` writes: the benchmark's criteria and score scale, one prompt file per official
question under ``prompts/official/`` and ``protocol.json`` (schema: ``protocol.schema.json``).
:mod:`editbench.protocols.judging` is what a run of such a benchmark judges with: the official
questions each item is asked, and their answers read (or, for simulated judges, written) in the
official format.

    >>> from editbench.protocols import PROTOCOLS
    >>> table = PROTOCOLS["gedit"].aggregate(samples)  # doctest: +SKIP
    >>> table.value("en/fullset", "Average", "O")  # doctest: +SKIP
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from editbench.protocols import gedit, imgedit, kris, rise
from editbench.protocols.base import (
    OfficialPrompt,
    OfficialRepoError,
    OfficialScoring,
    OfficialTable,
    Protocol,
    Scoring,
    TableRow,
)
from editbench.records import Benchmark

PROTOCOLS: dict[str, Protocol] = {
    "gedit": gedit.PROTOCOL,
    "imgedit": imgedit.PROTOCOL,
    "kris": kris.PROTOCOL,
    "rise": rise.PROTOCOL,
}
PROTOCOL_NAMES = ("editbench", "official")
SCHEMA = "protocol.schema.json"

__all__ = [
    "PROTOCOLS",
    "PROTOCOL_NAMES",
    "OfficialPrompt",
    "OfficialRepoError",
    "OfficialScoring",
    "OfficialTable",
    "Protocol",
    "TableRow",
    "official_scoring",
    "schema",
]


def schema() -> dict[str, Any]:
    """The JSON Schema of ``protocol.json``."""
    return json.loads((Path(__file__).with_name(SCHEMA)).read_text(encoding="utf-8"))


def official_scoring(
    kind: str,
    checkout: Path,
    base: Benchmark,
    item_prompts: Callable[[], Mapping[str, Mapping[str, Any]]] | None = None,
) -> Scoring:
    """The :class:`Scoring` an import with ``--protocol official`` uses, read from ``checkout``.

    ``base`` is the importer's own manifest (its name stays; the version gets ``-official`` so
    results of the two protocols are never mixed). ``item_prompts`` gives per-item prompt choices
    where the official script picks them from the item's fields (RISEBench).
    """
    try:
        protocol = PROTOCOLS[kind]
    except KeyError:
        raise OfficialRepoError(f"no official protocol for {kind!r}; known: {', '.join(sorted(PROTOCOLS))}") from None
    official = protocol.load(Path(checkout))
    manifest = replace(
        base,
        version=f"{base.version}-official",
        description=(
            f"{official.benchmark} with its official evaluation protocol: judge prompts read from "
            f"{official.repository}" + (f" @ {official.commit}" if official.commit else "") + " (see protocol.json)."
        ),
        criteria=official.criteria,
        overall=official.overall,
        score_min=official.score_min,
        score_max=official.score_max,
    )
    prompts: dict[str, OfficialPrompt] = {}
    for prompt in (*(p for ps in official.prompts.values() for p in ps), *official.variants):
        prompts.setdefault(prompt.name, prompt)
    files = {f"prompts/official/{name}.txt": prompt.text for name, prompt in prompts.items()}
    record: dict[str, Any] = {
        "protocol": "official",
        "kind": kind,
        "benchmark": official.benchmark,
        "repository": official.repository,
        "commit": official.commit,
        "checkout": str(Path(checkout).absolute()),
        "scripts": list(protocol.scripts),
        "score_scale": {"min": official.score_min, "max": official.score_max},
        "prompts": {
            name: {
                "file": f"prompts/official/{name}.txt",
                "criteria": list(prompt.criteria),
                "images": list(prompt.images),
                "origin": prompt.origin,
            }
            for name, prompt in prompts.items()
        },
        "categories": {category: [prompt.name for prompt in category_prompts] for category, category_prompts in official.prompts.items()},
        "notes": list(official.notes),
    }
    if item_prompts is not None:
        record["items"] = {key: dict(value) for key, value in item_prompts().items()}
    files["protocol.json"] = json.dumps(record, ensure_ascii=False, indent=2) + "\n"
    return Scoring(manifest=manifest, category=official.category, files=files)
