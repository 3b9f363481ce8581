"""The simplest benchmark layout: one folder per category, images plus an instructions file.

    my-bench/
      physics/  a.png  b.jpg  instructions.jsonl   ({"image": "a.png", "instruction": "..."})
      social/   c.png  instructions.csv            (image,instruction[,id,...])

It exists so that a folder of images and a spreadsheet of instructions is a benchmark without
writing any YAML. Images that no row mentions are reported, never silently skipped.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from editbench.benchmark.images import IMAGE_SUFFIXES
from editbench.benchmark.items import ItemValidator, Origin
from editbench.benchmark.limits import MAX_BENCHMARK_NAME_CHARS, MAX_CATEGORY_NAME_CHARS
from editbench.benchmark.manifest import (
    DEFAULT_CRITERIA,
    DEFAULT_SCALE,
    default_category,
)
from editbench.benchmark.records import Record, csv_header_problem, read_csv, read_jsonl
from editbench.benchmark.spec import (
    Benchmark,
    ItemSpec,
    Overall,
    ReasonCode,
    Rejection,
)
from editbench.errors import BenchmarkFormatError

JSONL_NAME = "instructions.jsonl"
CSV_NAME = "instructions.csv"
SIMPLE_VERSION = "0"
SIMPLE_FIELDS = frozenset(
    {
        "image",
        "instruction",
        "id",
        "reference_text",
        "reference_image",
        "instruction_language",
        "subcategory",
        "tags",
        "source",
    }
)
CSV_FIELDS = SIMPLE_FIELDS - {"tags", "source"}
REQUIRED_SIMPLE_FIELDS = frozenset({"image", "instruction"})


@dataclass(frozen=True)
class _CategoryFolder:
    name: str
    path: Path
    instructions: Path | None


def read_simple_layout(root: Path, max_pixels: int) -> tuple[Benchmark, list[ItemSpec], list[Rejection]]:
    """Build a spec with defaults from the folder names, then validate each instruction row."""
    folders, rejections = _usable_folders(root, list(_category_folders(root)))
    with_rows = [folder for folder in folders if folder.instructions is not None]
    rejections += [_missing_instructions(folder) for folder in folders if folder.instructions is None]
    if not with_rows:
        raise BenchmarkFormatError(
            f"{root}: no benchmark.yaml, and no category folder with {JSONL_NAME} or {CSV_NAME}; see docs/benchmark-format.md"
        )
    spec = Benchmark(
        name=simple_name(root.name),
        version=SIMPLE_VERSION,
        description="",
        score_min=DEFAULT_SCALE[0],
        score_max=DEFAULT_SCALE[1],
        criteria=DEFAULT_CRITERIA,
        overall=Overall.GEOMETRIC_MEAN.value,
        categories=tuple(default_category(root, folder.name, DEFAULT_CRITERIA) for folder in with_rows),
    )
    validator = ItemValidator(root, (folder.name for folder in with_rows), max_pixels)
    items: list[ItemSpec] = []
    readable: list[_CategoryFolder] = []
    for folder in with_rows:
        header_problem = _header_problem(folder)
        if header_problem is not None:
            rejections.append(header_problem)  # one rejection for the file, not one per image
            continue
        readable.append(folder)
        for result in _category_items(folder, validator):
            if isinstance(result, Rejection):
                rejections.append(result)
            else:
                items.append(result)
    # Only after every row is read: a row in one folder may use an image of another.
    for folder in readable:
        rejections.extend(_unreferenced_images(folder, validator))
    return spec, items, rejections


def simple_name(folder_name: str) -> str:
    """Folder name made into a valid benchmark name (``My Bench`` -> ``my-bench``), cut to the
    width of the ledger's name column."""
    slug = re.sub(r"[^a-z0-9._-]+", "-", folder_name.lower()).strip("-._")
    return slug[:MAX_BENCHMARK_NAME_CHARS].rstrip("-._") or "benchmark"


def _usable_folders(root: Path, folders: list[_CategoryFolder]) -> tuple[list[_CategoryFolder], list[Rejection]]:
    """Folders whose name fits the category column and whose instructions file stays inside
    ``root``; each other folder becomes one rejection (its items are not read)."""
    usable: list[_CategoryFolder] = []
    rejections: list[Rejection] = []
    for folder in folders:
        if len(folder.name) > MAX_CATEGORY_NAME_CHARS:
            rejections.append(
                Rejection(
                    f"{folder.name}/",
                    None,
                    ReasonCode.TOO_LONG,
                    f"{folder.name[:40]}…/: a category name may have at most {MAX_CATEGORY_NAME_CHARS} characters; the folder was skipped",
                )
            )
        elif folder.instructions is not None and not folder.instructions.resolve().is_relative_to(root):
            file = f"{folder.name}/{folder.instructions.name}"
            rejections.append(
                Rejection(
                    file,
                    None,
                    ReasonCode.PATH_ESCAPE,
                    f"{file}: is a symlink that leads outside the benchmark folder; the folder was skipped",
                )
            )
        else:
            usable.append(folder)
    return usable, rejections


