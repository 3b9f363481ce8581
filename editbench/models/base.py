"""The two small protocols every model adapter implements, and the registry that finds them.

An *editor* turns (source image, instruction, seed) into an edited image. A *judge* turns a batch
of (source, edited, instruction, rubric) requests into per-criterion scores. Everything else in
editbench (workers, ledger, reports) only talks to these protocols, so adding a model is one
module with one class.

Adapters are found through Python entry points (groups ``editbench.editors`` and
``editbench.judges``): the entry point's name is the ``KIND`` of ``--editor KIND:PATH`` and its
value the factory (usually the class). editbench's own adapters are declared the same way in its
``pyproject.toml``, so a third-party package is a first-class citizen: ``pip install`` it and its
kinds appear in ``editbench models list``. Entry points are only *loaded* (imported) when their
kind is used or listed, so one broken plugin cannot hide the others, and ``import editbench`` never
pays for torch. :func:`register_editor`/:func:`register_judge` still register a factory for the
current process only (notebooks, tests).
"""

from __future__ import annotations

import enum
import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any, Protocol, runtime_checkable

from PIL import Image

from editbench.errors import (  # noqa: F401 - EditOOMError: re-exported for adapters
    EditOOMError,
    PluginLoadError,
    UnknownModelError,
)
from editbench.records import Criterion


class Outcome(str, enum.Enum):
    """How a single judgment ended. Mirrors the ledger's final states for judgments."""

    DONE = "done"
    FAILED = "failed"
    PARSE_ERROR = "parse_error"
    REFUSAL = "refusal"


@dataclass(frozen=True)
class InputImage:
    """An extra input image of a multi-image item, with the label the benchmark gives it
    (``frame 2``, ``the garment``): editors that take several images get them in order, and the
    judge is told which image is which."""

    label: str
    image: Image.Image


def labelled(images: Sequence[InputImage | Image.Image]) -> tuple[InputImage, ...]:
    """``images`` as :class:`InputImage`; a bare image gets the label ``image N`` (N = its
    position counting the source as 1), so callers that pass plain images keep working."""
    return tuple(
        image if isinstance(image, InputImage) else InputImage(f"image {index}", image) for index, image in enumerate(images, start=2)
    )


@dataclass(frozen=True)
class EditRequest:
    """One edit: the sample's id only travels for logging and seeding.

    ``extra_images`` are a multi-image item's other inputs, after the source, in order. An editor
    that takes them says so with a true ``accepts_extra_images`` attribute; for any other editor
    the worker records the sample as ``unsupported_input`` instead of calling it.
    """

    sample_id: str
    image: Image.Image
    instruction: str
    seed: int
    extra_images: tuple[InputImage, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "extra_images", labelled(self.extra_images))

    @property
    def images(self) -> list[Image.Image]:
        """Every input image in order, the source first (what a multi-image pipeline takes)."""
        return [self.image, *(extra.image for extra in self.extra_images)]


def accepts_extra_images(editor: object) -> bool:
    """Whether ``editor`` edits with extra input images (its ``accepts_extra_images``; default no)."""
    return bool(getattr(editor, "accepts_extra_images", False))


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
class ProtocolQuestion:
    """One question of a benchmark's official evaluation, asked on its own.

    ``prompt`` is its ``str.format`` template (editbench's fields) and version; ``criteria`` are
    what its answer scores; ``images`` what the official call shows, in order (``source``,
    ``edited``, ``reference``).
    """

    name: str
    prompt: JudgePrompt
    criteria: tuple[str, ...]
    images: tuple[str, ...]


