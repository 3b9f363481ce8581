"""KRIS-Bench (knowledge-based reasoning in image editing) → native benchmark.

Source layout (mercurystraw/Kris_Bench, ``KRIS_Bench/<category>/annotation.json``): one folder
per task category holding its images and an ``annotation.json`` that maps a sample id to

- ``ori_img``: the source image file name, relative to the category folder; a list of names for
  multi-image tasks (``multi-element_composition``, ``temporal_prediction``);
- ``ins_en``: the English instruction;
- ``explain_en`` (optional, may be ""): the answer key, what a correct edit shows;
- ``gt_img`` (optional, may be ""): a ground-truth image (``viewpoint_change``).

Scoring follows KRIS-Bench: 1–5 rubrics for visual consistency, visual quality and instruction
following, plus knowledge plausibility (judged against ``explain_en``) in the knowledge categories
scored by its ``metrics_knowledge.py``. Multi-image records keep every input image: the first
is the source, the others become labelled ``extra_images`` (``image 2``, ...; ``frame N`` in
``temporal_prediction``, from the ``<id>-<N>`` file names); ``gt_img`` stays the reference image.
"""

from __future__ import annotations

import json
import re
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
    optional_str,
    require_str,
    resolve_under,
)
from editbench.records import Benchmark, Category, Criterion

KIND = "kris"
DATASET = "KRIS-Bench"
ANNOTATION = "annotation.json"

CRITERIA = (
    Criterion(
        "visual_consistency",
        "Is everything the instruction does not ask to change identical to the source image?",
    ),
    Criterion("visual_quality", "Is the edited image natural, sharp and free of artifacts?"),
    Criterion("instruction_following", "Does the edited image carry out what the instruction asks?"),
    Criterion(
        "knowledge_plausibility",
        "Is the result consistent with real-world knowledge and with the expected answer?",
    ),
)
WITHOUT_KNOWLEDGE = ("visual_consistency", "visual_quality", "instruction_following")

MANIFEST = Benchmark(
    name="kris-bench",
    version="1.0",
    description=(
        "KRIS-Bench, imported by `editbench import kris`: knowledge-based reasoning edits "
        "(factual, conceptual and procedural knowledge), each criterion judged on a 1-5 rubric."
    ),
    criteria=CRITERIA,
    overall="weighted_mean",
    score_min=1,
    score_max=5,
)

# The categories KRIS-Bench scores with knowledge plausibility (its metrics_knowledge.py, with the
# folder names of the released data). Unknown folders are scored with all four criteria.
KNOWLEDGE_CATEGORIES = frozenset(
    {
        "abstract_reasoning",
        "biology",
        "chemistry",
        "geography",
        "humanities",
        "mathematics",
        "medicine",
        "physics",
        "practical_knowledge",
        "rule-based_reasoning",
    }
)

CATEGORY_DESCRIPTIONS = {
    "abstract_reasoning": "Complete visual patterns and puzzles by inferring the rule.",
    "anomaly_correction": "Find and fix what is wrong or implausible in the image.",
    "biology": "Edits whose correct result follows from biology.",
    "chemistry": "Edits whose correct result follows from chemistry.",
    "color_change": "Change the color of objects as instructed.",
    "count_change": "Change how many objects there are.",
    "geography": "Edits whose correct result follows from geography.",
    "humanities": "Edits that need knowledge of history, culture or society.",
    "mathematics": "Edits whose correct result follows from a calculation or mathematical fact.",
    "medicine": "Edits whose correct result follows from medical knowledge.",
    "multi-element_composition": "Compose elements from several input images into one.",
    "multi-instruction_execution": "Carry out several instructions in one edit.",
    "part_completion": "Complete a partially shown object.",
    "physics": "Edits whose correct result follows from physical laws.",
    "position_movement": "Move objects to a new position.",
    "practical_knowledge": "Edits that need everyday practical knowledge.",
    "rule-based_reasoning": "Apply the rules of a game or a procedure (mazes, board games, ...).",
    "size_adjustment": "Change the size of objects.",
    "temporal_prediction": "Predict a missing frame of a sequence.",
    "viewpoint_change": "Show the object from another viewpoint.",
}

