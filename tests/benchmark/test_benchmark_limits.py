"""Limits on what a benchmark folder may hold: JSON depth, line and text lengths, NUL
characters, prompt fields, symlinked metadata files. Each refusal carries a reason code; an item
refusal spares its neighbours, a manifest refusal is one clear error."""

from __future__ import annotations

import json
import os

import pytest

from editbench.benchmark import BenchmarkFormatError, ReasonCode, limits, load_benchmark
from editbench.benchmark.records import json_depth

# --------------------------------------------------------------------------- items


def _nested(depth: int) -> str:
    return "[" * depth + "]" * depth


def test_json_nested_deeper_than_python_can_parse_is_rejected_not_a_recursion_error(bench, reject_one):
    line = '{"id": "deep", "category": "alpha", "instruction": "x", "source_image": "images/good.png", "source": {"a": '
    bench.write_items(line + _nested(200_000) + "}}")
    reject_one(bench.load(), ReasonCode.TOO_DEEP, ["items.jsonl:2", "200002 levels", "at most 32"])


def test_json_nesting_up_to_the_limit_is_accepted_and_beyond_it_rejected(bench, item, reject_one):
    # The record is one level and "source" another: MAX_JSON_DEPTH - 2 more levels fit exactly.
    bench.write_items(item("ok", source={"deep": json.loads(_nested(limits.MAX_JSON_DEPTH - 2))}))
    assert bench.load().rejections == []
    bench.write_items(item("bad", source={"deep": json.loads(_nested(limits.MAX_JSON_DEPTH - 1))}))
    reject_one(bench.load(), ReasonCode.TOO_DEEP, ["items.jsonl:2", f"{limits.MAX_JSON_DEPTH + 1} levels"])


def test_brackets_inside_strings_do_not_count_as_nesting() -> None:
    assert json_depth(b'{"a": "[[[[{{{{", "b": "\\"[[[", "c": [1, {"d": 2}]}') == 3


def test_a_line_over_one_mebibyte_is_rejected_before_parsing(bench, item, reject_one):
    bench.write_items(item("huge", instruction="x" * (limits.MAX_LINE_BYTES + 1)))
    reject_one(bench.load(), ReasonCode.TOO_LONG, ["items.jsonl:2", "bytes"])


def test_instruction_longer_than_the_limit_is_rejected(bench, item, reject_one):
    bench.write_items(item("long", instruction="y" * (limits.MAX_INSTRUCTION_CHARS + 1)))
    reject_one(bench.load(), ReasonCode.TOO_LONG, ["instruction", "10,001", "10,000"], item_id="long")


def test_instruction_at_the_limit_is_accepted(bench, item):
    bench.write_items(item("max", instruction="y" * limits.MAX_INSTRUCTION_CHARS))
    loaded = bench.load()
    assert loaded.rejections == [] and len(loaded.items[1].instruction) == limits.MAX_INSTRUCTION_CHARS


@pytest.mark.parametrize(
    ("fields", "name"),
    [
        ({"subcategory": "s" * (limits.MAX_SUBCATEGORY_CHARS + 1)}, "subcategory"),
        ({"instruction_language": "l" * (limits.MAX_LANGUAGE_CHARS + 1)}, "instruction_language"),
        ({"reference_text": "r" * (limits.MAX_REFERENCE_CHARS + 1)}, "reference_text"),
    ],
)
def test_optional_text_wider_than_its_column_is_rejected(bench, item, reject_one, fields, name):
    bench.write_items(item("wide", **fields))
    reject_one(bench.load(), ReasonCode.TOO_LONG, [name, "at most"], item_id="wide")


def test_id_wider_than_its_column_is_rejected(bench, item):
    long_id = "i" * (limits.MAX_ID_CHARS + 1)
    bench.write_items(item(long_id))
    loaded = bench.load()
    assert [r.reason_code for r in loaded.rejections] == [ReasonCode.TOO_LONG]
    assert "id is 301 characters" in loaded.rejections[0].reason
    assert [i.id for i in loaded.items] == ["good-1", "good-2"]


