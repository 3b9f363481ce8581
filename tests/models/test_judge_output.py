"""The judge-output parser: exactly one JSON object, never an invented number."""

from __future__ import annotations

import pytest

from editbench.models.base import Outcome
from editbench.models.digit_scale import score_from_digit_probabilities
from editbench.models.judge_output import ParsedScores, ParseFailure, parse_judge_output

CRITERIA = ["semantic_consistency", "perceptual_quality"]
VALID = '{"scores": {"semantic_consistency": 7, "perceptual_quality": 8.5}, "reasoning": "Sky is blue."}'


def parse(text: str) -> ParsedScores | ParseFailure:
    return parse_judge_output(text, CRITERIA, 0, 10)


@pytest.mark.parametrize(
    "text",
    [
        VALID,
        f"```json\n{VALID}\n```",
        f'<think>The sky... maybe 3? {{"x": 1}}</think>\n{VALID}',
        f"Hmm, let me look closely.</think>\n\n```\n{VALID}\n```",
        '{"scores": {"semantic_consistency": "7", "perceptual_quality": 8.5, "extra": 1}, "reasoning": "Sky is blue."}',
    ],
)
def test_valid_answers_parse(text: str) -> None:
    parsed = parse(text)
    assert isinstance(parsed, ParsedScores)
    assert parsed.scores == {"semantic_consistency": 7.0, "perceptual_quality": 8.5}
    assert parsed.reasoning == "Sky is blue."


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "empty"),
        ("7/10", "exactly one JSON object"),
        ("The edit looks good, I'd say 8.", "exactly one JSON object"),
        (f"{VALID}\n{VALID}", "text after the JSON object"),
        (f"Here you go: {VALID}", "exactly one JSON object"),
        ('{"scores": {"semantic_consistency": 7}}', "missing score(s) for perceptual_quality"),
        ('{"scores": {"semantic_consistency": 11, "perceptual_quality": 5}}', "outside 0..10"),
        ('{"scores": {"semantic_consistency": -1, "perceptual_quality": 5}}', "outside 0..10"),
        ('{"scores": {"semantic_consistency": "high", "perceptual_quality": 5}}', "not a number"),
        ('{"scores": {"semantic_consistency": true, "perceptual_quality": 5}}', "not a number"),
        ('{"scores": {"semantic_consistency": NaN, "perceptual_quality": 5}}', "not a number"),
        (
            '{"scores": {"semantic_consistency": 1, "semantic_consistency": 2, "perceptual_quality": 5}}',
            "duplicate key",
        ),
        ('{"scores": [7, 8]}', '"scores" object'),
        ('{"scores": {"semantic_consistency": 7, "perceptual_quality": 8}', "invalid JSON"),
        (f"<think>long thoughts that were cut off {VALID}", "unterminated <think>"),
    ],
)
def test_garbage_and_invalid_answers_are_parse_errors_with_a_reason(text: str, reason: str) -> None:
    parsed = parse(text)
    assert isinstance(parsed, ParseFailure)
    assert parsed.outcome is Outcome.PARSE_ERROR
    assert reason in parsed.reason


@pytest.mark.parametrize(
    "text",
    [
        "I can't help with that request.",
        "I cannot evaluate images of real people.",
        "I’m sorry, but I won’t rate this.",
        "<think>policy...</think>I am unable to assist with this.",
    ],
)
def test_refusals_are_recognised(text: str) -> None:
    parsed = parse(text)
    assert isinstance(parsed, ParseFailure) and parsed.outcome is Outcome.REFUSAL


def test_json_mentioning_inability_is_still_a_valid_answer() -> None:
    text = '{"scores": {"semantic_consistency": 2, "perceptual_quality": 6}, "reasoning": "I cannot see a hat."}'
    assert isinstance(parse(text), ParsedScores)


def test_digit_probabilities_map_linearly_onto_the_rubric_scale() -> None:
    certain_nine = score_from_digit_probabilities([0] * 9 + [1], 1, 5)
    assert certain_nine.score == 5 and certain_nine.confidence == pytest.approx(1.0)
    certain_zero = score_from_digit_probabilities([2] + [0] * 9, 0, 10)  # unnormalised input
    assert certain_zero.score == 0 and certain_zero.max_probability == 1.0
    uniform = score_from_digit_probabilities([0.1] * 10, 0, 10)
    assert uniform.score == pytest.approx(5.0) and uniform.confidence == pytest.approx(0.0, abs=1e-12)


def test_the_judge_sees_extra_input_images_labelled_between_source_and_edited() -> None:
    from PIL import Image

    from editbench.models.base import InputImage, JudgePrompt, JudgeRequest
    from editbench.models.judge_prompt import ImageBudget, generate_conversation
    from editbench.records import Criterion

    source, edited, frame = (Image.new("RGB", (8, 8), c) for c in ("red", "green", "blue"))
    request = JudgeRequest(
        key="1",
        source_image=source,
        edited_image=edited,
        instruction="Predict frame 1.",
        prompt=JudgePrompt("Score {criterion}.", "v1"),
        criteria=(Criterion("quality", "q"),),
        extra_images=(InputImage("frame 3", frame), Image.new("RGB", (8, 8), "white")),
    )
    content = generate_conversation(request, ImageBudget(None))[0]["content"]
    texts = [part["text"] for part in content if part["type"] == "text"]
    assert texts[:4] == [
        "Source image (before the edit):",
        "Additional input image given to the editor after the source (frame 3):",
        "Additional input image given to the editor after the source (image 3):",
        "Edited image (after the edit):",
    ]
    images = [part["image"].getpixel((0, 0)) for part in content if part["type"] == "image"]
    assert images == [(255, 0, 0), (0, 0, 255), (255, 255, 255), (0, 128, 0)]
