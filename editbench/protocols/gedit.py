"""GEdit-Bench's official protocol: VIEScore prompts (stepfun-ai/Step1X-Edit) and its statistics.

Prompts: ``GEdit-Bench/viescore/vie_prompts.py`` of the checkout. VIEScore's ``tie`` task asks two
questions: semantic consistency (context + two-image edit rule + SC rule; source and edited image)
and perceptual quality (context + PQ rule; edited image only). Each answer is a JSON object whose
``score`` list holds sub-scores on 0-10; SC is the *lowest* SC sub-score and PQ the lowest PQ
sub-score (``VIEScore.evaluate``).

Table: ``GEdit-Bench/calculate_statistics.py``: per task type the means of SC, PQ and
O = sqrt(SC*PQ) (per item, then averaged), then the plain mean over the 11 task types; each
language separately, on the full set and on the ``Intersection_exist`` subset.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from editbench.protocols.base import (
    OfficialPrompt,
    OfficialScoring,
    OfficialTable,
    Protocol,
    TableRow,
    checkout_commit,
    from_marker_template,
    mean,
    python_strings,
    require_file,
)
from editbench.records import Criterion

REPOSITORY = "stepfun-ai/Step1X-Edit"
PROMPTS_FILE = "GEdit-Bench/viescore/vie_prompts.py"
SCRIPTS = ("GEdit-Bench/test_gedit_score.py", "GEdit-Bench/calculate_statistics.py", "GEdit-Bench/viescore/__init__.py")
# VIEScore(task="tie"): SC = context + two-image edit rule + SC rule; PQ = context + PQ rule.
SC_PARTS = ("_context_no_delimit", "_prompts_0shot_two_image_edit_rule", "_prompts_0shot_tie_rule_SC")
PQ_PARTS = ("_context_no_delimit", "_prompts_0shot_rule_PQ")
# calculate_statistics.py's GROUPS, in its order (the paper's column order).
GROUPS = (
    "background_change",
    "color_alter",
    "material_alter",
    "motion_change",
    "ps_human",
    "style_change",
    "subject-add",
    "subject-remove",
    "subject-replace",
    "text_change",
    "tone_transfer",
)
LANGUAGES = ("en", "cn")
COLUMNS = ("SC", "PQ", "O")
DELIMITER = "||V^=^V||"

CRITERIA = (
    Criterion("semantic_consistency", "VIEScore SC: the lowest of editing success and absence of over-editing (0-10)."),
    Criterion("perceptual_quality", "VIEScore PQ: the lowest of naturalness and absence of artifacts (0-10)."),
)


def load(checkout: Path) -> OfficialScoring:
    """The two VIEScore questions, read from the user's Step1X-Edit checkout."""
    checkout = Path(checkout)
    path = require_file(checkout, PROMPTS_FILE, "GEdit-Bench", REPOSITORY)
    strings = python_strings(path, SC_PARTS + PQ_PARTS)
    sc = "\n".join(strings[name] for name in SC_PARTS)
    pq = "\n".join(strings[name] for name in PQ_PARTS)
    prompts = (
        OfficialPrompt(
            "SC",
            ("semantic_consistency",),
            from_marker_template(sc, {"<instruction>": "instruction"}),
            ("source", "edited"),
            f"{PROMPTS_FILE}: {' + '.join(SC_PARTS)}",
        ),
        OfficialPrompt(
            "PQ",
            ("perceptual_quality",),
            from_marker_template(pq, {}),
            ("edited",),
            f"{PROMPTS_FILE}: {' + '.join(PQ_PARTS)}",
        ),
    )
    return OfficialScoring(
        benchmark="GEdit-Bench",
        repository=REPOSITORY,
        checkout=checkout,
        commit=checkout_commit(checkout),
        criteria=CRITERIA,
        score_min=0,
        score_max=10,
        overall="geometric_mean",
        prompts={"*": prompts},
        notes=("SC and PQ are the minimum of the sub-scores in each answer's score list (VIEScore).",),
    )


# --- answers -------------------------------------------------------------------------------