@pytest.mark.parametrize(
    "fields",
    [
        {"instruction": "Make it\u0000 blue"},
        {"subcategory": "a\u0000b"},
        {"tags": ["ok", "b\u0000d"]},
        {"source": {"dataset": {"nested": "x\u0000"}}},
        {"reference_text": "\u0000"},
    ],
    ids=["instruction", "subcategory", "tag", "nested-source", "reference"],
)
def test_nul_character_anywhere_in_an_item_is_rejected(bench, item, reject_one, fields):
    bench.write_items(item("nul", **fields))
    reject_one(bench.load(), ReasonCode.NUL_CHARACTER, ["NUL", "items.jsonl:2"], item_id="nul")


def test_nul_in_a_csv_row_is_rejected_alone(tmp_path, make_png):
    root = tmp_path / "simple"
    for stem in ("a", "b", "c"):
        make_png(root / "cat" / f"{stem}.png")
    (root / "cat" / "instructions.csv").write_bytes(b"image,instruction\na.png,Fine\nb.png,Bad\x00one\nc.png,Fine too\n")
    loaded = load_benchmark(root)
    # (b.png is then also reported as an image no usable row mentions, as for any rejected row)
    assert [(r.item_id, r.reason_code) for r in loaded.rejections] == [
        ("cat/b", ReasonCode.NUL_CHARACTER),
        (None, ReasonCode.UNREFERENCED_IMAGE),
    ]
    assert [i.id for i in loaded.items] == ["cat/a", "cat/c"]


# --------------------------------------------------------------------------- prompts


@pytest.mark.parametrize(
    "field",
    [
        "{instruction:>2000000000}",
        "{instruction:.3}",
        "{scale_max:{scale_min}}",
        "{instruction!r}",
        "{instruction!s}",
        "{criteria[0]}",
        "{criteria.__class__}",
        "{instruction.__class__.__mro__}",
    ],
)
def test_prompt_fields_with_format_specs_conversions_attributes_or_indexes_are_refused(bench, field):
    (bench.root / "prompts" / "alpha.v1.txt").write_text(f"Judge {{criterion}} of: {field}\n", encoding="utf-8")
    bench.write_items()
    with pytest.raises(BenchmarkFormatError, match="not a plain") as raised:
        load_benchmark(bench.root)
    assert raised.value.reason_code == ReasonCode.UNSAFE_TEMPLATE
    assert "alpha.v1.txt" in str(raised.value) and "[unsafe_template]" in str(raised.value)


def test_prompt_with_a_nul_character_is_refused(bench):
    (bench.root / "prompts" / "alpha.v1.txt").write_text("Judge {instruction}\u0000\n", encoding="utf-8")
    bench.write_items()
    with pytest.raises(BenchmarkFormatError, match="NUL") as raised:
        load_benchmark(bench.root)
    assert raised.value.reason_code == ReasonCode.NUL_CHARACTER


# --------------------------------------------------------------------------- manifest


def _manifest(bench, replace: str, by: str) -> None:
    path = bench.root / "benchmark.yaml"
    text = path.read_text(encoding="utf-8")
    assert replace in text
    path.write_text(text.replace(replace, by, 1), encoding="utf-8")
    bench.write_items()


