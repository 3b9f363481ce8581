"""One test per kind of bad item: the exact reason code, a message naming the file and the id,
and the good items on either side still loaded."""

from __future__ import annotations

import io
import os
import random

import pytest
from PIL import Image

from editbench.benchmark import ReasonCode


def _noise(size: tuple[int, int], seed: int = 0) -> Image.Image:
    rng = random.Random(seed)
    return Image.frombytes("RGB", size, bytes(rng.randrange(256) for _ in range(size[0] * size[1] * 3)))


def test_missing_file(bench, reject_one, item):
    bench.write_items(item("bad", "images/nope.png"))
    loaded = bench.load()
    reject_one(loaded, ReasonCode.MISSING_FILE, ["images/nope.png", "'bad'", "items.jsonl:2"], item_id="bad")
    assert loaded.rejections[0].file == "images/nope.png"
    assert loaded.rejections[0].line == 2


def test_directory_instead_of_file(bench, reject_one, item):
    (bench.root / "images" / "folder.png").mkdir()
    bench.write_items(item("bad", "images/folder.png"))
    reject_one(bench.load(), ReasonCode.MISSING_FILE, ["images/folder.png", "'bad'"], item_id="bad")


def test_empty_file(bench, reject_one, item):
    (bench.root / "images" / "empty.png").write_bytes(b"")
    bench.write_items(item("bad", "images/empty.png"))
    reject_one(bench.load(), ReasonCode.EMPTY_FILE, ["images/empty.png", "'bad'"], item_id="bad")


def test_not_an_image(bench, reject_one, item):
    (bench.root / "images" / "text.png").write_text("this is not a png", encoding="utf-8")
    bench.write_items(item("bad", "images/text.png"))
    reject_one(bench.load(), ReasonCode.NOT_AN_IMAGE, ["images/text.png", "'bad'"], item_id="bad")


