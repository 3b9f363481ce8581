"""GEdit-Bench layout: DIR/<model>/fullset/<task_type>/<instruction_language>/<key>.png (+ _SRCIMG)."""

import json

from PIL import Image

from editbench.report.export import export_run
from editbench.schema.db import session_scope
from tests.report.conftest import PQ, SC


def test_gedit_layout(ledger, tmp_path):
    bench = ledger.benchmark(
        {"color_alter": {}, "physics": {}},
        {"color_alter": ["abc123_cn", "def456_en", "bad789_en"], "physics": ["p1"]},
        name="gedit-bench",
        languages={"abc123_cn": "zh"},
        provenance={
            "abc123_cn": {"dataset": "stepfun-ai/GEdit-Bench", "key": "abc123", "task_type": "color_alter", "instruction_language": "cn"},
            "def456_en": {"dataset": "stepfun-ai/GEdit-Bench", "key": "def456", "task_type": "color_alter", "instruction_language": "en"},
        },
    )
    scores = {SC: 7, PQ: 7}
    run_id = ledger.run(
        bench,
        {"abc123_cn": scores, "def456_en": scores, "bad789_en": {SC: "missing", PQ: "missing"}, "p1": scores},
        edits={"bad789_en": ("failed", "oom")},
        name="qwen edit",
    )
    out = tmp_path / "export"
    with session_scope(ledger.url) as session:
        result = export_run(session, run_id, "gedit", out, home=tmp_path)

    root = out / "qwen_edit" / "fullset"
    assert result.root == out / "qwen_edit"
    assert result.written == 3
    expected = {
        root / "color_alter" / "cn" / "abc123.png",
        root / "color_alter" / "cn" / "abc123_SRCIMG.png",
        root / "color_alter" / "en" / "def456.png",
        root / "color_alter" / "en" / "def456_SRCIMG.png",
        root / "physics" / "en" / "p1.png",  # no GEdit provenance: category, external id, language
        root / "physics" / "en" / "p1_SRCIMG.png",
    }
    assert {p for p in root.rglob("*") if p.is_file()} == expected
    for path in expected:
        with Image.open(path) as image:
            assert image.format == "PNG"

    assert result.skipped == [("color_alter/bad789_en", "edit failed: oom")]
    manifest = json.loads(result.manifest.read_text())
    assert manifest["skipped"] == [{"sample": "color_alter/bad789_en", "reason": "edit failed: oom"}]
    assert "--model_name qwen_edit" in manifest["scorer"]


def test_folder_layout_holds_every_sample_with_its_images_and_labels(ledger, tmp_path):
    import jsonschema
    from click.testing import CliRunner

    from editbench.cli.report import export_command
    from editbench.report.json_schema import load_schema

    bench = ledger.benchmark({"physics": {}}, {"physics": ["p1", "p 2"]})
    run_id = ledger.run(
        bench,
        {"p1": {SC: 9, PQ: 4}, "p 2": {SC: ("missing", "edit_failed"), PQ: ("missing", "edit_failed")}},
        edits={"p 2": ("failed", "oom")},
        name="my model",
    )
    result = CliRunner().invoke(
        export_command, [str(run_id), str(tmp_path / "out"), "--layout", "folder"], env={"EDITBENCH_DATABASE_URL": ledger.url}
    )
    assert result.exit_code == 0, result.output
    assert "skipped physics/p 2: no edited image: failed" in result.output
    root = tmp_path / "out" / "my_model"
    files = sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())
    assert files == ["edited/physics/p1.png", "labels.json", "source/physics/p1.png", "source/physics/p_2.png"]

    labels = json.loads((root / "labels.json").read_text())
    jsonschema.validate(labels, load_schema("labels"), cls=jsonschema.Draft202012Validator)
    first, second = labels["samples"]
    assert (first["filepath"], first["status"], first["overall"]) == ("edited/physics/p1.png", "done", 6.0)
    assert first["scores"] == {SC: 9.0, PQ: 4.0}
    assert (second["filepath"], second["source_filepath"]) == (None, "source/physics/p_2.png")
    assert (second["status"], second["edit_status"], second["error_code"]) == (
        "failed",
        "failed",
        "oom",
    )  # an edit that failed counts as failed, not missing
    for entry in labels["samples"]:
        for key in ("filepath", "source_filepath"):
            assert entry[key] is None or (root / entry[key]).is_file()
