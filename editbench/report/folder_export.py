"""``editbench export RUN --layout folder DIR``: a run's images in plain folders, with labels.

For image tools that read a directory of images, such as FiftyOne's ``ImageDirectory`` type (or
any file browser)::

    DIR/<model_name>/edited/<category>/<item>.<ext>      edited images (what a viewer shows)
    DIR/<model_name>/source/<category>/<item>.<ext>      source images
    DIR/<model_name>/reference/<category>/<item>.<ext>   reference images, where the item has one
    DIR/<model_name>/labels.json                         every sample: its files, status, scores,
                                                         reasoning (schema: labels.schema.json)

Every sample of the run is in labels.json, including those whose edit failed (``filepath`` null,
status and error code saying why); images are copied as they are (hard-linked where possible).
"""

from __future__ import annotations

import json
from pathlib import Path

from editbench.config import load_settings
from editbench.report.data import RunData, SampleData, resolve_image
from editbench.report.documents import LabeledSample, LabelsFile, ScoreScale
from editbench.report.export import ExportResult, path_segment
from editbench.report.images import image_locations, link_or_copy
from editbench.report.summary import score_sample


def _error_code(sample: SampleData) -> str | None:
    if sample.edit is not None and sample.edit.error_code:
        return sample.edit.error_code
    return next((j.error_code for j in sample.judgments.values() if j.error_code), None)


def export_folder(run: RunData, out_dir: Path, *, model_name: str | None = None, home: Path | None = None) -> ExportResult:
    home = home or load_settings().home
    name = path_segment(model_name or run.name or f"run-{run.id}", "model name")
    root = Path(out_dir) / name
    root.mkdir(parents=True, exist_ok=True)
    locations = image_locations(run)
    taken: set[str] = set()
    labeled: list[LabeledSample] = []
    skipped: list[tuple[str, str]] = []
    written = 0
    for s in run.samples:
        stem = path_segment(f"{s.external_id}", "item id")
        if f"{s.category}/{stem}" in taken:  # two ids that sanitise alike: keep both, apart
            stem = f"{stem}-{s.id}"
        taken.add(f"{s.category}/{stem}")
        files: dict[str, str | None] = {}
        for role in ("edited", "source", "reference"):
            files[role] = None
            if (s.id, role) not in locations:
                continue
            found = resolve_image(*locations[(s.id, role)], home)
            if found is None:
                continue
            relative = f"{role}/{path_segment(s.category, 'category')}/{stem}{found.suffix.lower()}"
            target = root / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            if link_or_copy(found, target, overwrite=True):
                files[role] = relative
        if files["edited"] is None:
            skipped.append((f"{s.category}/{s.external_id}", "no edited image: " + (s.edit.status if s.edit else "no edit row")))
        else:
            written += 1
        score = score_sample(s, run.category(s.category), run.benchmark)
        labeled.append(
            LabeledSample(
                filepath=files["edited"],
                source_filepath=files["source"],
                reference_filepath=files["reference"],
                sample_id=s.id,
                item_id=s.external_id,
                category=s.category,
                instruction=s.instruction,
                instruction_language=s.instruction_language,
                tags=list(s.tags),
                status=score.status,
                overall=score.overall,
                passed=score.passed,
                scores={c: j.score if j.status == "done" else None for c, j in s.judgments.items()},
                reasoning={c: j.reasoning for c, j in s.judgments.items()},
                edit_status=s.edit.status if s.edit else "missing",
                error_code=None if score.status == "done" else _error_code(s),
            )
        )
    labels = LabelsFile(
        run_id=run.id,
        run_name=run.name,
        benchmark=f"{run.benchmark.name} v{run.benchmark.version}",
        score_scale=ScoreScale(min=run.benchmark.score_min, max=run.benchmark.score_max),
        samples=labeled,
    )
    manifest = root / "labels.json"
    manifest.write_text(json.dumps(labels.to_json_dict(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return ExportResult(root, written, skipped, manifest)
