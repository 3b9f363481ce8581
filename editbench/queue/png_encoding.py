"""PNG encoding spread over threads: the edited image's encode sits on the GPU's critical path.

A worker takes its next edit only after the current one is stored and recorded (single
concurrency, late acks), so every millisecond spent encoding the PNG is a millisecond the GPU
idles. PIL encodes on one core: ~0.2 s for a 1024² image on the H200 host (issue 15 measured it as
most of the per-edit overhead). Here the rows are filtered with numpy (PNG filter "Up" on every
row) and split into strips that zlib compresses in parallel (zlib releases the GIL); the strips'
raw-deflate streams end on byte boundaries (``Z_SYNC_FLUSH``), so their concatenation is one valid
zlib stream (the same trick as pigz). The file is a standard 8-bit RGB PNG that any decoder reads
back pixel for pixel.
"""

from __future__ import annotations

import os
import struct
import zlib
from concurrent.futures import Executor

import numpy as np
from PIL import Image

_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_FILTER_UP = 2
# Strips below this many bytes are not worth a thread hand-off.
_MIN_STRIP_BYTES = 256 * 1024


def _chunk(kind: bytes, data: bytes) -> bytes:
    crc = zlib.crc32(data, zlib.crc32(kind)) & 0xFFFFFFFF
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)


def _filtered_rows(rgb: np.ndarray) -> np.ndarray:
    """Each row prefixed by its filter byte (Up: the byte minus the byte above, modulo 256)."""
    height = rgb.shape[0]
    flat = rgb.reshape(height, -1)
    rows = np.empty((height, flat.shape[1] + 1), dtype=np.uint8)
    rows[:, 0] = _FILTER_UP
    rows[0, 1:] = flat[0]
    np.subtract(flat[1:], flat[:-1], out=rows[1:, 1:])  # uint8 arithmetic wraps modulo 256
    return rows


def encoder_threads() -> int:
    """Threads worth using: this worker's share of the host's cores (`editbench up` sets
    OMP_NUM_THREADS to cores ÷ workers), at most 8."""
    share = os.environ.get("OMP_NUM_THREADS", "")
    return max(1, min(8, int(share) if share.isdigit() else (os.cpu_count() or 1)))


def strips_for(nbytes: int, threads: int | None = None) -> int:
    return max(1, min(threads or encoder_threads(), nbytes // _MIN_STRIP_BYTES))


def encode_png(image: Image.Image, level: int = 1, pool: Executor | None = None, strips: int | None = None) -> bytes:
    """The image as PNG bytes (RGB, 8 bits, zlib ``level``); strips compressed on ``pool``."""
    rgb = np.asarray(image if image.mode == "RGB" else image.convert("RGB"), dtype=np.uint8)
    height, width = rgb.shape[:2]
    rows = _filtered_rows(rgb)
    data = memoryview(rows.reshape(-1))  # type: ignore[arg-type]  # ndarray is a buffer; numpy 2 stubs miss Buffer
    count = max(1, min(strips or strips_for(rows.nbytes), height))
    cuts = [height * i // count * rows.shape[1] for i in range(count + 1)]

    def deflate(i: int) -> bytes:
        compressor = zlib.compressobj(level, zlib.DEFLATED, -15)  # raw deflate: header added once below
        last = i == count - 1
        return compressor.compress(data[cuts[i] : cuts[i + 1]]) + compressor.flush(zlib.Z_FINISH if last else zlib.Z_SYNC_FLUSH)

    parts = list(pool.map(deflate, range(count))) if pool is not None and count > 1 else [deflate(i) for i in range(count)]
    # zlib header 0x78 0x01 (deflate, 32 KiB window; (0x7801 % 31) == 0), the strips, Adler-32.
    stream = b"\x78\x01" + b"".join(parts) + struct.pack(">I", zlib.adler32(data) & 0xFFFFFFFF)
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB, no interlace
    return _SIGNATURE + _chunk(b"IHDR", header) + _chunk(b"IDAT", stream) + _chunk(b"IEND", b"")
