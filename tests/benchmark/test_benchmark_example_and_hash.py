"""The synthetic example benchmark, and the content hash that identifies a benchmark's content."""

from __future__ import annotations

import json
import shutil

import pytest
from PIL import Image

from editbench.benchmark import TEMPLATE_FIELDS, load_benchmark, write_example_benchmark

CATEGORIES = ["physics", "environment", "social", "causal", "referential"]


@pytest.fixture
def example(tmp_path):
    return write_example_benchmark(tmp_path / "example")


def test_example_loads_with_40_items_and_no_rejections(example):
    loaded = load_benchmark(example)
    assert loaded.layout == "native" and loaded.rejections == []
    assert len(loaded.items) == 40
    assert [c.name for c in loaded.spec.categories] == CATEGORIES
    for category in loaded.spec.categories:
        assert category.prompt_path == f"prompts/{category.name}.v1.txt"
        assert len(loaded.items_in(category.name)) == 8
    assert sum(1 for i in loaded.items if i.reference_text) >= 20
    assert len({(i.source_width, i.source_height) for i in loaded.items}) > 1  # mixed sizes
    assert loaded.spec.category("physics").criteria == ("semantic_consistency", "perceptual_quality", "plausibility")
    assert loaded.spec.category("social").criteria == ("semantic_consistency", "perceptual_quality")


def test_example_prompts_render_with_every_template_field(example):
    fields = {name: f"<{name}>" for name in TEMPLATE_FIELDS}
    for category in load_benchmark(example).spec.categories:
        rendered = category.prompt_text.format(**fields)
        assert "<instruction>" in rendered and "<criterion>" in rendered and "{" not in rendered


def test_example_is_deterministic_per_seed(tmp_path):
    first = load_benchmark(write_example_benchmark(tmp_path / "a", seed=3)).spec.content_hash
    second = load_benchmark(write_example_benchmark(tmp_path / "b", seed=3)).spec.content_hash
    other = load_benchmark(write_example_benchmark(tmp_path / "c", seed=4)).spec.content_hash
    assert first == second != other


def test_example_size_and_overwrite(tmp_path):
    dest = write_example_benchmark(tmp_path / "ex", per_category=10)
    assert len(load_benchmark(dest).items) == 50
    with pytest.raises(FileExistsError):
        write_example_benchmark(dest)
    write_example_benchmark(dest, per_category=2, overwrite=True)
    assert len(load_benchmark(dest).items) == 10


def test_content_hash_is_stable_across_loads_and_copies(example, tmp_path):
    first = load_benchmark(example).spec.content_hash
    assert len(first) == 64
    assert load_benchmark(example).spec.content_hash == first
    copy = shutil.copytree(example, tmp_path / "elsewhere" / "renamed")
    assert load_benchmark(copy).spec.content_hash == first


def test_content_hash_ignores_line_order(example):
    before = load_benchmark(example).spec.content_hash
    items = example / "items.jsonl"
    lines = items.read_text(encoding="utf-8").splitlines()
    items.write_text("\n".join(reversed(lines)) + "\n", encoding="utf-8")
    assert load_benchmark(example).spec.content_hash == before


def test_content_hash_changes_when_an_instruction_changes(example):
    before = load_benchmark(example).spec.content_hash
    items = example / "items.jsonl"
    records = [json.loads(line) for line in items.read_text(encoding="utf-8").splitlines()]
    records[5]["instruction"] += " quickly"
    items.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    assert load_benchmark(example).spec.content_hash != before


def test_content_hash_changes_when_an_image_changes(example):
    before = load_benchmark(example).spec.content_hash
    path = example / "images" / "social" / "002.png"
    with Image.open(path) as image:
        image = image.copy()
    image.putpixel((0, 0), (1, 2, 3))
    image.save(path)
    assert load_benchmark(example).spec.content_hash != before


def test_content_hash_changes_when_a_prompt_changes(example):
    before = load_benchmark(example).spec.content_hash
    with open(example / "prompts" / "causal.v1.txt", "a", encoding="utf-8") as prompt:
        prompt.write("Be strict.\n")
    assert load_benchmark(example).spec.content_hash != before


@pytest.mark.parametrize("args", [[], ["--per-category", "0"]], ids=["non-empty-folder", "zero-per-category"])
def test_example_cli_refuses_a_non_empty_folder_or_zero_items_with_one_error_line(tmp_path, args):
    import subprocess
    import sys

    dest = tmp_path / "taken"
    dest.mkdir()
    (dest / "notes.txt").write_text("mine")
    if args:  # an empty destination, so only the count is wrong
        dest = tmp_path / "fresh"
    result = subprocess.run(
        [sys.executable, "-m", "editbench.cli", "example", str(dest), *args], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    if not args:
        assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1 and "is not empty" in result.stderr
        assert (tmp_path / "taken" / "notes.txt").read_text() == "mine" and len(list((tmp_path / "taken").iterdir())) == 1
    else:
        assert "--per-category" in result.stderr and not dest.exists()
