"""Chat conversations for VLM judges, built from a benchmark's rubric template.

The rubric (``JudgeRequest.prompt``) belongs to the benchmark and is versioned there. What this
module adds belongs to the adapter: labels that say which image is which, and the answer-format
instruction its parser relies on. That added text is versioned too (``PROMPT_FORMAT_VERSION``,
a hash of the constants below), and both versions are recorded with every score, so a wording
change on either side is visible in results.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from PIL import Image

from editbench.errors import ParamError, PromptTemplateError
from editbench.models.base import (
    Criterion,
    CriterionScore,
    JudgeRequest,
    JudgeResult,
    Outcome,
    ProtocolQuestion,
)

SOURCE_LABEL = "Source image (before the edit):"
EDITED_LABEL = "Edited image (after the edit):"
REFERENCE_LABEL = "Reference image (what a correct edit could look like):"
EXTRA_LABEL = "Additional input image given to the editor after the source (LABEL):"
NO_REFERENCE = "(none)"
GENERATE_FORMAT = (
    "\n\nAnswer with exactly one JSON object and nothing else, in this form:\n"
    '{"scores": {SCORES}, "reasoning": "<one or two sentences>"}\n'
    "Every score is a number from SCALE_MIN to SCALE_MAX."
)
LOGITS_FORMAT = "\n\nAnswer with a single digit from 0 to 9 and nothing else."
REASK = "Your previous answer could not be used: REASON. Reply again with exactly one JSON object of the form "
LOGITS_SCALE = (0, 9)

PROMPT_FORMAT_VERSION = hashlib.sha256(
    "\x00".join((SOURCE_LABEL, EDITED_LABEL, REFERENCE_LABEL, EXTRA_LABEL, NO_REFERENCE, GENERATE_FORMAT, LOGITS_FORMAT, REASK)).encode()
).hexdigest()[:12]

Conversation = list[dict[str, Any]]

#: The two ways every judge asks: ``generate`` (one JSON answer, re-asked when unusable) and
#: ``logits`` (a digit's probabilities per criterion), built by the conversations below.
MODES = ("generate", "logits")


def check_mode(mode: str) -> None:
    """Refuse a ``mode`` parameter no judge has; every judge's settings call it, so the choice
    and its message are the same whichever judge is asked."""
    if mode not in MODES:
        raise ParamError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")


@dataclass(frozen=True)
class ImageBudget:
    """Resize judge images to about ``area`` pixels first (None: the processor's own limits).

    Keeps the judge's cost per request predictable whatever the editor's output size; sides are
    multiples of ``multiple`` (patch size × merge size) so no pixels are cropped later.
    """

    area: int | None
    multiple: int = 32

    def apply(self, image: Image.Image) -> Image.Image:
        image = image.convert("RGB")
        if self.area is None:
            return image
        ratio = image.width / image.height
        width = max(self.multiple, round(math.sqrt(self.area * ratio) / self.multiple) * self.multiple)
        height = max(self.multiple, round(math.sqrt(self.area / ratio) / self.multiple) * self.multiple)
        return image if image.size == (width, height) else image.resize((width, height), Image.Resampling.BICUBIC)


def generate_conversation(request: JudgeRequest, budget: ImageBudget) -> Conversation:
    """One turn asking for every criterion of ``request`` as one JSON object."""
    names = [c.name for c in request.criteria]
    rubric = render_rubric(
        request,
        criterion=", ".join(names),
        criterion_description="; ".join(f"{c.name}: {c.description}" for c in request.criteria),
        scale=(request.scale_min, request.scale_max),
    )
    return [_user_turn(request, budget, rubric + answer_format(request))]


def answer_format(request: JudgeRequest) -> str:
    scores = "{" + ", ".join(f'"{c.name}": <score>' for c in request.criteria) + "}"
    return (
        GENERATE_FORMAT.replace("SCORES", scores)
        .replace("SCALE_MIN", f"{request.scale_min:g}")
        .replace("SCALE_MAX", f"{request.scale_max:g}")
    )


def reask_conversation(conversation: Conversation, previous_answer: str, reason: str, request: JudgeRequest) -> Conversation:
    """The same conversation plus the unusable answer and a request to fix it."""
    fix = REASK.replace("REASON", reason) + answer_format(request).split("form:\n", 1)[1]
    return [
        *conversation,
        {"role": "assistant", "content": [{"type": "text", "text": previous_answer}]},
        {"role": "user", "content": [{"type": "text", "text": fix}]},
    ]


def logits_conversation(request: JudgeRequest, criterion: Criterion, budget: ImageBudget) -> Conversation:
    """One turn asking for a single digit 0–9 for one criterion (see :mod:`digit_scale`)."""
    rubric = render_rubric(request, criterion=criterion.name, criterion_description=criterion.description, scale=LOGITS_SCALE)
    return [_user_turn(request, budget, rubric + LOGITS_FORMAT)]


def render_rubric(request: JudgeRequest, *, criterion: str, criterion_description: str, scale: tuple[float, float]) -> str:
    """Fill the rubric's ``str.format`` fields; unknown fields are a template error, not a crash."""
    fields = {
        "instruction": request.instruction,
        "reference": request.reference_text if request.reference_text else NO_REFERENCE,
        "criterion": criterion,
        "criterion_description": criterion_description,
        "criteria": "\n".join(f"- {c.name}: {c.description}" for c in request.criteria),
        "scale_min": f"{scale[0]:g}",
        "scale_max": f"{scale[1]:g}",
    }
    try:
        return request.prompt.text.format(**fields)
    except (KeyError, IndexError, ValueError) as exc:
        raise PromptTemplateError(f"prompt {request.prompt.version}: cannot fill template ({exc!r})") from None


def extra_label(label: str) -> str:
    return EXTRA_LABEL.replace("LABEL", label)


def extra_image_parts(request: JudgeRequest, budget: ImageBudget) -> list[dict[str, Any]]:
    """A multi-image item's other inputs, each under its label, in the item's order."""
    parts: list[dict[str, Any]] = []
    for extra in request.extra_images:
        parts += [
            {"type": "text", "text": extra_label(extra.label)},
            {"type": "image", "image": budget.apply(extra.image)},
        ]
    return parts


def _user_turn(request: JudgeRequest, budget: ImageBudget, text: str) -> dict[str, Any]:
    content: list[dict[str, Any]] = [
        {"type": "text", "text": SOURCE_LABEL},
        {"type": "image", "image": budget.apply(request.source_image)},
        *extra_image_parts(request, budget),
        {"type": "text", "text": EDITED_LABEL},
        {"type": "image", "image": budget.apply(request.edited_image)},
    ]
    if request.reference_image is not None:
        content += [
            {"type": "text", "text": REFERENCE_LABEL},
            {"type": "image", "image": budget.apply(request.reference_image)},
        ]
    content.append({"type": "text", "text": "\n" + text})
    return {"role": "user", "content": content}


# --- protocol mode: the official questions, one at a time --------------------------------------

PROTOCOL_IMAGE_LABELS = {
    "source": "Source image (before the edit):",
    "edited": "Edited image (after the edit):",
    "reference": "Reference image:",
}
NOT_ASKED = "not_asked"  # errors.FailureCode.NOT_ASKED


def protocol_conversation(request: JudgeRequest, question: ProtocolQuestion, budget: ImageBudget) -> Conversation:
    """One official question: its images in the official order (a multi-image item's extra
    images right after the source), labelled, then its text as written. No answer format is
    added: the official prompt states its own, and its official parser reads the answer."""
    images = {"source": request.source_image, "edited": request.edited_image, "reference": request.reference_image}
    content: list[dict[str, Any]] = []
    for name in question.images:
        image = images.get(name)
        if image is None:
            continue  # e.g. no reference image for this item: the official call has none either
        content += [{"type": "text", "text": PROTOCOL_IMAGE_LABELS[name]}, {"type": "image", "image": budget.apply(image)}]
        if name == "source":
            content += extra_image_parts(request, budget)
    criteria = [c for c in request.criteria if c.name in question.criteria]
    text = render_rubric(
        replace(request, prompt=question.prompt),
        criterion=", ".join(question.criteria),
        criterion_description="; ".join(f"{c.name}: {c.description}" for c in criteria),
        scale=(request.scale_min, request.scale_max),
    )
    content.append({"type": "text", "text": "\n" + text})
    return [{"role": "user", "content": content}]


def protocol_result(
    request: JudgeRequest, answers: Mapping[str, str | CriterionScore], extra: Mapping[str, Any] | None = None
) -> JudgeResult:
    """Per-criterion scores from the raw answer to each official question (by question name),
    read with the official parser; an answer may instead be a failed :class:`CriterionScore`
    (OOM, API error), which then stands for every criterion of that question. A criterion the
    protocol does not ask for this item fails as ``not_asked``; one no question scores, as
    ``no_score``. The raw answer is kept with every criterion it scored."""
    assert request.protocol is not None
    protocol = request.protocol
    scores: dict[str, CriterionScore] = {}
    for question in protocol.questions:
        answer = answers.get(question.name)
        meta = dict(extra or {}) | {"protocol": protocol.kind, "question": question.name}
        if isinstance(answer, CriterionScore):
            for name in question.criteria:
                scores[name] = replace(answer, criterion=name, extra=meta | answer.extra)
            continue
        if answer is None:
            continue
        parsed = protocol.parse(question.name, answer)
        for name in question.criteria:
            value = parsed.get(name)
            if value is None:
                scores[name] = CriterionScore(
                    name,
                    Outcome.PARSE_ERROR,
                    raw_output=answer,
                    error_code="parse_error",
                    error=f"the official {protocol.kind} parser finds no {name} score in the answer to {question.name}",
                    extra=meta,
                )
            elif not request.scale_min <= value <= request.scale_max:
                scores[name] = CriterionScore(
                    name,
                    Outcome.PARSE_ERROR,
                    raw_output=answer,
                    error_code="parse_error",
                    error=f"{name} = {value:g} is outside {request.scale_min:g}-{request.scale_max:g}",
                    extra=meta,
                )
            else:
                scores[name] = CriterionScore(name, Outcome.DONE, score=float(value), raw_output=answer, extra=meta)
    result = JudgeResult(request.key)
    for criterion in request.criteria:
        if criterion.name in scores:
            result.scores.append(scores[criterion.name])
        elif criterion.name in protocol.not_asked:
            result.scores.append(
                CriterionScore(
                    criterion.name,
                    Outcome.FAILED,
                    error_code=NOT_ASKED,
                    error=f"the official {protocol.kind} protocol does not ask {criterion.name} for this item",
                )
            )
        else:
            result.scores.append(
                CriterionScore(
                    criterion.name,
                    Outcome.FAILED,
                    error_code="no_score",
                    error=f"no official {protocol.kind} question scores {criterion.name}",
                )
            )
    return result