def parse_answer(answer: str) -> list[int] | None:
    """The ``score`` list of one VIEScore answer, by VIEScore's rules (``mllm_output_to_dict``).

    The JSON between two ``||V^=^V||`` delimiters, else from the first ``{`` to the last ``}``,
    else a bare ``[a, b]`` list or a bare integer 0-10. None when nothing parses: VIEScore then
    asks again and finally *guesses a random score*; editbench records the sample as unparsed
    instead.
    """
    text = answer
    if text.count(DELIMITER) == 2:
        chunk = text[text.find(DELIMITER) + len(DELIMITER) : text.rfind(DELIMITER)]
    else:
        start, end = text.find("{"), text.rfind("}") + 1
        if start == -1 or end == 0:
            start, end = text.find("["), text.rfind("]") + 1
            bare = text[start:end]
            if start != -1 and re.match(r"^\[\d+, ?\d+\]$", bare):
                return [int(v) for v in json.loads(bare)]
            try:
                value = int(text)
            except ValueError:
                return None
            return [value] if 0 <= value <= 10 else None
        chunk = text[start:end]
    try:
        data = json.loads(chunk.strip().replace("\n", ""))
        scores = data["score"]
    except (ValueError, KeyError, TypeError):
        return None
    scores = scores if isinstance(scores, list) else [scores]
    if not scores or not all(isinstance(s, (int, float)) and not isinstance(s, bool) for s in scores):
        return None
    return [s for s in scores]


@dataclass(frozen=True)
class GeditSample:
    """One judged sample: its GEdit identity and its SC and PQ (already the minimum sub-score)."""

    key: str
    task_type: str
    language: str  # "en" or "cn" as GEdit writes it ("zh" is accepted)
    intersection: bool
    sc: float
    pq: float

    @property
    def overall(self) -> float:
        return math.sqrt(self.sc * self.pq)


def sample_from_answers(key: str, task_type: str, language: str, intersection: bool, sc_answer: str, pq_answer: str) -> GeditSample | None:
    """A sample from the judge's two raw answers; None when either does not parse."""
    sc, pq = parse_answer(sc_answer), parse_answer(pq_answer)
    if sc is None or pq is None:
        return None
    return GeditSample(key, task_type, language, intersection, float(min(sc)), float(min(pq)))


# --- the table ----------------------------------------------------------------------------


def aggregate(samples: Iterable[GeditSample]) -> OfficialTable:
    """The paper's GEdit table: sections ``<lang>/fullset`` and ``<lang>/intersection``.

    Rows are the 11 task types in GEdit's order, then ``Average`` (the plain mean of the 11
    task-type means, as ``calculate_statistics.py``). A task type with no sample has no value,
    and then neither has the average (the official script prints nan for both).
    """
    by_section: dict[str, dict[str, list[GeditSample]]] = {}
    for sample in samples:
        language = "cn" if sample.language in ("cn", "zh") else sample.language
        subsets = ("fullset", "intersection") if sample.intersection else ("fullset",)
        for subset in subsets:
            by_section.setdefault(f"{language}/{subset}", {}).setdefault(sample.task_type, []).append(sample)
    sections: dict[str, tuple[TableRow, ...]] = {}
    for language in LANGUAGES:
        for subset in ("fullset", "intersection"):
            groups = by_section.get(f"{language}/{subset}", {})
            rows = [_row(group, groups.get(group, [])) for group in GROUPS]
            average = {
                column: (None if any(r.values[column] is None for r in rows) else mean([r.values[column] for r in rows]))  # type: ignore[misc]
                for column in COLUMNS
            }
            rows.append(TableRow("Average", average, sum(r.count for r in rows)))
            sections[f"{language}/{subset}"] = tuple(rows)
    return OfficialTable(
        "GEdit-Bench",
        COLUMNS,
        sections,
        notes=("O = sqrt(SC*PQ) per item, then averaged; Average = mean of the 11 task-type means.",),
    )


def _row(group: str, samples: list[GeditSample]) -> TableRow:
    return TableRow(
        group,
        {
            "SC": mean([s.sc for s in samples]),
            "PQ": mean([s.pq for s in samples]),
            "O": mean([s.overall for s in samples]),
        },
        len(samples),
    )


PROTOCOL = Protocol(
    kind="gedit",
    benchmark="GEdit-Bench",
    repository=REPOSITORY,
    files=(PROMPTS_FILE,),
    load=load,
    aggregate=aggregate,
    scripts=SCRIPTS,
)
