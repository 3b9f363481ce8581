"""GEdit-Bench (stepfun-ai/GEdit-Bench on the Hugging Face hub) → native benchmark.

Source layout: the dataset's Parquet export, or the Arrow files of its hub repository / a
``datasets.save_to_disk`` folder. Each row has (stepfun-ai/Step1X-Edit,
``GEdit-Bench/generate_image_example.py``):

- ``key`` (str): the sample id, shared by the English and Chinese rows of one sample;
- ``task_type`` (str): one of the 11 edit types (``background_change``, ``color_alter``, ...);
- ``instruction`` (str) and ``instruction_language`` (``en`` or ``cn``);
- ``input_image``: an image struct ``{bytes, path}`` (``input_image_raw`` is not used);
- ``Intersection_exist`` (bool, optional): the sample belongs to the intersection subset.

Native ids are ``<key>_<language>`` because one key appears once per language. Scoring follows
VIEScore as GEdit uses it: SC and PQ on 0–10, overall sqrt(SC·PQ).
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
    optional_str,
    require_str,
    resolve_under,
)
from editbench.records import Benchmark, Category, Criterion

KIND = "gedit"
DATASET = "stepfun-ai/GEdit-Bench"
IMAGE_FIELD = "input_image"
# GEdit writes "cn" for Chinese; the native field holds a language code.
LANGUAGE_CODES = {"cn": "zh"}

MANIFEST = Benchmark(
    name="gedit-bench",
    version="1.0",
    description=(
        "GEdit-Bench (stepfun-ai/GEdit-Bench), imported by `editbench import gedit`: real-world "
        "edit requests in 11 task types, English and Chinese instructions, judged VIEScore-style."
    ),
    criteria=(
        Criterion("semantic_consistency", "Does the edit do what the instruction asks, and only that?"),
        Criterion("perceptual_quality", "Does the edited image look natural and free of artifacts?"),
    ),
    overall="geometric_mean",
    score_min=0,
    score_max=10,
    # GEdit-Bench reports English and Chinese apart, and its intersection subset on its own.
    slices=("language", "intersection_exist"),
)

TASK_TYPES = {
    "background_change": "Replace or change the background behind the main subject.",
    "color_alter": "Change the color of an object or region.",
    "material_alter": "Change what an object is made of (material or texture).",
    "motion_change": "Change the pose, action or expression of a person or animal.",
    "ps_human": "Portrait retouching: edit a person's appearance, as in photo retouching.",
    "style_change": "Render the image in another artistic or visual style.",
    "subject-add": "Add a new object or subject to the scene.",
    "subject-remove": "Remove an object or subject from the scene.",
    "subject-replace": "Replace one object or subject with another.",
    "text_change": "Add, remove or rewrite text in the image.",
    "tone_transfer": "Change the overall tone: lighting, season, weather or time of day.",
}

PROMPT = """\
You are an expert judge of instruction-based image editing (GEdit-Bench, task type: <TASK>).
You are shown two images: first the source image, then the edited image produced from it.

Edit instruction: "{instruction}"

This benchmark scores every edit on these criteria:
{criteria}

Score only this criterion: {criterion} ({criterion_description})

How to score, from {scale_min} (complete failure) to {scale_max} (flawless):
- semantic_consistency: rate (a) how completely the edited image carries out the instruction and
  (b) how well the parts the instruction did not mention are left unchanged; over-editing lowers
  (b). The score is the lower of (a) and (b).
- perceptual_quality: look at the edited image on its own. Rate (a) how natural it looks
  (lighting, shadows, proportions, scale) and (b) how free it is of artifacts (distortion, blur,
  smeared detail, garbled text). The score is the lower of (a) and (b).
Task type <TASK>: <TASK_DESCRIPTION>

