"""``editbench export RUN --layout gedit|kris|rise|imgedit DIR``: a run's edited images where a
benchmark's own evaluation scripts expect them, so they can be scored with the official judges too.

Each layout is the folder its official script reads (file names from the values the benchmark
itself uses, which the importers keep in every sample's provenance):

- ``gedit`` (Step1X-Edit ``GEdit-Bench/test_gedit_score.py --save_path DIR --model_name M``)::

      DIR/M/fullset/<task_type>/<instruction_language>/<key>.png          edited image
      DIR/M/fullset/<task_type>/<instruction_language>/<key>_SRCIMG.png   source image

  (``cn``, not the ``zh`` editbench stores);
- ``kris`` (Kris_Bench ``metrics_*.py --models M``, run from the checkout, reading
  ``results/M/<category>/<id>.jpg``): ``DIR/M/<category>/<id>.jpg``, JPEG; export into the
  checkout's ``results/`` folder;
- ``rise`` (RISEBench ``gpt_eval.py --output DIR/M``, reading ``DIR/M/images/<category>/<index>.png``):
  ``DIR/M/images/<category>/<index>.png``;
- ``imgedit`` (ImgEdit ``basic_bench.py --result_img_folder DIR/M``, reading ``DIR/M/<key>.png``):
  ``DIR/M/<key>.png``.

The official scripts *silently skip* (or fail on) an item whose image is absent, so the export
lists every sample it could not write, with the reason, in ``DIR/M/export_manifest.json``
(schema: ``export_manifest.schema.json``), a file none of the scripts reads.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PIL import Image
from sqlalchemy.orm import Session

from editbench.config import load_settings
from editbench.errors import ExportError
from editbench.report.data import RunData, SampleData, load_run, resolve_image

_GEDIT_LANGUAGES = {"zh": "cn"}  # editbench stores ISO 639-1; GEdit's folders say "cn"
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
MANIFEST_SCHEMA = Path(__file__).with_name("export_manifest.schema.json")


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


def _strip_prefix(external_id: str, prefix: str) -> str:
    return external_id.removeprefix(prefix)


def gedit_location(sample: SampleData) -> tuple[str, str, str]:
    """(task_type, instruction_language, key) as GEdit-Bench names them."""
    p = sample.provenance
    task_type = p.get("task_type") or sample.category
    language = p.get("instruction_language") or _GEDIT_LANGUAGES.get(sample.instruction_language, sample.instruction_language)
    key = p.get("key")
    if key is None:
        # the GEdit importer's ids are "<key>_<language>"
        key = sample.external_id.removesuffix(f"_{sample.instruction_language}")
    return (path_segment(task_type, "task type"), path_segment(language, "language"), path_segment(key, "key"))


def kris_location(sample: SampleData) -> tuple[str, str]:
    """(category, id): KRIS-Bench's category folder and annotation id (native ids are ``<category>_<id>``)."""
    p = sample.provenance
    category = p.get("category") or sample.category
    sample_id = p.get("id") or _strip_prefix(sample.external_id, f"{category}_")
    return (path_segment(category, "category"), path_segment(sample_id, "id"))


def rise_location(sample: SampleData) -> tuple[str, str]:
    """(category, index) as RISEBench's data file names them."""
    p = sample.provenance
    return (path_segment(p.get("category") or sample.category, "category"), path_segment(p.get("index") or sample.external_id, "index"))


def imgedit_location(sample: SampleData) -> tuple[str]:
    """(key,): the basic_edit.json key."""
    return (path_segment(sample.provenance.get("key") or sample.external_id, "key"),)


@dataclass(frozen=True)
class Layout:
    """Where one layout puts a sample's edited image (and, for GEdit, its source image)."""

    name: str
    edited: Callable[[SampleData], tuple[str, ...]]  # path parts under DIR/<model_name>
    image_format: str  # "PNG" or "JPEG", what the scorer's file names say
    source: Callable[[SampleData], tuple[str, ...]] | None = None
    scorer: str = ""  # the official command, with {model} and {dir}

    def paths(self, sample: SampleData) -> tuple[tuple[str, ...], tuple[str, ...] | None]:
        return self.edited(sample), self.source(sample) if self.source else None


def _gedit_edited(sample: SampleData) -> tuple[str, ...]:
    task_type, language, key = gedit_location(sample)
    return ("fullset", task_type, language, f"{key}.png")


def _gedit_source(sample: SampleData) -> tuple[str, ...]:
    task_type, language, key = gedit_location(sample)
    return ("fullset", task_type, language, f"{key}_SRCIMG.png")


