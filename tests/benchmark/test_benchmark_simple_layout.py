"""The folder-per-category layout, with instructions.jsonl or instructions.csv."""

from __future__ import annotations

import json

import pytest

from editbench.benchmark import BenchmarkFormatError, ReasonCode, load_benchmark


@pytest.fixture
def simple(tmp_path, make_png):
    root = tmp_path / "My Simple Bench"
    for category in ("physics", "social"):
        for stem in ("a", "b", "c"):
            make_png(root / category / f"{stem}.png", (20 + len(stem), 16))
    return root


def _jsonl(path, rows):
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")


def test_jsonl_layout(simple):
    _jsonl(
        simple / "physics" / "instructions.jsonl",
        [
            {"image": "a.png", "instruction": "Drop it"},
            {"image": "b.png", "instruction": "Melt it", "reference_text": "A puddle"},
            {"image": "c.png", "instruction": "Tilt it", "id": "custom-id", "tags": ["x"]},
        ],
    )
    _jsonl(
        simple / "social" / "instructions.jsonl",
        [{"image": name, "instruction": "Wave"} for name in ("a.png", "b.png", "c.png")],
    )
    loaded = load_benchmark(simple)
    assert loaded.layout == "simple" and loaded.rejections == []
    spec = loaded.spec
    assert (spec.name, spec.version) == ("my-simple-bench", "0")
    assert [c.name for c in spec.categories] == ["physics", "social"]
    assert [c.name for c in spec.criteria] == ["semantic_consistency", "perceptual_quality"]
    assert all(c.prompt_path == "builtin:default.v1.txt" for c in spec.categories)
    assert [i.id for i in loaded.items_in("physics")] == ["physics/a", "physics/b", "custom-id"]
    assert loaded.items[1].reference_text == "A puddle" and loaded.items[2].tags == ("x",)
    assert loaded.items[0].source_image == (simple / "physics" / "a.png").resolve()


def test_csv_layout(simple):
    (simple / "physics" / "instructions.csv").write_text(
        'image,instruction,id\na.png,Drop it,\nb.png,"Melt it, slowly",melt\nc.png,"Multi\nline",\n', encoding="utf-8"
    )
    (simple / "social" / "instructions.csv").write_text("\ufeffimage,instruction\na.png,Wave\nb.png,Hug\nc.png,Bow\n", encoding="utf-8")
    loaded = load_benchmark(simple)
    assert loaded.rejections == []
    assert [i.id for i in loaded.items] == ["physics/a", "melt", "physics/c", "social/a", "social/b", "social/c"]
    assert loaded.items[1].instruction == "Melt it, slowly"
    assert loaded.items[2].instruction == "Multi\nline"


def test_csv_row_that_is_not_utf8_is_rejected_alone(simple):
    (simple / "physics" / "instructions.csv").write_bytes(b"image,instruction\na.png,Drop it\nb.png,caf\xe9\nc.png,Tilt it\n")
    _jsonl(
        simple / "social" / "instructions.jsonl",
        [{"image": n, "instruction": "Wave"} for n in ("a.png", "b.png", "c.png")],
    )
    loaded = load_benchmark(simple)
    codes = [(r.reason_code, r.file) for r in loaded.rejections]
    assert (ReasonCode.NOT_UTF8, "physics/instructions.csv") in codes
    assert "physics/instructions.csv:3" in loaded.rejections[0].reason
    assert [i.id for i in loaded.items_in("physics")] == ["physics/a", "physics/c"]
    # b.png is reported too: no valid row mentions it any more.
    assert (ReasonCode.UNREFERENCED_IMAGE, "physics/b.png") in codes


def test_csv_missing_column_rejects_the_file(simple):
    (simple / "physics" / "instructions.csv").write_text("image,text\na.png,Drop\n", encoding="utf-8")
    (simple / "social" / "instructions.csv").write_text("image,instruction\na.png,Wave\nb.png,Hug\nc.png,Bow\n", encoding="utf-8")
    loaded = load_benchmark(simple)
    assert len(loaded.rejections) == 1  # not one more per image of the unusable file
    assert loaded.rejections[0].reason_code == ReasonCode.MISSING_FIELD
    assert "instruction" in loaded.rejections[0].reason and "physics/instructions.csv" in loaded.rejections[0].reason
    assert len(loaded.items) == 3


def test_unreferenced_image_and_folder_without_instructions_are_reported(simple):
    _jsonl(
        simple / "physics" / "instructions.jsonl",
        [{"image": "a.png", "instruction": "Drop"}, {"image": "b.png", "instruction": "Melt"}],
    )
    loaded = load_benchmark(simple)
    got = {(r.reason_code, r.file) for r in loaded.rejections}
    assert got == {
        (ReasonCode.UNREFERENCED_IMAGE, "physics/c.png"),
        (ReasonCode.MISSING_FILE, "social/instructions.jsonl"),
    }
    assert [c.name for c in loaded.spec.categories] == ["physics"]
    assert len(loaded.items) == 2


def test_simple_rows_are_validated_like_native_items(simple):
    _jsonl(
        simple / "physics" / "instructions.jsonl",
        [
            {"image": "a.png", "instruction": "Drop"},
            {"image": "../social/a.png", "instruction": "Leave the category, stay in the root", "id": "shared"},
            {"image": "b.png", "instruction": "  "},
            {"image": "a.png", "instruction": "Same default id as row 1"},
            {"image": "c.png", "instruction": "x", "category": "social"},
            {"instruction": "no image"},
            {"image": "../../secret.png", "instruction": "escape"},
        ],
    )
    _jsonl(simple / "social" / "instructions.jsonl", [{"image": n, "instruction": "Wave"} for n in ("b.png", "c.png")])
    loaded = load_benchmark(simple)
    # social/a.png is used by a physics row only: referenced, so not reported.
    assert not any(r.reason_code == ReasonCode.UNREFERENCED_IMAGE and r.file == "social/a.png" for r in loaded.rejections)
    codes = [r.reason_code for r in loaded.rejections if r.file.startswith("physics/instructions")]
    assert codes == [
        ReasonCode.EMPTY_INSTRUCTION,
        ReasonCode.DUPLICATE_ID,
        ReasonCode.UNKNOWN_FIELD,
        ReasonCode.MISSING_FIELD,
    ]
    escape = [r for r in loaded.rejections if r.reason_code == ReasonCode.PATH_ESCAPE]
    assert len(escape) == 1 and "../../secret.png" in escape[0].reason
    assert [i.id for i in loaded.items_in("physics")] == ["physics/a", "shared"]
    assert loaded.items_in("physics")[1].source_image == (simple / "social" / "a.png").resolve()


def test_both_instruction_files_is_an_error(simple):
    (simple / "physics" / "instructions.csv").write_text("image,instruction\n", encoding="utf-8")
    _jsonl(simple / "physics" / "instructions.jsonl", [])
    with pytest.raises(BenchmarkFormatError, match="keep one"):
        load_benchmark(simple)


def test_folder_with_no_categories_is_an_error(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(BenchmarkFormatError, match="no category folder"):
        load_benchmark(tmp_path / "empty")
