"""ImgEdit Basic-Edit-Suite (PKU-YuanGroup/ImgEdit) → native benchmark.

Source layout (``Benchmark/Basic/basic_edit.json`` and ``basic_bench_readme.md``): a JSON object
mapping a sample key (``"1082"``) to

- ``id``: the source image path, relative to the original-images root (``animal/000342021.jpg``);
- ``prompt``: the edit instruction;
- ``edit_type``: ``add``, ``remove``, ``replace``, ``adjust`` (``alter`` in older copies),
  ``style``, ``action``, ``extract``, ``background`` or ``compose``.

Several keys share one source image; it is copied once. Scoring follows ImgEdit's
``prompts.json``: each edit type has its own three 1–5 criteria and the item score is their mean.
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
    import_into,
    read_json,
    require_str,
    resolve_under,
)
from editbench.records import Benchmark, Category, Criterion

KIND = "imgedit"
DATASET = "PKU-YuanGroup/ImgEdit"
ANNOTATION = "basic_edit.json"

CRITERIA = (
    Criterion("prompt_compliance", "Does the edit match every attribute the instruction states?"),
    Criterion("instruction_compliance", "Does the edit carry out the whole instruction correctly?"),
    Criterion("visual_naturalness", "Does the edited content blend in with the rest of the image?"),
    Criterion("visual_seamlessness", "Is the change free of seams, halos and colour bleeding?"),
    Criterion(
        "physical_detail_coherence",
        "Are contact, perspective, lighting and shadows of the added content right, the rest untouched?",
    ),
    Criterion(
        "physical_detail_integrity",
        "Are physics and fine detail believable, with the untouched background preserved?",
    ),
    Criterion(
        "physical_detail_fidelity",
        "Do material, lighting and fine detail of the changed object stay believable?",
    ),
    Criterion("physical_consistency", "Do perspective, lighting and scale of the new background fit the subject?"),
    Criterion(
        "physical_consistency_fine_detail",
        "Are physics and fine detail consistent across all the combined changes?",
    ),
    Criterion("style_fidelity", "Is the requested style applied faithfully over the whole image?"),
    Criterion("content_preservation", "Are the objects, layout and geometry of the source kept?"),
    Criterion("rendering_quality", "Is the stylised image clean, sharp and free of artifacts?"),
    Criterion("action_fidelity", "Is the requested pose, action or expression achieved exactly?"),
    Criterion("identity_preservation", "Is the person or animal still clearly the same individual?"),
    Criterion("visual_anatomical_coherence", "Are anatomy, lighting and rendering coherent and artifact-free?"),
    Criterion("object_identity", "Is exactly the requested object extracted, complete?"),
    Criterion("mask_precision", "Are the cut-out edges clean and the background pure white?"),
    Criterion("visual_quality", "Is the extracted object sharp, true in colour and undistorted?"),
)

MANIFEST = Benchmark(
    name="imgedit-basic",
    version="1.0",
    description=(
        "ImgEdit Basic-Edit-Suite (PKU-YuanGroup/ImgEdit), imported by `editbench import imgedit`: "
        "nine edit types, each judged on its own three 1-5 criteria; the item score is their mean."
    ),
    criteria=CRITERIA,
    overall="weighted_mean",
    score_min=1,
    score_max=5,
)

# edit type -> (description, its three criteria, rubric lines: one per criterion, {scale_*} anchors)
EDIT_TYPES: dict[str, tuple[str, tuple[str, str, str], tuple[str, str, str]]] = {
    "add": (
        "Add an object to the scene.",
        ("prompt_compliance", "visual_naturalness", "physical_detail_coherence"),
        (
            "nothing or a wrong object added = {scale_min}; right class but wrong position, colour, "
            "size or count = 3; every stated attribute right = {scale_max}.",
            "obvious paste marks or clashing style = {scale_min}; lighting or colours visibly off = 3; "
            "indistinguishable from the original photo = {scale_max}.",
            "floating object, wrong perspective or a damaged background = {scale_min}; small contact "
            "or shadow errors = 3; believable shadows and reflections, background untouched = {scale_max}.",
        ),
    ),
    "remove": (
        "Remove an object from the scene.",
        ("prompt_compliance", "visual_naturalness", "physical_detail_integrity"),
        (
            "target still there or the wrong object removed = {scale_min}; target partly removed = 3; "
            "exactly the target removed, completely = {scale_max}.",
            "a visible hole, smear or patch = {scale_min}; the filled area is noticeable = 3; the fill is invisible = {scale_max}.",
            "leftover shadows or reflections of the removed object, or broken surroundings = "
            "{scale_min}; small inconsistencies = 3; the scene is physically coherent and the rest "
            "unchanged = {scale_max}.",
        ),
    ),
    "replace": (
        "Replace one object with another.",
        ("prompt_compliance", "visual_naturalness", "physical_detail_integrity"),
        (
            "no replacement or a wrong object = {scale_min}; right object with wrong attributes = 3; "
            "the requested object with every stated attribute = {scale_max}.",
            "pasted look, clashing style or resolution = {scale_min}; visible lighting or colour mismatch = 3; seamless = {scale_max}.",
            "wrong scale, contact or shadows, damaged surroundings = {scale_min}; minor errors = 3; "
            "physically right and the rest of the image unchanged = {scale_max}.",
        ),
    ),
    "adjust": (
        "Change an attribute of an object (colour, material, texture, shape).",
        ("prompt_compliance", "visual_seamlessness", "physical_detail_fidelity"),
        (
            "attribute unchanged or changed wrongly = {scale_min}; partly changed = 3; changed exactly "
            "as asked on the whole object = {scale_max}.",
            "colour bleeding, halos or seams = {scale_min}; visible boundary issues = 3; no visible boundary = {scale_max}.",
            "the object loses its shape, texture or lighting = {scale_min}; small detail loss = 3; "
            "material, lighting and detail fully believable = {scale_max}.",
        ),
    ),
    "style": (
        "Render the whole image in another style.",
        ("style_fidelity", "content_preservation", "rendering_quality"),
        (
            "style absent or wrong = {scale_min}; key traits present but patchy = 3; the style is "
            "reproduced faithfully over the whole image = {scale_max}.",
            "scene barely recognisable = {scale_min}; structure kept with local warping = 3; all "
            "objects and their layout kept = {scale_max}.",
            "noise, banding or blur make it unusable = {scale_min}; moderate artifacts = 3; clean and sharp throughout = {scale_max}.",
        ),
    ),
    "action": (
        "Change the pose, action or expression of a person or animal.",
        ("action_fidelity", "identity_preservation", "visual_anatomical_coherence"),
        (
            "no change or the wrong action = {scale_min}; the idea is there but details are off = 3; "
            "exactly the described action or expression = {scale_max}.",
            "a different individual = {scale_min}; recognisable with noticeable drift = 3; face, hair, "
            "clothing and accessories all kept = {scale_max}.",
            "broken or duplicated limbs, heavy distortion = {scale_min}; minor anatomy or shading "
            "issues = 3; anatomy, lighting and texture flawless = {scale_max}.",
        ),
    ),
    "extract": (
        "Cut the named object out onto a plain white background.",
        ("object_identity", "mask_precision", "visual_quality"),
        (
            "wrong or several objects = {scale_min}; right object with missing or extra parts = 3; "
            "exactly the requested object, complete = {scale_max}.",
            "large background remnants or a non-white backdrop = {scale_min}; soft edges or a faint "
            "halo = 3; crisp edges on pure white = {scale_max}.",
            "blurred, deformed or missing parts = {scale_min}; slight softness or colour shift = 3; sharp with true colours = {scale_max}.",
        ),
    ),
    "background": (
        "Replace or change the background behind the subject.",
        ("instruction_compliance", "visual_seamlessness", "physical_consistency"),
        (
            "background unchanged or wrong = {scale_min}; changed but not as described = 3; exactly "
            "the requested background = {scale_max}.",
            "cut-out halos or a visible seam around the subject = {scale_min}; slight edge issues = 3; no visible boundary = {scale_max}.",
            "perspective, lighting or scale of subject and background disagree = {scale_min}; small "
            "mismatches = 3; one coherent photograph = {scale_max}.",
        ),
    ),
    "compose": (
        "Carry out several edits given in one instruction.",
        ("instruction_compliance", "visual_naturalness", "physical_consistency_fine_detail"),
        (
            "none of the requested edits done = {scale_min}; some done = 3; every requested edit done correctly = {scale_max}.",
            "obviously edited, clashing regions = {scale_min}; visible but tolerable seams = 3; looks "
            "like an untouched photo = {scale_max}.",
            "broken physics or lost detail = {scale_min}; small inconsistencies = 3; physically "
            "consistent with fine detail kept = {scale_max}.",
        ),
    ),
}
EDIT_TYPES["alter"] = EDIT_TYPES["adjust"]  # older copies of basic_edit.json use "alter"
GENERIC = EDIT_TYPES["replace"]

_PROMPT = """\
You are an expert judge of image edits (ImgEdit Basic-Edit-Suite, edit type: <TYPE>).
You are shown the source image first and then the edited image.<EXTRACT_NOTE>

