"""Checks that decide whether a file on disk is an image editbench can safely use.

The loader calls :func:`check_image` once per distinct file before anything is queued, so a
broken or hostile image is reported at ingest time instead of crashing a GPU worker hours later.
"""

from __future__ import annotations

import hashlib
import os
import stat
import warnings
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, UnidentifiedImageError

from editbench.benchmark.spec import ReasonCode

DEFAULT_MAX_PIXELS = 40_000_000
"""40 MP: well above any photo an editing model will see, far below a decompression bomb."""

IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff", ".gif"})
"""File suffixes the simple layout treats as images (anything Pillow reads is accepted by path)."""

_CHUNK = 1 << 20


@dataclass(frozen=True)
class ImageInfo:
    """What a successful check learnt; ``sha256`` is of the file bytes, not the pixels."""

    width: int
    height: int
    format: str
    mode: str
    sha256: str


@dataclass(frozen=True)
class ImageProblem:
    """Why a file is not usable; the loader turns it into a Rejection naming the item."""

    reason_code: ReasonCode
    reason: str


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file, streamed so large files never sit in memory whole."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def check_image(path: Path, max_pixels: int = DEFAULT_MAX_PIXELS) -> ImageInfo | ImageProblem:
    """Validate ``path`` as an image without ever decoding more than ``max_pixels`` pixels.

    Order matters: existence and size first (cheap), then the header (gives the dimensions
    without decoding), then the pixel limit, and only then a full decode, so a small file that
    claims 100 000 x 100 000 pixels is refused before it can allocate gigabytes.
    """
    if max_pixels <= 0:
        raise ValueError(f"max_pixels must be positive, got {max_pixels}")
    problem = _check_regular_nonempty(path)
    if problem is not None:
        return problem
    header = _read_header(path, max_pixels)
    if isinstance(header, ImageProblem):
        return header
    width, height, image_format, mode = header
    problem = _check_decodes(path)
    if problem is not None:
        return problem
    return ImageInfo(width, height, image_format, mode, sha256_file(path))


def _check_regular_nonempty(path: Path) -> ImageProblem | None:
    try:
        info = path.stat()
    except FileNotFoundError:
        return ImageProblem(ReasonCode.MISSING_FILE, "file does not exist")
    except OSError as error:
        return ImageProblem(ReasonCode.UNREADABLE_FILE, f"file cannot be examined: {error.strerror}")
    if not stat.S_ISREG(info.st_mode):
        return ImageProblem(ReasonCode.MISSING_FILE, "path exists but is not a regular file")
    if info.st_size == 0:
        return ImageProblem(ReasonCode.EMPTY_FILE, "file is empty (0 bytes)")
    if not os.access(path, os.R_OK):
        return ImageProblem(ReasonCode.UNREADABLE_FILE, "file exists but this user may not read it")
    return None


def _read_header(path: Path, max_pixels: int) -> tuple[int, int, str, str] | ImageProblem:
    """Open lazily (header only) and enforce the pixel limits before any decoding.

    Pillow checks its own bomb limit (``Image.MAX_IMAGE_PIXELS``) while opening: it warns above
    it and raises above twice it. Both become ``image_too_large``, so the effective limit is the
    smaller of ``max_pixels`` and Pillow's; raising ``max_pixels`` past Pillow's also needs
    ``Image.MAX_IMAGE_PIXELS`` raised, deliberately.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as image:
                width, height = image.size
                image_format, mode = image.format or "unknown", image.mode
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        return ImageProblem(ReasonCode.IMAGE_TOO_LARGE, f"refused without decoding: {error}")
    except UnidentifiedImageError:
        return ImageProblem(ReasonCode.NOT_AN_IMAGE, "not a recognised image format")
    except Exception as error:  # noqa: BLE001 - Pillow plugins raise many types on bad headers
        return ImageProblem(ReasonCode.NOT_AN_IMAGE, f"unreadable image header: {_describe(error)}")
    if width * height > max_pixels:
        return ImageProblem(
            ReasonCode.IMAGE_TOO_LARGE,
            f"{width}x{height} = {width * height} pixels exceeds the limit of {max_pixels}; refused without decoding",
        )
    if width <= 0 or height <= 0:
        return ImageProblem(ReasonCode.CORRUPT_IMAGE, f"image has no pixels ({width}x{height})")
    return width, height, image_format, mode


def _check_decodes(path: Path) -> ImageProblem | None:
    """``verify()`` catches bad checksums; a full ``load()`` in a fresh handle catches truncation.

    Two opens because ``verify()`` leaves the image object unusable, and because only an actual
    decode notices that the last rows of a JPEG are missing.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(path) as image:
                image.verify()
            with Image.open(path) as image:
                image.load()
    except Exception as error:  # noqa: BLE001 - decoders raise OSError, SyntaxError, ValueError...
        return ImageProblem(ReasonCode.CORRUPT_IMAGE, f"image data is damaged or truncated: {_describe(error)}")
    return None


def _describe(error: BaseException) -> str:
    text = str(error).strip()
    return f"{type(error).__name__}: {text}" if text else type(error).__name__
