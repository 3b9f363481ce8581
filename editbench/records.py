"""The benchmark's concepts, once: a :class:`Criterion`, a :class:`Category`, a :class:`Benchmark`.

Ingest builds them from a folder, the ledger stores them, the adapters receive criteria from
them, the reports read them back and the importers write them: one frozen type per concept,
shared by all, instead of a copy per layer. Pure values (no I/O, no SQLAlchemy, Celery or
torch), so every package may import this module.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


class Overall(str, enum.Enum):  # noqa: UP042 - str mixin: serialises as its plain value
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
