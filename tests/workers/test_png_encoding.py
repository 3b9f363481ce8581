"""The strip-parallel PNG encoder (issue 15) writes standard PNGs that decode back pixel for pixel."""

from __future__ import annotations

import io
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from PIL import Image

from editbench.queue.png_encoding import encode_png

pytestmark = pytest.mark.unit


def _decoded(data: bytes) -> np.ndarray:
    image = Image.open(io.BytesIO(data))
    assert image.format == "PNG" and image.mode == "RGB"
    return np.asarray(image)


@pytest.mark.parametrize("size", [(1, 1), (3, 5), (64, 33), (300, 200)])
@pytest.mark.parametrize("strips", [1, 2, 7])
def test_every_strip_count_decodes_to_the_same_pixels(size, strips) -> None:
    pixels = np.random.default_rng(sum(size)).integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
    with ThreadPoolExecutor(3) as pool:
        data = encode_png(Image.fromarray(pixels), level=1, pool=pool, strips=strips)
    assert np.array_equal(_decoded(data), pixels)


def test_other_modes_are_stored_as_their_rgb_conversion() -> None:
    rgba = Image.fromarray(np.random.default_rng(1).integers(0, 256, (40, 30, 4), dtype=np.uint8), "RGBA")
    assert np.array_equal(_decoded(encode_png(rgba, level=6, strips=3)), np.asarray(rgba.convert("RGB")))


def test_smooth_images_still_compress() -> None:
    ramp = np.tile(np.linspace(0, 255, 512, dtype=np.uint8), (512, 1))
    pixels = np.stack([ramp, ramp.T, np.full_like(ramp, 7)], -1)
    data = encode_png(Image.fromarray(pixels), level=1, strips=4)
    assert np.array_equal(_decoded(data), pixels)
    assert len(data) < pixels.nbytes / 20
