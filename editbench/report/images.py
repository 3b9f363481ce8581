"""images/: the full-size images a report links to, inside the report folder.

A report folder must survive being zipped and mailed: so the page and samples.jsonl never point
at an absolute path on the machine that wrote them, but at ``images/<sha256><ext>`` beside them.
Files are hard-linked from where the ledger says they are (the image store, the benchmark folder,
the run's outputs) when the file system allows it, copied otherwise; named by content, so an
image shared by several samples (or a report written again) is placed once.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import Mapping
from pathlib import Path

from editbench.report.data import RunData, resolve_image

ROLES = ("source", "edited", "reference")
ImageKey = tuple[int, str]
"""(sample id, role): role is one of :data:`ROLES`."""


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def link_or_copy(source: Path, target: Path, *, overwrite: bool = False) -> bool:
    """Put ``source`` at ``target`` (a hard link, else a copy) atomically; False if it cannot.
    An existing ``target`` is kept unless ``overwrite`` (content-named files never change)."""
    if target.exists() and not overwrite:
        return True
    temp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        try:
            os.link(source, temp)
        except OSError:
            shutil.copyfile(source, temp)
        os.replace(temp, target)
    except OSError:
        temp.unlink(missing_ok=True)
        return False
    return True


def image_locations(run: RunData) -> dict[ImageKey, tuple[str | None, str | None]]:
    """(sample id, role) → (path, sha256) as the ledger records them; edited only for done edits."""
    wanted: dict[ImageKey, tuple[str | None, str | None]] = {}
    for s in run.samples:
        wanted[(s.id, "source")] = (s.source_path, s.source_sha256)
        if s.edit is not None and s.edit.status == "done":
            wanted[(s.id, "edited")] = (s.edit.output_path, s.edit.output_sha256)
        if s.reference_path or s.reference_sha256:
            wanted[(s.id, "reference")] = (s.reference_path, s.reference_sha256)
    return wanted


def place_images(run: RunData, out_dir: Path, home: Path) -> Mapping[ImageKey, str]:
    """Put every image of ``run`` that is on this machine under ``out_dir/images/`` and return
    (sample id, role) → its path relative to ``out_dir`` (images not found are left out)."""
    folder = out_dir / "images"
    folder.mkdir(parents=True, exist_ok=True)
    placed: dict[ImageKey, str] = {}
    for key, (path, sha256) in image_locations(run).items():
        found = resolve_image(path, sha256, home)
        if found is None:
            continue
        name = f"{sha256 or _sha256(found)}{found.suffix.lower() or '.img'}"
        if link_or_copy(found, folder / name):
            placed[key] = f"{folder.name}/{name}"
    return placed
