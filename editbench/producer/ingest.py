"""Bring a benchmark folder into the ledger.

Images are copied into the content-addressed store first (harmless if we crash: an orphan file
is never referenced), then every row is written in ONE transaction, so a crash mid-ingest leaves
the database exactly as before. Re-ingesting adds only what is new.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path

from editbench.benchmark import load_benchmark
from editbench.benchmark.spec import ItemSpec, Rejection
from editbench.benchmark.store import ImageStore
from editbench.config import load_settings
from editbench.layout import image_store
from editbench.schema import ledger, queries
from editbench.schema.db import session_scope
from editbench.schema.migrate import ensure_schema
from editbench.thumbnails import thumbnail_stored_image


@dataclass(frozen=True)
class IngestReport:
    benchmark: str
    version: str
    benchmark_id: int
    created: bool
    added_categories: list[str]
    added_samples: dict[str, int]
    rejections: list[Rejection]

    @property
    def added_total(self) -> int:
        return sum(self.added_samples.values())


def ingest(path: Path, *, max_pixels: int | None = None) -> IngestReport:
    settings = load_settings()
    ensure_schema()
    loaded = load_benchmark(Path(path), **({"max_pixels": max_pixels} if max_pixels else {}))
    store = image_store()  # EDITBENCH_HOME/store, or the object store of EDITBENCH_STORE_URL
    samples = [_sample_record(item, store, settings.home) for item in loaded.items]
    spec = loaded.spec
    record = replace(spec, source_path=str(Path(path).resolve()))
    with session_scope() as session:
        result = ledger.register_benchmark(session, record, samples)
    return IngestReport(
        spec.name,
        spec.version,
        result.benchmark_id,
        result.created,
        result.added_categories,
        result.added_samples,
        list(loaded.rejections),
    )


def _sample_record(item: ItemSpec, store: ImageStore, home: Path) -> ledger.SampleRecord:
    source = store.put(item.source_image, item.source_sha256 or None)
    reference = store.put(item.reference_image, item.reference_sha256) if item.reference_image else None
    extras = [(extra, store.put(extra.path, extra.sha256 or None)) for extra in item.extra_images]
    # Reports show every source; thumbnailing it once here saves decoding it per report.
    thumbnail_stored_image(source.path or Path(item.source_image), source.sha256, home)
    return ledger.SampleRecord(
        external_id=item.id,
        category=item.category,
        instruction=item.instruction,
        instruction_language=item.instruction_language,
        source_sha256=source.sha256,
        source_path=str(item.source_image),
        source_width=item.source_width or None,
        source_height=item.source_height or None,
        subcategory=item.subcategory,
        reference_text=item.reference_text,
        reference_sha256=reference.sha256 if reference else None,
        reference_path=str(item.reference_image) if item.reference_image else None,
        extra_images=[{"label": extra.label, "sha256": stored.sha256, "path": str(extra.path)} for extra, stored in extras],
        tags=list(item.tags),
        provenance=dict(item.source),
    )


def watch(
    path: Path, *, interval_s: float = 2.0, max_pixels: int | None = None, stop: Callable[[], bool] = lambda: False
) -> Iterator[IngestReport]:
    """Poll ``path`` and yield a report each time something new was ingested.

    Polling (not inotify) works on NFS and other shared filesystems, where benchmark folders
    on multi-host setups usually live. Rejections already reported are not repeated.
    """
    seen: set[tuple[str, str | None, str]] = set()
    while not stop():
        report = ingest(path, max_pixels=max_pixels)
        fresh = [r for r in report.rejections if (r.file, r.item_id, r.reason_code) not in seen]
        seen.update((r.file, r.item_id, r.reason_code) for r in report.rejections)
        if report.added_total or report.added_categories or fresh:
            yield replace(report, rejections=fresh)
        time.sleep(interval_s)


def registered_benchmarks() -> list[queries.CategoryCount]:
    """Every registered benchmark's categories with their sample counts (``editbench benchmarks``)."""
    ensure_schema()
    with session_scope() as session:
        return queries.sample_counts(session)
