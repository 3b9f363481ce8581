"""KRIS-Bench category folders → native items, with the malformed annotations skipped."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from editbench.benchmark import load_benchmark
from editbench.importers import ImporterError, run_import


@pytest.fixture
def kris_src(tmp_path: Path, write_png) -> Path:
    root = tmp_path / "download" / "KRIS_Bench"
    chemistry = root / "chemistry"
    write_png(chemistry / "1.jpg", (10, 10, 10), "JPEG")
    write_png(chemistry / "2.png", (20, 20, 20))
    (chemistry / "annotation.json").write_text(
        json.dumps(
            {
                "2": {"ori_img": "2.png", "ins_en": "Show the result of adding water.", "explain_en": ""},
                "1": {
                    "ori_img": "1.jpg",
                    "ins_en": "Show the iron nail after a month in salt water.",
                    "explain_en": "The nail is covered in reddish-brown rust.",
                },
                "3": {"ori_img": "3.png", "ins_en": "Burn the paper.", "explain_en": "Ash remains."},
                "4": {"ori_img": "1.jpg", "explain_en": "No instruction."},
            }
        )
    )
    viewpoint = root / "viewpoint_change"
    write_png(viewpoint / "1.jpg", (30, 30, 30))
    write_png(viewpoint / "1_gt.jpg", (40, 40, 40))
    (viewpoint / "annotation.json").write_text(
        json.dumps(
            {
                "1": {"ori_img": "1.jpg", "gt_img": "1_gt.jpg", "ins_en": "Draw the top view.", "explain_en": ""},
                "2": {"ori_img": "1.jpg", "gt_img": "2_gt.jpg", "ins_en": "Draw the side view.", "explain_en": ""},
            }
        )
    )
    composition = root / "multi-element_composition"
    write_png(composition / "1-1.jpg", (50, 50, 50))
    write_png(composition / "1-2.jpg", (60, 60, 60))
    (composition / "annotation.json").write_text(
        json.dumps({"1": {"ori_img": ["1-1.jpg", "1-2.jpg"], "gt_img": "", "ins_en": "Dress him.", "explain_en": ""}})
    )
    broken = root / "physics"
    broken.mkdir()
    (broken / "annotation.json").write_text("{not json")
    return root.parent


EXPECTED_ITEMS = [
    {
        "id": "chemistry_1",
        "category": "chemistry",
        "instruction": "Show the iron nail after a month in salt water.",
        "instruction_language": "en",
        "source_image": "images/chemistry/1.jpg",
        "reference_text": "The nail is covered in reddish-brown rust.",
        "source": {"dataset": "KRIS-Bench", "category": "chemistry", "id": "1", "ori_img": "1.jpg"},
    },
    {
        "id": "chemistry_2",
        "category": "chemistry",
        "instruction": "Show the result of adding water.",
        "instruction_language": "en",
        "source_image": "images/chemistry/2.png",
        "source": {"dataset": "KRIS-Bench", "category": "chemistry", "id": "2", "ori_img": "2.png"},
    },
    {
        "id": "multi-element_composition_1",
        "category": "multi-element_composition",
        "instruction": "Dress him.",
        "instruction_language": "en",
        "source_image": "images/multi-element_composition/1-1.jpg",
        "extra_images": [{"label": "image 2", "path": "images/multi-element_composition/1-2.jpg"}],
        "source": {
            "dataset": "KRIS-Bench",
            "category": "multi-element_composition",
            "id": "1",
            "ori_img": ["1-1.jpg", "1-2.jpg"],
        },
    },
    {
        "id": "viewpoint_change_1",
        "category": "viewpoint_change",
        "instruction": "Draw the top view.",
        "instruction_language": "en",
        "source_image": "images/viewpoint_change/1.jpg",
        "reference_image": "images/viewpoint_change/1_gt.jpg",
        "source": {
            "dataset": "KRIS-Bench",
            "category": "viewpoint_change",
            "id": "1",
            "ori_img": "1.jpg",
            "gt_img": "1_gt.jpg",
        },
    },
]


def test_category_folders_become_native_items(kris_src: Path, tmp_path: Path, items) -> None:
    dest = tmp_path / "out"
    report = run_import("kris", kris_src, dest, on_skip=lambda *_: None)

    assert items(dest) == EXPECTED_ITEMS
    assert report.written == 4
    root = kris_src / "KRIS_Bench"
    assert report.skipped == [
        ("chemistry/3", f"image '3.png' not found under {root / 'chemistry'}"),
        ("chemistry/4", "missing field 'ins_en'"),
        (
            "physics/annotation.json",
            "cannot read annotation.json: Expecting property name enclosed in double quotes: line 1 column 2 (char 1)",
        ),
        ("viewpoint_change/2", f"image '2_gt.jpg' not found under {root / 'viewpoint_change'}"),
    ]
    # The source image of the skipped viewpoint_change/2 is shared with item 1, so it stays.
    assert sorted(p.name for p in (dest / "images/viewpoint_change").iterdir()) == ["1.jpg", "1_gt.jpg"]

    loaded = load_benchmark(dest)  # what `editbench ingest` will read
    assert loaded.rejections == []
    assert loaded.items[3].reference_image == (dest / "images/viewpoint_change/1_gt.jpg").resolve()
    composed = loaded.items[2]
    assert [(e.label, e.path) for e in composed.extra_images] == [
        ("image 2", (dest / "images/multi-element_composition/1-2.jpg").resolve())
    ]


def test_knowledge_categories_keep_all_four_criteria(kris_src: Path, tmp_path: Path) -> None:
    dest = tmp_path / "out"
    run_import("kris", kris_src, dest, on_skip=lambda *_: None)

    benchmark = yaml.safe_load((dest / "benchmark.yaml").read_text())
    assert benchmark["score_scale"] == {"min": 1, "max": 5}
    assert [c["name"] for c in benchmark["criteria"]] == [
        "visual_consistency",
        "visual_quality",
        "instruction_following",
        "knowledge_plausibility",
    ]
    categories = {c["name"]: c for c in benchmark["categories"]}
    assert "criteria" not in categories["chemistry"]
    assert categories["viewpoint_change"]["criteria"] == [
        "visual_consistency",
        "visual_quality",
        "instruction_following",
    ]
    chemistry_prompt = (dest / "prompts/chemistry.v1.txt").read_text()
    assert "answer key" in chemistry_prompt and "- knowledge_plausibility:" in chemistry_prompt
    assert "- knowledge_plausibility:" not in (dest / "prompts/viewpoint_change.v1.txt").read_text()


def test_folder_without_annotations_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(ImporterError, match="annotation.json"):
        run_import("kris", tmp_path / "empty", tmp_path / "out")
