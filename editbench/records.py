"""The benchmark's concepts, once: a :class:`Criterion`, a :class:`Category`, a :class:`Benchmark`.

Ingest builds them from a folder, the ledger stores them, the adapters receive criteria from
them, the reports read them back and the importers write them: one frozen type per concept,
shared by all, instead of a copy per layer. Pure values (no I/O, no SQLAlchemy, Celery or
torch), so every package may import this module.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any


class Overall(str, enum.Enum):  # str mixin: serialises as its plain value
    """How per-criterion scores combine into one number per item."""

    def __str__(self) -> str:
        return self.value

    GEOMETRIC_MEAN = "geometric_mean"
    """Weighted geometric mean; with SC and PQ at weight 1 this is VIEScore's sqrt(SC*PQ)."""
    WEIGHTED_MEAN = "weighted_mean"
    MIN = "min"


@dataclass(frozen=True)
class Criterion:
    """One scored dimension; ``description`` fills ``{criterion_description}`` in prompts."""

    name: str
    description: str = ""

    def as_json(self) -> dict[str, str]:
        return {"name": self.name, "description": self.description}

    @classmethod
    def from_json(cls, entry: Any) -> Criterion:
        """A stored entry: ``{"name", "description"}`` or, in old rows, a bare name."""
        if isinstance(entry, Mapping):
            return cls(str(entry["name"]), str(entry.get("description") or ""))
        return cls(str(entry))


@dataclass(frozen=True)
class PassRule:
    """RISE-style binary success: an item passes iff every criterion scores >= ``all_at_least``.

    The rule is data: a rule read back from the ledger keeps the exact mapping it was stored as
    (``as_json`` returns it unchanged, with any clause a report may evaluate beyond
    ``all_at_least``), so reading and writing it again changes nothing.
    """

    all_at_least: float | None = None
    stored: Mapping[str, Any] | None = field(default=None, compare=False, hash=False, repr=False)

    def passes(self, scores: Mapping[str, float]) -> bool:
        """True iff every given score meets the threshold (an empty mapping does not pass)."""
        threshold = self.all_at_least
        return bool(scores) and threshold is not None and all(value >= threshold for value in scores.values())

    def as_json(self) -> dict[str, Any]:
        return dict(self.stored) if self.stored is not None else {"all_at_least": self.all_at_least}

    @classmethod
    def from_json(cls, entry: Mapping[str, Any] | None) -> PassRule | None:
        if not entry:
            return None
        threshold = entry.get("all_at_least")
        return cls(None if threshold is None else float(threshold), stored=dict(entry))


@dataclass(frozen=True)
class Category:
    """A category: its judge prompt (with a content version) and how its items are scored.

    ``prompt_path`` is relative to the benchmark folder, or ``builtin:<file>`` for a prompt that
    ships with editbench. ``prompt_version`` is the first 16 hex characters of
    ``prompt_sha256``, short enough for tables, while the full hash stays for provenance. Empty
    ``criteria`` means "the benchmark's criteria". ``id`` is the ledger's row id once stored.
    """

    name: str
    description: str = ""
    prompt_path: str = ""
    prompt_text: str = ""
    prompt_version: str = ""
    prompt_sha256: str = ""
    criteria: tuple[str, ...] = ()
    weights: Mapping[str, float] = field(default_factory=dict, hash=False)
    pass_rule: PassRule | None = None
    id: int | None = None


@dataclass(frozen=True)
class Benchmark:
    """The benchmark-level definition; ``content_hash`` covers it *and* every item and image.

    ``source_path`` is the folder it was ingested from; ``id`` the ledger's row id once stored.
    """

    name: str
    version: str
    description: str = ""
    score_min: float = 0
    score_max: float = 10
    criteria: tuple[Criterion, ...] = ()
    overall: str = Overall.GEOMETRIC_MEAN.value
    categories: tuple[Category, ...] = ()
    content_hash: str = ""
    source_path: str = ""
    id: int | None = None
    slices: tuple[str, ...] = ()
    """Item metadata keys that group the report into slices (``language``, a ``source`` key...):
    each gets its own per-category and overall table, as GEdit-Bench reports EN and CN apart."""
    # protocol.json of an officially-imported benchmark (prompt texts inlined), else None.
    protocol: Mapping[str, Any] | None = field(default=None, hash=False, compare=False)

    def category(self, name: str) -> Category:
        for category in self.categories:
            if category.name == name:
                return category
        raise KeyError(f"benchmark {self.name!r} has no category {name!r}")

    def criterion(self, name: str) -> Criterion:
        for criterion in self.criteria:
            if criterion.name == name:
                return criterion
        raise KeyError(f"benchmark {self.name!r} has no criterion {name!r}")

    def criteria_for(self, category: str) -> tuple[Criterion, ...]:
        """The criteria a category is scored on, in the category's order, with descriptions."""
        return tuple(self.criterion(name) for name in self.category(category).criteria)


