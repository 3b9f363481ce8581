"""The writer: atomic folders, safe overwrite, image checks, and valid prompt templates."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from editbench.benchmark.prompts import check_template
from editbench.importers import gedit, imgedit, kris, rise
from editbench.importers.native_writer import (
    ItemLine,
    NativeBenchmarkWriter,
)
from editbench.importers.records import ImporterError, ImportReport, SkipRecord
from editbench.records import Benchmark, Category, Criterion

MANIFEST = Benchmark(
    name="tiny",
    version="1.0",
    description="A tiny benchmark.",
    criteria=(Criterion("semantic_consistency", "sc"), Criterion("perceptual_quality", "pq")),
    overall="geometric_mean",
)
PROMPT = 'Judge {criterion} for: {instruction}. Answer as JSON {{"score": n}}.'
CATEGORY = Category(name="physics", description="Physical edits.", prompt_text=PROMPT)


def write_one(dest: Path, png, *, overwrite: bool = False) -> None:
    with NativeBenchmarkWriter(dest, MANIFEST, overwrite=overwrite) as writer:
        writer.declare_category(CATEGORY)
        image = writer.write_image_bytes(png((1, 2, 3)), "physics/a")
        writer.add(ItemLine(id="a", category="physics", instruction="Melt the ice.", source_image=image))
        writer.commit(ImportReport(kind="test", dest=dest), {"importer": "test"})


def test_commit_writes_the_native_layout(tmp_path: Path, png, items) -> None:
    dest = tmp_path / "bench"
    write_one(dest, png)

    assert sorted(str(p.relative_to(dest)) for p in dest.rglob("*") if p.is_file()) == [
        "benchmark.yaml",
        "images/physics/a.png",
        "import-report.json",
        "items.jsonl",
        "prompts/physics.v1.txt",
    ]
    assert yaml.safe_load((dest / "benchmark.yaml").read_text()) == {
        "name": "tiny",
        "version": "1.0",
        "description": "A tiny benchmark.",
        "score_scale": {"min": 0, "max": 10},
        "criteria": [
            {"name": "semantic_consistency", "description": "sc"},
            {"name": "perceptual_quality", "description": "pq"},
        ],
        "overall": "geometric_mean",
        "categories": [{"name": "physics", "description": "Physical edits.", "prompt": "prompts/physics.v1.txt"}],
    }
    # The version must stay a string in YAML, not the float 1.0.
    assert "version: '1.0'" in (dest / "benchmark.yaml").read_text()
    assert (dest / "prompts/physics.v1.txt").read_text() == PROMPT
    assert items(dest) == [
        {
            "id": "a",
            "category": "physics",
            "instruction": "Melt the ice.",
            "instruction_language": "en",
            "source_image": "images/physics/a.png",
        }
    ]
    assert json.loads((dest / "import-report.json").read_text()) == {"importer": "test", "written": 1, "skipped": []}
    assert [p.name for p in tmp_path.iterdir()] == ["bench"]  # no staging folder left behind


def test_failed_import_leaves_no_folder(tmp_path: Path, png) -> None:
    dest = tmp_path / "bench"
    with pytest.raises(RuntimeError), NativeBenchmarkWriter(dest, MANIFEST) as writer:
        writer.declare_category(CATEGORY)
        writer.write_image_bytes(png((1, 2, 3)), "physics/a")
        raise RuntimeError("source broke mid-way")
    assert list(tmp_path.iterdir()) == []


def test_nothing_importable_is_an_error(tmp_path: Path) -> None:
    dest = tmp_path / "bench"
    report = ImportReport(kind="test", dest=dest, skipped=[("x", "missing field 'instruction'")])
    with pytest.raises(ImporterError, match="1 skipped"), NativeBenchmarkWriter(dest, MANIFEST) as writer:
        writer.commit(report, {})
    assert list(tmp_path.iterdir()) == []


def test_non_empty_dest_needs_overwrite_and_must_be_a_benchmark(tmp_path: Path, png, items) -> None:
    dest = tmp_path / "bench"
    write_one(dest, png)
    with pytest.raises(ImporterError, match="--overwrite"):
        write_one(dest, png)

    write_one(dest, png, overwrite=True)
    assert len(items(dest)) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bench"]

    unrelated = tmp_path / "home"
    unrelated.mkdir()
    (unrelated / "notes.txt").write_text("keep me")
    with pytest.raises(ImporterError, match="not a benchmark folder"):
        write_one(unrelated, png, overwrite=True)
    assert (unrelated / "notes.txt").read_text() == "keep me"


def test_images_are_decoded_shared_and_orphans_dropped(tmp_path: Path, png) -> None:
    dest = tmp_path / "bench"
    with NativeBenchmarkWriter(dest, MANIFEST) as writer:
        writer.declare_category(CATEGORY)
        with pytest.raises(SkipRecord, match="unusable image: image data is damaged or truncated"):
            writer.write_image_bytes(png((1, 2, 3))[:60], "physics/broken")
        first = writer.write_image_bytes(png((1, 2, 3)), "physics/a")
        again = writer.write_image_bytes(png((1, 2, 3)), "physics/a")
        other = writer.write_image_bytes(png((9, 9, 9)), "physics/a")
        writer.write_image_bytes(png((5, 5, 5)), "physics/orphan")
        writer.add(ItemLine(id="a", category="physics", instruction="x", source_image=first))
        writer.add(ItemLine(id="b", category="physics", instruction="y", source_image=other))
        with pytest.raises(SkipRecord, match="duplicate id 'a'"):
            writer.add(ItemLine(id="a", category="physics", instruction="z", source_image=first))
        writer.commit(ImportReport(kind="test", dest=dest), {})

    assert (first, again, other) == ("images/physics/a.png", "images/physics/a.png", "images/physics/a-2.png")
    assert sorted(p.name for p in (dest / "images/physics").iterdir()) == ["a-2.png", "a.png"]


def test_categories_with_bad_templates_are_refused(tmp_path: Path) -> None:
    with NativeBenchmarkWriter(tmp_path / "bench", MANIFEST) as writer:
        for text in ("Score {score} please", 'Answer as {"score": n}'):
            with pytest.raises(ValueError, match="physics.v1.txt"):
                writer.declare_category(Category(name="physics", description="", prompt_text=text))


@pytest.mark.parametrize(
    "category",
    [gedit.manifest_category(t) for t in [*gedit.TASK_TYPES, "new_type"]]
    + [kris.manifest_category(c) for c in [*kris.CATEGORY_DESCRIPTIONS, "new_category"]]
    + [rise.manifest_category(c) for c in [*rise.CATEGORY_DESCRIPTIONS, "hybrid_reasoning"]]
    + [imgedit.manifest_category(t) for t in [*imgedit.EDIT_TYPES, "new_type"]],
    ids=lambda category: category.name,
)
def test_every_packaged_prompt_is_a_valid_template(category: Category) -> None:
    check_template(category.prompt_text, category.name)
    assert "<" + "CATEGORY>" not in category.prompt_text and "<TASK" not in category.prompt_text and "<C1>" not in category.prompt_text
    filled = category.prompt_text.format(
        instruction="INSTR",
        reference="REF",
        criterion="CRIT",
        criterion_description="DESC",
        criteria="LIST",
        scale_min=1,
        scale_max=5,
    )
    assert "INSTR" in filled and "CRIT" in filled
