"""KRIS-Bench's official protocol: its judge prompts (mercurystraw/Kris_Bench) and its table.

Prompts: the ``prompts`` module that ``metrics_common.py`` imports (``ReasonEdit/prompts.py``,
``utils/prompts.py`` or ``prompts.py`` depending on the repository version; the loader follows the
import). Per category the scripts ask (source and edited image unless noted):

- every category: ``prompt_consist`` (visual consistency) and ``prompt_quality`` (visual quality,
  edited image only);
- ``metrics_common.py`` categories: ``prompt_instruction_following``;
- ``metrics_knowledge.py`` categories: ``prompt_dual_evaluation``, one answer with instruction
  following *and* knowledge plausibility, judged against the answer key (``explain_en``);
- ``viewpoint_change`` (``metrics_view_change.py``): ``prompt_view_instruction_following`` with the
  ground-truth image as a third image.

Answers are parsed as the scripts do (a JSON object holding ``<dimension>_score``, else the
``<dimension> score: n`` / ``n/5`` / ``n out of 5`` / lone digit patterns). The repository ships
no aggregation script; the table averages each dimension per category and per knowledge type of
the paper's taxonomy, and also reports it on the paper's 0-100 scale, (score - 1) * 25.
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from editbench.protocols.base import (
    OfficialPrompt,
    OfficialRepoError,
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

REPOSITORY = "mercurystraw/Kris_Bench"
SCRIPT = "metrics_common.py"
SCRIPTS = (SCRIPT, "metrics_knowledge.py", "metrics_view_change.py")
PROMPT_MODULE_CANDIDATES = ("ReasonEdit/prompts.py", "utils/prompts.py", "prompts.py")
PROMPT_NAMES = (
    "prompt_consist",
    "prompt_quality",
    "prompt_instruction_following",
    "prompt_dual_evaluation",
    "prompt_view_instruction_following",
)
FIELDS = {"instruct": "instruction", "explanation": "reference"}

DIMENSIONS = ("visual_consistency", "visual_quality", "instruction_following", "knowledge_plausibility")
CRITERIA = (
    Criterion("visual_consistency", "KRIS consistency_score: parts the instruction leaves alone are unchanged (1-5)."),
    Criterion("visual_quality", "KRIS quality_score: the edited image is natural and free of artifacts (1-5)."),
    Criterion("instruction_following", "KRIS instruction_score: the edit does what the instruction asks (1-5)."),
    Criterion("knowledge_plausibility", "KRIS knowledge_score: the result agrees with the knowledge hint (1-5)."),
)
WITHOUT_KNOWLEDGE = ("visual_consistency", "visual_quality", "instruction_following")

# Category folders of the released data, by the script that scores them.
COMMON_CATEGORIES = (
    "count_change",
    "color_change",
    "anomaly_correction",
    "position_movement",
    "size_adjustment",
    "part_completion",
    "multi-instruction_execution",
)
KNOWLEDGE_CATEGORIES = (
    "abstract_reasoning",
    "mathematics",
    "practical_knowledge",
    "medicine",
    "rule-based_reasoning",
    "biology",
    "geography",
    "chemistry",
    "humanities",
    "physics",
)
VIEW_CATEGORY = "viewpoint_change"
# The paper's taxonomy: knowledge type -> reasoning dimension -> category folders.
TAXONOMY: Mapping[str, Mapping[str, tuple[str, ...]]] = {
    "Factual Knowledge": {
        "Attribute Perception": ("count_change", "color_change", "size_adjustment", "part_completion", "anomaly_correction"),
        "Spatial Perception": ("position_movement", "viewpoint_change"),
        "Temporal Prediction": ("temporal_prediction",),
    },
    "Conceptual Knowledge": {
        "Social Science": ("practical_knowledge", "humanities"),
        "Natural Science": ("biology", "chemistry", "geography", "mathematics", "medicine", "physics"),
    },
    "Procedural Knowledge": {
        "Logical Reasoning": ("abstract_reasoning", "rule-based_reasoning"),
        "Instruction Decomposition": ("multi-instruction_execution", "multi-element_composition"),
    },
}
# metrics.json keys per dimension
SCORE_KEYS = {
    "visual_consistency": "consistency_score",
    "visual_quality": "quality_score",
    "instruction_following": "instruction_score",
    "knowledge_plausibility": "knowledge_score",
}


def prompt_module(checkout: Path) -> Path:
    """The prompts file ``metrics_common.py`` imports, in this checkout."""
    script = require_file(checkout, SCRIPT, "KRIS-Bench", REPOSITORY)
    try:
        tree = ast.parse(script.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, SyntaxError) as exc:
        raise OfficialRepoError(f"cannot read {script}: {exc}") from exc
    imported = [
        node.module.replace(".", "/") + ".py"
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[-1] == "prompts"
    ]
    for relative in (*imported, *PROMPT_MODULE_CANDIDATES):
        if (checkout / relative).is_file():
            return checkout / relative
    wanted = imported[0] if imported else PROMPT_MODULE_CANDIDATES[0]
    raise OfficialRepoError(
        f"{wanted} not found in {checkout}: {SCRIPT} imports its judge prompts from it; is this a complete checkout of {REPOSITORY}?"
    )


def load(checkout: Path) -> OfficialScoring:
    checkout = Path(checkout)
    path = prompt_module(checkout)
    strings = python_strings(path, PROMPT_NAMES)
    origin = path.relative_to(checkout).as_posix()

    def prompt(name: str, criteria: tuple[str, ...], images: tuple[str, ...], formatted: bool = True) -> OfficialPrompt:
        # The scripts send prompt_quality without .format(), so its braces reach the judge as written.
        raw = strings[name]
        text = from_format_template(raw, FIELDS, f"{origin}: {name}") if formatted else escape_braces(raw)
        return OfficialPrompt(name, criteria, text, images, f"{origin}: {name}")

    consist = prompt("prompt_consist", ("visual_consistency",), ("source", "edited"))
    quality = prompt("prompt_quality", ("visual_quality",), ("edited",), formatted=False)
    common = prompt("prompt_instruction_following", ("instruction_following",), ("source", "edited"))
    dual = prompt("prompt_dual_evaluation", ("instruction_following", "knowledge_plausibility"), ("source", "edited"))
    view = prompt("prompt_view_instruction_following", ("instruction_following",), ("source", "edited", "reference"))
    prompts: dict[str, tuple[OfficialPrompt, ...]] = {"*": (consist, common, quality)}
    prompts.update({name: (consist, dual, quality) for name in KNOWLEDGE_CATEGORIES})
    prompts[VIEW_CATEGORY] = (consist, view, quality)
    category_criteria = {name: WITHOUT_KNOWLEDGE for name in (*COMMON_CATEGORIES, VIEW_CATEGORY)}
    return OfficialScoring(
        benchmark="KRIS-Bench",
        repository=REPOSITORY,
        checkout=checkout,
        commit=checkout_commit(checkout),
        criteria=CRITERIA,
        score_min=1,
        score_max=5,
        overall="weighted_mean",
        prompts=prompts,
        category_criteria=category_criteria,
        notes=(
            (
                "metrics_common.py uses prompt_abnormal_instruction_following only for a category named "
                "'abnormality_correction', which the released data does not have: anomaly_correction is "
                "asked prompt_instruction_following, as the script does."
            ),
        ),
    )


# --- answers -------------------------------------------------------------------------------

_DEFAULT_PATTERNS = (r"([1-5])\s*/\s*5", r"([1-5])\s+out\s+of\s+5", r"\b([1-5])\b")
_PREFIX = {
    "consistency_score": r"consistency[_\s]*score\s*[:：]?\s*([1-5])",
    "instruction_score": r"instruction[_\s]*score\s*[:：]?\s*([1-5])",
    "quality_score": r"quality[_\s]*score\s*[:：]?\s*([1-5])",
}


def _json_object(answer: str, key: str) -> dict[str, Any] | None:
    """The first brace-delimited object (no nested braces) that mentions ``key``, as the scripts'
    extractors find it; None when there is none or it is not valid JSON."""
    match = re.search(r"\{[^{}]*" + re.escape(key) + r"[^{}]*\}", answer, re.DOTALL)
    if not match:
        return None
    try:
        data = json.loads(match.group(0))
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def _json_field(answer: str, key: str) -> int | None:
    data = _json_object(answer, key)
    if data is None:
        return None
    try:
        value = data.get(key)
        return int(value) if value is not None else None
    except (ValueError, TypeError):
        return None


def parse_score(answer: str, key: str, *, knowledge_script: bool = False) -> int | None:
    """``consistency_score``, ``instruction_score`` or ``quality_score`` from one answer.

    ``metrics_common.py`` (and the viewpoint script) accept ``consistency score 4`` without a
    colon; ``metrics_knowledge.py``'s own extractors require the colon and otherwise fall back
    to ``n/5``, ``n out of 5`` and the first lone digit 1-5, so the same answer can read
    differently in a knowledge category. ``knowledge_script`` picks the latter.
    """
    value = _json_field(answer, key)
    if value is not None:
        return value
    prefix = _PREFIX[key].replace("[:：]?", "[:：]") if knowledge_script else _PREFIX[key]
    for pattern in (prefix, *_DEFAULT_PATTERNS):
        match = re.search(pattern, answer, re.IGNORECASE | re.DOTALL)
        if match:
            return int(match.group(1))
    return None


def parse_dual(answer: str) -> tuple[int | None, int | None]:
    """(instruction_score, knowledge_score) from a ``prompt_dual_evaluation`` answer
    (``metrics_knowledge.extract_dual_scores``)."""
    data = _json_object(answer, "instruction_score")
    if data is not None:
        try:
            instruction, knowledge = data.get("instruction_score"), data.get("knowledge_score")
            return (
                int(instruction) if instruction is not None else None,
                int(knowledge) if knowledge is not None else None,
            )
        except (ValueError, TypeError):
            pass
    found = []
    for name in ("instruction", "knowledge"):
        m = re.search(name + r"[_\s]*score\s*[:：]\s*([1-5])", answer, re.IGNORECASE)
        found.append(int(m.group(1)) if m else None)
    return found[0], found[1]


@dataclass(frozen=True)
class KrisSample:
    """One judged sample as a ``metrics.json`` record holds it (None: not asked or unparsed)."""

    category: str
    id: str
    visual_consistency: int | None
    visual_quality: int | None
    instruction_following: int | None
    knowledge_plausibility: int | None = None


def sample_from_answers(category: str, sample_id: str, answers: Mapping[str, str]) -> KrisSample:
    """A sample from raw answers keyed by prompt name (``prompt_consist``, ``prompt_quality``,
    ``prompt_instruction_following`` / ``prompt_view_instruction_following`` / ``prompt_dual_evaluation``)."""
    knowledge = None
    if "prompt_dual_evaluation" in answers:
        instruction, knowledge = parse_dual(answers["prompt_dual_evaluation"])
    else:
        text = answers.get("prompt_instruction_following", answers.get("prompt_view_instruction_following"))
        instruction = parse_score(text, "instruction_score") if text is not None else None
    knowledge_script = category in KNOWLEDGE_CATEGORIES
    return KrisSample(
        category,
        sample_id,
        parse_score(answers["prompt_consist"], "consistency_score", knowledge_script=knowledge_script)
        if "prompt_consist" in answers
        else None,
        parse_score(answers["prompt_quality"], "quality_score", knowledge_script=knowledge_script) if "prompt_quality" in answers else None,
        instruction,
        knowledge,
    )


def samples_from_metrics(results: Path) -> list[KrisSample]:
    """The samples of a KRIS ``results/<model>`` folder: ``<category>/metrics.json`` as the scripts write it."""
    samples = []
    for path in sorted(Path(results).glob("*/metrics.json")):
        records = json.loads(path.read_text(encoding="utf-8"))
        for sample_id, record in records.items():
            samples.append(KrisSample(path.parent.name, str(sample_id), *(record.get(SCORE_KEYS[d]) for d in DIMENSIONS)))
    return samples


# --- the table ----------------------------------------------------------------------------


def aggregate(samples: Iterable[KrisSample]) -> OfficialTable:
    """Per category, per reasoning dimension and per knowledge type: the mean of each dimension
    (1-5) over the samples that have it, and the same on 0-100. Section ``categories`` has one row
    per category, ``dimensions`` one per reasoning dimension of the taxonomy, ``knowledge_types``
    one per knowledge type plus ``Overall``."""
    samples = list(samples)
    columns = (*DIMENSIONS, *(f"{d}_100" for d in DIMENSIONS))
    categories = sorted({s.category for s in samples})
    sections = {
        "categories": tuple(_row(name, [s for s in samples if s.category == name]) for name in categories),
        "dimensions": tuple(
            _row(dimension, [s for s in samples if s.category in folders])
            for groups in TAXONOMY.values()
            for dimension, folders in groups.items()
        ),
        "knowledge_types": (
            *(_row(kind, [s for s in samples if any(s.category in f for f in groups.values())]) for kind, groups in TAXONOMY.items()),
            _row("Overall", samples),
        ),
    }
    return OfficialTable(
        "KRIS-Bench",
        columns,
        sections,
        notes=(
            "Means over the samples that have the dimension (knowledge plausibility: knowledge categories only).",
            "KRIS-Bench's repository ships no aggregation script; the grouping is the paper's taxonomy.",
        ),
    )


def _row(group: str, samples: list[KrisSample]) -> TableRow:
    values: dict[str, float | None] = {}
    for dimension in DIMENSIONS:
        values[dimension] = mean_present(getattr(s, dimension) for s in samples)
        values[f"{dimension}_100"] = percent_of_five(values[dimension])
    return TableRow(group, values, len(samples))


PROTOCOL = Protocol(
    kind="kris",
    benchmark="KRIS-Bench",
    repository=REPOSITORY,
    files=(SCRIPT, PROMPT_MODULE_CANDIDATES[0]),
    load=load,
    aggregate=aggregate,
    scripts=SCRIPTS,
)