def test_truncated_png(bench, reject_one, item):
    buffer = io.BytesIO()
    _noise((64, 64)).save(buffer, format="PNG")
    (bench.root / "images" / "cut.png").write_bytes(buffer.getvalue()[: len(buffer.getvalue()) // 2])
    bench.write_items(item("bad", "images/cut.png"))
    reject_one(bench.load(), ReasonCode.CORRUPT_IMAGE, ["images/cut.png", "'bad'"], item_id="bad")


def test_truncated_jpeg_is_caught_by_a_real_decode(bench, reject_one, item):
    # verify() accepts a JPEG with its tail cut off; only load() notices.
    buffer = io.BytesIO()
    _noise((64, 64)).save(buffer, format="JPEG", quality=90)
    data = buffer.getvalue()
    (bench.root / "images" / "cut.jpg").write_bytes(data[: int(len(data) * 0.6)])
    bench.write_items(item("bad", "images/cut.jpg"))
    reject_one(bench.load(), ReasonCode.CORRUPT_IMAGE, ["images/cut.jpg", "truncated"], item_id="bad")


def test_image_above_max_pixels_is_refused_without_decoding(bench, reject_one, item, png_header_only):
    # 8000x6000 = 48 MP > the 40 MP default but under Pillow's own limit. The pixel data is
    # garbage, so had the loader decoded it the code would be corrupt_image instead.
    (bench.root / "images" / "big.png").write_bytes(png_header_only(8000, 6000))
    bench.write_items(item("bad", "images/big.png"))
    loaded = bench.load()
    reject_one(loaded, ReasonCode.IMAGE_TOO_LARGE, ["images/big.png", "8000x6000", "without decoding"], item_id="bad")


def test_decompression_bomb_error_from_pillow_becomes_a_rejection(bench, reject_one, item, png_header_only):
    (bench.root / "images" / "bomb.png").write_bytes(png_header_only(100_000, 100_000))
    bench.write_items(item("bad", "images/bomb.png"))
    reject_one(bench.load(), ReasonCode.IMAGE_TOO_LARGE, ["images/bomb.png", "'bad'"], item_id="bad")


def test_max_pixels_is_configurable(bench, reject_one, item, make_png):
    make_png(bench.root / "images" / "200.png", (200, 200))
    bench.write_items(item("bad", "images/200.png"))
    reject_one(bench.load(max_pixels=100 * 100), ReasonCode.IMAGE_TOO_LARGE, ["images/200.png"], item_id="bad")
    assert len(bench.load().items) == 3


def test_path_escape_with_dotdot(bench, reject_one, tmp_path, item, make_png):
    make_png(tmp_path / "outside.png")
    bench.write_items(item("bad", "../outside.png"))
    reject_one(bench.load(), ReasonCode.PATH_ESCAPE, ["../outside.png", "'bad'"], item_id="bad")


def test_path_escape_with_absolute_path(bench, reject_one, tmp_path, item, make_png):
    outside = make_png(tmp_path / "outside.png")
    bench.write_items(item("bad", str(outside)))
    reject_one(bench.load(), ReasonCode.PATH_ESCAPE, [str(outside), "absolute", "'bad'"], item_id="bad")


def test_path_escape_through_symlink(bench, reject_one, tmp_path, item, make_png):
    outside = make_png(tmp_path / "outside.png")
    os.symlink(outside, bench.root / "images" / "link.png")
    bench.write_items(item("bad", "images/link.png"))
    reject_one(bench.load(), ReasonCode.PATH_ESCAPE, ["images/link.png", "'bad'"], item_id="bad")


def test_symlink_inside_the_folder_is_fine(bench, item):
    os.symlink(bench.root / "images" / "good.png", bench.root / "images" / "alias.png")
    bench.write_items(item("ok", "images/alias.png"))
    loaded = bench.load()
    assert loaded.rejections == []
    assert loaded.items[1].source_image == (bench.root / "images" / "good.png").resolve()


def test_empty_instruction(bench, reject_one, item):
    bench.write_items(item("bad", instruction=" \t\n "))
    reject_one(bench.load(), ReasonCode.EMPTY_INSTRUCTION, ["items.jsonl:2", "'bad'"], item_id="bad")


def test_not_utf8_line(bench, reject_one):
    bench.write_items(b'{"id": "bad", "category": "alpha", "instruction": "caf\xe9", "source_image": "images/good.png"}')
    reject_one(bench.load(), ReasonCode.NOT_UTF8, ["items.jsonl:2", "'bad'"], item_id="bad")


def test_lone_surrogate_escape_is_not_utf8(bench, reject_one):
    bench.write_items('{"id": "bad", "category": "alpha", "instruction": "x\\ud800", "source_image": "images/good.png"}')
    reject_one(bench.load(), ReasonCode.NOT_UTF8, ["items.jsonl:2", "'bad'"], item_id="bad")


def test_duplicate_id_rejects_the_second(bench, reject_one, item):
    bench.write_items(item("good-1", instruction="A different instruction"))
    loaded = bench.load()
    reject_one(loaded, ReasonCode.DUPLICATE_ID, ["'good-1'", "items.jsonl:2", "items.jsonl:1"], item_id="good-1")
    assert loaded.items[0].instruction == "Make it blue"


def test_unknown_category(bench, reject_one, item):
    bench.write_items(item("bad", category="gamma"))
    reject_one(bench.load(), ReasonCode.UNKNOWN_CATEGORY, ["'gamma'", "'bad'", "items.jsonl:2"], item_id="bad")


def test_malformed_json(bench, reject_one):
    bench.write_items('{"id": "bad", "category": "alpha",')
    reject_one(bench.load(), ReasonCode.MALFORMED_JSON, ["items.jsonl:2"])


@pytest.mark.parametrize("line", ['["a", "list"]', '{"id": "x", "id": "y"}', '{"id": "bad", "n": NaN}'])
def test_json_that_is_not_a_plain_object(bench, reject_one, line):
    bench.write_items(line)
    reject_one(bench.load(), ReasonCode.MALFORMED_JSON, ["items.jsonl:2"])


def test_missing_field(bench, reject_one, item):
    record = item("bad")
    del record["source_image"]
    bench.write_items(record)
    reject_one(bench.load(), ReasonCode.MISSING_FIELD, ["source_image", "'bad'", "items.jsonl:2"], item_id="bad")


def test_invalid_field(bench, reject_one, item):
    bench.write_items(item("bad", tags="not-a-list"))
    reject_one(bench.load(), ReasonCode.INVALID_FIELD, ["tags", "'bad'"], item_id="bad")


def test_unknown_field(bench, reject_one, item):
    bench.write_items(item("bad", refrence_text="typo"))
    reject_one(bench.load(), ReasonCode.UNKNOWN_FIELD, ["refrence_text", "'bad'"], item_id="bad")


def test_bad_reference_image(bench, reject_one, item):
    (bench.root / "images" / "empty.png").write_bytes(b"")
    bench.write_items(item("bad", reference_image="images/empty.png"))
    reject_one(bench.load(), ReasonCode.EMPTY_FILE, ["reference_image", "images/empty.png", "'bad'"], item_id="bad")


def test_optional_fields_are_kept(bench, item, make_png):
    make_png(bench.root / "images" / "ref.png", (20, 10))
    bench.write_items(
        item(
            "full",
            subcategory="sub",
            instruction_language="de",
            reference_text=" blue ",
            reference_image="images/ref.png",
            tags=["a", "b"],
            source={"dataset": "x", "row": 3},
        )
    )
    loaded = bench.load()
    assert loaded.rejections == []
    full = loaded.items[1]
    assert (full.subcategory, full.instruction_language, full.reference_text, full.tags) == (
        "sub",
        "de",
        "blue",
        ("a", "b"),
    )
    assert full.reference_image == (bench.root / "images" / "ref.png").resolve()
    assert full.reference_sha256 and full.source == {"dataset": "x", "row": 3}
    assert (full.source_width, full.source_height) == (16, 12)
    assert loaded.items[0].instruction_language == "en"


def test_many_bad_items_each_get_one_rejection(bench, item):
    (bench.root / "images" / "empty.png").write_bytes(b"")
    bench.write_items(item("a", "images/empty.png"), "{oops", item("b", category="nope"), item("c", instruction=""))
    loaded = bench.load()
    assert [r.reason_code for r in loaded.rejections] == [
        ReasonCode.EMPTY_FILE,
        ReasonCode.MALFORMED_JSON,
        ReasonCode.UNKNOWN_CATEGORY,
        ReasonCode.EMPTY_INSTRUCTION,
    ]
    assert [r.line for r in loaded.rejections] == [2, 3, 4, 5]
    assert [i.id for i in loaded.items] == ["good-1", "good-2"]


def test_rejection_file_is_relative(bench, item):
    bench.write_items(item("bad", "images/../images/missing.png"))
    rejection = bench.load().rejections[0]
    assert rejection.file == "images/missing.png"


@pytest.mark.parametrize("side", [40, 50])  # 1600 px: Pillow warns; 2500 px: Pillow raises
def test_pillow_bomb_warning_and_error_become_rejections(bench, reject_one, item, make_png, monkeypatch, side):
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)
    make_png(bench.root / "images" / "bomb.png", (side, side))
    bench.write_items(item("bad", "images/bomb.png"))
    reject_one(bench.load(), ReasonCode.IMAGE_TOO_LARGE, ["images/bomb.png", "without decoding"], item_id="bad")


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads every file")
def test_unreadable_file(bench, reject_one, item, make_png):
    path = make_png(bench.root / "images" / "secret.png")
    path.chmod(0)
    bench.write_items(item("bad", "images/secret.png"))
    reject_one(bench.load(), ReasonCode.UNREADABLE_FILE, ["images/secret.png"], item_id="bad")
