"""Editors that need no model: the floor of any benchmark and a way to score outside outputs.

``identity`` returns the source unchanged: what a judge gives an edit that did nothing (a good
judge scores it low on instruction following and high on consistency). ``precomputed`` serves
images some other system already produced, named ``<sample_id>.<png|jpg|jpeg|webp>`` in one
folder, so any editor's outputs can go through the same judge and report.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any

from PIL import Image

from editbench.errors import ParamError, UnsafeSampleIdError
from editbench.models.base import EditRequest, register_editor
from editbench.models.fingerprint import library_versions
from editbench.models.offline import local_model_dir

PRECOMPUTED_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp")


def _no_parameters(name: str, params: dict[str, Any]) -> None:
    params = {k: v for k, v in params.items() if k != "device"}  # workers pass device= to every adapter
    if params:
        raise ParamError(f"{name} editor takes no parameters, got {', '.join(sorted(params))}")


@register_editor("identity")
class IdentityEditor:
    """Returns a copy of the source image: the do-nothing baseline."""

    name = "identity"

    @classmethod
    def validate(cls, path: str | None = None, **params: Any) -> None:
        """Submit-time check: this editor takes no parameters."""
        _no_parameters(cls.name, params)

    def __init__(self, path: str | None = None, *, device: str | None = None, **params: Any) -> None:
        # ``device`` is passed to every adapter by the worker; an image copy needs none.
        _no_parameters(self.name, params)
        self.path = path

    def identity(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "path": None,
            "config_hash": None,
            "params": {},
            "versions": library_versions(),
        }

    def edit(self, request: EditRequest) -> Image.Image:
        return request.image.convert("RGB").copy()


@register_editor("precomputed")
class PrecomputedEditor:
    """Looks up ``<path>/<sample_id>.<ext>``; the sample id can never leave that folder."""

    name = "precomputed"

    @classmethod
    def validate(cls, path: str | None, **params: Any) -> None:
        """Submit-time check: no parameters, and the folder of edited images exists."""
        _no_parameters(cls.name, params)
        local_model_dir(path, "precomputed editor")

    def __init__(self, path: str | None, *, device: str | None = None, **params: Any) -> None:
        _no_parameters(self.name, params)
        self.folder = local_model_dir(path, "precomputed editor")

    def identity(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "path": str(self.folder),
            "config_hash": self.listing_hash(),
            "params": {},
            "versions": library_versions(),
        }

    def listing_hash(self) -> str:
        """SHA-256 of the image files' names and sizes: notices added, removed or rewritten files
        without reading gigabytes of pixels."""
        digest = hashlib.sha256()
        for entry in sorted(os.scandir(self.folder), key=lambda e: e.name):
            if entry.is_file() and Path(entry.name).suffix.lower() in PRECOMPUTED_SUFFIXES:
                digest.update(f"{entry.name}\x00{entry.stat().st_size}\x00".encode())
        return digest.hexdigest()

    def edit(self, request: EditRequest) -> Image.Image:
        path = self.image_path(request.sample_id)
        with Image.open(path) as image:
            return image.convert("RGB")

    def image_path(self, sample_id: str) -> Path:
        """The single image for ``sample_id``; raises if it is missing, ambiguous or unsafe."""
        check_sample_id(sample_id)
        matches = [self.folder / f"{sample_id}{suffix}" for suffix in PRECOMPUTED_SUFFIXES]
        matches += [self.folder / f"{sample_id}{suffix.upper()}" for suffix in PRECOMPUTED_SUFFIXES]
        found = sorted({p for p in matches if p.is_file()})
        if not found:
            raise FileNotFoundError(f"no precomputed image for sample {sample_id!r} in {self.folder}")
        if len(found) > 1:
            raise FileExistsError(f"several precomputed images for sample {sample_id!r}: {[p.name for p in found]}")
        resolved = found[0].resolve()
        # A symlink inside the folder must not lead outside it either.
        if not resolved.is_relative_to(self.folder):
            raise UnsafeSampleIdError(f"{found[0]} points outside {self.folder}")
        return resolved


def check_sample_id(sample_id: str) -> None:
    """Reject ids that could name a file outside the folder: empty, absolute, ``..``, backslashes
    or control bytes. Forward slashes are allowed between plain names, so ``physics/000`` is
    ``<folder>/physics/000.png`` (the native format's ids often are ``<category>/<name>``)."""
    if not isinstance(sample_id, str) or not sample_id:
        raise UnsafeSampleIdError(f"unsafe sample id {sample_id!r}")
    parts = sample_id.split("/")
    if (
        any(part in {"", ".", ".."} for part in parts)
        or "\\" in sample_id
        or ".." in sample_id
        or any(ord(ch) < 32 for ch in sample_id)
        or PurePosixPath(sample_id).is_absolute()
        or PureWindowsPath(sample_id).is_absolute()
        or PureWindowsPath(sample_id).drive
    ):
        raise UnsafeSampleIdError(f"unsafe sample id {sample_id!r}")