@dataclass(frozen=True)
class ProtocolQuestions:
    """Judge-side *protocol* mode: ask each official question separately and read each answer
    with the benchmark's official parser.

    The worker builds this from the benchmark's protocol (models never import the protocols):
    ``parse(question, answer)`` returns criterion -> score (None: the official parser finds no
    score); ``simulate(question, scores)`` writes an answer in the official format (for the
    simulated judge, so a run without a model still goes through the official parser).
    ``not_asked`` are criteria the official protocol does not ask for this item (RISEBench's
    consistency-free samples).
    """

    kind: str
    questions: tuple[ProtocolQuestion, ...]
    parse: Callable[[str, str], Mapping[str, float | None]]
    simulate: Callable[[str, Mapping[str, int]], str] | None = None
    not_asked: tuple[str, ...] = ()


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
    # A multi-image item's other inputs, labelled, shown to the judge after the source image.
    extra_images: tuple[InputImage, ...] = ()
    # Set for a benchmark imported with its official protocol: see ProtocolQuestions.
    protocol: ProtocolQuestions | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "extra_images", labelled(self.extra_images))


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

log = logging.getLogger("editbench.models")

ROLES = ("editor", "judge")
ENTRY_POINT_GROUPS = {"editor": "editbench.editors", "judge": "editbench.judges"}
BUILTIN_ORIGIN = "built-in"
OWN_DISTRIBUTION = "editbench"

# Factories registered in this process with the decorators (not through entry points).
_REGISTERED: dict[str, dict[str, Callable[..., Any]]] = {role: {} for role in ROLES}


@dataclass(frozen=True)
class AdapterInfo:
    """One adapter kind as ``editbench models list`` shows it."""

    role: str  # "editor" or "judge"
    kind: str
    target: str  # "module:attribute" of the factory
    origin: str  # "built-in", "DISTRIBUTION VERSION", or "registered in this process"
    distribution: str | None = None
    version: str | None = None
    # Set by :func:`adapters` with ``load=True`` when importing the factory failed.
    error: str | None = None
    # Why this entry is not the one used (a second package declaring the same kind).
    shadowed_by: str | None = None


@dataclass
class _Entry:
    info: AdapterInfo
    load: Callable[[], Any]
    factory: Any = None
    error: str | None = None