@pytest.mark.parametrize(
    ("replace", "by", "code", "expected"),
    [
        ("name: test-bench", "name: " + "n" * (limits.MAX_BENCHMARK_NAME_CHARS + 1), ReasonCode.TOO_LONG, "name"),
        ('version: "1.0"', 'version: "' + "9" * (limits.MAX_VERSION_CHARS + 1) + '"', ReasonCode.TOO_LONG, "version"),
        ("- name: alpha", "- name: " + "c" * (limits.MAX_CATEGORY_NAME_CHARS + 1), ReasonCode.TOO_LONG, "category name"),
        ('description: "Loader test fixture"', 'description: "bad \\0 text"', ReasonCode.NUL_CHARACTER, "description"),
        ('version: "1.0"', 'version: "1\\0"', ReasonCode.NUL_CHARACTER, "version"),
        ("- name: beta", '- name: "be\\0ta"', ReasonCode.NUL_CHARACTER, "category name"),
        ("prompt: prompts/alpha.v1.txt", 'prompt: "prompts/al\\0pha.v1.txt"', ReasonCode.NUL_CHARACTER, "path"),
        (
            "categories:",
            "criteria:\n  - {name: " + "k" * (limits.MAX_CRITERION_NAME_CHARS + 1) + "}\ncategories:",
            ReasonCode.TOO_LONG,
            "criterion name",
        ),
        ("categories:", 'criteria:\n  - {name: sc, description: "a\\0"}\ncategories:', ReasonCode.NUL_CHARACTER, "description"),
    ],
)
def test_manifest_values_the_ledger_cannot_store_are_one_clear_error(bench, replace, by, code, expected):
    _manifest(bench, replace, by)
    with pytest.raises(BenchmarkFormatError) as raised:
        load_benchmark(bench.root)
    assert raised.value.reason_code == code
    assert expected in str(raised.value) and f"[{code.value}]" in str(raised.value)


def test_simple_layout_folder_name_wider_than_the_category_column_is_skipped(tmp_path, make_png):
    root = tmp_path / "simple"
    for folder in ("ok", "f" * (limits.MAX_CATEGORY_NAME_CHARS + 1)):
        make_png(root / folder / "a.png")
        (root / folder / "instructions.jsonl").write_text('{"image": "a.png", "instruction": "Blue"}\n')
    loaded = load_benchmark(root)
    assert [r.reason_code for r in loaded.rejections] == [ReasonCode.TOO_LONG]
    assert [c.name for c in loaded.spec.categories] == ["ok"] and [i.id for i in loaded.items] == ["ok/a"]


# --------------------------------------------------------------------------- symlinked metadata


@pytest.mark.parametrize("name", ["items.jsonl", "benchmark.yaml"])
def test_metadata_file_symlinked_from_outside_the_folder_is_refused(bench, tmp_path, name):
    bench.write_items()
    outside = tmp_path / f"elsewhere-{name}"
    (bench.root / name).rename(outside)
    os.symlink(outside, bench.root / name)
    with pytest.raises(BenchmarkFormatError, match=f"{name} is a symlink that leads outside") as raised:
        load_benchmark(bench.root)
    assert raised.value.reason_code == ReasonCode.PATH_ESCAPE


def test_metadata_file_symlinked_inside_the_folder_is_fine(bench):
    bench.write_items()
    (bench.root / "items.jsonl").rename(bench.root / "real-items.jsonl")
    os.symlink(bench.root / "real-items.jsonl", bench.root / "items.jsonl")
    assert [i.id for i in load_benchmark(bench.root).items] == ["good-1", "good-2"]


def test_simple_layout_instructions_symlinked_from_outside_skip_only_their_folder(tmp_path, make_png):
    root = tmp_path / "simple"
    for folder in ("inside", "linked"):
        make_png(root / folder / "a.png")
    (root / "inside" / "instructions.jsonl").write_text('{"image": "a.png", "instruction": "Blue"}\n')
    secret = tmp_path / "secret.jsonl"
    secret.write_text('{"image": "a.png", "instruction": "from outside"}\n')
    os.symlink(secret, root / "linked" / "instructions.jsonl")
    loaded = load_benchmark(root)
    assert [(r.file, r.reason_code) for r in loaded.rejections] == [("linked/instructions.jsonl", ReasonCode.PATH_ESCAPE)]
    assert [c.name for c in loaded.spec.categories] == ["inside"]
    assert [i.instruction for i in loaded.items] == ["Blue"]


# --------------------------------------------------------------------------- the limits are the columns


def test_text_limits_match_the_ledger_columns() -> None:
    from editbench.schema.models import Base

    for (table, column), limit in limits.COLUMN_LIMITS.items():
        assert Base.metadata.tables[table].c[column].type.length == limit, (table, column)
