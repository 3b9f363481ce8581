"""What a run card records about a model: a hash of its configuration and the library versions.

Weights are not hashed (tens of GB); the config JSONs identify the architecture, the scheduler,
the tokenizer and the processor settings, which is what silently changes between "the same"
model folders. Library versions are recorded because a diffusers or transformers upgrade can
change outputs with identical weights.
"""

from __future__ import annotations

import hashlib
from importlib import metadata
from pathlib import Path

LIBRARIES = ("torch", "torchvision", "diffusers", "transformers", "tokenizers", "accelerate", "pillow")
# Weight index files list shard names; large JSONs are data (e.g. tokenizer vocabularies are
# kept: they change tokenization), so only truly huge files are skipped.
MAX_JSON_BYTES = 64 * 1024 * 1024


def config_hash(folder: Path) -> str:
    """SHA-256 over every ``*.json`` file under ``folder`` (relative path and bytes), sorted."""
    folder = Path(folder)
    digest = hashlib.sha256()
    for path in sorted(folder.rglob("*.json")):
        relative = path.relative_to(folder).as_posix()
        if any(part.startswith(".") for part in Path(relative).parts) or path.stat().st_size > MAX_JSON_BYTES:
            continue
        digest.update(relative.encode() + b"\x00" + path.read_bytes() + b"\x00")
    return digest.hexdigest()


def library_versions() -> dict[str, str]:
    """Installed versions of the libraries that can change a model's outputs."""
    versions = {}
    for name in LIBRARIES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions
