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
