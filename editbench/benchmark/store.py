"""A content-addressed image store: every image is kept once, under its own sha256.

Tasks pass image *hashes*, never bytes (claim check), and a hash names exactly one content
forever, so re-ingesting a benchmark or re-running an edit never overwrites or duplicates a file,
and two workers storing the same image at once cannot corrupt it.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from PIL import Image

from editbench.errors import MissingImageError
from editbench.storage.backend import Storage
from editbench.storage.cache import ReadCache

_SHA256 = re.compile(r"[0-9a-f]{64}")
_SUFFIX = re.compile(r"\.[a-z0-9]{1,8}")
_SUFFIX_ALIASES = {".jpeg": ".jpg", ".tif": ".tiff"}
_CHUNK = 1 << 20


@dataclass(frozen=True)
class StoredImage:
    sha256: str
    path: Path | None  # None when the store is an object store (see ``location``)
    location: str = ""  # the local path, or the object's URL

    def __post_init__(self) -> None:
        if not self.location and self.path is not None:
            object.__setattr__(self, "location", str(self.path))


class ImageStore:
    """Files live at ``root/<first 2 hex>/<full sha256><suffix>``.

    The full hash is the file name (not git's 62-character remainder) so a file copied out of
    the store still says what it is. The suffix is kept only so that humans and viewers can open
    the files; lookups go by hash alone.

    ``root`` may also be a :class:`~editbench.storage.Storage` on an object store (same keys
    under its prefix); reads then go through ``cache``, a bounded local copy keyed by hash.
    """

    def __init__(self, root: Path | Storage, cache: ReadCache | None = None) -> None:
        self.remote: Storage | None
        self.root: Path | str
        if isinstance(root, Storage) and not root.is_local:
            self.remote, self.root = root, root.url
        else:
            self.remote, self.root = None, Path(root.root if isinstance(root, Storage) else root)
        self.cache = cache

    def put(self, path: Path, sha256: str | None = None) -> StoredImage:
        """Copy ``path`` into the store (no-op if that content is already there).

        ``sha256``, when the caller already hashed the file (the loader does, to validate it),
        lets a re-ingest skip reading the file a second time if that content is stored.
        """
        if self.remote is not None:
            if sha256 and (key := self._find_key(sha256)) is not None:
                return StoredImage(sha256, None, self.remote.location(key))
            return self._put_remote(Path(path).read_bytes(), Path(path).suffix)
        if sha256 and (found := self._find(sha256)) is not None:
            return StoredImage(sha256, found)
        with open(path, "rb") as source:
            return self._put_stream(source, Path(path).suffix)

    def put_bytes(self, data: bytes, suffix: str = ".png") -> StoredImage:
        """Store encoded image bytes, e.g. an edited image a worker just produced."""
        if self.remote is not None:
            return self._put_remote(data, suffix)
        return self._put_stream(io.BytesIO(data), suffix)

    def put_image(self, image: Image.Image, image_format: str = "PNG") -> StoredImage:
        """Encode and store a PIL image; PNG by default because it is lossless and deterministic."""
        buffer = io.BytesIO()
        image.save(buffer, format=image_format)
        return self.put_bytes(buffer.getvalue(), "." + image_format.lower())

    def __contains__(self, sha256: object) -> bool:
        if self.remote is not None:
            return isinstance(sha256, str) and self._find_key(sha256) is not None
        return isinstance(sha256, str) and self._find(sha256) is not None

    def path_for(self, sha256: str) -> Path:
        """Where the image with this hash is stored; raises :class:`MissingImageError` if absent.
        For an object store: the copy in the local read cache (fetched if needed)."""
        if self.remote is not None:
            self._read_remote(sha256)
            cached = self.cache.path(sha256) if self.cache is not None else None
            if cached is None or not cached.exists():
                raise MissingImageError(f"image {sha256} has no local copy (no read cache configured)")
            return cached
        found = self._find(sha256)
        if found is None:
            raise MissingImageError(f"image {sha256} is not in the image store at {self.root}")
        return found

    def open(self, sha256: str) -> Image.Image:
        """Open and fully load the image, so no file handle outlives the call."""
        if self.remote is not None:
            with Image.open(io.BytesIO(self._read_remote(sha256))) as image:
                image.load()
                return image
        path = self.path_for(sha256)
        try:
            with Image.open(path) as image:
                image.load()
                return image
        except FileNotFoundError:
            # Deleted between the lookup and the open (e.g. someone cleaned the store).
            raise MissingImageError(f"image {sha256} vanished from the image store ({path})") from None

    # ------------------------------------------------------------ object store

    def _find_key(self, sha256: str) -> str | None:
        _check_sha256(sha256)
        assert self.remote is not None
        keys = [k for k in self.remote.keys(f"{sha256[:2]}/{sha256}") if _is_stored_name(k.rsplit("/", 1)[-1], sha256)]
        return keys[0] if keys else None

    def _read_remote(self, sha256: str) -> bytes:
        """Bytes of ``sha256``: from the local cache when it holds them (always the right content,
        it is keyed by hash), else downloaded once and admitted to the cache."""
        _check_sha256(sha256)
        if self.cache is not None and (data := self.cache.get(sha256)) is not None:
            return data
        key = self._find_key(sha256)
        assert self.remote is not None
        try:
            if key is None:
                raise FileNotFoundError(sha256)
            data = self.remote.read_bytes(key)
        except FileNotFoundError:
            raise MissingImageError(f"image {sha256} is not in the image store at {self.root}") from None
        if hashlib.sha256(data).hexdigest() != sha256:
            raise MissingImageError(f"image {sha256} in the image store at {self.root} does not match its hash")
        if self.cache is not None:
            self.cache.put(sha256, data)
        return data

    def _put_remote(self, data: bytes, suffix: str) -> StoredImage:
        """One PUT of the whole object: S3 shows an object only once it is complete."""
        assert self.remote is not None
        sha256 = hashlib.sha256(data).hexdigest()
        key = self._find_key(sha256)
        if key is None:
            key = f"{sha256[:2]}/{sha256}{_normalise_suffix(suffix)}"
            self.remote.write_bytes(key, data)
        if self.cache is not None:
            self.cache.put(sha256, data)  # whoever stored it is likely to read it next
        return StoredImage(sha256, None, self.remote.location(key))

    # ------------------------------------------------------------ local folder

    @property
    def _folder(self) -> Path:
        """``root`` as the local folder it is whenever there is no remote store."""
        assert isinstance(self.root, Path), "a local-folder method was called on an object store"
        return self.root

    def _find(self, sha256: str) -> Path | None:
        _check_sha256(sha256)
        shard = self._folder / sha256[:2]
        if not shard.is_dir():
            return None
        matches = sorted(p for p in shard.glob(f"{sha256}*") if _is_stored_name(p.name, sha256))
        return matches[0] if matches else None

    def _put_stream(self, source: BinaryIO, suffix: str) -> StoredImage:
        """Hash while copying into a temp file, then publish it atomically with ``os.replace``.

        Hashing the bytes actually written (rather than hashing first and copying after) means the
        stored file always matches its name even if the source changes mid-copy.
        """
        self._folder.mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha256()
        handle, temp_name = tempfile.mkstemp(prefix=".tmp-", dir=self._folder)
        try:
            with os.fdopen(handle, "wb") as temp:
                for chunk in iter(lambda: source.read(_CHUNK), b""):
                    digest.update(chunk)
                    temp.write(chunk)
                temp.flush()
                os.fsync(temp.fileno())
            sha256 = digest.hexdigest()
            existing = self._find(sha256)
            if existing is not None:
                return StoredImage(sha256, existing)
            target = self._folder / sha256[:2] / f"{sha256}{_normalise_suffix(suffix)}"
            target.parent.mkdir(parents=True, exist_ok=True)
            os.chmod(temp_name, 0o644)  # mkstemp makes 0600; workers may run as another user
            os.replace(temp_name, target)
            return StoredImage(sha256, target)
        finally:
            if os.path.exists(temp_name):
                os.unlink(temp_name)


def _check_sha256(sha256: str) -> None:
    # Also keeps a caller-supplied "hash" like "../../etc" from becoming a path.
    if not isinstance(sha256, str) or not _SHA256.fullmatch(sha256):
        raise ValueError(f"not a lowercase hex sha256: {sha256!r}")


def _normalise_suffix(suffix: str) -> str:
    suffix = suffix.lower()
    suffix = _SUFFIX_ALIASES.get(suffix, suffix)
    return suffix if _SUFFIX.fullmatch(suffix) else ""


def _is_stored_name(name: str, sha256: str) -> bool:
    rest = name[len(sha256) :]
    return rest == "" or bool(_SUFFIX.fullmatch(rest))
