"""Scores from next-token probabilities: a single-digit answer scale mapped onto the rubric's.

In Qwen tokenizers every digit is its own token ("10" is two tokens), so the only scale that a
*single* forward pass can read without decoding is 0–9. The judge is asked for one digit; the
ten digit probabilities at the answer position are renormalised (conditioning on "the answer is
a digit"), their expectation ``E`` in [0, 9] is mapped linearly onto the rubric's scale,
``scale_min + E / 9 * (scale_max - scale_min)``, and the confidence is ``1 - H / ln 10`` (0 for
a uniform distribution, 1 for a certain one). How much probability the model put on digits at
all is reported separately: a low value means it wanted to say something else.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

DIGITS = tuple(str(d) for d in range(10))


@dataclass(frozen=True)
class DigitScore:
    score: float
    expected_digit: float
    confidence: float
    max_probability: float
    digit_probabilities: tuple[float, ...]


def score_from_digit_probabilities(probs: Sequence[float], scale_min: float, scale_max: float) -> DigitScore:
    """Map renormalised probabilities of the answers 0..9 onto [scale_min, scale_max]."""
    if len(probs) != len(DIGITS):
        raise ValueError(f"need {len(DIGITS)} digit probabilities, got {len(probs)}")
    total = float(sum(probs))
    normalised = tuple(float(p) / total for p in probs)
    expected = sum(d * p for d, p in enumerate(normalised))
    entropy = -sum(p * math.log(p) for p in normalised if p > 0.0)
    return DigitScore(
        score=scale_min + expected / 9.0 * (scale_max - scale_min),
        expected_digit=expected,
        confidence=max(0.0, 1.0 - entropy / math.log(len(DIGITS))),
        max_probability=max(normalised),
        digit_probabilities=normalised,
    )
