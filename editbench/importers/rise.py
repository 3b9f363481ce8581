"""RISEBench (reasoning-informed visual editing) → native benchmark.

Source layout (PhoenixZ810/RISEBench, ``data/data_total.json`` and its ``gpt_eval.py``): a JSON
list of samples, images in ``<category>_images/`` folders next to the JSON file. Each sample has

- ``index`` (str): the sample id, e.g. ``temporal_reasoning_1``;
- ``category``: ``temporal_reasoning``, ``causal_reasoning``, ``spatial_reasoning`` or
  ``logical_reasoning``;
- ``instruction`` (str) and ``image`` (path, relative to the JSON file's folder; RISEBench++ writes
  a list: the first image is the source, the others become ``extra_images`` labelled ``image 2``, ...);
- a reference: ``reference`` or ``reference_txt`` (text) and/or ``reference_img`` (path);
- optional ``subtask``/``subcategory`` and flags ``consistency_free``, ``reasoning_img``,
  ``reasoning_wo_ins`` (kept as tags).

Scoring follows RISEBench: 1–5 for appearance consistency, instruction reasoning and visual
plausibility (logical reasoning has no plausibility score); a sample passes only when every
dimension gets full marks. The weighted score uses RISEBench's weights.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from editbench.importers.native_writer import (
    ItemLine,
    NativeBenchmarkWriter,
)
from editbench.importers.records import (
    EDITBENCH_SCORING,
    ImporterError,
    ImportReport,
    Scoring,
    SkipCallback,
    SkipRecord,
    image_paths,
    import_into,
    is_blank,
    is_true,
    optional_str,
    read_json,
    require_str,
    resolve_under,
    single_image_path,
)
from editbench.records import Benchmark, Category, Criterion, PassRule

KIND = "rise"
DATASET = "RISEBench"
# Looked for, in this order, when SRC is a folder (RISEBench-64 on GitHub, RISEBench-360 on the
# hub, RISEBench++).
ANNOTATION_NAMES = ("data_total.json", "datav2_total_w_subtask.json", "overall_data.json")
FLAGS = ("consistency_free", "reasoning_img", "reasoning_wo_ins")

MANIFEST = Benchmark(
    name="risebench",
    version="1.0",
    description=(
        "RISEBench, imported by `editbench import rise`: edits that need temporal, causal, "
        "spatial or logical reasoning; a sample passes only with full marks on every dimension."
    ),
    criteria=(
        Criterion(
            "appearance_consistency",
            "Is everything unrelated to the instruction kept as in the source image?",
        ),
        Criterion(
            "instruction_reasoning",
            "Does the edited image show the correct outcome the instruction asks the model to reason out?",
        ),
        Criterion(
            "visual_plausibility",
            "Is the edited image realistic, clear and free of distortion?",
        ),
    ),
    overall="weighted_mean",
    score_min=1,
    score_max=5,
)

FULL_MARKS = PassRule(MANIFEST.score_max)
THREE_WEIGHTS = {"appearance_consistency": 0.3, "instruction_reasoning": 0.5, "visual_plausibility": 0.2}
LOGICAL_WEIGHTS = {"appearance_consistency": 0.3, "instruction_reasoning": 0.7}

CATEGORY_DESCRIPTIONS = {
    "temporal_reasoning": "Show how the scene looks after time passes.",
    "causal_reasoning": "Show the consequence of an action or event.",
    "spatial_reasoning": "Arrange, assemble or view objects in space.",
    "logical_reasoning": "Solve a puzzle or logic problem drawn in the image.",
}

_PROMPT = """\
You are an expert judge of reasoning-informed image editing (RISEBench, category: <CATEGORY>).
You are shown the source image first and then the edited image. A reference image, when given,
shows a correct answer.

Edit instruction: "{instruction}"
Expected result (benchmark reference; may be empty when only a reference image is given):
{reference}

This benchmark scores every edit on these criteria:
{criteria}

Score only this criterion: {criterion} ({criterion_description})

