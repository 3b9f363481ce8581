"""Every real-format fixture in shared/realdata imports with no record skipped, multi-image items
included (KRIS-Bench composition and temporal prediction), and loads with no rejection."""

from __future__ import annotations

from pathlib import Path

import pytest

from editbench.benchmark import load_benchmark
from editbench.importers import run_import
from tests.protocols.conftest import realdata_root

CASES = {
    "kris": ("kris", "kris/KRIS_Bench", None, 29),
    "rise": ("rise", "rise/data/data_total.json", None, 64),
    "rise-hub": ("rise", "rise-hub", None, 64),
    "imgedit": ("imgedit", "imgedit/basic_edit.json", "imgedit/Benchmark/singleturn", 737),
    "gedit": ("gedit", "gedit/hub", None, 44),
}


@pytest.fixture
def realdata() -> Path:
    root = realdata_root()
    if root is None:
        pytest.skip("shared/realdata (real-format fixtures) is not present beside this checkout")
    return root


@pytest.mark.parametrize("case", sorted(CASES))
def test_each_realdata_fixture_imports_every_record(realdata: Path, tmp_path: Path, case: str) -> None:
    kind, src, image_root, count = CASES[case]
    if kind == "gedit":
        pytest.importorskip("datasets")
    dest = tmp_path / case
    report = run_import(kind, realdata / src, dest, on_skip=lambda *_: None, image_root=realdata / image_root if image_root else None)
    assert (report.written, report.skipped) == (count, [])
    loaded = load_benchmark(dest)
    assert (len(loaded.items), loaded.rejections) == (count, [])


def test_kris_multi_image_items_keep_every_input_in_order_and_gt_img_as_reference(realdata: Path, tmp_path: Path) -> None:
    run_import("kris", realdata / "kris" / "KRIS_Bench", tmp_path / "kris", on_skip=lambda *_: None)
    items = {item.id: item for item in load_benchmark(tmp_path / "kris").items}
    extras = {key: [(e.label, e.path.name) for e in item.extra_images] for key, item in items.items() if item.extra_images}
    assert extras == {
        "multi-element_composition_1": [("image 2", "1-2.jpg")],
        "multi-element_composition_21": [("image 2", "21-2.jpg"), ("image 3", "21-3.jpg"), ("image 4", "21-4.jpg")],
        "multi-element_composition_33": [("image 2", "33-2.jpg")],
        "multi-element_composition_41": [("image 2", "41-2.jpg"), ("image 3", "41-3.JPG")],
        "temporal_prediction_1": [("frame 3", "1-3.jpg"), ("frame 4", "1-4.jpg")],
        "temporal_prediction_16": [("frame 3", "16-3.jpg"), ("frame 4", "16-4.jpg")],
    }
    assert items["temporal_prediction_1"].source_image.name == "1-2.jpg"
    assert items["temporal_prediction_1"].reference_image is not None
    assert items["temporal_prediction_1"].reference_image.name == "1-1.jpg"
