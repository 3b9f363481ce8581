"""``editbench import KIND SRC DEST --protocol official --official-repo PATH`` on the real-format
fixtures, with synthetic official checkouts (the official file layout, our placeholder texts)."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import yaml
from click.testing import CliRunner

from editbench.benchmark.loader import load_benchmark
from editbench.cli import main
from editbench.importers import ImporterError, run_import
from editbench.protocols import schema

SOURCES = {
    "gedit": "gedit/hub",
    "kris": "kris/KRIS_Bench",
    "rise": "rise/data/data_total.json",
    "imgedit": "imgedit/basic_edit.json",
}
IMAGE_ROOTS = {"imgedit": "imgedit/Benchmark/singleturn"}


def official_import(kind: str, realdata: Path, checkout: Path, dest: Path):
    root = IMAGE_ROOTS.get(kind)
    return run_import(
        kind,
        realdata / SOURCES[kind],
        dest,
        image_root=realdata / root if root else None,
        protocol="official",
        official_repo=checkout,
    )


@pytest.mark.parametrize("kind", ["gedit", "kris", "rise", "imgedit"])
def test_official_import_writes_the_checkouts_prompts_criteria_and_protocol_json(kind, realdata, official_checkout, tmp_path):
    checkout = official_checkout(kind)
    dest = tmp_path / "bench"
    report = official_import(kind, realdata, checkout, dest)
    assert report.written > 0

    manifest = yaml.safe_load((dest / "benchmark.yaml").read_text())
    assert manifest["version"] == "1.0-official"
    protocol = json.loads((dest / "protocol.json").read_text())
    jsonschema.validate(protocol, schema())
    assert protocol["kind"] == kind and protocol["checkout"] == str(checkout.absolute())
    for name, entry in protocol["prompts"].items():
        text = (dest / entry["file"]).read_text()
        assert "PLACEHOLDER" in text, name  # read from the checkout, not shipped by editbench
    for category in manifest["categories"]:
        prompt = (dest / category["prompt"]).read_text()
        assert "PLACEHOLDER" in prompt
    # The folder is a valid benchmark: every prompt is a template over editbench's fields.
    loaded = load_benchmark(dest)
    assert len(loaded.items) == report.written and not loaded.rejections
    assert {c.name for c in loaded.spec.criteria} == {c["name"] for c in manifest["criteria"]}


def test_gedit_official_prompts_render_the_instruction_where_the_checkout_puts_it(realdata, official_checkout, tmp_path):
    dest = tmp_path / "bench"
    official_import("gedit", realdata, official_checkout("gedit"), dest)
    protocol = json.loads((dest / "protocol.json").read_text())
    assert protocol["prompts"]["SC"]["images"] == ["source", "edited"]
    assert protocol["prompts"]["PQ"]["images"] == ["edited"]
    assert protocol["prompts"]["PQ"]["criteria"] == ["perceptual_quality"]
    sc = (dest / protocol["prompts"]["SC"]["file"]).read_text()
    rendered = sc.format(
        instruction="make it red", reference="", criterion="", criterion_description="", criteria="", scale_min=0, scale_max=10
    )
    assert rendered.endswith("Editing instruction: make it red\n")
    assert '{\n"score" : [...],' in rendered  # the checkout's literal JSON braces survive
    manifest = yaml.safe_load((dest / "benchmark.yaml").read_text())
    assert manifest["score_scale"] == {"min": 0, "max": 10} and manifest["overall"] == "geometric_mean"


def test_kris_official_protocol_asks_the_dual_prompt_in_knowledge_categories_only(realdata, official_checkout, tmp_path):
    dest = tmp_path / "bench"
    official_import("kris", realdata, official_checkout("kris"), dest)
    protocol = json.loads((dest / "protocol.json").read_text())
    assert protocol["categories"]["physics"] == ["prompt_consist", "prompt_dual_evaluation", "prompt_quality"]
    assert protocol["categories"]["viewpoint_change"][1] == "prompt_view_instruction_following"
    assert protocol["prompts"]["prompt_view_instruction_following"]["images"] == ["source", "edited", "reference"]
    dual = (dest / "prompts/official/prompt_dual_evaluation.txt").read_text()
    assert "{instruction}" in dual and "{reference}" in dual  # {instruct}/{explanation} renamed
    manifest = yaml.safe_load((dest / "benchmark.yaml").read_text())
    by_name = {c["name"]: c for c in manifest["categories"]}
    assert "criteria" not in by_name["physics"]  # all four
    assert by_name["position_movement"]["criteria"] == ["visual_consistency", "visual_quality", "instruction_following"]


def test_rise_official_protocol_records_each_items_prompt_variant(realdata, official_checkout, tmp_path):
    dest = tmp_path / "bench"
    official_import("rise", realdata, official_checkout("rise"), dest)
    protocol = json.loads((dest / "protocol.json").read_text())
    items = protocol["items"]
    assert len(items) == 64
    assert items["temporal_reasoning_1"]["instruction_reasoning"] == {"prompt": "prompt_reasoning", "images": ["edited"]}
    logical_img = [i for i, v in items.items() if v.get("appearance_consistency", {}).get("prompt") == "prompt_logical_cons"]
    assert logical_img and all(items[i]["appearance_consistency"]["images"] == ["reference", "edited"] for i in logical_img)
    for choice in items.values():
        for entry in choice.values():
            assert (dest / protocol["prompts"][entry["prompt"]]["file"]).is_file()
    literal = (dest / "prompts/official/prompt_generation.txt").read_text()
    assert "{{literal braces}}" in literal  # sent unformatted by gpt_eval.py: braces stay literal


def test_imgedit_official_criteria_come_from_the_prompts_response_format(realdata, official_checkout, tmp_path):
    dest = tmp_path / "bench"
    official_import("imgedit", realdata, official_checkout("imgedit"), dest)
    manifest = yaml.safe_load((dest / "benchmark.yaml").read_text())
    by_name = {c["name"]: c for c in manifest["categories"]}
    assert by_name["add"]["criteria"] == ["prompt_compliance", "visual_naturalness", "physical_detail_coherence"]
    assert by_name["compose"]["criteria"][-1] == "physical_consistency_fine_detail"
    prompt = (dest / "prompts/add.v1.txt").read_text()
    assert "editing instruction is : {instruction}." in prompt and "{{kept}}" in prompt


@pytest.mark.parametrize(
    ("kind", "missing", "named"),
    [
        ("gedit", "GEdit-Bench/viescore/vie_prompts.py", "GEdit-Bench/viescore/vie_prompts.py"),
        ("kris", "utils/prompts.py", "utils/prompts.py"),
        ("kris", "metrics_common.py", "metrics_common.py"),
        ("rise", "utils.py", "utils.py"),
        ("imgedit", "Benchmark/Basic/prompts.json", "Benchmark/Basic/prompts.json"),
    ],
)
def test_a_checkout_without_the_expected_file_is_one_error_naming_it(kind, missing, named, realdata, official_checkout, tmp_path):
    checkout = official_checkout(kind, without=(missing,))
    with pytest.raises(ImporterError, match=named.replace(".", r"\.")):
        official_import(kind, realdata, checkout, tmp_path / "bench")
    assert not (tmp_path / "bench").exists()


def test_a_checkout_missing_a_prompt_variable_names_it(realdata, official_checkout, tmp_path):
    checkout = official_checkout("rise")
    utils = checkout / "utils.py"
    utils.write_text(utils.read_text().replace("prompt_spatial_qual =", "renamed ="))
    with pytest.raises(ImporterError, match="prompt_spatial_qual"):
        official_import("rise", realdata, checkout, tmp_path / "bench")


def test_cli_official_protocol_needs_the_checkout_and_reads_it(realdata, official_checkout, tmp_path):
    runner = CliRunner()
    src = str(realdata / SOURCES["rise"])
    refused = runner.invoke(main, ["import", "rise", src, str(tmp_path / "a"), "--protocol", "official"])
    assert refused.exit_code != 0
    assert "--official-repo" in refused.output and "PhoenixZ810/RISEBench" in refused.output
    assert "Traceback" not in refused.output and not (tmp_path / "a").exists()

    stray = runner.invoke(main, ["import", "rise", src, str(tmp_path / "b"), "--official-repo", str(official_checkout("rise"))])
    assert stray.exit_code != 0 and "--protocol official" in stray.output

    done = runner.invoke(
        main, ["import", "rise", src, str(tmp_path / "c"), "--protocol", "official", "--official-repo", str(official_checkout("rise"))]
    )
    assert done.exit_code == 0, done.output
    assert "wrote 64 items" in done.output
    assert (tmp_path / "c" / "protocol.json").is_file()


def test_default_protocol_stays_editbenchs_own(realdata, tmp_path):
    dest = tmp_path / "bench"
    run_import("rise", realdata / SOURCES["rise"], dest)
    manifest = yaml.safe_load((dest / "benchmark.yaml").read_text())
    assert manifest["version"] == "1.0" and not (dest / "protocol.json").exists()
