"""ImgEdit basic_edit.json → native items: shared images copied once, per-type criteria."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from editbench.benchmark import load_benchmark
from editbench.importers import run_import


@pytest.fixture
def imgedit_src(tmp_path: Path, write_png) -> Path:
    images = tmp_path / "original_images"
    write_png(images / "animal/000342021.jpg", (5, 5, 5), "JPEG")
    write_png(images / "daily object/000276684.jpg", (6, 6, 6), "JPEG")
    write_png(tmp_path / "outside.png", (7, 7, 7))
    annotation = tmp_path / "Basic" / "basic_edit.json"
    annotation.parent.mkdir()
    annotation.write_text(
        json.dumps(
            {
                "1082": {"id": "animal/000342021.jpg", "prompt": "Make the shell smooth.", "edit_type": "adjust"},
                "578": {"id": "animal/000342021.jpg", "prompt": "Replace the tortoise with a rock.", "edit_type": "replace"},
                "628": {"id": "daily object/000276684.jpg", "prompt": "Extract the boot.", "edit_type": "extract"},
                "97": {"id": "for_add/000236569.jpg", "prompt": "Add a chandelier.", "edit_type": "add"},
                "22": {"id": "animal/000342021.jpg", "edit_type": "add"},
                "41": {"id": "../outside.png", "prompt": "Add a building.", "edit_type": "add"},
                "5": "not an object",
            }
        )
    )
    return annotation


def test_entries_become_native_items(imgedit_src: Path, tmp_path: Path, items) -> None:
    images = tmp_path / "original_images"
    dest = tmp_path / "out"
    report = run_import("imgedit", imgedit_src, dest, image_root=images, on_skip=lambda *_: None)

    def source(key: str, image: str, edit_type: str) -> dict:
        return {"dataset": "PKU-YuanGroup/ImgEdit", "suite": "basic", "key": key, "id": image, "edit_type": edit_type}

    assert items(dest) == [
        {
            "id": "1082",
            "category": "adjust",
            "instruction": "Make the shell smooth.",
            "instruction_language": "en",
            "source_image": "images/animal/000342021.jpg",
            "source": source("1082", "animal/000342021.jpg", "adjust"),
        },
        {
            "id": "578",
            "category": "replace",
            "instruction": "Replace the tortoise with a rock.",
            "instruction_language": "en",
            "source_image": "images/animal/000342021.jpg",
            "source": source("578", "animal/000342021.jpg", "replace"),
        },
        {
            "id": "628",
            "category": "extract",
            "instruction": "Extract the boot.",
            "instruction_language": "en",
            "source_image": "images/daily object/000276684.jpg",
            "source": source("628", "daily object/000276684.jpg", "extract"),
        },
    ]
    assert report.skipped == [
        ("97", f"image 'for_add/000236569.jpg' not found under {images}"),
        ("22", "missing field 'prompt'"),
        ("41", f"image path '../outside.png' points outside {images}"),
        ("5", "entry is str, expected an object"),
    ]
    # One copy of the image that two items share; nothing from outside the image root.
    assert sorted(str(p.relative_to(dest)) for p in (dest / "images").rglob("*.jpg")) == [
        "images/animal/000342021.jpg",
        "images/daily object/000276684.jpg",
    ]


def test_each_edit_type_keeps_its_own_three_criteria(imgedit_src: Path, tmp_path: Path) -> None:
    dest = tmp_path / "out"
    run_import("imgedit", imgedit_src, dest, image_root=tmp_path / "original_images", on_skip=lambda *_: None)

    benchmark = yaml.safe_load((dest / "benchmark.yaml").read_text())
    assert benchmark["score_scale"] == {"min": 1, "max": 5}
    assert benchmark["overall"] == "weighted_mean"
    assert {c["name"]: c["criteria"] for c in benchmark["categories"]} == {
        "adjust": ["prompt_compliance", "visual_seamlessness", "physical_detail_fidelity"],
        "replace": ["prompt_compliance", "visual_naturalness", "physical_detail_integrity"],
        "extract": ["object_identity", "mask_precision", "visual_quality"],
    }
    assert "white background" in (dest / "prompts/extract.v1.txt").read_text()

    loaded = load_benchmark(dest)  # what `editbench ingest` will read
    assert loaded.rejections == []
    assert loaded.spec.category("extract").weights == {
        "object_identity": 1.0,
        "mask_precision": 1.0,
        "visual_quality": 1.0,
    }


def test_images_default_to_the_annotation_folder(tmp_path: Path, write_png, items) -> None:
    suite = tmp_path / "suite"
    write_png(suite / "style/1.png", (9, 9, 9))
    (suite / "basic_edit.json").write_text(json.dumps({"7": {"id": "style/1.png", "prompt": "Make it ukiyo-e.", "edit_type": "style"}}))

    report = run_import("imgedit", suite, tmp_path / "out")

    assert (report.written, report.skipped) == (1, [])
    assert items(tmp_path / "out")[0]["source_image"] == "images/style/1.png"
