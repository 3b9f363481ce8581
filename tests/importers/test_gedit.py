"""GEdit-Bench rows (Parquet and Arrow) → native items, with the malformed rows skipped."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import yaml

from editbench.benchmark import load_benchmark
from editbench.importers import ImporterError, run_import

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")

IMAGE = pa.struct([("bytes", pa.binary()), ("path", pa.string())])
SCHEMA = pa.schema(
    [
        ("task_type", pa.string()),
        ("key", pa.string()),
        ("instruction", pa.string()),
        ("instruction_language", pa.string()),
        ("input_image", IMAGE),
        ("Intersection_exist", pa.bool_()),
    ]
)


def rows(png) -> list[dict]:
    red, blue = png((200, 0, 0)), png((0, 0, 200))
    return [
        {
            "task_type": "background_change",
            "key": "k1",
            "instruction": "Change the background to a beach.",
            "instruction_language": "en",
            "input_image": {"bytes": red, "path": None},
            "Intersection_exist": True,
        },
        {
            "task_type": "background_change",
            "key": "k1",
            "instruction": "把背景换成海滩。",
            "instruction_language": "cn",
            "input_image": {"bytes": red, "path": None},
            "Intersection_exist": True,
        },
        {
            "task_type": "color_alter",
            "key": "k2",
            "instruction": "Make the car blue.",
            "instruction_language": "en",
            "input_image": {"bytes": None, "path": "imgs/k2.png"},
            "Intersection_exist": False,
        },
        {
            "task_type": "subject-add",
            "key": "k3",
            "instruction": None,
            "instruction_language": "en",
            "input_image": {"bytes": blue, "path": None},
            "Intersection_exist": False,
        },
        {
            "task_type": "style_change",
            "key": "k4",
            "instruction": "Make it a watercolor.",
            "instruction_language": "en",
            "input_image": {"bytes": b"not an image", "path": None},
            "Intersection_exist": False,
        },
        {
            "task_type": "text_change",
            "key": "k5",
            "instruction": "Make the sign say OPEN.",
            "instruction_language": "en",
            "input_image": {"bytes": None, "path": None},
            "Intersection_exist": False,
        },
        {
            "task_type": "color_alter",
            "key": "k2",
            "instruction": "Make the car green.",
            "instruction_language": "en",
            "input_image": {"bytes": blue, "path": None},
            "Intersection_exist": False,
        },
    ]


EXPECTED_ITEMS = [
    {
        "id": "k1_en",
        "category": "background_change",
        "instruction": "Change the background to a beach.",
        "instruction_language": "en",
        "source_image": "images/background_change/k1_en.png",
        "tags": ["intersection"],
        "source": {
            "dataset": "stepfun-ai/GEdit-Bench",
            "key": "k1",
            "task_type": "background_change",
            "instruction_language": "en",
            "intersection_exist": True,
        },
    },
    {
        "id": "k1_cn",
        "category": "background_change",
        "instruction": "把背景换成海滩。",
        "instruction_language": "zh",
        "source_image": "images/background_change/k1_cn.png",
        "tags": ["intersection"],
        "source": {
            "dataset": "stepfun-ai/GEdit-Bench",
            "key": "k1",
            "task_type": "background_change",
            "instruction_language": "cn",
            "intersection_exist": True,
        },
    },
    {
        "id": "k2_en",
        "category": "color_alter",
        "instruction": "Make the car blue.",
        "instruction_language": "en",
        "source_image": "images/color_alter/k2_en.png",
        "source": {
            "dataset": "stepfun-ai/GEdit-Bench",
            "key": "k2",
            "task_type": "color_alter",
            "instruction_language": "en",
            "intersection_exist": False,
        },
    },
]

EXPECTED_SKIPS = [
    ("k3_en", "missing field 'instruction'"),
    ("k4_en", "unusable image: not a recognised image format"),
    ("k5_en", "field 'input_image' has neither bytes nor a path"),
    ("k2_en", "duplicate id 'k2_en'"),
]


@pytest.fixture
def parquet_src(tmp_path: Path, png, write_png) -> Path:
    src = tmp_path / "gedit"
    write_png(src / "imgs" / "k2.png", (0, 150, 0))
    pq.write_table(pa.Table.from_pylist(rows(png), schema=SCHEMA), src / "train-00000-of-00001.parquet")
    return src


def test_parquet_rows_become_native_items(parquet_src: Path, tmp_path: Path, items, png) -> None:
    dest = tmp_path / "out"
    report = run_import("gedit", parquet_src, dest, on_skip=lambda *_: None)

    assert report.written == 3
    assert report.skipped == EXPECTED_SKIPS
    assert items(dest) == EXPECTED_ITEMS
    assert (dest / "images/background_change/k1_en.png").read_bytes() == png((200, 0, 0))
    assert (dest / "images/color_alter/k2_en.png").read_bytes() == (parquet_src / "imgs/k2.png").read_bytes()
    benchmark = yaml.safe_load((dest / "benchmark.yaml").read_text())
    assert benchmark["name"] == "gedit-bench"
    assert benchmark["score_scale"] == {"min": 0, "max": 10}
    assert benchmark["overall"] == "geometric_mean"
    assert [c["name"] for c in benchmark["criteria"]] == ["semantic_consistency", "perceptual_quality"]
    # Only categories with items are declared, each with its own prompt file.
    assert [c["name"] for c in benchmark["categories"]] == ["background_change", "color_alter"]
    assert sorted(p.name for p in (dest / "prompts").iterdir()) == ["background_change.v1.txt", "color_alter.v1.txt"]
    assert "(GEdit-Bench, task type: color_alter)" in (dest / "prompts/color_alter.v1.txt").read_text()

    assert benchmark["slices"] == ["language", "intersection_exist"]  # EN/CN and intersection tables

    loaded = load_benchmark(dest)  # what `editbench ingest` will read
    assert loaded.rejections == []
    assert loaded.spec.slices == ("language", "intersection_exist")
    assert [item.id for item in loaded.items] == ["k1_en", "k1_cn", "k2_en"]


def test_arrow_stream_files_from_a_hub_snapshot(tmp_path: Path, png, items) -> None:
    src = tmp_path / "snapshot" / "train"
    src.mkdir(parents=True)
    table = pa.Table.from_pylist(rows(png)[:2], schema=SCHEMA)
    with pa.OSFile(str(src / "data-00000-of-00001.arrow"), "wb") as sink, pa.ipc.new_stream(sink, SCHEMA) as out:
        out.write_table(table)
    (src / "cache-0123.arrow").write_bytes(b"datasets cache, not rows")

    report = run_import("gedit", tmp_path / "snapshot", tmp_path / "out")

    assert (report.written, report.skipped) == (2, [])
    assert [item["id"] for item in items(tmp_path / "out")] == ["k1_en", "k1_cn"]


def test_limit_counts_written_items(parquet_src: Path, tmp_path: Path, items) -> None:
    report = run_import("gedit", parquet_src, tmp_path / "out", limit=2)

    assert report.written == 2
    assert [item["id"] for item in items(tmp_path / "out")] == ["k1_en", "k1_cn"]


def test_missing_pyarrow_says_how_to_install(parquet_src: Path, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "pyarrow", None)

    with pytest.raises(ImporterError, match="pip install pyarrow"):
        run_import("gedit", parquet_src, tmp_path / "out")
    assert not (tmp_path / "out").exists()
