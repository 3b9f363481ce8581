"""Turn a judge's generated text into scores, or into an explicit failure. Never invent a number.

Existing edit benchmarks impute unparseable judge output (a random score, 0.0, the first digit
anywhere in the text). Here the contract is narrow: after removing ``<think>…</think>`` blocks
and one Markdown code fence, the text must be exactly one JSON object
``{"scores": {"<criterion>": n, ...}, "reasoning": "..."}`` covering every requested criterion
with a number inside the scale. Anything else is a :class:`ParseFailure` with a reason the
adapter can feed back to the model when it re-asks; text that fails *and* reads like a refusal
is classified as a refusal instead.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from editbench.models.base import Outcome

_THINK_BLOCK = re.compile(r"<think>.*?</think>", re.DOTALL | re.IGNORECASE)
_FENCE = re.compile(r"^```[A-Za-z0-9_-]*[ \t]*\n?(.*?)\n?[ \t]*```$", re.DOTALL)
_REFUSAL = re.compile(
    r"\bI\s*(?:can(?:no|'|’)t|cannot|can not|won(?:'|’)t|will not|am unable to|(?:'|’)m unable to|"
    r"am not able to|(?:'|’)m not able to|must decline|refuse)\b"
    r"|\bI(?:'|’)m sorry\b|\bI am sorry\b|\bas an AI\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class ParsedScores:
    """A valid answer: one score per requested criterion, plus the judge's reasoning if given."""

    scores: dict[str, float]
    reasoning: str | None


@dataclass(frozen=True)
class ParseFailure:
    """Why the text was not accepted; ``outcome`` is PARSE_ERROR or REFUSAL."""

    outcome: Outcome
    reason: str


class _DuplicateKey(ValueError):
    pass


def parse_judge_output(text: str, criteria: Sequence[str], scale_min: float, scale_max: float) -> ParsedScores | ParseFailure:
    """Parse ``text`` strictly; see the module docstring for what is accepted."""
    body, problem = _strip_wrappers(text)
    if problem is None:
        obj, problem = _single_json_object(body)
    if problem is not None:
        if looks_like_refusal(body if body else text):
            return ParseFailure(Outcome.REFUSAL, "the judge refused")
        return ParseFailure(Outcome.PARSE_ERROR, problem)
    return _validate(obj, criteria, scale_min, scale_max)


def looks_like_refusal(text: str) -> bool:
    """True for answers such as "I can't help with that" (checked only when parsing failed)."""
    return bool(_REFUSAL.search(text))


def _strip_wrappers(text: str) -> tuple[str, str | None]:
    body = _THINK_BLOCK.sub("", text)
    if "</think>" in body.lower():
        # Thinking templates open <think> inside the prompt, so the answer holds only the close.
        body = body[body.lower().rindex("</think>") + len("</think>") :]
    if "<think>" in body.lower():
        return body, "unterminated <think> block (was the output cut off by max_new_tokens?)"
    body = body.strip()
    fenced = _FENCE.match(body)
    if fenced:
        body = fenced.group(1).strip()
    return body, None


def _single_json_object(body: str) -> tuple[Any, str | None]:
    if not body:
        return None, "empty answer"
    if not body.startswith("{"):
        return None, "the answer must be exactly one JSON object and nothing else"
    try:
        obj, end = json.JSONDecoder(object_pairs_hook=_no_duplicates).raw_decode(body)
    except _DuplicateKey as exc:
        return None, f"duplicate key {exc} in the JSON object"
    except json.JSONDecodeError as exc:
        return None, f"invalid JSON: {exc.msg} at character {exc.pos}"
    if body[end:].strip():
        return None, "text after the JSON object; answer with exactly one JSON object"
    return obj, None


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise _DuplicateKey(repr(key))
        result[key] = value
    return result


def _validate(obj: Any, criteria: Sequence[str], scale_min: float, scale_max: float) -> ParsedScores | ParseFailure:
    scores = obj.get("scores") if isinstance(obj, dict) else None
    if not isinstance(scores, dict):
        return ParseFailure(Outcome.PARSE_ERROR, 'the JSON object needs a "scores" object')
    missing = [name for name in criteria if name not in scores]
    if missing:
        return ParseFailure(Outcome.PARSE_ERROR, f"missing score(s) for {', '.join(missing)}")
    parsed: dict[str, float] = {}
    for name in criteria:
        value = _number(scores[name])
        if value is None:
            return ParseFailure(Outcome.PARSE_ERROR, f"score for {name} is not a number: {scores[name]!r}")
        if not scale_min <= value <= scale_max:
            return ParseFailure(Outcome.PARSE_ERROR, f"score for {name} is {value:g}, outside {scale_min:g}..{scale_max:g}")
        parsed[name] = value
    reasoning = obj.get("reasoning")
    return ParsedScores(parsed, reasoning if isinstance(reasoning, str) else None)


def _number(value: Any) -> float | None:
    """A finite number, or a string holding exactly one (models often quote numbers)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        try:
            value = float(value.strip())
        except ValueError:
            return None
    if isinstance(value, int | float) and math.isfinite(value):
        return float(value)
    return None
