"""Official protocol mode for the judge: which official questions an item is asked, and how each
answer is read (and, for simulated judges, written) in the benchmark's own format.

The worker turns a benchmark's ``protocol.json`` (kept in the ledger, prompt texts inlined) into
plain data and two functions per item, so judge adapters ask the official questions without
knowing any benchmark: :func:`item_questions` and :func:`answer_parser`/:func:`answer_writer`.
The parsers are this package's official ones (``gedit.parse_answer``, ``kris.parse_score`` /
``parse_dual``, ``rise.parse_answer``, ImgEdit's ``<name>: <digits>`` lines).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from editbench.protocols import gedit, kris, rise
from editbench.protocols.base import slug

Parser = Callable[[str, str], dict[str, float | None]]
Writer = Callable[[str, Mapping[str, int]], str]


@dataclass(frozen=True)
class Question:
    """One official question for one item: its template text and version, what it scores and shows."""

    name: str
    text: str
    version: str
    criteria: tuple[str, ...]
    images: tuple[str, ...]


def item_questions(
    protocol: Mapping[str, Any], category: str, item_id: str, criteria: tuple[str, ...]
) -> tuple[tuple[Question, ...], tuple[str, ...]]:
    """(the official questions asked for this item, criteria of ``criteria`` it does not ask).

    Per-item choices (RISEBench's ``items``: criterion -> prompt variant and images) win over the
    category's prompts (``categories[category]``, else ``categories["*"]``)."""
    prompts = protocol.get("prompts") or {}
    chosen = (protocol.get("items") or {}).get(item_id)
    questions: list[Question] = []
    if chosen is not None:
        by_prompt: dict[tuple[str, tuple[str, ...]], list[str]] = {}
        for criterion, choice in chosen.items():
            if criterion in criteria:
                by_prompt.setdefault((choice["prompt"], tuple(choice["images"])), []).append(criterion)
        for (name, images), scored in by_prompt.items():
            questions.append(_question(name, prompts[name], tuple(scored), images))
    else:
        categories = protocol.get("categories") or {}
        for name in categories.get(category) or categories.get("*") or ():
            entry = prompts[name]
            asked_here = tuple(c for c in entry["criteria"] if c in criteria)
            if asked_here:
                questions.append(_question(name, entry, asked_here, tuple(entry["images"])))
    asked = {c for q in questions for c in q.criteria}
    return tuple(questions), tuple(c for c in criteria if c not in asked)


def _question(name: str, entry: Mapping[str, Any], criteria: tuple[str, ...], images: tuple[str, ...]) -> Question:
    text = str(entry["text"])
    return Question(name, text, hashlib.sha256(text.encode("utf-8")).hexdigest()[:16], criteria, images)


# --- reading answers ---------------------------------------------------------------------------


def answer_parser(kind: str, category: str, questions: tuple[Question, ...]) -> Parser:
    """``parse(question name, answer) -> {criterion: score or None}`` by the official rules."""
    scored = {q.name: q.criteria for q in questions}

    def parse(name: str, answer: str) -> dict[str, float | None]:
        criteria = scored.get(name, ())
        if kind == "gedit":
            values = gedit.parse_answer(answer)
            value = float(min(values)) if values else None
            return dict.fromkeys(criteria, value)
        if kind == "kris":
            return _kris(name, answer, category)
        if kind == "rise":
            values = rise.parse_answer(answer)
            if not values:
                return dict.fromkeys(criteria, None)
            value = float(values[0])
            if category == "logical_reasoning":
                value = rise.logical_to_five(value)  # gpt_eval.py: logical answers are 0/1
            return dict.fromkeys(criteria, value)
        if kind == "imgedit":
            lines = {}
            for line in answer.splitlines():
                parts = line.strip().split(": ")
                if len(parts) == 2 and parts[1].isdigit():
                    lines[slug(parts[0])] = float(parts[1])
            return {c: lines.get(c) for c in criteria}
        raise ValueError(f"no official answer parser for {kind!r}")

    return parse


def _kris(name: str, answer: str, category: str) -> dict[str, float | None]:
    knowledge_script = category in kris.KNOWLEDGE_CATEGORIES
    if name == "prompt_dual_evaluation":
        instruction, knowledge = kris.parse_dual(answer)
        return {"instruction_following": _f(instruction), "knowledge_plausibility": _f(knowledge)}
    if name == "prompt_consist":
        return {"visual_consistency": _f(kris.parse_score(answer, "consistency_score", knowledge_script=knowledge_script))}
    if name == "prompt_quality":
        return {"visual_quality": _f(kris.parse_score(answer, "quality_score", knowledge_script=knowledge_script))}
    return {"instruction_following": _f(kris.parse_score(answer, "instruction_score"))}


def _f(value: int | None) -> float | None:
    return None if value is None else float(value)


# --- writing answers (simulated judges) ----------------------------------------------------------


def answer_writer(kind: str, category: str) -> Writer:
    """``write(question name, {criterion: score}) -> an answer in the official format``, so a
    simulated judge exercises the official parser like a model's answer would."""

    def write(name: str, scores: Mapping[str, int]) -> str:
        values = list(scores.values())
        if kind == "gedit":
            return json.dumps({"score": [values[0], values[0]], "reasoning": "simulated"})
        if kind == "kris":
            keys = {
                "prompt_consist": ("consistency_score",),
                "prompt_quality": ("quality_score",),
                "prompt_dual_evaluation": ("instruction_score", "knowledge_score"),
            }.get(name, ("instruction_score",))
            return json.dumps({**dict(zip(keys, values, strict=False)), "reasoning": "simulated"})
        if kind == "rise":
            value = int(values[0] >= 3) if category == "logical_reasoning" else values[0]
            return f"Reasoning: simulated.\nFinal Score: {value}"
        if kind == "imgedit":
            return "\n".join(f"{criterion}: {value}" for criterion, value in scores.items())
        raise ValueError(f"no official answer format for {kind!r}")

    return write