Edit instruction: "{instruction}"
Edit type: <DESCRIPTION>

This benchmark scores every edit on these criteria:
{criteria}

Score only this criterion: {criterion} ({criterion_description})

Rubric for this edit type, from {scale_min} to {scale_max}:
- <C1>: <R1>
- <C2>: <R2>
- <C3>: <R3>
A result that fails <C1> cannot score higher on <C2> or <C3> than on <C1>.

Reply with the score for {criterion} as a single integer from {scale_min} to {scale_max}.
"""


def manifest_category(edit_type: str) -> Category:
    description, criteria, rubric = EDIT_TYPES.get(edit_type, GENERIC)
    if edit_type not in EDIT_TYPES:
        description = f"ImgEdit edit type {edit_type!r}."
    extract_note = " The edited image should show only the extracted object on a white background." if edit_type == "extract" else ""
    prompt = _PROMPT.replace("<EXTRACT_NOTE>", extract_note).replace("<DESCRIPTION>", description)
    for n, (criterion, line) in enumerate(zip(criteria, rubric, strict=True), start=1):
        prompt = prompt.replace(f"<C{n}>", criterion).replace(f"<R{n}>", line)
    prompt = prompt.replace("<TYPE>", edit_type)
    return Category(name=edit_type, description=description, prompt_text=prompt, criteria=criteria)


def import_imgedit(
    src: Path,
    dest: Path,
    *,
    limit: int | None = None,
    overwrite: bool = False,
    on_skip: SkipCallback | None = None,
    image_root: Path | None = None,
    scoring: Scoring = EDITBENCH_SCORING,
) -> ImportReport:
    """Import the Basic-Edit-Suite from ``basic_edit.json`` or a folder holding it and the images.

    Image paths (``id``) are relative to ``image_root``; by default the annotation file's folder.
    """
    annotation = annotation_file(Path(src))
    root = Path(image_root) if image_root else annotation.parent
    return import_into(
        dest,
        MANIFEST,
        _records(_load(annotation)),
        lambda record, w: _convert(record, w, root, scoring),
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
    if src.is_dir() and (src / ANNOTATION).is_file():
        return src / ANNOTATION
    raise ImporterError(f"{ANNOTATION} not found: pass the file, or the folder that holds it and the images")


def _load(annotation: Path) -> dict[str, Any]:
    entries = read_json(annotation)
    if not isinstance(entries, dict):
        raise ImporterError(f"{annotation} holds {type(entries).__name__}, expected an object keyed by id")
    return entries


def _records(entries: dict[str, Any]) -> Iterator[tuple[str, tuple[str, Any]]]:
    # The file's own order is kept: it is what ImgEdit's scripts iterate.
    for key, entry in entries.items():
        yield key, (key, entry)


def _convert(record: tuple[str, Any], writer: NativeBenchmarkWriter, root: Path, scoring: Scoring) -> ItemLine:
    key, entry = record
    if not isinstance(entry, dict):
        raise SkipRecord(f"entry is {type(entry).__name__}, expected an object")
    image_name = require_str(entry, "id")
    instruction = require_str(entry, "prompt")
    edit_type = require_str(entry, "edit_type")
    if writer.has_item(key):
        raise SkipRecord(f"duplicate id {key!r}")
    image_path = resolve_under(root, image_name)
    writer.declare_category(scoring.declare(manifest_category(edit_type)))
    source_image = writer.copy_image(image_path, image_name)
    return ItemLine(
        id=key,
        category=edit_type,
        instruction=instruction,
        source_image=source_image,
        source={"dataset": DATASET, "suite": "basic", "key": key, "id": image_name, "edit_type": edit_type},
    )