_PROMPT_HEAD = """\
You are an expert judge of knowledge-based image editing (KRIS-Bench, category: <CATEGORY>).
You are shown the source image first and then the edited image.

Edit instruction: "{instruction}"
"""

_KNOWLEDGE_BODY = """\
Expected result (answer key written by the benchmark authors): {reference}

A correct edit must reach the answer in the key; judge instruction following and knowledge
plausibility against it, not against what merely looks reasonable.
"""

_PLAIN_BODY = """\
Notes on the expected result, if the benchmark gives any: {reference}
<GT_NOTE>"""

_PROMPT_TAIL = """\
This benchmark scores every edit on these criteria:
{criteria}

Score only this criterion: {criterion} ({criterion_description})

Rubric, from {scale_min} (worst) to {scale_max} (best):
<RUBRIC>
<CATEGORY_NOTE>
Reply with the score for {criterion} as a single integer from {scale_min} to {scale_max}.
"""

_RUBRIC = {
    "visual_consistency": (
        "compare the two images outside the edited region. {scale_max} = nothing else changed; "
        "3 = noticeable unrelated changes; {scale_min} = the scene is largely replaced."
    ),
    "visual_quality": (
        "look at the edited image alone. {scale_max} = natural, sharp, no artifacts; "
        "3 = visible flaws; {scale_min} = heavily distorted or unusable."
    ),
    "instruction_following": (
        "{scale_max} = the requested change is complete and correct; 3 = partly done or partly "
        "wrong; {scale_min} = not done at all or something else was done."
    ),
    "knowledge_plausibility": (
        "{scale_max} = the result agrees with real-world knowledge and the answer key; "
        "3 = roughly right with factual errors; {scale_min} = contradicts the expected answer."
    ),
}

_CATEGORY_NOTES = {
    "anomaly_correction": "In this category the answer key says which anomaly must be corrected.\n",
    "viewpoint_change": (
        "In this category a ground-truth image of the requested view is given as the reference "
        "image; compare the edit against it for instruction following.\n"
    ),
}


def manifest_category(name: str) -> Category:
    knowledge = name in KNOWLEDGE_CATEGORIES or name not in CATEGORY_DESCRIPTIONS
    criteria = tuple(c.name for c in CRITERIA) if knowledge else WITHOUT_KNOWLEDGE
    rubric = "\n".join(f"- {criterion}: {_RUBRIC[criterion]}" for criterion in criteria)
    body = _KNOWLEDGE_BODY if knowledge else _PLAIN_BODY
    prompt = (
        (_PROMPT_HEAD + "\n" + body + "\n" + _PROMPT_TAIL)
        .replace("<GT_NOTE>", "If a reference image is provided, it shows a correct result.\n")
        .replace("<RUBRIC>", rubric)
        .replace("<CATEGORY_NOTE>", _CATEGORY_NOTES.get(name, ""))
        .replace("<CATEGORY>", name)
    )
    return Category(
        name=name,
        description=CATEGORY_DESCRIPTIONS.get(name, f"KRIS-Bench category {name!r}."),
        prompt_text=prompt,
        criteria=() if knowledge else WITHOUT_KNOWLEDGE,
    )


def import_kris(
    src: Path,
    dest: Path,
    *,
    limit: int | None = None,
    overwrite: bool = False,
    on_skip: SkipCallback | None = None,
    image_root: Path | None = None,
    scoring: Scoring = EDITBENCH_SCORING,
) -> ImportReport:
    """Import KRIS-Bench from its ``KRIS_Bench`` folder (or a folder that contains it).

    ``image_root`` is not used: KRIS images always sit next to their ``annotation.json``.
    """
    root = bench_root(Path(src))
    return import_into(
        dest,
        MANIFEST,
        _records(root),
        lambda record, w: _convert(record, w, scoring),
        kind=KIND,
        provenance={"importer": KIND, "dataset": DATASET, "source": str(root.absolute())},
        limit=limit,
        overwrite=overwrite,
        on_skip=on_skip,
        scoring=scoring,
    )


