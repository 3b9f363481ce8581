"""The two small protocols every model adapter implements, and the registry that finds them.

An *editor* turns (source image, instruction, seed) into an edited image. A *judge* turns a batch
of (source, edited, instruction, rubric) requests into per-criterion scores. Everything else in
editbench (workers, ledger, reports) only talks to these protocols, so adding a model is one
file that defines a class and decorates it with :func:`register_editor` or
:func:`register_judge`.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from PIL import Image

from editbench.errors import EditOOMError, UnknownModelError  # noqa: F401 - EditOOMError: re-exported for adapters
from editbench.records import Criterion


class Outcome(str, enum.Enum):
    """How a single judgment ended. Mirrors the ledger's final states for judgments."""

    DONE = "done"
    FAILED = "failed"
    PARSE_ERROR = "parse_error"
    REFUSAL = "refusal"


@dataclass(frozen=True)
class EditRequest:
    """One edit: the sample's id only travels for logging and seeding."""

    sample_id: str
    image: Image.Image
    instruction: str
    seed: int
    extra_images: tuple[Image.Image, ...] = ()


@dataclass(frozen=True)
class JudgePrompt:
    """A rubric prompt template read from a versioned file in the benchmark.

    ``text`` is a :meth:`str.format` template; adapters fill ``{instruction}``, ``{reference}``,
    ``{criterion}``, ``{criterion_description}``, ``{criteria}``, ``{scale_min}``, ``{scale_max}``.
    ``version`` is the content hash recorded with every judgment.
    """

    text: str
    version: str


@dataclass(frozen=True)
class JudgeRequest:
    key: str
    source_image: Image.Image
    edited_image: Image.Image
    instruction: str
    prompt: JudgePrompt
    criteria: tuple[Criterion, ...]
    scale_min: int = 0
    scale_max: int = 10
    reference_text: str | None = None
    reference_image: Image.Image | None = None


@dataclass
class CriterionScore:
    criterion: str
    outcome: Outcome
    score: float | None = None
    confidence: float | None = None
    reasoning: str | None = None
    raw_output: str | None = None
    error_code: str | None = None
    error: str | None = None
    # Adapter-specific provenance (prompt version, mode, digit probabilities, re-ask attempts).
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class JudgeResult:
    key: str
    scores: list[CriterionScore] = field(default_factory=list)


@runtime_checkable
class Editor(Protocol):
    """An image-editing model, loaded once per worker process and kept."""

    name: str

    def identity(self) -> dict[str, Any]:
        """Path, config hash and every parameter that affects outputs (goes into the run card)."""

    def edit(self, request: EditRequest) -> Image.Image: ...


@runtime_checkable
class Judge(Protocol):
    """A vision-language judge that scores a batch of edits."""

    name: str

    def identity(self) -> dict[str, Any]: ...

    def score(self, requests: Sequence[JudgeRequest]) -> list[JudgeResult]:
        """Return one result per request, in order, with one score per requested criterion."""


EditorFactory = Callable[..., Editor]
JudgeFactory = Callable[..., Judge]

_EDITORS: dict[str, EditorFactory] = {}
_JUDGES: dict[str, JudgeFactory] = {}






def register_editor(name: str) -> Callable[[EditorFactory], EditorFactory]:
    """Class decorator: ``@register_editor("my-editor")`` makes ``--editor my-editor:PATH`` work."""

    def decorate(factory: EditorFactory) -> EditorFactory:
        _EDITORS[name] = factory
        return factory

    return decorate


def register_judge(name: str) -> Callable[[JudgeFactory], JudgeFactory]:
    def decorate(factory: JudgeFactory) -> JudgeFactory:
        _JUDGES[name] = factory
        return factory

    return decorate


def editor_names() -> list[str]:
    _import_builtin_adapters()
    return sorted(_EDITORS)


def judge_names() -> list[str]:
    _import_builtin_adapters()
    return sorted(_JUDGES)


def load_editor(kind: str, path: str | None, **params: Any) -> Editor:
    """Build the editor registered as ``kind`` from a local folder ``path``.

    Workers always pass ``device=`` (``cpu`` or ``cuda``) among ``params``; every factory must
    accept it, even one that ignores it."""
    _import_builtin_adapters()
    try:
        factory = _EDITORS[kind]
    except KeyError:
        raise UnknownModelError(f"unknown editor {kind!r}; known: {', '.join(sorted(_EDITORS))}") from None
    return factory(path, **params)


def load_judge(kind: str, path: str | None, **params: Any) -> Judge:
    _import_builtin_adapters()
    try:
        factory = _JUDGES[kind]
    except KeyError:
        raise UnknownModelError(f"unknown judge {kind!r}; known: {', '.join(sorted(_JUDGES))}") from None
    return factory(path, **params)


def _import_builtin_adapters() -> None:
    # Imported lazily so that `import editbench` never pays for torch/diffusers.
    from editbench.models import builtin  # noqa: F401
