"""Export layouts for KRIS-Bench, RISEBench and ImgEdit: the files their official scripts open.

Each test imports the real-format fixture with editbench's importer (so the samples carry the
provenance a real import gives them), records a run over those items, exports it and checks
every written path against the path the official script builds from the benchmark's own
annotation (KRIS: ``results/<model>/<category>/<image_id>.jpg`` for every annotation key;
RISEBench: ``find_image(<output>/images/<category>, index)``; ImgEdit:
``<result_img_folder>/<key>.png``).
"""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from PIL import Image

from editbench.importers import run_import
from editbench.report.export import LAYOUTS, MANIFEST_SCHEMA, export_run
from editbench.schema.db import session_scope
from tests.protocols.conftest import realdata_root
from tests.report.conftest import PQ, SC


@pytest.fixture
def realdata() -> Path:
    root = realdata_root()
    if root is None:
        pytest.skip("shared/realdata (real-format fixtures) is not present beside this checkout")
    return root


def imported_run(ledger, tmp_path: Path, kind: str, src: Path, *, failed: str | None = None, **kwargs) -> tuple[int, list[dict]]:
    """Import ``src``, mirror its items into the ledger with the importer's provenance, record a run."""
    dest = tmp_path / f"import-{kind}"
    run_import(kind, src, dest, **kwargs)
    items = [json.loads(line) for line in (dest / "items.jsonl").read_text().splitlines()]
    categories: dict[str, list[str]] = {}
    for item in items:
        categories.setdefault(item["category"], []).append(item["id"])
    bench = ledger.benchmark(
        {name: {} for name in categories},
        categories,
        name=kind,
        provenance={item["id"]: item.get("source", {}) for item in items},
    )
    edits = {failed: ("failed", "oom")} if failed else None
    run_id = ledger.run(bench, {item["id"]: {SC: 7, PQ: 7} for item in items}, edits=edits, name="my model")
    return run_id, items


def export(ledger, run_id: int, layout: str, out: Path):
    with session_scope(ledger.url) as session:
        return export_run(session, run_id, layout, out, home=out.parent)


def test_every_official_layout_is_offered():
    assert set(LAYOUTS) == {"gedit", "kris", "rise", "imgedit", "folder"}  # folder: plain images + labels


def test_kris_layout_is_what_the_metrics_scripts_open(ledger, realdata, tmp_path):
    run_id, items = imported_run(ledger, tmp_path, "kris", realdata / "kris" / "KRIS_Bench", failed="physics_11")
    results = tmp_path / "Kris_Bench" / "results"
    result = export(ledger, run_id, "kris", results)

    expected = set()
    for annotation in (realdata / "kris" / "KRIS_Bench").glob("*/annotation.json"):
        category = annotation.parent.name
        for image_id in json.loads(annotation.read_text()):
            # metrics_common.py: os.path.join(RESULTS_DIR, model_name, category, f"{image_id}.jpg")
            path = results / "my_model" / category / f"{image_id}.jpg"
            if any(i["id"] == f"{category}_{image_id}" for i in items) and f"{category}_{image_id}" != "physics_11":
                expected.add(path)
    written = {p for p in (results / "my_model").rglob("*.jpg")}
    assert written == expected and result.written == len(expected)
    for path in written:
        with Image.open(path) as image:
            assert image.format == "JPEG"
    assert result.skipped == [("physics/physics_11", "edit failed: oom")]
    manifest = json.loads(result.manifest.read_text())
    jsonschema.validate(manifest, json.loads(MANIFEST_SCHEMA.read_text()))
    assert "--models my_model" in manifest["scorer"]


def test_rise_layout_is_what_gpt_eval_finds(ledger, realdata, tmp_path):
    run_id, _ = imported_run(ledger, tmp_path, "rise", realdata / "rise" / "data" / "data_total.json")
    out = tmp_path / "outputs"
    result = export(ledger, run_id, "rise", out)
    rows = json.loads((realdata / "rise" / "data" / "data_total.json").read_text())
    assert result.written == len(rows) == 64
    for row in rows:
        # gpt_eval.py: find_image(osp.join(output_dir, f"images/{category}"), index), png first
        path = out / "my_model" / "images" / row["category"] / f"{row['index']}.png"
        assert path.is_file(), path
        with Image.open(path) as image:
            assert image.format == "PNG"
    manifest = json.loads(result.manifest.read_text())
    assert manifest["scorer"].endswith(f"--output {out.resolve()}/my_model")


def test_imgedit_layout_is_what_basic_bench_reads(ledger, realdata, tmp_path):
    imgedit = realdata / "imgedit"
    run_id, _ = imported_run(
        ledger, tmp_path, "imgedit", imgedit / "basic_edit.json", image_root=imgedit / "Benchmark" / "singleturn", limit=40
    )
    out = tmp_path / "imgedit-results"
    result = export(ledger, run_id, "imgedit", out)
    keys = list(json.loads((imgedit / "basic_edit.json").read_text()))[:40]
    # basic_bench.py: os.path.join(result_img_folder, f"{key}.png") for every key of basic_edit.json
    assert {p.name for p in (out / "my_model").glob("*.png")} == {f"{key}.png" for key in keys}
    assert result.written == 40 and result.skipped == []
