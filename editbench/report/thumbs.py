"""thumbs/: the small JPEGs a report page shows, made once and shared through a cache.

Thumbnails go to ``thumbs/`` beside the page, named by the image's sha256 and hard-linked from a
cache under EDITBENCH_HOME, so a report written again (say, while the run is still going), another
run of the same benchmark or a comparison only makes the thumbnails it has never made.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from editbench.report.data import RunData, resolve_image
from editbench.thumbnails import fetch_shared_thumbnail, make_thumbnail, thumbnail_cache

Thumb = tuple[str | None, Path | None]
"""(thumbnail path relative to the page, the original image); either is None when unavailable."""


def _thumb_name(path: Path, sha256: str | None) -> str:
    digest = sha256 or hashlib.sha256(str(path).encode()).hexdigest()
    return f"{digest}.jpg"


def _place_thumb(source: Path, target: Path, cached: Path | None) -> bool:
    """Make the thumbnail (in the shared cache when the image has a known hash) and put it at
    ``target``: a hard link to the cached copy, or a copy where links are not possible."""
    if target.exists():
        return True
    if cached is not None and not cached.exists():
        fetch_shared_thumbnail(cached)  # made by a worker and kept in the object store, if any
    if cached is None or not make_thumbnail(source, cached):
        return make_thumbnail(source, target)
    try:
        os.link(cached, target)
    except FileExistsError:
        pass
    except OSError:
        try:
            shutil.copyfile(cached, target)
        except OSError:
            return make_thumbnail(source, target)
    return True


Thumbs = Mapping[tuple[int, str], Thumb]


def make_thumbnails(run: RunData, thumbs_dir: Path, home: Path, *, cache_dir: Path | None = None) -> dict[tuple[int, str], Thumb]:
    """(sample id, 'source'|'edited'|'reference') → (thumbnail path relative to the page, the
    original image); either is None when the image is not on this machine or cannot be decoded."""
    thumbs_dir.mkdir(parents=True, exist_ok=True)
    cache = cache_dir or thumbnail_cache(home)
    jobs: dict[tuple[int, str], tuple[Path, Path] | None] = {}
    cached: dict[Path, Path | None] = {}
    for s in run.samples:
        wanted: list[tuple[str, str | None, str | None]] = [("source", s.source_path, s.source_sha256)]
        if s.reference_path or s.reference_sha256:
            wanted.append(("reference", s.reference_path, s.reference_sha256))
        if s.edit is not None and s.edit.status == "done":
            wanted.append(("edited", s.edit.output_path, s.edit.output_sha256))
        for role, path, sha in wanted:
            found = resolve_image(path, sha, home)
            if found is None:
                jobs[(s.id, role)] = None
                continue
            target = thumbs_dir / _thumb_name(found, sha)
            jobs[(s.id, role)] = (found, target)
            # only content-named thumbnails may be shared: a path can hold other bytes tomorrow
            cached[target] = cache / target.name if sha else None
    unique = {target: source for pair in jobs.values() if pair for source, target in [pair]}
    with ThreadPoolExecutor(max_workers=min(8, os.cpu_count() or 1)) as pool:  # Pillow decodes without the GIL
        made = dict(zip(unique, pool.map(_place_thumb, unique.values(), unique.keys(), [cached[t] for t in unique]), strict=True))
    return {
        key: (f"{thumbs_dir.name}/{pair[1].name}", pair[0]) if pair and made[pair[1]] else (None, pair[0] if pair else None)
        for key, pair in jobs.items()
    }
