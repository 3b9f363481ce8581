"""The official table of a run whose benchmark was imported with ``--protocol official``.

Judges in protocol mode keep each official answer raw (``raw_output`` of every criterion it
scored); here those answers are regrouped per item and question and handed to the benchmark's
own aggregation (:mod:`editbench.protocols`), which re-reads them with the official parsers, so
the table is what the official script computes from the same answers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from editbench.protocols import PROTOCOLS, gedit, imgedit, kris, rise
from editbench.protocols.base import OfficialTable
from editbench.protocols.judging import item_questions
from editbench.report.data import RunData, SampleData
from editbench.report.documents import OfficialResults, OfficialRow

EDITBENCH_RUBRIC = "editbench's own rubric"


def protocol_line(official: OfficialResults | None) -> str:
    """What every report header says about whose judge protocol produced the scores."""
    if official is None:
        return f"Protocol: {EDITBENCH_RUBRIC} (scores are comparable across editbench runs, not to published tables)."
    return (
        f"Protocol: official {official.benchmark} evaluation, judge prompts from {official.repository} @ "
        f"{official.commit or 'unknown commit'}; each official question asked separately and read by the official parser."
    )


def official_results(run: RunData) -> OfficialResults | None:
    """The benchmark's published table for this run; None for editbench's own rubric."""
    protocol = run.benchmark.protocol
    if not protocol or protocol.get("kind") not in PROTOCOLS:
        return None
    kind = str(protocol["kind"])
    answers = [(sample, _answers(protocol, sample)) for sample in run.samples]
    complete = [(sample, by_question) for sample, by_question in answers if by_question is not None]
    table = _table(kind, complete)
    return OfficialResults(
        kind=kind,
        benchmark=str(protocol.get("benchmark", table.benchmark)),
        repository=str(protocol.get("repository", "")),
        commit=protocol.get("commit"),
        columns=list(table.columns),
        sections={
            name: [OfficialRow(group=row.group, count=row.count, values=dict(row.values)) for row in rows]
            for name, rows in table.sections.items()
        },
        n_samples=len(complete),
        notes=list(table.notes),
    )


def _answers(protocol: Mapping[str, Any], sample: SampleData) -> dict[str, str] | None:
    """Question name -> the raw official answer, or None when a question asked has no answer."""
    questions, _ = item_questions(protocol, sample.category, sample.external_id, tuple(sample.judgments))
    found: dict[str, str] = {}
    for question in questions:
        raw = next(
            (sample.judgments[c].raw_output for c in question.criteria if sample.judgments[c].raw_output),
            None,
        )
        if raw is None:
            return None
        found[question.name] = raw
    return found if found else None


def _table(kind: str, complete: list[tuple[SampleData, dict[str, str]]]) -> OfficialTable:
    if kind == "gedit":
        samples = []
        for sample, by_question in complete:
            parsed = gedit.sample_from_answers(
                str(sample.provenance.get("key", sample.external_id)),
                sample.category,
                str(sample.provenance.get("instruction_language", sample.instruction_language)),
                "intersection" in sample.tags,
                by_question.get("SC", ""),
                by_question.get("PQ", ""),
            )
            if parsed is not None:
                samples.append(parsed)
        return gedit.aggregate(samples)
    if kind == "kris":
        return kris.aggregate(
            kris.sample_from_answers(sample.category, str(sample.provenance.get("id", sample.external_id)), by_question)
            for sample, by_question in complete
        )
    if kind == "rise":
        flagged = any("consistency_free" in sample.tags for sample, _ in complete)
        rows = []
        for sample, _by_question in complete:
            by_criterion = {c: sample.judgments[c].raw_output for c in sample.judgments}
            rows.append(
                rise.RiseSample(
                    index=sample.external_id,
                    category=sample.category,
                    judge1=by_criterion.get("appearance_consistency") if "consistency_free" not in sample.tags else None,
                    judge2=by_criterion.get("instruction_reasoning"),
                    judge3=by_criterion.get("visual_plausibility") if sample.category != "logical_reasoning" else None,
                    subtask=sample.subcategory,
                    consistency_free=True if "consistency_free" in sample.tags else None,
                    fields=frozenset({"consistency_free"}) if flagged else frozenset(),
                )
            )
        return rise.aggregate(rows)
    if kind == "imgedit":
        return imgedit.aggregate(
            imgedit.ImgEditSample(str(sample.provenance.get("key", sample.external_id)), sample.category, answer)
            for sample, by_question in complete
            for answer in list(by_question.values())[:1]
        )
    raise ValueError(f"no official table for {kind!r}")


# --- the paper's layout, shared by report.md and report.html ------------------------------------

OFFICIAL_TITLES = {
    "gedit": "GEdit-Bench (VIEScore SC, PQ and O = √(SC·PQ) per item, 0–10; per task type)",
    "kris": "KRIS-Bench (per knowledge type, reasoning dimension and category; 1–5 and the paper's 0–100)",
    "rise": "RISEBench (gpt_eval.py's score table: score, percentage, accuracy)",
    "imgedit": "ImgEdit Basic-Edit-Suite (per edit type, 1–5)",
}
KRIS_SECTIONS = {"knowledge_types": "per knowledge type", "dimensions": "per reasoning dimension", "categories": "per category"}


@dataclass(frozen=True)
class TableBlock:
    title: str
    header: list[str]
    rows: list[list[str]]


@dataclass(frozen=True)
class OfficialLayout:
    title: str
    caption: str
    blocks: list[TableBlock]


def official_layout(official: OfficialResults) -> OfficialLayout:
    """The official table as the paper lays it out: GEdit one table per language with the full
    set and the intersection side by side (SC, PQ, O per task type); KRIS per knowledge type,
    reasoning dimension and category; RISEBench gpt_eval.py's rows; ImgEdit per edit type."""
    blocks: list[TableBlock] = []
    if official.kind == "gedit":
        for language in ("en", "cn"):
            full = {r.group: r for r in official.sections.get(f"{language}/fullset", [])}
            inter = {r.group: r for r in official.sections.get(f"{language}/intersection", [])}
            header = ["task type", *(f"full {c}" for c in official.columns), *(f"intersection {c}" for c in official.columns)]
            rows = [[g, *_cells(full[g], official.columns), *_cells(inter.get(g), official.columns)] for g in full]
            blocks.append(TableBlock(language.upper(), header, rows))
    elif official.kind == "kris":
        plain = [c for c in official.columns if not c.endswith("_100")]
        columns = [*plain, *(f"{c}_100" for c in plain)]
        header = ["group", "n", *plain, *(f"{c} (0–100)" for c in plain)]
        for name, title in KRIS_SECTIONS.items():
            rows = [[r.group, str(r.count), *_cells(r, columns)] for r in official.sections.get(name, [])]
            blocks.append(TableBlock(title, header, rows))
    else:
        first = {"imgedit": "edit type", "rise": "row"}.get(official.kind, "group")
        for section in official.sections.values():
            rows = [[r.group, str(r.count), *_cells(r, official.columns)] for r in section]
            blocks.append(TableBlock("", [first, "n", *official.columns], rows))
    caption = (
        f"Computed by the official rules from the raw official answers of {official.n_samples} samples "
        f"(judge prompts from {official.repository} @ {official.commit or 'unknown commit'})."
    )
    return OfficialLayout(OFFICIAL_TITLES.get(official.kind, official.benchmark), caption, blocks)


def _cells(row: OfficialRow | None, columns: Sequence[str]) -> list[str]:
    values = [row.values.get(c) if row is not None else None for c in columns]
    return ["—" if v is None else f"{v:.3f}" for v in values]
