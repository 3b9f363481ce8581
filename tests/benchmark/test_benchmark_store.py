"""The content-addressed image store."""

from __future__ import annotations

import hashlib

import pytest
from PIL import Image

from editbench.benchmark import ImageStore, MissingImageError, sha256_file


def test_put_is_content_addressed_and_idempotent(tmp_path, make_png):
    store = ImageStore(tmp_path / "store")
    source = make_png(tmp_path / "a.PNG", (10, 8))
    first = store.put(source)
    again = store.put(source)
    copy = store.put(make_png(tmp_path / "copy.png", (10, 8)))  # same bytes, other name
    assert first == again == copy
    assert first.sha256 == sha256_file(source)
    assert first.path == tmp_path / "store" / first.sha256[:2] / f"{first.sha256}.png"
    assert first.path.read_bytes() == source.read_bytes()
    stored = [p for p in (tmp_path / "store").rglob("*") if p.is_file()]
    assert stored == [first.path]  # one file, no temp files left behind


def test_different_content_gets_a_different_address(tmp_path, make_png):
    store = ImageStore(tmp_path / "store")
    red = store.put(make_png(tmp_path / "red.png", color=(255, 0, 0)))
    blue = store.put(make_png(tmp_path / "blue.png", color=(0, 0, 255)))
    assert red.sha256 != blue.sha256 and red.path != blue.path


def test_put_bytes_put_image_and_open(tmp_path):
    store = ImageStore(tmp_path / "store")
    image = Image.new("RGB", (7, 5), (9, 8, 7))
    stored = store.put_image(image)
    assert stored.sha256 in store
    assert store.path_for(stored.sha256) == stored.path
    opened = store.open(stored.sha256)
    assert opened.size == (7, 5) and opened.getpixel((0, 0)) == (9, 8, 7)
    data = b"\x89PNG not really"
    assert store.put_bytes(data, ".PNG").sha256 == hashlib.sha256(data).hexdigest()


def test_missing_image_raises_a_clear_error(tmp_path, make_png):
    store = ImageStore(tmp_path / "store")
    stored = store.put(make_png(tmp_path / "a.png"))
    stored.path.unlink()
    assert stored.sha256 not in store
    with pytest.raises(MissingImageError, match=stored.sha256):
        store.open(stored.sha256)
    with pytest.raises(MissingImageError):
        store.path_for("0" * 64)


@pytest.mark.parametrize("bad", ["../../etc/passwd", "ABC", "0" * 63, "g" * 64])
def test_hash_must_be_a_sha256(tmp_path, bad):
    with pytest.raises(ValueError):
        ImageStore(tmp_path).path_for(bad)


def test_put_with_a_known_hash_skips_reading_stored_content(tmp_path) -> None:
    """Re-ingest passes the loader's hash: stored content is found without reading the file."""
    from editbench.benchmark.images import sha256_file
    from editbench.benchmark.store import ImageStore

    image = tmp_path / "a.png"
    Image.new("RGB", (4, 4), (1, 2, 3)).save(image)
    store = ImageStore(tmp_path / "store")
    first = store.put(image)
    assert first.sha256 == sha256_file(image)
    image.unlink()  # a second read would fail: the known hash must be enough
    assert store.put(image, first.sha256) == first