Reply with the score for {criterion} as a single integer from {scale_min} to {scale_max}.
"""


def manifest_category(task_type: str) -> Category:
    description = TASK_TYPES.get(task_type, f"GEdit-Bench task type {task_type!r}.")
    prompt = PROMPT.replace("<TASK_DESCRIPTION>", description).replace("<TASK>", task_type)
    return Category(name=task_type, description=description, prompt_text=prompt)


def import_gedit(
    src: Path,
    dest: Path,
    *,
    limit: int | None = None,
    overwrite: bool = False,
    on_skip: SkipCallback | None = None,
    image_root: Path | None = None,
    scoring: Scoring = EDITBENCH_SCORING,
) -> ImportReport:
    """Import GEdit-Bench from a Parquet/Arrow file or a folder holding such files."""
    pyarrow = _require_pyarrow()
    src = Path(src)
    files = data_files(src)
    return import_into(
        dest,
        MANIFEST,
        _records_of(pyarrow, files, image_root),
        lambda row_base, w: _convert(row_base[0], w, row_base[1], scoring),
        kind=KIND,
        provenance={"importer": KIND, "dataset": DATASET, "source": str(src.absolute()), "files": [str(p) for p in files]},
        limit=limit,
        overwrite=overwrite,
        on_skip=on_skip,
        scoring=scoring,
    )


def _records_of(pyarrow: Any, files: list[Path], image_root: Path | None) -> Iterator[tuple[str, tuple[dict[str, Any], Path]]]:
    """Every file's rows in turn, each with the folder its relative image paths start from.
    Lazy, so a ``--limit`` reached early never opens the later files."""
    for path in files:
        base = Path(image_root) if image_root else path.parent
        for record_id, row in _records(pyarrow, path):
            yield record_id, (row, base)


def _require_pyarrow() -> Any:
    try:
        import pyarrow
        import pyarrow.ipc
        import pyarrow.parquet
    except ImportError:
        raise ImporterError(
            "reading GEdit-Bench Parquet/Arrow files needs pyarrow, which is not installed: "
            "pip install pyarrow (or pip install 'editbench[importers]')"
        ) from None
    return pyarrow


def data_files(src: Path) -> list[Path]:
    """``src`` itself, or every .parquet/.arrow file below it in name order (hidden folders skipped)."""
    if not src.exists():
        raise ImporterError(f"{src} does not exist")
    if src.is_file():
        if src.suffix not in (".parquet", ".arrow"):
            raise ImporterError(f"{src} is neither a .parquet nor an .arrow file")
        return [src]
    files = sorted(
        path
        for path in src.rglob("*")
        if path.suffix in (".parquet", ".arrow")
        and path.is_file()
        # datasets keeps its own "cache-*.arrow" files next to the data; they are not rows.
        and not path.name.startswith("cache-")
        and not any(part.startswith(".") for part in path.relative_to(src).parts)
    )
    if not files:
        raise ImporterError(f"no .parquet or .arrow files under {src}")
    return files


def _records(pyarrow: Any, path: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    try:
        for n, row in enumerate(_rows(pyarrow, path)):
            yield _record_id(row, f"{path.name} row {n}"), row
    except (pyarrow.ArrowException, OSError) as exc:
        raise ImporterError(f"cannot read {path}: {exc}") from exc


def _rows(pyarrow: Any, path: Path, chunk: int = 16) -> Iterator[dict[str, Any]]:
    # Rows are converted to Python a few at a time: each one carries megabytes of image bytes.
    if path.suffix == ".parquet":
        for batch in pyarrow.parquet.ParquetFile(path).iter_batches(batch_size=chunk):
            yield from batch.to_pylist()
        return
    with pyarrow.memory_map(str(path)) as source:
        for batch in _arrow_batches(pyarrow, source):
            for start in range(0, batch.num_rows, chunk):
                yield from batch.slice(start, chunk).to_pylist()


def _arrow_batches(pyarrow: Any, source: Any) -> Iterator[Any]:
    # `datasets` writes the Arrow streaming format; plain Arrow IPC files use the file format.
    try:
        yield from pyarrow.ipc.open_stream(source)
    except pyarrow.ArrowInvalid:
        source.seek(0)
        reader = pyarrow.ipc.open_file(source)
        for index in range(reader.num_record_batches):
            yield reader.get_batch(index)


def _record_id(row: dict[str, Any], fallback: str) -> str:
    key = row.get("key")
    if not isinstance(key, (str, int)) or isinstance(key, bool) or not str(key).strip():
        return fallback
    language = row.get("instruction_language")
    language = language.strip() if isinstance(language, str) and language.strip() else "en"
    return f"{str(key).strip()}_{language}"


def _convert(row: dict[str, Any], writer: NativeBenchmarkWriter, base: Path, scoring: Scoring) -> ItemLine:
    key = require_str(row, "key")
    task_type = require_str(row, "task_type")
    instruction = require_str(row, "instruction")
    language = optional_str(row, "instruction_language") or "en"
    item_id = f"{key}_{language}"
    if writer.has_item(item_id):
        raise SkipRecord(f"duplicate id {item_id!r}")
    data = _image_bytes(row.get(IMAGE_FIELD), base)
    writer.declare_category(scoring.declare(manifest_category(task_type)))
    source_image = writer.write_image_bytes(data, f"{task_type}/{item_id}")
    intersection = row.get("Intersection_exist")
    source: dict[str, Any] = {
        "dataset": DATASET,
        "key": key,
        "task_type": task_type,
        "instruction_language": language,
    }
    if isinstance(intersection, bool):
        source["intersection_exist"] = intersection
    return ItemLine(
        id=item_id,
        category=task_type,
        instruction=instruction,
        instruction_language=LANGUAGE_CODES.get(language, language),
        source_image=source_image,
        tags=("intersection",) if intersection is True else (),
        source=source,
    )


def _image_bytes(value: Any, base: Path) -> bytes:
    """The bytes of an image struct ``{bytes, path}``; a bare path is read relative to ``base``."""
    if value is None:
        raise SkipRecord(f"missing field {IMAGE_FIELD!r}")
    if isinstance(value, dict):
        data, path = value.get("bytes"), value.get("path")
    elif isinstance(value, (bytes, bytearray)):
        data, path = value, None
    elif isinstance(value, str):
        data, path = None, value
    else:
        raise SkipRecord(f"field {IMAGE_FIELD!r} is {type(value).__name__}, expected an image struct")
    if data:
        return bytes(data)
    if isinstance(path, str) and path.strip():
        return resolve_under(base, path.strip()).read_bytes()
    raise SkipRecord(f"field {IMAGE_FIELD!r} has neither bytes nor a path")
