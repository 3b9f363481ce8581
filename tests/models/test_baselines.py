"""The identity and precomputed editors, and the precomputed folder's path safety."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from editbench.models import EditRequest, load_editor
from editbench.models.base import editor_names
from editbench.models.baselines import UnsafeSampleIdError


def test_builtin_editors_are_registered() -> None:
    assert {"identity", "precomputed", "qwen-image-edit", "qwen-image-edit-plus"} <= set(editor_names())


def test_identity_returns_the_source_pixels(noise_image) -> None:
    source = noise_image(40, 30, 1)
    editor = load_editor("identity", None)
    edited = editor.edit(EditRequest("s", source, "do nothing", seed=1))
    assert edited is not source
    assert np.array_equal(np.asarray(edited), np.asarray(source))
    assert editor.identity()["name"] == "identity"


def test_precomputed_serves_images_by_sample_id(tmp_path: Path, noise_image) -> None:
    noise_image(20, 10, 2).save(tmp_path / "cat-01.png")
    noise_image(8, 8, 3).convert("RGB").save(tmp_path / "dog.webp", lossless=True)
    editor = load_editor("precomputed", str(tmp_path))
    first = editor.edit(EditRequest("cat-01", noise_image(20, 10, 9), "x", seed=0))
    assert first.size == (20, 10)
    assert np.array_equal(np.asarray(first), np.asarray(noise_image(20, 10, 2)))
    assert editor.edit(EditRequest("dog", noise_image(8, 8, 9), "x", seed=0)).size == (8, 8)
    assert len(editor.identity()["config_hash"]) == 64
    with pytest.raises(FileNotFoundError):
        editor.edit(EditRequest("missing", noise_image(8, 8, 9), "x", seed=0))


def test_precomputed_refuses_ambiguous_names(tmp_path: Path, noise_image) -> None:
    noise_image(4, 4, 0).save(tmp_path / "a.png")
    noise_image(4, 4, 0).save(tmp_path / "a.jpg")
    with pytest.raises(FileExistsError):
        load_editor("precomputed", str(tmp_path)).edit(EditRequest("a", noise_image(4, 4, 0), "x", seed=0))


@pytest.mark.parametrize(
    "sample_id",
    [
        "../secret",
        "..",
        ".",
        "",
        "a//b",
        "a/./b",
        "/etc/passwd",
        "a\\..\\b",
        "C:\\x",
        "C:x",
        "x..y",
        "a\x00b",
        "sub/../a",
    ],
)
def test_precomputed_rejects_ids_that_could_escape_the_folder(tmp_path: Path, sample_id: str, noise_image) -> None:
    folder = tmp_path / "outputs"
    folder.mkdir()
    noise_image(4, 4, 0).save(tmp_path / "secret.png")  # a real file just outside the folder
    editor = load_editor("precomputed", str(folder))
    with pytest.raises(UnsafeSampleIdError):
        editor.edit(EditRequest(sample_id, noise_image(4, 4, 0), "x", seed=0))


def test_precomputed_maps_category_ids_to_subfolders(tmp_path: Path, noise_image) -> None:
    folder = tmp_path / "outputs"
    (folder / "physics").mkdir(parents=True)
    noise_image(6, 4, 1).save(folder / "physics" / "000.png")
    edited = load_editor("precomputed", str(folder)).edit(EditRequest("physics/000", noise_image(4, 4, 0), "x", seed=0))
    assert edited.size == (6, 4)


def test_precomputed_rejects_symlinks_leading_outside(tmp_path: Path, noise_image) -> None:
    folder = tmp_path / "outputs"
    folder.mkdir()
    noise_image(4, 4, 0).save(tmp_path / "secret.png")
    os.symlink(tmp_path / "secret.png", folder / "link.png")
    with pytest.raises(UnsafeSampleIdError):
        load_editor("precomputed", str(folder)).edit(EditRequest("link", noise_image(4, 4, 0), "x", seed=0))


def test_baselines_reject_parameters_and_missing_folders(tmp_path: Path) -> None:
    from editbench.errors import ParamError

    with pytest.raises(ParamError, match="takes no parameters"):
        load_editor("identity", None, steps="8")
    with pytest.raises(FileNotFoundError):
        load_editor("precomputed", str(tmp_path / "nope"))
