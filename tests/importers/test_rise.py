"""RISEBench data_total.json → native items, pass rule and weights, malformed samples skipped."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from editbench.benchmark import load_benchmark
from editbench.importers import run_import


@pytest.fixture
def rise_src(tmp_path: Path, write_png) -> Path:
    data = tmp_path / "RISEBench" / "data"
    write_png(data / "temporal_reasoning_images/1.png", (1, 1, 1))
    write_png(data / "spatial_reasoning_images/2.png", (2, 2, 2))
    write_png(data / "spatial_reasoning_images/2_ref.png", (3, 3, 3))
    write_png(data / "logical_reasoning_images/1.jpg", (4, 4, 4), "JPEG")
    (data / "causal_reasoning_images").mkdir()
    (data / "causal_reasoning_images/5.png").write_bytes(b"\x89PNG\r\n\x1a\n truncated")
    write_png(data / "causal_reasoning_images/6_1.png", (6, 6, 6))
    write_png(data / "causal_reasoning_images/6_2.png", (7, 7, 7))
    samples = [
        {
            "index": "temporal_reasoning_1",
            "category": "temporal_reasoning",
            "instruction": "Draw what it will look like after a year.",
            "image": "temporal_reasoning_images/1.png",
            "reference": "Rotten, blackened banana.",
        },
        {
            "index": "spatial_reasoning_2",
            "category": "spatial_reasoning",
            "subtask": "Object Arrangement",
            "instruction": "Stack the blocks by size.",
            "image": ["spatial_reasoning_images/2.png"],
            "reference_img": "spatial_reasoning_images/2_ref.png",
            "consistency_free": "True",
        },
        {
            "index": "logical_reasoning_1",
            "category": "logical_reasoning",
            "instruction": "Draw the path through the maze in blue.",
            "image": "logical_reasoning_images/1.jpg",
            "reference_txt": "The path goes down, then right.",
        },
        {
            "index": "causal_reasoning_4",
            "category": "causal_reasoning",
            "instruction": "Draw it after the magnet is placed.",
            "image": "causal_reasoning_images/4.png",
            "reference": "Clips pulled together.",
        },
        {
            "index": "causal_reasoning_5",
            "category": "causal_reasoning",
            "instruction": "Draw it after it is roasted.",
            "image": "causal_reasoning_images/5.png",
            "reference": "Seared steak.",
        },
        {
            "index": "causal_reasoning_6",
            "category": "causal_reasoning",
            "instruction": "Put the orange on the scale.",
            "image": ["causal_reasoning_images/6_1.png", "causal_reasoning_images/6_2.png"],
        },
        {"category": "temporal_reasoning", "instruction": "No index here.", "image": "temporal_reasoning_images/1.png"},
        {"index": "temporal_reasoning_9", "category": "temporal_reasoning", "instruction": "Escape.", "image": "../outside.png"},
    ]
    (data / "data_total.json").write_text(json.dumps(samples))
    return tmp_path / "RISEBench"


def test_samples_become_native_items(rise_src: Path, tmp_path: Path, items) -> None:
    dest = tmp_path / "out"
    report = run_import("rise", rise_src, dest, on_skip=lambda *_: None)

    data = rise_src / "data"
    assert items(dest) == [
        {
            "id": "temporal_reasoning_1",
            "category": "temporal_reasoning",
            "instruction": "Draw what it will look like after a year.",
            "instruction_language": "en",
            "source_image": "images/temporal_reasoning_images/1.png",
            "reference_text": "Rotten, blackened banana.",
            "source": {
                "dataset": "RISEBench",
                "index": "temporal_reasoning_1",
                "category": "temporal_reasoning",
                "image": "temporal_reasoning_images/1.png",
            },
        },
        {
            "id": "spatial_reasoning_2",
            "category": "spatial_reasoning",
            "subcategory": "Object Arrangement",
            "instruction": "Stack the blocks by size.",
            "instruction_language": "en",
            "source_image": "images/spatial_reasoning_images/2.png",
            "reference_image": "images/spatial_reasoning_images/2_ref.png",
            "tags": ["consistency_free"],
            "source": {
                "dataset": "RISEBench",
                "index": "spatial_reasoning_2",
                "category": "spatial_reasoning",
                "image": "spatial_reasoning_images/2.png",
                "reference_img": "spatial_reasoning_images/2_ref.png",
                "subtask": "Object Arrangement",
            },
        },
        {
            "id": "logical_reasoning_1",
            "category": "logical_reasoning",
            "instruction": "Draw the path through the maze in blue.",
            "instruction_language": "en",
            "source_image": "images/logical_reasoning_images/1.jpg",
            "reference_text": "The path goes down, then right.",
            "source": {
                "dataset": "RISEBench",
                "index": "logical_reasoning_1",
                "category": "logical_reasoning",
                "image": "logical_reasoning_images/1.jpg",
            },
        },
        {
            "id": "causal_reasoning_6",
            "category": "causal_reasoning",
            "instruction": "Put the orange on the scale.",
            "instruction_language": "en",
            "source_image": "images/causal_reasoning_images/6_1.png",
            "extra_images": [{"label": "image 2", "path": "images/causal_reasoning_images/6_2.png"}],
            "source": {
                "dataset": "RISEBench",
                "index": "causal_reasoning_6",
                "category": "causal_reasoning",
                "image": ["causal_reasoning_images/6_1.png", "causal_reasoning_images/6_2.png"],
            },
        },
    ]
    assert report.written == 4
    assert report.skipped == [
        ("causal_reasoning_4", f"image 'causal_reasoning_images/4.png' not found under {data}"),
        ("causal_reasoning_5", "unusable image: unreadable image header: OSError: Truncated File Read"),
        ("sample #6", "missing field 'index'"),
        ("temporal_reasoning_9", f"image path '../outside.png' points outside {data}"),
    ]
    record = json.loads((dest / "import-report.json").read_text())
    assert record["written"] == 4
    assert record["skipped"][0] == {"id": "causal_reasoning_4", "reason": report.skipped[0][1]}


def test_pass_rule_is_full_marks_and_weights_follow_risebench(rise_src: Path, tmp_path: Path) -> None:
    dest = tmp_path / "out"
    run_import("rise", rise_src / "data" / "data_total.json", dest, on_skip=lambda *_: None)

    benchmark = yaml.safe_load((dest / "benchmark.yaml").read_text())
    assert benchmark["score_scale"] == {"min": 1, "max": 5}
    assert benchmark["overall"] == "weighted_mean"
    categories = {c["name"]: c for c in benchmark["categories"]}
    assert list(categories) == ["temporal_reasoning", "spatial_reasoning", "logical_reasoning", "causal_reasoning"]
    for category in categories.values():
        assert category["pass_rule"] == {"all_at_least": 5}
    assert categories["temporal_reasoning"]["weights"] == {
        "appearance_consistency": 0.3,
        "instruction_reasoning": 0.5,
        "visual_plausibility": 0.2,
    }
    assert "criteria" not in categories["temporal_reasoning"]
    assert categories["logical_reasoning"]["criteria"] == ["appearance_consistency", "instruction_reasoning"]
    assert categories["logical_reasoning"]["weights"] == {"appearance_consistency": 0.3, "instruction_reasoning": 0.7}
    assert "- visual_plausibility:" not in (dest / "prompts/logical_reasoning.v1.txt").read_text()

    loaded = load_benchmark(dest)  # what `editbench ingest` will read
    assert loaded.rejections == []
    logical = loaded.spec.category("logical_reasoning")
    assert logical.pass_rule is not None and logical.pass_rule.passes({"a": 5, "b": 5})
    assert not logical.pass_rule.passes({"a": 5, "b": 4})
