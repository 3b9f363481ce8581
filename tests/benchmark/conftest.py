"""Fixtures that build small benchmark folders on disk for the loader tests.

Helpers are handed out as fixtures, not imported, so the tests work under any pytest import
mode and next to other conftest.py files. Every bad-item test sandwiches one bad line between
two good items, so each test proves both that the bad item is rejected with the right code and
that its neighbours survive.
"""

from __future__ import annotations

import json
import struct
import textwrap
import zlib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from editbench.benchmark import LoadedBenchmark, ReasonCode, load_benchmark

MANIFEST = textwrap.dedent(
    """\
    name: test-bench
    version: "1.0"
    description: "Loader test fixture"
    categories:
      - name: alpha
        prompt: prompts/alpha.v1.txt
      - name: beta
    """
)
PROMPT = "Instruction: {instruction}\nReference: {reference}\nScore {criterion} from {scale_min} to {scale_max}.\n"


def make_png(path: Path, size: tuple[int, int] = (16, 12), color: tuple[int, int, int] = (200, 30, 30)) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, color).save(path, format="PNG")
    return path


def png_header_only(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims ``width`` x ``height``: decoding it would fail or explode."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + chunk(b"IEND", b"")


def item(item_id: str, image: str = "images/good.png", **fields: Any) -> dict[str, Any]:
    record = {"id": item_id, "category": "alpha", "instruction": "Make it blue", "source_image": image}
    record.update(fields)
    return record


class NativeBench:
    """A native benchmark folder: manifest, one prompt, a good image, and an items file."""

    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        (root / "benchmark.yaml").write_text(MANIFEST, encoding="utf-8")
        (root / "prompts").mkdir(exist_ok=True)
        (root / "prompts" / "alpha.v1.txt").write_text(PROMPT, encoding="utf-8")
        make_png(root / "images" / "good.png")

    def write_items(self, *middle: dict[str, Any] | str | bytes) -> None:
        """items.jsonl = good-1, the given lines, good-2 (dicts are JSON-encoded, bytes raw)."""
        lines = [json.dumps(item("good-1")).encode()]
        for entry in middle:
            if isinstance(entry, dict):
                lines.append(json.dumps(entry).encode())
            elif isinstance(entry, str):
                lines.append(entry.encode("utf-8"))
            else:
                lines.append(entry)
        lines.append(json.dumps(item("good-2", category="beta")).encode())
        (self.root / "items.jsonl").write_bytes(b"\n".join(lines) + b"\n")

    def load(self, **kwargs: Any) -> LoadedBenchmark:
        return load_benchmark(self.root, **kwargs)


@pytest.fixture(name="make_png")
def _make_png_fixture() -> Callable[..., Path]:
    return make_png


@pytest.fixture(name="png_header_only")
def _png_header_only_fixture() -> Callable[[int, int], bytes]:
    return png_header_only


@pytest.fixture(name="item")
def _item_fixture() -> Callable[..., dict[str, Any]]:
    return item


@pytest.fixture
def bench(tmp_path: Path) -> NativeBench:
    return NativeBench(tmp_path / "bench")


@pytest.fixture
def reject_one() -> Callable[..., None]:
    """Assert: exactly one rejection, with ``code``, naming each of ``names``; good-1/2 kept."""

    def check(loaded: LoadedBenchmark, code: ReasonCode, names: Sequence[str], *, item_id: str | None = None) -> None:
        assert [r.reason_code for r in loaded.rejections] == [code], loaded.rejections
        rejection = loaded.rejections[0]
        assert rejection.reason_code == code.value  # a str enum: serialises as its value
        for name in names:
            assert name in rejection.reason, (name, rejection.reason)
        if item_id is not None:
            assert rejection.item_id == item_id
        assert [i.id for i in loaded.items] == ["good-1", "good-2"]

    return check
