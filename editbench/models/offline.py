"""Keep model loading on local disk: editbench never downloads weights.

Two guards, because either alone has a hole: the Hugging Face libraries read the offline
environment variables once, when ``huggingface_hub`` is first imported, so they are set before
any adapter imports it; and every ``from_pretrained`` also gets ``local_files_only=True`` on a
path checked to be an existing folder, so a typo can never be taken for a hub repository id.
"""

from __future__ import annotations

import os
from pathlib import Path

OFFLINE_ENV = {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_DATASETS_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
}


def ensure_offline() -> None:
    """Set the libraries' offline switches for this process (a user's explicit value wins)."""
    for key, value in OFFLINE_ENV.items():
        os.environ.setdefault(key, value)


def local_model_dir(path: str | os.PathLike[str] | None, what: str) -> Path:
    """Return ``path`` as an existing folder, or raise an error that names what was expected."""
    if path is None or str(path) == "":
        raise ValueError(f"{what} needs a local model folder: use KIND:/path/to/folder")
    folder = Path(path).expanduser()
    if not folder.is_dir():
        raise FileNotFoundError(f"{what}: {folder} is not a folder (models are only loaded from local disk)")
    return folder.resolve()
