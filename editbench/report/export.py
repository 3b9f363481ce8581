"""``editbench export RUN --layout gedit DIR``: a run's edited images where another tool expects them.

GEdit-Bench's own scorer (Step1X-Edit, ``GEdit-Bench/test_gedit_score.py``) reads, per item::

    DIR/<model_name>/fullset/<task_type>/<instruction_language>/<key>.png          edited image
    DIR/<model_name>/fullset/<task_type>/<instruction_language>/<key>_SRCIMG.png   source image

and *silently skips* an item when either file is absent. So the export writes both, names them
from the values GEdit itself uses (the importer keeps them in the sample's provenance: ``key``,
``task_type`` and ``instruction_language`` — ``cn``, not the ``zh`` editbench stores), and lists
every sample it could not export, with the reason, in ``DIR/<model_name>/export_manifest.json``
(beside ``fullset/``, where the scorer does not look).
"""

from __future__ import annotations

import json
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PIL import Image
from sqlalchemy.orm import Session

from editbench.config import load_settings
from editbench.errors import ExportError
from editbench.report.data import RunData, SampleData, load_run, resolve_image

LAYOUTS = ("gedit", "folder")
_GEDIT_LANGUAGES = {"zh": "cn"}  # editbench stores ISO 639-1; GEdit's folders say "cn"
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")




@dataclass(frozen=True)
class ExportResult:
    root: Path  # DIR/<model_name>
    written: int
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (category/id, reason)
    manifest: Path | None = None


def path_segment(value: Any, what: str) -> str:
    """One safe path segment: no separators, no '..', no surprises for the scorer's f-strings."""
    text = _UNSAFE.sub("_", str(value)).strip("._")
    if not text:
        raise ValueError(f"{what} {value!r} gives an empty file name")
    return text


def gedit_location(sample: SampleData) -> tuple[str, str, str]:
    """(task_type, instruction_language, key) as GEdit-Bench names them."""
    p = sample.provenance
    task_type = p.get("task_type") or sample.category
    language = p.get("instruction_language") or _GEDIT_LANGUAGES.get(sample.instruction_language, sample.instruction_language)
    key = p.get("key")
    if key is None:
        key = sample.external_id
        suffix = f"_{sample.instruction_language}"
        if key.endswith(suffix):  # the GEdit importer's ids are "<key>_<language>"
            key = key[: -len(suffix)]
    return (path_segment(task_type, "task type"), path_segment(language, "language"), path_segment(key, "key"))


def _write_png(source: Path, target: Path) -> None:
    """PNG as the scorer expects; a PNG is copied byte for byte, anything else re-encoded."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with Image.open(source) as image:
        if image.format == "PNG":
            shutil.copyfile(source, target)
        else:
            image.save(target, "PNG")


def export_gedit(run: RunData, out_dir: Path, *, model_name: str | None = None, home: Path | None = None) -> ExportResult:
    home = home or load_settings().home
    name = path_segment(model_name or run.name or f"run-{run.id}", "model name")
    root = Path(out_dir) / name
    skipped: list[tuple[str, str]] = []
    written = 0
    seen: dict[tuple[str, str, str], str] = {}
    for s in run.samples:
        label = f"{s.category}/{s.external_id}"
        if s.edit is None or s.edit.status != "done":
            status = s.edit.status if s.edit else "no edit row"
            reason = f"edit {status}" + (f": {s.edit.error_code}" if s.edit and s.edit.error_code else "")
            skipped.append((label, reason))
            continue
        try:
            location = gedit_location(s)
        except ValueError as exc:
            skipped.append((label, str(exc)))
            continue
        if location in seen:
            skipped.append((label, f"same GEdit file name as {seen[location]}"))
            continue
        seen[location] = label
        edited = resolve_image(s.edit.output_path, s.edit.output_sha256, home)
        source = resolve_image(s.source_path, s.source_sha256, home)
        if edited is None or source is None:
            skipped.append((label, "edited image not found" if edited is None else "source image not found"))
            continue
        task_type, language, key = location
        folder = root / "fullset" / task_type / language
        try:
            _write_png(edited, folder / f"{key}.png")
            _write_png(source, folder / f"{key}_SRCIMG.png")
        except OSError as exc:
            skipped.append((label, f"cannot convert image: {exc}"))
            continue
        written += 1
    root.mkdir(parents=True, exist_ok=True)
    manifest = root / "export_manifest.json"
    manifest.write_text(
        json.dumps(
            {
                "layout": "gedit",
                "run": run.id,
                "model_name": name,
                "benchmark": f"{run.benchmark.name} v{run.benchmark.version}",
                "written": written,
                "skipped": [{"sample": k, "reason": r} for k, r in skipped],
                "scorer": "GEdit-Bench/test_gedit_score.py --model_name "
                f"{name} --save_path {Path(out_dir).resolve()}",
            },
            indent=2,
        )
        + "\n"
    )
    return ExportResult(root, written, skipped, manifest)


def export_run(
    session: Session,
    run_id: int,
    layout: str,
    out_dir: Path | str,
    *,
    model_name: str | None = None,
    home: Path | None = None,
) -> ExportResult:
    return export_layout(load_run(session, run_id), layout, Path(out_dir), model_name=model_name, home=home)


def export_layout(
    run: RunData, layout: str, out_dir: Path, *, model_name: str | None = None, home: Path | None = None
) -> ExportResult:
    """Export a loaded run in one of :data:`LAYOUTS`."""
    if layout not in LAYOUTS:
        raise ExportError(f"unknown layout {layout!r}; known: {', '.join(LAYOUTS)}")
    if layout == "folder":
        from editbench.report.folder_export import export_folder

        return export_folder(run, out_dir, model_name=model_name, home=home)
    return export_gedit(run, out_dir, model_name=model_name, home=home)
