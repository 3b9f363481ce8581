"""A broken benchmark.yaml (or prompt) is a whole-benchmark error with a message that says
what to fix; a good one yields the declared criteria, weights, pass rules and prompt versions."""

from __future__ import annotations

import hashlib
import os

import pytest

from editbench.benchmark import BenchmarkFormatError, Overall, PassRule, load_benchmark

GOOD = """\
name: test-bench
version: "1.0"
criteria:
  - {name: semantic_consistency, description: "Does it?"}
  - {name: perceptual_quality, description: "Nice?"}
categories:
  - name: alpha
    prompt: prompts/alpha.v1.txt
"""


def _write(bench, manifest: str) -> None:
    (bench.root / "benchmark.yaml").write_text(manifest, encoding="utf-8")
    bench.write_items()


@pytest.mark.parametrize(
    ("manifest", "expected"),
    [
        (GOOD.replace("name: test-bench\n", ""), "missing required key 'name'"),
        (GOOD.replace('version: "1.0"\n', ""), "missing required key 'version'"),
        (GOOD.replace('version: "1.0"', "version: 1.10"), "quoted string"),
        (GOOD.replace("name: test-bench", "name: Test Bench"), "must match"),
        (GOOD + "    criteria: [semantic_consistency, sharpness]\n", "unknown criterion 'sharpness'"),
        (GOOD.replace("prompts/alpha.v1.txt", "prompts/missing.v1.txt"), "prompts/missing.v1.txt: file not found"),
        (GOOD.replace("prompts/alpha.v1.txt", "../escape.txt"), "leads outside"),
        (GOOD.replace("prompts/alpha.v1.txt", "/etc/hostname"), "relative"),
        (GOOD + "catgories: []\n", "unknown key(s) catgories"),
        (GOOD + "  - name: alpha\n", "declared twice"),
        (GOOD + "overall: median\n", "overall 'median'"),
        (GOOD + "    pass_rule: {all_at_least: 11}\n", "all_at_least"),
        (GOOD + "    weights: {perceptual_quality: -1}\n", "weight for 'perceptual_quality'"),
        (GOOD + "score_scale: {min: 5, max: 1}\n", "score_scale"),
        (
            GOOD.replace("categories:\n  - name: alpha\n    prompt: prompts/alpha.v1.txt\n", "categories: []\n"),
            "non-empty",
        ),
        (GOOD + "slices: language\n", "slices must be a list"),
        (GOOD + "slices: [language, language]\n", "slices lists a key twice"),
        ("name: [unclosed\n", "not valid YAML"),
        ("- just\n- a list\n", "must be a mapping"),
    ],
)
def test_malformed_manifest_raises_a_clear_error(bench, manifest, expected):
    _write(bench, manifest)
    with pytest.raises(BenchmarkFormatError, match=r"benchmark\.yaml|prompt") as raised:
        load_benchmark(bench.root)
    assert expected in str(raised.value)


@pytest.mark.parametrize(
    ("prompt", "expected"),
    [
        ("Score {criterion} for {instrucion}", "unknown field {instrucion}"),
        ('Answer as JSON: {"score": 1}', "unknown field"),
        ("Unbalanced { brace", "not a valid template"),
        ("   \n", "empty"),
    ],
)
def test_bad_prompt_template_raises(bench, prompt, expected):
    (bench.root / "prompts" / "alpha.v1.txt").write_text(prompt, encoding="utf-8")
    bench.write_items()
    with pytest.raises(BenchmarkFormatError, match=r"alpha\.v1\.txt") as raised:
        load_benchmark(bench.root)
    assert expected in str(raised.value)


def test_prompt_with_doubled_braces_is_fine(bench):
    (bench.root / "prompts" / "alpha.v1.txt").write_text('Reply {{"score": <{scale_min}-{scale_max}>}}', encoding="utf-8")
    bench.write_items()
    assert load_benchmark(bench.root).spec.category("alpha").prompt_text.startswith("Reply {{")


def test_missing_items_file_raises(bench):
    with pytest.raises(BenchmarkFormatError, match=r"items\.jsonl is missing"):
        load_benchmark(bench.root)


def test_misnamed_manifest_is_not_silently_treated_as_simple_layout(bench):
    bench.write_items()
    os.rename(bench.root / "benchmark.yaml", bench.root / "benchmark.yml")
    with pytest.raises(BenchmarkFormatError, match=r"rename it to benchmark\.yaml"):
        load_benchmark(bench.root)


def test_not_a_folder_raises(tmp_path):
    with pytest.raises(BenchmarkFormatError, match="no such benchmark folder"):
        load_benchmark(tmp_path / "absent")


def test_defaults_and_declared_values(bench):
    bench.write_items()
    loaded = load_benchmark(bench.root / "benchmark.yaml")  # the manifest path works too
    spec = loaded.spec
    assert loaded.layout == "native" and loaded.root == bench.root.resolve()
    assert (spec.name, spec.version, spec.score_min, spec.score_max) == ("test-bench", "1.0", 0, 10)
    assert spec.overall == Overall.GEOMETRIC_MEAN == "geometric_mean"
    assert [c.name for c in spec.criteria] == ["semantic_consistency", "perceptual_quality"]
    alpha, beta = spec.categories
    prompt_bytes = (bench.root / "prompts" / "alpha.v1.txt").read_bytes()
    assert alpha.prompt_path == "prompts/alpha.v1.txt"
    assert alpha.prompt_sha256 == hashlib.sha256(prompt_bytes).hexdigest()
    assert alpha.prompt_version == alpha.prompt_sha256[:16]
    assert alpha.weights == {"semantic_consistency": 1.0, "perceptual_quality": 1.0}
    assert beta.prompt_path == "builtin:default.v1.txt" and "{instruction}" in beta.prompt_text
    assert spec.criteria_for("beta")[0].description.startswith("Does the edit")


def test_category_subset_weights_and_pass_rule(bench):
    manifest = GOOD + (
        "    criteria: [semantic_consistency]\n"
        "    weights: {semantic_consistency: 2}\n"
        "    pass_rule: {all_at_least: 8}\n"
        "score_scale: {min: 1, max: 10}\n"
        "overall: min\n"
    )
    _write(bench, manifest.replace('version: "1.0"', 'version: "2"'))
    spec = load_benchmark(bench.root).spec
    alpha = spec.category("alpha")
    assert alpha.criteria == ("semantic_consistency",)
    assert alpha.weights == {"semantic_consistency": 2.0}
    assert alpha.pass_rule == PassRule(8.0)
    assert alpha.pass_rule.passes({"semantic_consistency": 8}) and not alpha.pass_rule.passes({"semantic_consistency": 7.5})
    assert (spec.score_min, spec.overall) == (1, "min")


def test_declared_slices_are_read_and_change_the_content_hash_only_when_present(bench):
    _write(bench, GOOD)
    plain = load_benchmark(bench.root)
    assert plain.spec.slices == ()
    _write(bench, GOOD + "slices: [language, subset]\n")
    sliced = load_benchmark(bench.root)
    assert sliced.spec.slices == ("language", "subset")
    assert sliced.spec.content_hash != plain.spec.content_hash
