"""A deterministic editor (left-right mirror) and judge (mean brightness), for plugin tests."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from PIL import Image, ImageOps, ImageStat

from editbench.models.base import CriterionScore, EditRequest, JudgeRequest, JudgeResult, Outcome
from editbench.models.params import build_params, settings_dict


@dataclass(frozen=True)
class MirrorSettings:
    # Workers always pass device=; this editor ignores it.
    device: str = "auto"
    flip_vertically: bool = False


class MirrorEditor:
    name = "mirror"

    def __init__(self, path: str | None, **params: Any) -> None:
        self.settings = build_params(MirrorSettings, params, what=self.name)

    def identity(self) -> dict[str, Any]:
        return {"name": self.name, "path": None, "params": settings_dict(self.settings)}

    def edit(self, request: EditRequest) -> Image.Image:
        image = request.image.convert("RGB")
        return ImageOps.flip(image) if self.settings.flip_vertically else ImageOps.mirror(image)


class BrightnessJudge:
    """Scores every criterion with the edited image's mean brightness on the request's scale."""

    name = "brightness"

    def __init__(self, path: str | None, **params: Any) -> None:
        self.params = dict(params)

    def identity(self) -> dict[str, Any]:
        return {"name": self.name, "path": None}

    def score(self, requests: Sequence[JudgeRequest]) -> list[JudgeResult]:
        results = []
        for request in requests:
            level = sum(ImageStat.Stat(request.edited_image.convert("L")).mean) / 255.0
            value = request.scale_min + level * (request.scale_max - request.scale_min)
            scores = [CriterionScore(c.name, Outcome.DONE, score=value, confidence=1.0) for c in request.criteria]
            results.append(JudgeResult(request.key, scores))
        return results
