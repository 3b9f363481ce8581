"""RISEBench's official protocol: the judge prompts of PhoenixZ810/RISEBench and its ``gpt_eval.py`` table.

Prompts: the ``prompt_*`` strings of ``utils.py`` in the checkout. ``gpt_eval.py`` picks them per
item (:func:`item_prompts`): consistency, reasoning and (except logical reasoning) visual
plausibility, each a separate question; which variant and which images depend on the item's
``reasoning_img``, ``reference_img``, ``reference_txt`` and ``reasoning_wo_ins`` fields. A sample
with ``consistency_free`` set gets no consistency question at all.

Answers: the integers after ``Final Score:`` (:func:`parse_answer`). Logical reasoning answers are
0/1 and become 1 or 5. Per sample (``calculate_score`` / ``calculate_completion``):

- score: 0.3·consistency + 0.5·reasoning + 0.2·plausibility (temporal, causal, spatial),
  0.3·consistency + 0.7·reasoning (logical), 0.2·plausibility + 0.8·reasoning for consistency-free
  samples; halved (at least 1) when reasoning is 1;
- accuracy ("complete"): every dimension the sample has is 5 — a consistency-free sample needs
  reasoning and plausibility only, its consistency is not required.

``gpt_eval.py`` tests ``'consistency_free' in row and row['consistency_free']`` on a pandas row:
once *any* sample of the file has the field, the column exists and a missing value is NaN, which
is truthy, so every temporal/causal/spatial sample is scored 0.2·plausibility + 0.8·reasoning.
:func:`aggregate` reproduces that (and says so in the table's notes); the accuracy is not affected.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from editbench.protocols.base import (
    OfficialPrompt,
    OfficialScoring,
    OfficialTable,
    Protocol,
    TableRow,
    checkout_commit,
    escape_braces,
    from_format_template,
    mean_present,
    percent_of_five,
    python_strings,
    require_file,
)
from editbench.records import Criterion

REPOSITORY = "PhoenixZ810/RISEBench"
PROMPTS_FILE = "utils.py"
SCRIPT = "gpt_eval.py"
FIELDS = {"instruct": "instruction", "reference": "reference"}
# name -> (criterion, formatted by gpt_eval.py?)
PROMPTS: Mapping[str, tuple[str, bool]] = {
    "prompt_consist": ("appearance_consistency", True),
    "prompt_spatial_cons": ("appearance_consistency", True),
    "prompt_logical_cons_ans": ("appearance_consistency", True),
    "prompt_logical_cons": ("appearance_consistency", True),
    "prompt_reasoning": ("instruction_reasoning", True),
    "prompt_reasoning_w_input": ("instruction_reasoning", True),
    "prompt_spatial_ref": ("instruction_reasoning", True),
    "prompt_spatial_ref_img": ("instruction_reasoning", True),
    "prompt_spatial_ref_w_input": ("instruction_reasoning", True),
    "prompt_logical_txt": ("instruction_reasoning", True),
    "prompt_logical_img": ("instruction_reasoning", True),
    "prompt_logical_img_wo_q": ("instruction_reasoning", False),
    "prompt_generation": ("visual_plausibility", False),
    "prompt_spatial_qual": ("visual_plausibility", False),
}
CATEGORIES = ("temporal_reasoning", "causal_reasoning", "spatial_reasoning", "logical_reasoning")
THREE = ("temporal_reasoning", "causal_reasoning", "spatial_reasoning")
CRITERIA = (
    Criterion("appearance_consistency", "RISEBench consistency: what the instruction does not touch is unchanged (1-5)."),
    Criterion("instruction_reasoning", "RISEBench reasoning: the edit shows the correct reasoned outcome (1-5)."),
    Criterion("visual_plausibility", "RISEBench plausibility: the image is clear, realistic and undistorted (1-5)."),
)
LOGICAL_CRITERIA = ("appearance_consistency", "instruction_reasoning")
# gpt_eval.py's subtask_dic: main-task prefix -> subtasks, in its row order.
SUBTASKS: Mapping[str, tuple[str, ...]] = {
    "Temp": ("Life Progression", "Material Progression", "Environmental Cycles", "Societal Transformation"),
    "Causal": ("Structural Deformation", "State Transition", "Chemical and Biological Transformation", "Physics Manifestation"),
    "Spa": ("Component Assembly", "Object Arrangement", "Viewpoint Generation", "Structural Inference", "Layout Reasoning"),
    "Logic": ("Pattern Prediction", "Mathematical Derivation", "Puzzle Solving"),
}
COLUMNS = ("Score-Origin", "Score-Percentage", "Accuracy")


def load(checkout: Path) -> OfficialScoring:
    checkout = Path(checkout)
    require_file(checkout, SCRIPT, "RISEBench", REPOSITORY)
    path = require_file(checkout, PROMPTS_FILE, "RISEBench", REPOSITORY)
    strings = python_strings(path, tuple(PROMPTS))
    official = {name: _prompt(name, strings[name]) for name in PROMPTS}
    # The category prompt shows the variants an item of that category gets most often;
    # item_prompts() says which one each item gets.
    by_category = {
        "temporal_reasoning": ("prompt_consist", "prompt_reasoning", "prompt_generation"),
        "causal_reasoning": ("prompt_consist", "prompt_reasoning", "prompt_generation"),
        "spatial_reasoning": ("prompt_spatial_cons", "prompt_spatial_ref", "prompt_spatial_qual"),
        "logical_reasoning": ("prompt_logical_cons", "prompt_logical_img"),
    }
    return OfficialScoring(
        benchmark="RISEBench",
        repository=REPOSITORY,
        checkout=checkout,
        commit=checkout_commit(checkout),
        criteria=CRITERIA,
        score_min=1,
        score_max=5,
        overall="weighted_mean",
        prompts={name: tuple(official[p] for p in names) for name, names in by_category.items()}
        | {"*": tuple(official[p] for p in by_category["temporal_reasoning"])},
        category_criteria={"logical_reasoning": LOGICAL_CRITERIA},
        category_weights={
            **{name: {"appearance_consistency": 0.3, "instruction_reasoning": 0.5, "visual_plausibility": 0.2} for name in THREE},
            "logical_reasoning": {"appearance_consistency": 0.3, "instruction_reasoning": 0.7},
        },
        category_pass_rules={name: {"all_at_least": 5} for name in CATEGORIES},
        notes=("Prompt variants, images and consistency-free samples are chosen per item: see protocol.json 'items'.",),
        variants=tuple(official.values()),
    )


def _prompt(name: str, text: str) -> OfficialPrompt:
    criterion, formatted = PROMPTS[name]
    where = f"{PROMPTS_FILE}: {name}"
    body = from_format_template(text, FIELDS, where) if formatted else escape_braces(text)
    return OfficialPrompt(name, (criterion,), body, (), where)


def _present(item: Mapping[str, Any], key: str) -> bool:
    value = item.get(key)
    return value is not None and not (isinstance(value, float) and math.isnan(value))


def item_prompts(item: Mapping[str, Any], columns: Iterable[str] | None = None) -> dict[str, tuple[str, tuple[str, ...]]]:
    """criterion -> (official prompt name, images shown) for one data row, as ``eval_vanilla`` picks them.

    ``columns`` are the keys present in any row of the file (pandas makes them columns):
    ``gpt_eval.py`` tests ``'reasoning_wo_ins' in item`` against the columns, not the row.
    """
    columns = set(columns) if columns is not None else set(item)
    category = item.get("category")
    chosen: dict[str, tuple[str, tuple[str, ...]]] = {}
    first = "source"  # gpt_eval.py's img1; some variants replace it with the reference image
    if category in ("temporal_reasoning", "causal_reasoning"):
        if _present(item, "reasoning_img"):
            chosen["instruction_reasoning"] = ("prompt_reasoning_w_input", ("source", "edited"))
        else:
            chosen["instruction_reasoning"] = ("prompt_reasoning", ("edited",))
        consist, quality = "prompt_consist", "prompt_generation"
    elif category == "spatial_reasoning":
        if _present(item, "reference_img"):
            first = "reference"
            chosen["instruction_reasoning"] = ("prompt_spatial_ref_img", ("reference", "edited"))
        elif _present(item, "reasoning_img"):
            chosen["instruction_reasoning"] = ("prompt_spatial_ref_w_input", ("source", "edited"))
        else:
            chosen["instruction_reasoning"] = ("prompt_spatial_ref", ("edited",))
        consist, quality = "prompt_spatial_cons", "prompt_spatial_qual"
    elif category == "logical_reasoning":
        quality = None
        if _present(item, "reference_txt"):
            consist = "prompt_logical_cons_ans"
            chosen["instruction_reasoning"] = ("prompt_logical_txt", ("edited",))
        else:
            first = "reference"
            consist = "prompt_logical_cons"
            reasoning = "prompt_logical_img_wo_q" if "reasoning_wo_ins" in columns else "prompt_logical_img"
            chosen["instruction_reasoning"] = (reasoning, ("reference", "edited"))
    else:
        return {}
    if not _present(item, "consistency_free"):
        chosen["appearance_consistency"] = (consist, (first, "edited"))
    if quality is not None:
        chosen["visual_plausibility"] = (quality, ("edited",))
    return chosen


# --- answers -------------------------------------------------------------------------------

_FINAL = (
    re.compile(r"\*?\*?Final Score\*?\*?:?\s*([\d*\s,\n]*)", re.IGNORECASE),
    re.compile(r"\*?\*?Final Scores\*?\*?:?\s*([\d*\s,\n]*)", re.IGNORECASE),
)


def parse_answer(answer: str) -> list[int] | None:
    """The integers after ``Final Score:`` (gpt_eval.py's ``extract``); None or [] when absent."""
    for n, pattern in enumerate(_FINAL):
        matches = pattern.findall(answer)
        if not matches:
            if n == 1:
                return None
            continue
        for match in matches:
            numbers = [int(v) for v in re.findall(r"\d+", match.replace("\n", " "))]
            if numbers:
                return numbers
        if n == 1:
            return []
    return None


@dataclass(frozen=True)
class RiseSample:
    """One data row and its raw judge answers (``judge1`` consistency, ``judge2`` reasoning,
    ``judge3`` plausibility; ``judge1`` is None for consistency-free samples, ``judge3`` absent
    (None) for logical reasoning)."""

    index: str
    category: str
    judge1: str | None
    judge2: str | None
    judge3: str | None = None
    subtask: str | None = None
    consistency_free: Any = None
    fields: frozenset[str] = field(default_factory=frozenset)  # keys of the data row


@dataclass(frozen=True)
class RiseScores:
    consistency: float | None
    reasoning: float | None
    plausibility: float | None
    score: float | None
    complete: int | None


def _scores(sample: RiseSample) -> tuple[float | None, float | None, float | None]:
    if sample.judge1 is None:
        two, three = parse_answer(sample.judge2 or ""), parse_answer(sample.judge3 or "")
        values: list[Any] | None = None if not two or not three else [None, *two, *three]
    elif sample.category == "logical_reasoning" or sample.judge3 is None:
        one, two = parse_answer(sample.judge1), parse_answer(sample.judge2 or "")
        values = None if not one or not two else [*one, *two]
    else:
        one, two, three = (parse_answer(a or "") for a in (sample.judge1, sample.judge2, sample.judge3))
        values = None if not one or not two or not three else [*one, *two, *three]
    if not values:
        return None, None, None
    if len(values) == 3:
        return values[0], values[1], values[2]
    if len(values) == 2:
        return logical_to_five(values[0]), logical_to_five(values[1]), None
    # gpt_eval.py appends nothing here and then fails on mismatched column lengths.
    raise ValueError(f"sample {sample.index}: answers hold {len(values)} scores, gpt_eval.py cannot use them")


def logical_to_five(value: float) -> float:
    """A logical-reasoning answer (0 or 1; ``gpt_eval.py`` caps anything higher at 1) on the 1-5
    scale of the other categories. Both the table and protocol-mode judging read it this way."""
    return 4 * min(value, 1) + 1


def score_sample(sample: RiseSample, consistency_free_column: bool) -> RiseScores:
    """``calculate_score`` and ``calculate_completion`` for one sample."""
    consistency, reasoning, plausibility = _scores(sample)
    flagged = _present({"v": sample.consistency_free}, "v")
    # calculate_score: `'consistency_free' in row and row['consistency_free']`; a NaN is truthy.
    free_for_score = consistency_free_column and (sample.consistency_free is None or bool(sample.consistency_free))
    if sample.category in THREE:
        if free_for_score:
            score = _weighted(((0.2, plausibility), (0.8, reasoning)))
        else:
            score = _weighted(((0.3, consistency), (0.5, reasoning), (0.2, plausibility)))
        if flagged:
            complete = int(reasoning == 5 and plausibility == 5)
        else:
            complete = int(consistency == 5 and reasoning == 5 and plausibility == 5)
    elif sample.category == "logical_reasoning":
        score = _weighted(((0.3, consistency), (0.7, reasoning)))
        complete = int(consistency == 5 and reasoning == 5)
    else:
        raise ValueError(f"sample {sample.index}: unknown category {sample.category!r}")
    if score is not None and reasoning == 1:
        score = max(score * 0.5, 1)
    return RiseScores(consistency, reasoning, plausibility, score, complete)


def _weighted(terms: tuple[tuple[float, float | None], ...]) -> float | None:
    total = 0.0
    for weight, value in terms:
        if value is None:
            return None
        total += weight * value
    return total


def aggregate(samples: Iterable[RiseSample]) -> OfficialTable:
    """``gpt_eval.py``'s score table: rows Overall, Temporal, Causal, Spatial, Logical, the
    per-dimension averages, per-category dimensions, then one row per subtask present."""
    samples = list(samples)
    column = any("consistency_free" in s.fields or s.consistency_free is not None for s in samples)
    scored = [(s, score_sample(s, column)) for s in samples]

    def summary(name: str, rows: list[tuple[RiseSample, RiseScores]], accuracy: bool = True) -> TableRow:
        score = mean_present(r.score for _, r in rows)
        acc = mean_present(r.complete for _, r in rows) if accuracy else None
        return TableRow(name, {"Score-Origin": score, "Score-Percentage": percent_of_five(score), "Accuracy": acc}, len(rows))

    def dimension(name: str, rows: list[tuple[RiseSample, RiseScores]], attribute: str) -> TableRow:
        value = mean_present(getattr(r, attribute) for _, r in rows)
        return TableRow(name, {"Score-Origin": value, "Score-Percentage": percent_of_five(value), "Accuracy": None}, len(rows))

    def of(category: str) -> list[tuple[RiseSample, RiseScores]]:
        return [pair for pair in scored if pair[0].category == category]

    rows = [summary("Overall", scored)]
    for label, category in (
        ("Temporal", "temporal_reasoning"),
        ("Causal", "causal_reasoning"),
        ("Spatial", "spatial_reasoning"),
        ("Logical", "logical_reasoning"),
    ):
        rows.append(summary(label, of(category)))
    rows += [
        dimension("Overall_Reasoning", scored, "reasoning"),
        dimension("Overall_ApprConsistency", scored, "consistency"),
        dimension("Overall_VisualPlausibility_total", scored, "plausibility"),
    ]
    for label, category in (
        ("Temporal", "temporal_reasoning"),
        ("Causal", "causal_reasoning"),
        ("Spatial", "spatial_reasoning"),
        ("Logical", "logical_reasoning"),
    ):
        rows.append(dimension(f"{label}_Reasoning", of(category), "reasoning"))
        rows.append(dimension(f"{label}_Consistency", of(category), "consistency"))
        if category != "logical_reasoning":
            rows.append(dimension(f"{label}_Quality", of(category), "plausibility"))
    for prefix, subtasks in SUBTASKS.items():
        for subtask in subtasks:
            members = [pair for pair in scored if pair[0].subtask == subtask]
            if members:
                rows.append(summary(f"{prefix}-{subtask}", members))
    notes = ["Score-Percentage = 25*(score-1); Accuracy = share of samples with full marks on every dimension they have."]
    if column:
        notes.append(
            "The data has a consistency_free field, so (as gpt_eval.py) every temporal/causal/spatial "
            "sample is scored 0.2*plausibility + 0.8*reasoning."
        )
    return OfficialTable("RISEBench", COLUMNS, {"scores": tuple(rows)}, notes=tuple(notes))


def item_choices(samples: list[Any]) -> dict[str, dict[str, dict[str, Any]]]:
    """item id -> criterion -> {prompt, images} for every row of a RISEBench data file."""
    rows = [s for s in samples if isinstance(s, dict) and s.get("index") is not None]
    columns = {key for row in rows for key in row}
    return {
        str(row["index"]).strip(): {
            criterion: {"prompt": name, "images": list(images)} for criterion, (name, images) in item_prompts(row, columns).items()
        }
        for row in rows
    }


PROTOCOL = Protocol(
    kind="rise",
    benchmark="RISEBench",
    repository=REPOSITORY,
    files=(SCRIPT, PROMPTS_FILE),
    load=load,
    aggregate=aggregate,
    scripts=(SCRIPT,),
)