WHERE_ALIASES: Mapping[str, str] = {"instruction_language": "language", "tags": "tag"}
"""Other spellings a user may type for the item fields ``--where`` knows by name."""
WHERE_FIELDS = ("language", "subcategory", "tag")
"""Item fields ``--where`` matches directly; any other key is looked up in the item's ``source``."""


@dataclass(frozen=True)
class SampleFilter:
    """Which items of a benchmark a run covers: ``--where KEY=VALUE`` and ``--limit N``.

    ``where`` maps a key to the values it accepts: an item matches when, for *every* key, it has
    one of that key's values (repeating a key widens it: ``language=en`` ``language=zh``).
    ``language``, ``subcategory`` and ``tag`` (one of the item's tags) are item fields; any other
    key is read from the item's ``source`` mapping (lists match any element, booleans as
    ``true``/``false``). ``limit`` then keeps the first N matching items of each category, in
    ingest order (the order of the benchmark's items file). Stored with the run so a standing
    run applies the same filter to later ingests, and printed in every report header.
    """

    limit: int | None = None
    where: Mapping[str, tuple[str, ...]] = field(default_factory=dict, hash=False)

    @property
    def active(self) -> bool:
        return self.limit is not None or bool(self.where)

    def matches(self, item: Any) -> bool:
        """``item`` has ``instruction_language``, ``subcategory``, ``tags`` and ``provenance``
        (a ledger sample row or any object shaped like one)."""
        return all(any(value in wanted for value in item_values(item, key)) for key, wanted in self.where.items())

    def pick(self, pairs: Iterable[tuple[Any, Any]]) -> list[tuple[Any, Any]]:
        """The (item, category) pairs whose item matches, at most ``limit`` per category, in the
        given order (the caller passes them in ingest order)."""
        kept: list[tuple[Any, Any]] = []
        per_category: dict[Any, int] = {}
        for item, category in pairs:
            if not self.matches(item):
                continue
            if self.limit is not None and per_category.get(category, 0) >= self.limit:
                continue
            per_category[category] = per_category.get(category, 0) + 1
            kept.append((item, category))
        return kept

    def describe(self) -> str:
        """One line for report headers: ``first 5 items per category · language=en``."""
        parts = [f"first {self.limit} item{'s' if self.limit != 1 else ''} per category"] if self.limit is not None else []
        parts += [f"{key}={'|'.join(values)}" for key, values in self.where.items()]
        return " · ".join(parts)

    def as_json(self) -> dict[str, Any]:
        return {"limit": self.limit, "where": {key: list(values) for key, values in self.where.items()}}

    @classmethod
    def from_json(cls, entry: Mapping[str, Any] | None) -> SampleFilter | None:
        if not entry:
            return None
        where = {str(k): tuple(str(v) for v in values) for k, values in (entry.get("where") or {}).items()}
        limit = entry.get("limit")
        return cls(None if limit is None else int(limit), where)


def where_key(key: str) -> str:
    """The canonical spelling of a ``--where`` key (``instruction_language`` → ``language``)."""
    return WHERE_ALIASES.get(key, key)


def item_values(item: Any, key: str) -> list[str]:
    """An item's values for a ``--where`` key, as text (none when the item lacks the key)."""
    if key == "language":
        return [item.instruction_language or "en"]
    if key == "subcategory":
        return [item.subcategory] if item.subcategory else []
    if key == "tag":
        return [str(tag) for tag in (item.tags or ())]
    source = item.provenance or {}
    if key not in source:
        return []
    value = source[key]
    return [_as_text(v) for v in value] if isinstance(value, list) else [_as_text(value)]


def _as_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "null" if value is None else str(value)
