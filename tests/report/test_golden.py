"""summary.json, run_card.json and compare.json of a fixed ledger, byte for byte against golden files.

The goldens were written by the report code *before* its documents became typed models, so this
test is what proves the typed rewrite (and any later refactor) changes no number, no key and no
key order. Only what legitimately differs between machines and moments is normalised: the
report's own timestamp, the library versions and git revision of the process writing it, and the
temporary folder the benchmark was ingested from.

To accept a deliberate change of output: ``EDITBENCH_UPDATE_GOLDEN=1 pytest tests/report/test_golden.py``
and review the diff of tests/report/golden/ like code.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from editbench.report import write_report
from editbench.report.compare import write_comparison
from editbench.schema.db import session_scope
from tests.report.conftest import PQ, SC, Ledger

GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("EDITBENCH_UPDATE_GOLDEN") == "1"
VARIES = "<varies>"


def build_runs(ledger: Ledger) -> tuple[int, int, int]:
    """A run with every way an item can end (A), another editor (B), another judge still running (C)."""
    bench = ledger.benchmark(
        {
            "physics": {"pass_rule": {"all_at_least": 8}},
            "style": {"weights": {SC: 2.0, PQ: 1.0}, "pass_rule": {"overall_at_least": 5, "at_least": {SC: 4}}},
            "text": {"pass_rule": {"most_votes": 3}, "prompt_version": "t-v2"},
            "empty": {},
        },
        {
            "physics": ["p1", "p2", "p3", "p4", "p5"],
            "style": ["s1", "s2", "s3", "s4", "s5"],
            "text": ["t1", "t2", "t3"],
            "empty": ["e1"],
        },
    )
    a = ledger.run(
        bench,
        {
            "p1": {SC: 9, PQ: 8},
            "p2": {SC: 7, PQ: 6},
            "p3": {SC: ("failed", "judge_error"), PQ: 6},
            "p4": {SC: ("parse_error", "unparseable"), PQ: 5},
            "p5": {SC: 10, PQ: 9},
            "s1": {SC: 4, PQ: 6},
            "s2": {SC: ("missing", "edit_failed"), PQ: ("missing", "edit_failed")},
            "s3": {SC: ("refusal", "refused"), PQ: 8},
            "s4": {SC: 6, PQ: 3},
            "s5": {SC: 5, PQ: None},
            "t1": {SC: 8, PQ: 12},
            "t2": {SC: 3, PQ: 4},
            "t3": {SC: 0, PQ: 7},
            "e1": {SC: ("failed", None), PQ: ("failed", None)},
        },
        name="baseline",
        edits={"s2": ("failed", "oom"), "e1": ("failed", None)},
        prompt_versions={"text": "t-v1"},
    )
    b = ledger.run(
        bench,
        {
            "p1": {SC: 8, PQ: 8},
            "p2": {SC: 8, PQ: 7},
            "p3": {SC: 5, PQ: 6},
            "p4": {SC: 6, PQ: 5},
            "p5": {SC: 9, PQ: 9},
            "s1": {SC: 6, PQ: 7},
            "s2": {SC: 7, PQ: 7},
            "s3": {SC: 5, PQ: 8},
            "s4": {SC: 7, PQ: 5},
            "t1": {SC: 9, PQ: 9},
            "t2": {SC: 4, PQ: 4},
            "t3": {SC: 2, PQ: 6},
        },
        name="candidate",
        editor=("other-editor", "/models/other"),
        edit_seconds=3.25,
        judge_seconds=0.75,
        run_card={
            "git_revision": {"commit": "f" * 40, "dirty": True},
            "python": "3.12.1",
            "editbench_version": "0.1.0",
            "libraries": {"torch": "2.14.1", "diffusers": "0.42.1"},
            "editor": {"config_hash": "cafe" * 16, "class": "OtherEditor"},
        },
    )
    c = ledger.run(
        bench,
        {
            "p1": {SC: 9, PQ: 9},
            "p2": {SC: 6, PQ: 6},
            "p3": {SC: "running", PQ: "pending"},
            "s1": {SC: 5, PQ: 5},
            "t1": {SC: 7, PQ: 8},
        },
        name="",
        judge=("other-judge", None),
        status="running",
        edits={"p3": "running"},
        run_card={},
    )
    return a, b, c


def normalise(name: str, document: dict[str, Any]) -> dict[str, Any]:
    if name.startswith("run_card"):
        document["report"]["generated_at"] = VARIES
        document["library_versions"]["at_report"] = VARIES
        document["git_revision"]["at_report"] = VARIES
        document["benchmark"]["source_path"] = VARIES
    return document


def produce_documents(ledger: Ledger, out: Path) -> dict[str, dict[str, Any]]:
    """Every golden document as written (nothing normalised), by golden file name."""
    a, b, c = build_runs(ledger)
    files: dict[str, Path] = {}
    with session_scope(ledger.url) as session:
        for label, run_id in (("a", a), ("c", c)):
            paths = write_report(session, run_id, out / f"run-{label}", home=ledger.root)
            files[f"summary_{label}.json"] = paths.summary_json
            files[f"run_card_{label}.json"] = paths.run_card_json
        files["compare.json"] = write_comparison(session, [a, b, c], out / "compare", home=ledger.root).compare_json
    return {name: json.loads(path.read_text()) for name, path in files.items()}


def test_report_documents_equal_the_golden_files(ledger, tmp_path):
    produced = {
        name: json.dumps(normalise(name, document), indent=2, ensure_ascii=False) + "\n"
        for name, document in produce_documents(ledger, tmp_path / "out").items()
    }
    if UPDATE:
        GOLDEN.mkdir(exist_ok=True)
        for name, text in produced.items():
            (GOLDEN / name).write_text(text, encoding="utf-8")
    assert sorted(p.name for p in GOLDEN.glob("*.json")) == sorted(produced)
    for name, text in produced.items():
        assert text == (GOLDEN / name).read_text(encoding="utf-8"), f"{name} differs from tests/report/golden/{name}"


@pytest.mark.parametrize("name", ["summary_a.json", "run_card_a.json", "compare.json"])
def test_golden_files_are_strict_json(name):
    json.loads((GOLDEN / name).read_text(), parse_constant=lambda c: pytest.fail(f"non-JSON constant {c}"))
