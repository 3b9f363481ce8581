"""Fixture builders for the importer tests: tiny images and source layouts written on the fly."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from PIL import Image


def image_bytes(color: tuple[int, int, int], image_format: str = "PNG") -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), color).save(buffer, format=image_format)
    return buffer.getvalue()


@pytest.fixture
def png() -> Callable[..., bytes]:
    return image_bytes


@pytest.fixture
def write_png(tmp_path: Path) -> Callable[..., Path]:
    def write(path: Path, color: tuple[int, int, int] = (200, 10, 10), image_format: str = "PNG") -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(image_bytes(color, image_format))
        return path

    return write


def read_items(folder: Path) -> list[dict[str, Any]]:
    lines = (folder / "items.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines]


@pytest.fixture
def items() -> Callable[[Path], list[dict[str, Any]]]:
    return read_items