LAYOUT_TABLE: dict[str, Layout] = {
    "gedit": Layout(
        "gedit",
        _gedit_edited,
        "PNG",
        _gedit_source,
        "GEdit-Bench/test_gedit_score.py --model_name {model} --save_path {dir}",
    ),
    "kris": Layout(
        "kris",
        lambda s: (*kris_location(s)[:1], f"{kris_location(s)[1]}.jpg"),
        "JPEG",
        None,
        "python metrics_common.py --models {model} (and metrics_knowledge.py, metrics_view_change.py), "
        "run in your Kris_Bench checkout with {dir} as its results/ folder",
    ),
    "rise": Layout(
        "rise",
        lambda s: ("images", rise_location(s)[0], f"{rise_location(s)[1]}.png"),
        "PNG",
        None,
        "python gpt_eval.py --data data/data_total.json --input data --output {dir}/{model}",
    ),
    "imgedit": Layout(
        "imgedit",
        lambda s: (f"{imgedit_location(s)[0]}.png",),
        "PNG",
        None,
        "python Benchmark/Basic/basic_bench.py --result_img_folder {dir}/{model} --edit_json "
        "Benchmark/Basic/basic_edit.json --origin_img_root <Benchmark/singleturn> --prompts_json Benchmark/Basic/prompts.json",
    ),
}
LAYOUTS = (*LAYOUT_TABLE, "folder")  # folder: plain image folders with labels (report.folder_export)


def _write_image(source: Path, target: Path, image_format: str) -> None:
    """The image in the scorer's format; bytes are copied unchanged when already in it."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with Image.open(source) as image:
        if image.format == image_format:
            shutil.copyfile(source, target)
        elif image_format == "JPEG":
            image.convert("RGB").save(target, "JPEG", quality=95)
        else:
            image.save(target, image_format)


def export_layout(run: RunData, out_dir: Path, layout: str, *, model_name: str | None = None, home: Path | None = None) -> ExportResult:
    """Write ``run``'s edited images in ``layout`` under ``out_dir/<model_name>``."""
    if layout == "folder":
        from editbench.report.folder_export import export_folder

        return export_folder(run, out_dir, model_name=model_name, home=home)
    try:
        spec = LAYOUT_TABLE[layout]
    except KeyError:
        raise ExportError(f"unknown layout {layout!r}; known: {', '.join(LAYOUTS)}") from None
    home = home or load_settings().home
    name = path_segment(model_name or run.name or f"run-{run.id}", "model name")
    root = Path(out_dir) / name
    skipped: list[tuple[str, str]] = []
    written = 0
    seen: dict[tuple[str, ...], str] = {}
    for s in run.samples:
        label = f"{s.category}/{s.external_id}"
        if s.edit is None or s.edit.status != "done":
            status = s.edit.status if s.edit else "no edit row"
            reason = f"edit {status}" + (f": {s.edit.error_code}" if s.edit and s.edit.error_code else "")
            skipped.append((label, reason))
            continue
        try:
            edited_parts, source_parts = spec.paths(s)
        except ValueError as exc:
            skipped.append((label, str(exc)))
            continue
        if edited_parts in seen:
            skipped.append((label, f"same {layout} file name as {seen[edited_parts]}"))
            continue
        seen[edited_parts] = label
        edited = resolve_image(s.edit.output_path, s.edit.output_sha256, home)
        source = resolve_image(s.source_path, s.source_sha256, home) if source_parts else None
        if edited is None or (source_parts and source is None):
            skipped.append((label, "edited image not found" if edited is None else "source image not found"))
            continue
        try:
            _write_image(edited, root.joinpath(*edited_parts), spec.image_format)
            if source_parts and source is not None:
                _write_image(source, root.joinpath(*source_parts), spec.image_format)
        except OSError as exc:
            skipped.append((label, f"cannot convert image: {exc}"))
            continue
        written += 1
    root.mkdir(parents=True, exist_ok=True)
    manifest = root / "export_manifest.json"
    manifest.write_text(
        json.dumps(
            {
                "layout": layout,
                "run": run.id,
                "model_name": name,
                "benchmark": f"{run.benchmark.name} v{run.benchmark.version}",
                "written": written,
                "skipped": [{"sample": k, "reason": r} for k, r in skipped],
                "scorer": spec.scorer.format(model=name, dir=Path(out_dir).resolve()),
            },
            indent=2,
        )
        + "\n"
    )
    return ExportResult(root, written, skipped, manifest)


def export_gedit(run: RunData, out_dir: Path, *, model_name: str | None = None, home: Path | None = None) -> ExportResult:
    return export_layout(run, out_dir, "gedit", model_name=model_name, home=home)


def export_run(
    session: Session,
    run_id: int,
    layout: str,
    out_dir: Path | str,
    *,
    model_name: str | None = None,
    home: Path | None = None,
) -> ExportResult:
    return export_layout(load_run(session, run_id), Path(out_dir), layout, model_name=model_name, home=home)