class _Catalog:
    """Every declared adapter kind per role, discovered once per process from entry points."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: dict[str, dict[str, _Entry]] | None = None
        self.shadowed: list[AdapterInfo] = []
        self.notes: list[str] = []

    def entries(self, role: str) -> dict[str, _Entry]:
        with self._lock:
            if self._entries is None:
                self._entries = self._discover()
            return self._entries[role]

    def reset(self) -> None:
        """Forget what was discovered (after installing a package in a running process; tests)."""
        with self._lock:
            self._entries = None
            self.shadowed = []
            self.notes = []

    def _discover(self) -> dict[str, dict[str, _Entry]]:
        from editbench.models.builtin import BUILTIN_ADAPTERS

        found: dict[str, dict[str, _Entry]] = {role: {} for role in ROLES}
        shadowed: list[AdapterInfo] = []
        for role in ROLES:
            plugins: list[_Entry] = []
            own: dict[str, _Entry] = {}
            for ep in _entry_points(ENTRY_POINT_GROUPS[role]):
                dist = getattr(ep, "dist", None)
                dist_name = _normalise(dist.metadata["Name"]) if dist is not None else None
                version = dist.version if dist is not None else None
                if dist_name == OWN_DISTRIBUTION:
                    info = AdapterInfo(role, ep.name, ep.value, BUILTIN_ORIGIN, dist_name, version)
                    own[ep.name] = _Entry(info, ep.load)
                else:
                    origin = f"{dist_name} {version}" if dist_name else "unknown distribution"
                    plugins.append(_Entry(AdapterInfo(role, ep.name, ep.value, origin, dist_name, version), ep.load))
            table = BUILTIN_ADAPTERS[role]
            # editbench's own entry points come from its *installed* metadata, which can be older
            # than the code on the path (a source checkout on PYTHONPATH, an editable install
            # made before an adapter was added). The code's own table fills any gap.
            missing = sorted(set(table) - set(own))
            if missing:
                note = (
                    f"{role}s {', '.join(missing)}: not in editbench's installed entry points "
                    f"(group {ENTRY_POINT_GROUPS[role]}); using the built-in table in editbench/models/builtin.py. "
                    "Reinstall editbench (pip install -e .) to refresh its metadata."
                )
                self.notes.append(note)
                log.info(note)
            entries: dict[str, _Entry] = {}
            for kind, target in table.items():
                entry = own.get(kind)
                if entry is None or entry.info.target != target:
                    # The table is the code that is actually importable here.
                    info = AdapterInfo(role, kind, target, BUILTIN_ORIGIN, OWN_DISTRIBUTION, _own_version())
                    entry = _Entry(info, _importer(target))
                entries[kind] = entry
            for kind, entry in own.items():
                # Declared in the installed metadata but gone from the code: listed, and reported
                # as broken when loaded, rather than silently dropped.
                entries.setdefault(kind, entry)
            for entry in sorted(plugins, key=lambda e: (e.info.distribution or "", e.info.kind)):
                kind = entry.info.kind
                if kind in entries:
                    winner = entries[kind].info.origin
                    shadowed.append(AdapterInfo(**{**entry.info.__dict__, "shadowed_by": winner}))
                    log.warning("%s %r from %s ignored: already provided by %s", role, kind, entry.info.origin, winner)
                    continue
                if not _valid_kind(kind):
                    entry.error = f"invalid kind name {kind!r}: use letters, digits, '-', '_' and '.' only (no ':')"
                entries[kind] = entry
            found[role] = entries
        self.shadowed = shadowed
        return found


def _entry_points(group: str) -> list[metadata.EntryPoint]:
    seen: set[tuple[str, str, str | None]] = set()
    unique = []
    for ep in metadata.entry_points(group=group):
        dist = getattr(ep, "dist", None)
        key = (ep.name, ep.value, dist.metadata["Name"] if dist is not None else None)
        # The same distribution on sys.path twice (e.g. an editable install and a --target copy)
        # declares the same entry point twice: one adapter, not a conflict.
        if key not in seen:
            seen.add(key)
            unique.append(ep)
    return unique


def _normalise(name: str) -> str:
    return name.lower().replace("_", "-").replace(".", "-")


def _valid_kind(kind: str) -> bool:
    return bool(kind) and all(c.isalnum() or c in "-_." for c in kind)


def _own_version() -> str | None:
    try:
        return metadata.version(OWN_DISTRIBUTION)
    except metadata.PackageNotFoundError:
        return None


def _importer(target: str) -> Callable[[], Any]:
    def load() -> Any:
        return metadata.EntryPoint(name="", value=target, group="").load()

    return load


_CATALOG = _Catalog()


def register_editor(name: str) -> Callable[[EditorFactory], EditorFactory]:
    """Decorator: make ``--editor NAME:PATH`` work *in this process* (notebooks, tests).

    Installed adapters are declared as entry points instead (see docs/models.md), which also
    makes them visible to worker processes and to ``editbench models list``.
    """

    def decorate(factory: EditorFactory) -> EditorFactory:
        _REGISTERED["editor"][name] = factory
        return factory

    return decorate


def register_judge(name: str) -> Callable[[JudgeFactory], JudgeFactory]:
    def decorate(factory: JudgeFactory) -> JudgeFactory:
        _REGISTERED["judge"][name] = factory
        return factory

    return decorate


def adapters(role: str, *, load: bool = False) -> list[AdapterInfo]:
    """Every known kind of ``role``, sorted; with ``load=True`` each is imported and a failure is
    reported in its :attr:`AdapterInfo.error` (never raised: one broken plugin hides nothing)."""
    entries = _CATALOG.entries(role)
    infos = []
    for kind in sorted(set(entries) | set(_REGISTERED[role])):
        entry = entries.get(kind)
        if entry is None:
            factory = _REGISTERED[role][kind]
            target = f"{factory.__module__}:{getattr(factory, '__qualname__', type(factory).__name__)}"
            infos.append(AdapterInfo(role, kind, target, "registered in this process"))
            continue
        if load:
            _load_entry(entry)
        infos.append(AdapterInfo(**{**entry.info.__dict__, "error": entry.error}))
    return infos


def shadowed_adapters() -> list[AdapterInfo]:
    """Plugin entry points ignored because another package already provides their kind."""
    for role in ROLES:
        _CATALOG.entries(role)
    return list(_CATALOG.shadowed)


def registry_notes() -> list[str]:
    """Warnings from discovery (e.g. editbench's own entry points missing from its metadata)."""
    for role in ROLES:
        _CATALOG.entries(role)
    return list(_CATALOG.notes)


def refresh_registry() -> None:
    """Rediscover entry points (after ``pip install`` in a running process)."""
    _CATALOG.reset()


def editor_names() -> list[str]:
    return [info.kind for info in adapters("editor")]


def judge_names() -> list[str]:
    return [info.kind for info in adapters("judge")]


def _load_entry(entry: _Entry) -> Any:
    if entry.factory is None and entry.error is None:
        try:
            factory = entry.load()
            if not callable(factory):
                raise TypeError(f"{entry.info.target} is a {type(factory).__name__}, not a class or function")
            entry.factory = factory
        except Exception as exc:  # noqa: BLE001 - any import-time failure of a plugin is reported
            entry.error = f"{type(exc).__name__}: {exc}"
            log.warning(
                "%s %r (%s, %s) failed to load: %s", entry.info.role, entry.info.kind, entry.info.origin, entry.info.target, entry.error
            )
    return entry.factory


def adapter_factory(role: str, kind: str) -> Callable[..., Any]:
    """The factory of ``kind``, imported on first use.

    Raises :class:`UnknownModelError` for a kind nobody provides and :class:`PluginLoadError`
    (naming the plugin, its origin and the error) for one that fails to import.
    """
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    if kind in _REGISTERED[role]:
        return _REGISTERED[role][kind]
    entry = _CATALOG.entries(role).get(kind)
    if entry is None:
        known = ", ".join(info.kind for info in adapters(role))
        raise UnknownModelError(f"unknown {role} {kind!r}; known: {known} (`editbench models list` shows where each comes from)")
    factory = _load_entry(entry)
    if factory is None:
        raise PluginLoadError(f"{role} {kind!r} from {entry.info.origin} ({entry.info.target}) failed to load: {entry.error}")
    return factory


def adapter_trait(role: str, kind: str, name: str, default: Any = None) -> Any:
    """A class-level trait an adapter declares (imports the adapter, as validation does anyway):

    - ``path_is_model_name = True``: PATH in ``KIND:PATH`` names a model on a server, so the
      producer passes it verbatim instead of resolving it as a local folder;
    - ``runs_on = "cpu"``: the model needs no accelerator (it is served over HTTP). Its judge
      batches go to the CPU judge queue, and the producer builds it at submit (it must be cheap to
      build: no weights) to call its optional ``check()``.
    """
    return getattr(adapter_factory(role, kind), name, default)


def validate_model(role: str, kind: str, path: str | None, params: dict[str, Any] | None = None) -> None:
    """Refuse a model before anything is recorded: unknown kind, broken plugin, or whatever the
    factory's optional ``validate(path, **params)`` rejects (e.g. a diffusers pipeline that
    cannot be driven). Cheap: no weights are loaded."""
    factory = adapter_factory(role, kind)
    check = getattr(factory, "validate", None)
    if callable(check):
        check(path, **dict(params or {}))


def load_editor(kind: str, path: str | None, **params: Any) -> Editor:
    """Build the editor registered as ``kind`` from a local folder ``path``.

    Workers always pass ``device=`` (``cpu`` or ``cuda``) among ``params``; every factory must
    accept it, even one that ignores it."""
    return adapter_factory("editor", kind)(path, **params)


def load_judge(kind: str, path: str | None, **params: Any) -> Judge:
    return adapter_factory("judge", kind)(path, **params)