def _category_folders(root: Path) -> Iterator[_CategoryFolder]:
    """Every visible sub-folder holding images or an instructions file, sorted by name."""
    for path in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith((".", "_"))):
        jsonl, csv_file = path / JSONL_NAME, path / CSV_NAME
        if jsonl.is_file() and csv_file.is_file():
            raise BenchmarkFormatError(f"{path.name}/: has both {JSONL_NAME} and {CSV_NAME}; keep one")
        instructions = jsonl if jsonl.is_file() else csv_file if csv_file.is_file() else None
        if instructions is not None or any(_image_files(path)):
            yield _CategoryFolder(path.name, path, instructions)


def _header_problem(folder: _CategoryFolder) -> Rejection | None:
    assert folder.instructions is not None
    if folder.instructions.name != CSV_NAME:
        return None
    return csv_header_problem(folder.instructions, f"{folder.name}/{CSV_NAME}", CSV_FIELDS, REQUIRED_SIMPLE_FIELDS)


def _category_items(folder: _CategoryFolder, validator: ItemValidator) -> Iterator[ItemSpec | Rejection]:
    assert folder.instructions is not None
    file = f"{folder.name}/{folder.instructions.name}"
    if folder.instructions.name == JSONL_NAME:
        rows = read_jsonl(folder.instructions, file)
    else:
        rows = read_csv(folder.instructions, file, CSV_FIELDS, REQUIRED_SIMPLE_FIELDS)
    for line, row in rows:
        if isinstance(row, Rejection):
            yield row
            continue
        origin = Origin(file, line, folder.path)
        record = _to_native(row, folder.name, origin)
        yield record if isinstance(record, Rejection) else validator.validate(record, origin)


def _to_native(row: Record, category: str, origin: Origin) -> Record | Rejection:
    """Rename simple fields to native ones; the default id is ``<category>/<image stem>``."""
    image = row.get("image")
    item_id = row.get("id") if row.get("id") not in (None, "") else None
    if item_id is None and isinstance(image, str) and image.strip():
        item_id = f"{category}/{PurePosixPath(image).stem}"
    unknown = sorted(set(row) - SIMPLE_FIELDS)
    if unknown:
        return Rejection(
            origin.file,
            str(item_id) if item_id is not None else None,
            ReasonCode.UNKNOWN_FIELD,
            f"{origin.file}:{origin.line}: item {item_id!r}: unknown field(s) {', '.join(unknown)}; "
            f"allowed: {', '.join(sorted(SIMPLE_FIELDS))}",
            origin.line,
        )
    if image is None:
        return Rejection(
            origin.file,
            None,
            ReasonCode.MISSING_FIELD,
            f"{origin.file}:{origin.line}: missing required field image",
            origin.line,
        )
    record = {key: value for key, value in row.items() if key != "image"}
    record.update(category=category, source_image=image, id=item_id)
    if isinstance(record.get("tags"), str):  # CSV cannot hold a list: "a;b" means ["a", "b"]
        record["tags"] = [tag.strip() for tag in record["tags"].split(";") if tag.strip()]
    return record


def _missing_instructions(folder: _CategoryFolder) -> Rejection:
    count = sum(1 for _ in _image_files(folder.path))
    return Rejection(
        f"{folder.name}/{JSONL_NAME}",
        None,
        ReasonCode.MISSING_FILE,
        f"{folder.name}/: {count} image(s) but no {JSONL_NAME} or {CSV_NAME}; the folder was skipped",
    )


def _unreferenced_images(folder: _CategoryFolder, validator: ItemValidator) -> Iterator[Rejection]:
    for image in _image_files(folder.path):
        if image.resolve() not in validator.referenced:
            file = f"{folder.name}/{image.name}"
            yield Rejection(
                file,
                None,
                ReasonCode.UNREFERENCED_IMAGE,
                f"{file}: no instruction row mentions this image, so it is not part of the benchmark",
            )


def _image_files(folder: Path) -> Iterator[Path]:
    return (p for p in sorted(folder.iterdir()) if p.suffix.lower() in IMAGE_SUFFIXES and not p.name.startswith("."))
