"""Multi-image items: ``extra_images`` in items.jsonl get the source image's checks and reason codes,
keep their order and labels, and change the content hash only for benchmarks that use them."""

from __future__ import annotations

import pytest

from editbench.benchmark import ReasonCode


def extra(label: str, path: str = "images/extra.png") -> dict[str, str]:
    return {"label": label, "path": path}


@pytest.fixture
def extra_png(bench, make_png):
    make_png(bench.root / "images" / "extra.png", color=(10, 200, 10))
    make_png(bench.root / "images" / "extra2.png", color=(10, 10, 200))


def test_extra_images_load_in_order_with_their_labels_and_hashes(bench, item, extra_png):
    bench.write_items(item("multi", extra_images=[extra("frame 3", "images/extra2.png"), extra("frame 4")]))
    loaded = bench.load()
    assert loaded.rejections == []
    multi = next(i for i in loaded.items if i.id == "multi")
    assert [(e.label, e.path.name) for e in multi.extra_images] == [("frame 3", "extra2.png"), ("frame 4", "extra.png")]
    assert all(len(e.sha256) == 64 for e in multi.extra_images)
    assert next(i for i in loaded.items if i.id == "good-1").extra_images == ()


def test_the_content_hash_changes_with_extra_images_and_stays_without_them(bench, item, extra_png):
    bench.write_items(item("multi"))
    plain = bench.load().spec.content_hash
    bench.write_items(item("multi", extra_images=[]))
    assert bench.load().spec.content_hash == plain  # an empty list is no extra image
    bench.write_items(item("multi", extra_images=[extra("image 2")]))
    with_extra = bench.load().spec.content_hash
    bench.write_items(item("multi", extra_images=[extra("image 2", "images/extra2.png")]))
    assert len({plain, with_extra, bench.load().spec.content_hash}) == 3


@pytest.mark.parametrize(
    ("entry", "code", "words"),
    [
        ([extra("gone", "images/nope.png")], ReasonCode.MISSING_FILE, ["extra_images[0]", "images/nope.png"]),
        ([extra("up", "../outside.png")], ReasonCode.PATH_ESCAPE, ["extra_images[0]", "outside"]),
        ([extra("abs", "/etc/passwd")], ReasonCode.PATH_ESCAPE, ["extra_images[0]", "absolute"]),
        ([extra("text", "images/text.png")], ReasonCode.NOT_AN_IMAGE, ["extra_images[0]", "images/text.png"]),
        ("images/extra.png", ReasonCode.INVALID_FIELD, ["extra_images must be a list"]),
        (["images/extra.png"], ReasonCode.INVALID_FIELD, ["extra_images[0] must be an object"]),
        ([{"label": "a", "path": "images/extra.png", "role": "x"}], ReasonCode.UNKNOWN_FIELD, ["role"]),
        ([{"path": "images/extra.png"}], ReasonCode.MISSING_FIELD, ["extra_images[0] lacks label"]),
        ([extra("  ")], ReasonCode.INVALID_FIELD, ["label must be a non-empty string"]),
        ([extra("same"), extra("same", "images/extra2.png")], ReasonCode.INVALID_FIELD, ["used twice"]),
        ([extra("x" * 201)], ReasonCode.TOO_LONG, ["label is 201 characters"]),
        ([extra(f"i{n}") for n in range(17)], ReasonCode.TOO_LONG, ["17 images; at most 16"]),
    ],
)
def test_a_bad_extra_image_rejects_its_item_with_the_source_images_reason_code(bench, reject_one, item, extra_png, entry, code, words):
    (bench.root / "images" / "text.png").write_text("not an image", encoding="utf-8")
    bench.write_items(item("bad", extra_images=entry))
    reject_one(bench.load(), code, ["'bad'", *words], item_id="bad")
