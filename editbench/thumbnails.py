"""Small JPEG previews of images, cached by content hash under ``EDITBENCH_HOME``.

Reports show hundreds of images; decoding every full-size PNG again when a report is written is
most of its cost. Whoever already holds a decoded image (a worker that just edited it, ingest
that just stored it) drops its thumbnail here for about a millisecond, and reports link to it.
"""

from __future__ import annotations

import io
import os
import threading
from pathlib import Path

from PIL import Image

THUMB_SIZE = 256
THUMB_QUALITY = 80


def shrink(image: Image.Image) -> Image.Image:
    """A copy of ``image`` at most THUMB_SIZE² (RGB); already-small images pass through as a copy."""
    thumb = image.convert("RGB")
    thumb.thumbnail((THUMB_SIZE, THUMB_SIZE), Image.Resampling.BILINEAR, reducing_gap=2.0)
    return thumb


def save_thumbnail(image: Image.Image, target: Path) -> None:
    """Write ``image`` shrunk to at most THUMB_SIZE² as a JPEG at ``target``, atomically."""
    thumb = shrink(image)
    target.parent.mkdir(parents=True, exist_ok=True)
    temp = target.with_name(f".{target.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    thumb.save(temp, "JPEG", quality=THUMB_QUALITY)
    os.replace(temp, target)  # readers never see half a file


def thumbnail_cache(home: Path) -> Path:
    """Thumbnails by image sha256, shared by every report under one EDITBENCH_HOME: a benchmark's
    source images are thumbnailed once, not once per run or per comparison."""
    return home / "cache" / f"thumbs-{THUMB_SIZE}"


def cache_thumbnail(image: Image.Image, sha256: str, home: Path) -> Path | None:
    """Put the thumbnail of an image already decoded in memory into the shared cache.

    For code that holds the picture anyway (a worker that just produced an edit, ingest that
    just hashed a source): about a millisecond there saves decoding the whole PNG again when
    the report is written, which is most of a cold report's time.
    """
    if (remote := _remote()) is not None:  # an object store: the thumbnail goes there, not to disk
        _publish(remote, sha256, image)
        return None
    target = thumbnail_cache(home) / f"{sha256}.jpg"
    if target.exists():
        return target
    try:
        save_thumbnail(image, target)
    except (OSError, ValueError):
        return None
    return target


def make_thumbnail(source: Path, target: Path) -> bool:
    """Thumbnail the image file ``source`` into ``target`` unless it is there; False if the file
    cannot be decoded (the report then shows a placeholder)."""
    if target.exists():
        return True
    try:
        with Image.open(source) as image:
            image.draft("RGB", (THUMB_SIZE, THUMB_SIZE))  # JPEG decodes at reduced size: much faster
            save_thumbnail(image, target)
        return True
    except (OSError, ValueError, Image.DecompressionBombError):
        return False


def thumbnail_stored_image(source: Path, sha256: str, home: Path) -> None:
    """Thumbnail a file that was just put into the image store, into the shared thumbnail cache
    (under EDITBENCH_HOME, or in the object store when images live there)."""
    if (remote := _remote()) is None:
        make_thumbnail(source, thumbnail_cache(home) / f"{sha256}.jpg")
        return
    try:
        with Image.open(source) as image:
            image.draft("RGB", (THUMB_SIZE, THUMB_SIZE))
            _publish(remote, sha256, image)
    except (OSError, ValueError, Image.DecompressionBombError):
        pass


def fetch_shared_thumbnail(target: Path) -> bool:
    """Bring a thumbnail that a worker left in the object store (named ``<sha256>.jpg``) to the
    local file ``target``; False when images are local or nobody made that thumbnail."""
    if (remote := _remote()) is None:
        return False
    from editbench.storage.backend import StorageUnavailableError

    try:
        data = remote.read_bytes(_key(target.stem))
    except (OSError, ValueError, StorageUnavailableError):
        return False
    target.parent.mkdir(parents=True, exist_ok=True)
    temp = target.with_name(f".{target.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    temp.write_bytes(data)
    os.replace(temp, target)
    return True


def _key(sha256: str) -> str:
    return f"cache/thumbs-{THUMB_SIZE}/{sha256}.jpg"


def _remote():
    from editbench.storage.configured import open_storage

    storage = open_storage()
    return None if storage.is_local else storage


def _publish(remote, sha256: str, image: Image.Image) -> None:
    from editbench.storage.backend import StorageUnavailableError

    try:
        if remote.exists(_key(sha256)):
            return
        thumb = image.convert("RGB")
        thumb.thumbnail((THUMB_SIZE, THUMB_SIZE), Image.Resampling.BILINEAR, reducing_gap=2.0)
        buffer = io.BytesIO()
        thumb.save(buffer, "JPEG", quality=THUMB_QUALITY)
        remote.write_bytes(_key(sha256), buffer.getvalue())
    except (OSError, ValueError, StorageUnavailableError):
        pass  # a missing thumbnail only costs the report one decode