Rubric, from {scale_min} (worst) to {scale_max} (best). Be strict: {scale_max} means fully correct
with no flaw, and a sample passes only with {scale_max} on every criterion.
<RUBRIC>
<CATEGORY_NOTE>
Reply with the score for {criterion} as a single integer from {scale_min} to {scale_max}.
"""

_RUBRIC = {
    "appearance_consistency": (
        "apart from the change the reasoning requires, are the objects, background and style the "
        "same as in the source image? {scale_max} = identical; {scale_min} = a different scene."
    ),
    "instruction_reasoning": (
        "does the edit show the outcome described by the reference (text or image)? "
        "{scale_max} = exactly the expected outcome; 3 = partly right; {scale_min} = wrong or unchanged."
    ),
    "visual_plausibility": (
        "look at the edited image alone. {scale_max} = realistic and clean; {scale_min} = heavily distorted or unrecognisable."
    ),
}

_CATEGORY_NOTES = {
    "logical_reasoning": (
        "Logical puzzles are drawn answers: judge instruction_reasoning only on whether the drawn "
        "answer is correct, and appearance_consistency on whether the puzzle itself is intact.\n"
    ),
}


def manifest_category(name: str) -> Category:
    weights = LOGICAL_WEIGHTS if name == "logical_reasoning" else THREE_WEIGHTS
    rubric = "\n".join(f"- {criterion}: {_RUBRIC[criterion]}" for criterion in weights)
    prompt = _PROMPT.replace("<RUBRIC>", rubric).replace("<CATEGORY_NOTE>", _CATEGORY_NOTES.get(name, "")).replace("<CATEGORY>", name)
    return Category(
        name=name,
        description=CATEGORY_DESCRIPTIONS.get(name, f"RISEBench category {name!r}."),
        prompt_text=prompt,
        criteria=tuple(weights) if weights is LOGICAL_WEIGHTS else (),
        weights=weights,
        pass_rule=FULL_MARKS,
    )


def import_rise(
    src: Path,
    dest: Path,
    *,
    limit: int | None = None,
    overwrite: bool = False,
    on_skip: SkipCallback | None = None,
    image_root: Path | None = None,
    scoring: Scoring = EDITBENCH_SCORING,
) -> ImportReport:
    """Import RISEBench from its JSON file, or the folder that holds it (``data/`` is searched too)."""
    annotation = annotation_file(Path(src))
    samples = _load(annotation)
    root = Path(image_root) if image_root else default_image_root(annotation, samples)
    return import_into(
        dest,
        MANIFEST,
        _records(samples),
        lambda sample, w: _convert(sample, w, root, scoring),
        kind=KIND,
        provenance={"importer": KIND, "dataset": DATASET, "source": str(annotation.absolute()), "images": str(root)},
        limit=limit,
        overwrite=overwrite,
        on_skip=on_skip,
        scoring=scoring,
    )


def annotation_file(src: Path) -> Path:
    if src.is_file():
        return src
    if not src.is_dir():
        raise ImporterError(f"{src} does not exist")
    for folder in (src, src / "data"):
        for name in ANNOTATION_NAMES:
            if (folder / name).is_file():
                return folder / name
    raise ImporterError(f"none of {', '.join(ANNOTATION_NAMES)} found in {src} or {src / 'data'}")


def default_image_root(annotation: Path, samples: list[Any], probe: int = 8) -> Path:
    """The folder the samples' image paths start from: the JSON's folder (RISEBench on GitHub),
    or ``data/`` beside it (the hub dataset unpacked: JSON at the top, images under ``data/``).

    The first few image paths decide; the JSON's folder wins a tie, and is the answer when no
    image is found under either (each such item is then skipped with the path it looked for).
    """
    paths = [s["image"] for s in samples[:probe] if isinstance(s, dict) and isinstance(s.get("image"), str)]
    paths += [
        s["image"][0]
        for s in samples[:probe]
        if isinstance(s, dict) and isinstance(s.get("image"), list) and s["image"] and isinstance(s["image"][0], str)
    ]
    candidates = (annotation.parent, annotation.parent / "data")
    found = [sum((root / p).is_file() for p in paths) for root in candidates]
    return candidates[1] if found[1] > found[0] else candidates[0]


def load_samples(annotation: Path) -> list[Any]:
    """The samples of a RISEBench data file (the official protocol reads their prompt flags)."""
    return _load(annotation)


def _load(annotation: Path) -> list[Any]:
    samples = read_json(annotation)
    if isinstance(samples, dict):
        # Some exports key the list by index; keep the file's order either way.
        samples = list(samples.values())
    if not isinstance(samples, list):
        raise ImporterError(f"{annotation} holds {type(samples).__name__}, expected a list of samples")
    return samples


def _records(samples: list[Any]) -> Iterator[tuple[str, Any]]:
    for position, sample in enumerate(samples):
        index = sample.get("index") if isinstance(sample, dict) else None
        valid = isinstance(index, (str, int)) and not isinstance(index, bool) and str(index).strip()
        yield (str(index).strip() if valid else f"sample #{position}"), sample


def _convert(sample: Any, writer: NativeBenchmarkWriter, root: Path, scoring: Scoring) -> ItemLine:
    if not isinstance(sample, dict):
        raise SkipRecord(f"sample is {type(sample).__name__}, expected an object")
    index = require_str(sample, "index")
    category = require_str(sample, "category")
    instruction = require_str(sample, "instruction")
    image_name, *extra_names = image_paths(sample, "image")
    reference_text = optional_str(sample, "reference") or optional_str(sample, "reference_txt")
    reference_name = None if is_blank(sample.get("reference_img")) else single_image_path(sample, "reference_img")
    if writer.has_item(index):
        raise SkipRecord(f"duplicate id {index!r}")
    source_path = resolve_under(root, image_name)
    reference_path = resolve_under(root, reference_name) if reference_name else None
    extra_paths = [resolve_under(root, name) for name in extra_names]
    writer.declare_category(scoring.declare(manifest_category(category)))
    source_image = writer.copy_image(source_path, image_name)
    extra_images = tuple(
        (f"image {position}", writer.copy_image(path, name))
        for position, (path, name) in enumerate(zip(extra_paths, extra_names, strict=True), start=2)
    )
    reference_image = writer.copy_image(reference_path, reference_name) if reference_path and reference_name else None
    flags = tuple(flag for flag in FLAGS if is_true(sample.get(flag)))
    image: Any = [image_name, *extra_names] if extra_names else image_name
    source: dict[str, Any] = {"dataset": DATASET, "index": index, "category": category, "image": image}
    if reference_name:
        source["reference_img"] = reference_name
    for name in ("subtask", "subcategory", "task_type"):
        if isinstance(sample.get(name), str) and sample[name].strip():
            source[name] = sample[name].strip()
    return ItemLine(
        id=index,
        category=category,
        instruction=instruction,
        source_image=source_image,
        subcategory=source.get("subtask") or source.get("subcategory"),
        reference_text=reference_text,
        reference_image=reference_image,
        tags=flags,
        source=source,
        extra_images=extra_images,
    )
