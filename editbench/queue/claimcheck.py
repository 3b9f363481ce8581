"""Claim-check storage for edited images: the bytes live under a Redis key (fast path for the
judge) and in the run's artifact folder (durable copy); task messages carry only ids, so a
message stays small however large the image is."""

from __future__ import annotations

import hashlib
import io
import logging
import os
from dataclasses import dataclass
from pathlib import Path

import redis
from PIL import Image

from editbench.config import load_settings
from editbench.queue.connection import redis_client
from editbench.queue.names import edited_image_key
from editbench.thumbnails import cache_thumbnail

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class StoredEdit:
    sha256: str
    path: str


@dataclass(frozen=True)
class StagedEdit:
    """An edited image written under a temporary name, not yet visible to anyone.

    Fencing for files: a worker stages its image, then publishes it (rename to the final path)
    only inside the ledger transaction that proves it still holds the claim, and caches it in
    Redis only after that transaction committed. A worker that lost its claim (stopped past its
    lease while another took over) discards its staged file and touches nothing else.
    """

    run_id: int
    sample_id: int
    sha256: str
    path: str
    staging: str

    @property
    def stored(self) -> StoredEdit:
        return StoredEdit(self.sha256, self.path)


def artifact_path(run_id: int, sample_id: int) -> Path:
    return load_settings().artifacts_dir / f"run-{run_id}" / f"{sample_id}.png"


def stage_edited_image(run_id: int, sample_id: int, image: Image.Image, token: str) -> StagedEdit:
    """Write the PNG under a name private to this attempt (``token``: the claiming task id)."""
    buffer = io.BytesIO()
    image.convert("RGB").save(buffer, format="PNG")
    data = buffer.getvalue()
    path = artifact_path(run_id, sample_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    staging = path.with_name(f"{path.name}.{_safe(token)}-{os.getpid()}.tmp")
    staging.write_bytes(data)
    sha256 = hashlib.sha256(data).hexdigest()
    cache_thumbnail(image, sha256, load_settings().home)  # keyed by content: harmless if fenced out
    return StagedEdit(run_id, sample_id, sha256, str(path), str(staging))


def publish_edited_image(staged: StagedEdit) -> None:
    """Make the staged file the artifact (atomic rename). Call only while holding the claim.

    Idempotent: a ledger transaction retried after a database blip publishes again and finds
    the file already in place. Staged files left by attempts that died are removed."""
    staging, path = Path(staged.staging), Path(staged.path)
    if staging.exists():
        os.replace(staging, path)
    elif not path.exists():
        raise FileNotFoundError(f"staged edit {staging} vanished before it was published")
    for stale in path.parent.glob(f"{path.name}.*.tmp"):
        stale.unlink(missing_ok=True)


def cache_edited_image(staged: StagedEdit) -> None:
    """Put the published image under its Redis key for the judge (after the fenced record)."""
    path = Path(staged.path)
    try:
        data = path.read_bytes()
        redis_client().set(edited_image_key(staged.run_id, staged.sample_id), data, ex=load_settings().image_ttl_seconds)
    except (redis.RedisError, OSError):
        # Redis is only the fast path; the file is the durable copy the judge falls back to. A
        # broker blip must not turn a finished edit into a failed sample.
        log.warning("could not cache the edited image of sample %s in Redis; the judge will read %s", staged.sample_id, path, exc_info=True)


def discard_staged_image(staged: StagedEdit) -> None:
    """This attempt lost its claim (or never published): leave no trace of it."""
    Path(staged.staging).unlink(missing_ok=True)


def _safe(token: str) -> str:
    return "".join(ch for ch in token if ch.isalnum() or ch == "-")[:64] or "attempt"


def load_edited_image(run_id: int, sample_id: int, path: str | None) -> Image.Image:
    """Read back from Redis; fall back to the artifact file if the key expired or Redis lost it."""
    try:
        data = redis_client().get(edited_image_key(run_id, sample_id))
    except redis.RedisError:
        log.warning("Redis unreachable; reading the edited image of sample %s from %s", sample_id, path, exc_info=True)
        data = None
    if data is None:
        if not path or not Path(path).exists():
            raise FileNotFoundError(f"edited image of sample {sample_id} is neither in Redis nor at {path}")
        data = Path(path).read_bytes()
    image = Image.open(io.BytesIO(data))
    image.load()
    return image.convert("RGB")
