"""Registering a benchmark: its definition (a :class:`editbench.records.Benchmark`), categories
and samples, in one transaction. Existing rows are never modified, so re-registering is a no-op
and a grown folder adds exactly what is new.

A (name, version) is immutable once stored: runs certify its prompts and items on their run
cards. Re-ingesting it with a changed definition, prompt or known item is refused
(:class:`BenchmarkChangedError`, telling the author to bump ``version``), never overwritten."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from editbench.errors import BenchmarkChangedError
from editbench.records import Benchmark, Category
from editbench.schema.ledger.rows import insert_ignoring_duplicates, utcnow
from editbench.schema.models import Benchmark as BenchmarkRow
from editbench.schema.models import Category as CategoryRow
from editbench.schema.models import Sample


@dataclass(frozen=True)
class SampleRecord:
    external_id: str
    category: str
    instruction: str
    instruction_language: str
    source_sha256: str
    source_path: str
    source_width: int | None = None
    source_height: int | None = None
    subcategory: str | None = None
    reference_text: str | None = None
    reference_sha256: str | None = None
    reference_path: str | None = None
    extra_images: list[dict[str, str]] = field(default_factory=list)  # {"label", "sha256", "path"}
    tags: list[str] = field(default_factory=list)
    provenance: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class RegisterResult:
    benchmark_id: int
    created: bool
    added_categories: list[str]
    added_samples: dict[str, int]

    @property
    def added_total(self) -> int:
        return sum(self.added_samples.values())


def register_benchmark(session: Session, record: Benchmark, samples: Sequence[SampleRecord]) -> RegisterResult:
    """Create or extend a benchmark. Existing categories and samples are never modified, so
    re-registering the same folder is a no-op and a grown folder adds exactly what is new."""
    now = utcnow()
    benchmark = session.scalar(select(BenchmarkRow).where(BenchmarkRow.name == record.name, BenchmarkRow.version == record.version))
    created = benchmark is None
    if benchmark is None:
        benchmark = BenchmarkRow(
            name=record.name,
            version=record.version,
            description=record.description,
            content_hash=record.content_hash,
            score_min=record.score_min,
            score_max=record.score_max,
            overall=record.overall,
            criteria=[c.as_json() for c in record.criteria],
            source_path=record.source_path,
            protocol=dict(record.protocol) if record.protocol else None,
            created_at=now,
            slices=list(record.slices),
        )
        session.add(benchmark)
        session.flush()
    else:
        _refuse_changes(session, benchmark, record, samples)

    existing = {c.name: c for c in session.scalars(select(CategoryRow).where(CategoryRow.benchmark_id == benchmark.id))}
    added_categories = []
    for cat in record.categories:
        if cat.name in existing:
            continue
        row = CategoryRow(
            benchmark_id=benchmark.id,
            name=cat.name,
            description=cat.description,
            prompt_path=cat.prompt_path,
            prompt_text=cat.prompt_text,
            prompt_version=cat.prompt_version,
            criteria=list(cat.criteria),
            weights=dict(cat.weights),
            pass_rule=cat.pass_rule.as_json() if cat.pass_rule else None,
            created_at=now,
        )
        session.add(row)
        existing[cat.name] = row
        added_categories.append(cat.name)
    session.flush()

    rows: list[dict[str, Any]] = [
        {
            "benchmark_id": benchmark.id,
            "category_id": existing[s.category].id,
            "external_id": s.external_id,
            "subcategory": s.subcategory,
            "instruction": s.instruction,
            "instruction_language": s.instruction_language,
            "source_sha256": s.source_sha256,
            "source_path": s.source_path,
            "source_width": s.source_width,
            "source_height": s.source_height,
            "reference_text": s.reference_text,
            "reference_sha256": s.reference_sha256,
            "reference_path": s.reference_path,
            "extra_images": [dict(extra) for extra in s.extra_images] or None,
            "tags": list(s.tags),
            "provenance": dict(s.provenance),
            "created_at": now,
        }
        for s in samples
    ]
    known = set(session.scalars(select(Sample.external_id).where(Sample.benchmark_id == benchmark.id)))
    new_rows = [r for r in rows if r["external_id"] not in known]
    insert_ignoring_duplicates(session, Sample, new_rows)
    if not created and (new_rows or added_categories):
        # Grown, nothing changed: the hash now covers the larger benchmark.
        benchmark.content_hash = record.content_hash
    by_id = {c.id: name for name, c in existing.items()}
    added: dict[str, int] = {}
    for r in new_rows:
        name = by_id[r["category_id"]]
        added[name] = added.get(name, 0) + 1
    return RegisterResult(benchmark.id, created, added_categories, added)


_SAMPLE_FIELDS = ("instruction", "instruction_language", "subcategory", "source_sha256", "reference_text", "reference_sha256")


def _refuse_changes(session: Session, stored: BenchmarkRow, record: Benchmark, samples: Sequence[SampleRecord]) -> None:
    """Raise if ``record`` changes anything already stored under its name and version."""
    changes: list[str] = []
    definition = {
        "score range": ((stored.score_min, stored.score_max), (record.score_min, record.score_max)),
        "overall score": (stored.overall, record.overall),
        "criteria": (stored.criteria, [c.as_json() for c in record.criteria]),
        "slices": (list(stored.slices or []), list(record.slices)),
    }
    changes += [f"its {what}" for what, (old, new) in definition.items() if old != new]
    categories = {c.name: c for c in session.scalars(select(CategoryRow).where(CategoryRow.benchmark_id == stored.id))}
    for cat in record.categories:
        row = categories.get(cat.name)
        if row is not None:
            changes += [f"category {cat.name!r}: {what}" for what in _category_changes(row, cat)]
    known = {s.external_id: s for s in session.scalars(select(Sample).where(Sample.benchmark_id == stored.id))}
    by_category = {c.id: name for name, c in categories.items()}
    changed_items = [
        s.external_id
        for s in samples
        if (old := known.get(s.external_id)) is not None
        and (by_category.get(old.category_id) != s.category or any(getattr(old, f) != getattr(s, f) for f in _SAMPLE_FIELDS))
    ]
    if changed_items:
        shown = ", ".join(repr(i) for i in changed_items[:3]) + (f" and {len(changed_items) - 3} more" if len(changed_items) > 3 else "")
        changes.append(f"item(s) {shown} (instruction, image or reference)")
    if changes:
        raise BenchmarkChangedError(
            f"benchmark {record.name!r} version {record.version!r} is already ingested and this folder changes "
            f"{'; '.join(changes)}. Earlier runs certify the stored version, so it is not overwritten: "
            f"bump `version` in benchmark.yaml to ingest the change as a new version"
        )


def _category_changes(row: CategoryRow, cat: Category) -> list[str]:
    changed = []
    if (row.prompt_text, row.prompt_version) != (cat.prompt_text, cat.prompt_version):
        changed.append(f"its judge prompt ({cat.prompt_path or 'built-in'})")
    if list(row.criteria or []) != list(cat.criteria):
        changed.append("its criteria")
    if dict(row.weights or {}) != dict(cat.weights):
        changed.append("its weights")
    if row.pass_rule != (cat.pass_rule.as_json() if cat.pass_rule else None):
        changed.append("its pass rule")
    return changed