def bench_root(src: Path) -> Path:
    """The folder whose subfolders hold ``annotation.json``: ``src`` or ``src/KRIS_Bench``."""
    if not src.is_dir():
        raise ImporterError(f"{src} is not a folder; pass the KRIS_Bench folder")
    for candidate in (src, src / "KRIS_Bench"):
        if candidate.is_dir() and any(candidate.glob(f"*/{ANNOTATION}")):
            return candidate
    raise ImporterError(f"no <category>/{ANNOTATION} under {src}; pass the KRIS_Bench folder")


def _records(root: Path) -> Iterator[tuple[str, tuple[str, str, Any, Path]]]:
    for annotation in sorted(root.glob(f"*/{ANNOTATION}")):
        folder = annotation.parent
        category = folder.name
        try:
            entries = json.loads(annotation.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            # One broken file is reported like a malformed record; the other categories still import.
            yield f"{category}/{ANNOTATION}", ("", category, exc, folder)
            continue
        if not isinstance(entries, dict):
            yield f"{category}/{ANNOTATION}", ("", category, TypeError("not a JSON object"), folder)
            continue
        for sample_id in sorted(entries, key=_natural_key):
            yield f"{category}/{sample_id}", (sample_id, category, entries[sample_id], folder)


def _natural_key(sample_id: str) -> tuple[int, int, str]:
    return (0, int(sample_id), "") if sample_id.isdigit() else (1, 0, sample_id)


def _convert(record: tuple[str, str, Any, Path], writer: NativeBenchmarkWriter, scoring: Scoring) -> ItemLine:
    sample_id, category, entry, folder = record
    if isinstance(entry, Exception):
        raise SkipRecord(f"cannot read {ANNOTATION}: {entry}")
    if not isinstance(entry, dict):
        raise SkipRecord(f"annotation is {type(entry).__name__}, expected an object")
    instruction = require_str(entry, "ins_en")
    source_name, *extra_names = image_paths(entry, "ori_img")
    explanation = optional_str(entry, "explain_en")
    ground_truth = optional_str(entry, "gt_img")
    item_id = f"{category}_{sample_id}"
    if writer.has_item(item_id):
        raise SkipRecord(f"duplicate id {item_id!r}")
    source_path = resolve_under(folder, source_name)
    reference_path = resolve_under(folder, ground_truth) if ground_truth else None
    extra_paths = [resolve_under(folder, name) for name in extra_names]
    writer.declare_category(scoring.declare(manifest_category(category)))
    source_image = writer.copy_image(source_path, f"{category}/{source_name}")
    labels = extra_labels(category, [source_name, *extra_names])
    extra_images = tuple(
        (label, writer.copy_image(path, f"{category}/{name}")) for label, path, name in zip(labels, extra_paths, extra_names, strict=True)
    )
    reference_image = writer.copy_image(reference_path, f"{category}/{ground_truth}") if reference_path else None
    ori_img: Any = [source_name, *extra_names] if extra_names else source_name
    source: dict[str, Any] = {"dataset": DATASET, "category": category, "id": sample_id, "ori_img": ori_img}
    if ground_truth:
        source["gt_img"] = ground_truth
    return ItemLine(
        id=item_id,
        category=category,
        instruction=instruction,
        source_image=source_image,
        reference_text=explanation,
        reference_image=reference_image,
        source=source,
        extra_images=extra_images,
    )


_FRAME = re.compile(r"-(\d+)\.[A-Za-z0-9]+$")


def extra_labels(category: str, names: list[str]) -> list[str]:
    """Labels of the images after the first: ``frame N`` where every file name ends in ``-N``
    (temporal_prediction's frames), else ``image N`` by position (multi-element_composition's
    instructions say "the first image", "the third image")."""
    frames = [_FRAME.search(name) for name in names]
    if category == "temporal_prediction" and all(frames):
        return [f"frame {int(match.group(1))}" for match in frames[1:] if match]
    return [f"image {position}" for position in range(2, len(names) + 1)]
