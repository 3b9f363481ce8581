"""Simulation adapters for capacity and scheduling studies: they sleep, they do not edit or judge.

``simulated`` (editor) sleeps for a duration drawn from a log-normal distribution and returns
the source image unchanged; ``simulated`` (judge) sleeps ``per_image_s`` per request and returns
a deterministic score. With them a real cluster (broker, workers, ledger, chords) can be timed
at any scale without a model: ``bench/scheduling.py`` uses them to compare schedules.

The edit time of a sample depends only on (``seed``, sample id), never on the worker, the order
or a retry, so two schedules of the same run see exactly the same work, and the ideal makespan
can be computed outside the workers with :func:`edit_duration`. Scores mean nothing: a run made
with these adapters measures the machinery, not a model.

    editbench run BENCH --editor simulated: --judge simulated: \\
        --editor-param median_s=40 --editor-param sigma=0.1
"""

from __future__ import annotations

import hashlib
import math
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from PIL import Image

from editbench.models.base import (
    CriterionScore,
    EditRequest,
    JudgeRequest,
    JudgeResult,
    Outcome,
    register_editor,
    register_judge,
)
from editbench.models.judge_prompt import protocol_result
from editbench.models.params import ParamError, build_params, settings_dict


@dataclass(frozen=True)
class SimulatedEditorSettings:
    median_s: float = 1.0
    # Standard deviation of log(duration): 0.02 ≈ 2% spread, 0.10 ≈ 10%.
    sigma: float = 0.1
    seed: int = 0
    device: str = "cpu"  # accepted like every adapter's; nothing runs on it
    # Fault drill: loading raises ``ModuleNotFoundError(fail_to_load)``, as a missing dependency
    # discovered only on the worker would (the run must stop with that one reason).
    fail_to_load: str = ""

    def __post_init__(self) -> None:
        if self.median_s < 0 or self.sigma < 0:
            raise ParamError("median_s and sigma must be >= 0")


@dataclass(frozen=True)
class SimulatedJudgeSettings:
    per_image_s: float = 0.0
    seed: int = 0
    device: str = "cpu"
    fail_to_load: str = ""  # fault drill, as for the editor
    # What the judge "said" for each criterion (kept as raw output and reasoning): lets a drill
    # feed the ledger text a real model may produce, such as a NUL byte or a very long answer.
    raw_output: str = "simulated"

    def __post_init__(self) -> None:
        if self.per_image_s < 0:
            raise ParamError("per_image_s must be >= 0")


def _unit_random(*parts: object) -> random.Random:
    """A generator seeded by SHA-256 of ``parts`` (Python's ``hash`` differs per process)."""
    digest = hashlib.sha256("\x00".join(str(p) for p in ("editbench-sim-v1", *parts)).encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


def edit_duration(sample_id: str, *, median_s: float, sigma: float, seed: int = 0) -> float:
    """Seconds the simulated editor sleeps for ``sample_id``: median_s · exp(sigma · z), z ~ N(0, 1)."""
    z = _unit_random("edit", seed, sample_id).gauss(0.0, 1.0)
    return median_s * math.exp(sigma * z)


@register_editor("simulated")
class SimulatedEditor:
    """A simulation adapter, not a model: sleeps a log-normal time, returns the source image."""

    name = "simulated"

    @classmethod
    def validate(cls, path: str | None = None, **params: Any) -> None:
        """Submit-time check: every parameter name and value is one this adapter accepts."""
        build_params(SimulatedEditorSettings, params, what=cls.name)

    def __init__(self, path: str | None = None, **params: Any) -> None:
        self.settings = build_params(SimulatedEditorSettings, params, what=self.name)
        if self.settings.fail_to_load:
            raise ModuleNotFoundError(self.settings.fail_to_load)

    def identity(self) -> dict[str, Any]:
        return {"name": self.name, "path": None, "config_hash": None, "simulation": True, "params": settings_dict(self.settings)}

    def duration(self, sample_id: str) -> float:
        s = self.settings
        return edit_duration(sample_id, median_s=s.median_s, sigma=s.sigma, seed=s.seed)

    def edit(self, request: EditRequest) -> Image.Image:
        time.sleep(self.duration(request.sample_id))
        return request.image.convert("RGB").copy()


@register_judge("simulated")
class SimulatedJudge:
    """A simulation adapter, not a model: sleeps ``per_image_s`` × batch size, then returns a
    score per criterion that depends only on (seed, request key, criterion)."""

    name = "simulated"

    @classmethod
    def validate(cls, path: str | None = None, **params: Any) -> None:
        """Submit-time check: every parameter name and value is one this adapter accepts."""
        build_params(SimulatedJudgeSettings, params, what=cls.name)

    def __init__(self, path: str | None = None, **params: Any) -> None:
        self.settings = build_params(SimulatedJudgeSettings, params, what=self.name)
        if self.settings.fail_to_load:
            raise ModuleNotFoundError(self.settings.fail_to_load)

    def identity(self) -> dict[str, Any]:
        return {"name": self.name, "path": None, "config_hash": None, "simulation": True, "params": settings_dict(self.settings)}

    def score(self, requests: Sequence[JudgeRequest]) -> list[JudgeResult]:
        time.sleep(self.settings.per_image_s * len(requests))
        return [self._official(r) if r.protocol is not None and r.protocol.simulate else self._score(r) for r in requests]

    def _official(self, request: JudgeRequest) -> JudgeResult:
        """Protocol mode: an answer in the official format per official question, read back
        with the official parser (so a simulated run exercises the same path as a model)."""
        assert request.protocol is not None and request.protocol.simulate is not None
        answers = {}
        for question in request.protocol.questions:
            scores = {
                name: _unit_random("judge", self.settings.seed, request.key, name).randint(int(request.scale_min), int(request.scale_max))
                for name in question.criteria
            }
            answers[question.name] = request.protocol.simulate(question.name, scores)
        return protocol_result(request, answers)

    def _score(self, request: JudgeRequest) -> JudgeResult:
        scores = [
            CriterionScore(
                criterion=c.name,
                outcome=Outcome.DONE,
                score=float(_unit_random("judge", self.settings.seed, request.key, c.name).randint(request.scale_min, request.scale_max)),
                raw_output=self.settings.raw_output,
                reasoning=self.settings.raw_output,
            )
            for c in request.criteria
        ]
        return JudgeResult(key=request.key, scores=scores)
