"""The Qwen-Image-Edit adapters on tiny real pipelines (CPU, a few hundred ms per edit)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from editbench.models import EditRequest, load_editor
from editbench.models.base import EditOOMError
from editbench.models.params import ParamError
from editbench.models.qwen_image_edit import area_dimensions

FAST = {"steps": "2", "working_area": "64*64"}


@pytest.fixture(scope="module")
def editor(tiny_models):
    return load_editor("qwen-image-edit", str(tiny_models.editor), **FAST)


def request(image, seed: int = 1234, sample_id: str = "s1", **kwargs) -> EditRequest:
    return EditRequest(sample_id, image, "Make the sky blue.", seed=seed, **kwargs)


def pixels(image) -> np.ndarray:
    return np.asarray(image.convert("RGB"), dtype=np.int16)


def test_default_output_is_the_source_aspect_at_the_working_area(editor, noise_image) -> None:
    edited = editor.edit(request(noise_image(90, 60, 0)))
    assert edited.mode == "RGB"
    assert edited.size == area_dimensions(64 * 64, 90 / 60)


def test_area_dimensions_round_like_the_pipelines() -> None:
    from diffusers.pipelines.qwenimage.pipeline_qwenimage_edit_plus import (
        calculate_dimensions,
    )

    for area in (1024 * 1024, 512 * 512, 384 * 384):
        for ratio in (1.0, 4 / 3, 0.5, 16 / 9):
            assert area_dimensions(area, ratio) == calculate_dimensions(area, ratio)
    assert area_dimensions(128 * 128, 1.5) == (160, 96)


@pytest.mark.parametrize(("output_size", "expected"), [("48x32", (48, 32)), ("50x37", (50, 37)), ("source", (90, 60))])
def test_output_has_exactly_the_requested_size(tiny_models, noise_image, output_size, expected) -> None:
    editor = load_editor("qwen-image-edit", str(tiny_models.editor), output_size=output_size, **FAST)
    assert editor.edit(request(noise_image(90, 60, 0))).size == expected


def test_same_seed_gives_identical_pixels_and_another_seed_does_not(editor, noise_image) -> None:
    source = noise_image(64, 64, 1)
    first = pixels(editor.edit(request(source, seed=7)))
    assert np.array_equal(first, pixels(editor.edit(request(source, seed=7))))
    assert not np.array_equal(first, pixels(editor.edit(request(source, seed=8))))


def test_a_fresh_editor_reproduces_an_edit_exactly(tiny_models, editor, noise_image) -> None:
    source = noise_image(64, 48, 2)
    again = load_editor("qwen-image-edit", str(tiny_models.editor), **FAST)
    assert np.array_equal(pixels(editor.edit(request(source))), pixels(again.edit(request(source))))


def test_plus_editor_takes_extra_images_and_keeps_the_source_aspect(tiny_models, noise_image) -> None:
    editor = load_editor("qwen-image-edit-plus", str(tiny_models.editor), **FAST)
    extra = (noise_image(32, 64, 5),)
    edited = editor.edit(request(noise_image(96, 48, 4), extra_images=extra))
    assert edited.size == area_dimensions(64 * 64, 2.0)
    assert np.array_equal(pixels(edited), pixels(editor.edit(request(noise_image(96, 48, 4), extra_images=extra))))


def test_single_image_editor_refuses_extra_images(editor, noise_image) -> None:
    with pytest.raises(ValueError, match="qwen-image-edit-plus"):
        editor.edit(request(noise_image(32, 32, 0), extra_images=(noise_image(32, 32, 1),)))


@pytest.mark.parametrize("kind", ["qwen-image-edit", "qwen-image-edit-plus"])
def test_at_the_pipelines_own_area_the_adapter_equals_the_diffusers_call(tiny_models, noise_image, kind) -> None:
    """The adapter re-implements the pipeline's loop to make the working area settable; at the
    area diffusers hard-codes (1024²) both must give the same pixels. (~3 s each on CPU: the
    VAE encodes a ~1 Mpx image.)"""
    editor = load_editor(kind, str(tiny_models.editor), steps=2, output_size="64x32")
    source = noise_image(64, 40, 3)
    ours = editor.edit(request(source, seed=11))
    reference = editor.pipe(
        image=source,
        prompt="Make the sky blue.",
        negative_prompt=" ",
        true_cfg_scale=4.0,
        num_inference_steps=2,
        height=32,
        width=64,
        generator=torch.Generator("cpu").manual_seed(11),
    ).images[0]
    assert np.array_equal(pixels(ours), pixels(reference))


def test_out_of_memory_becomes_edit_oom_error_and_the_editor_keeps_working(tiny_models, noise_image) -> None:
    editor = load_editor("qwen-image-edit", str(tiny_models.editor), simulate_oom_for="bad-1, bad-2", **FAST)
    with pytest.raises(EditOOMError, match="bad-1"):
        editor.edit(request(noise_image(32, 32, 0), sample_id="bad-1"))
    assert editor.edit(request(noise_image(32, 32, 0), sample_id="good")).size == (64, 64)


def test_identity_records_path_config_hash_every_parameter_and_versions(editor, tiny_models) -> None:
    identity = editor.identity()
    assert identity["name"] == "qwen-image-edit"
    assert identity["path"] == str(tiny_models.editor.resolve())
    assert len(identity["config_hash"]) == 64
    assert identity["params"]["steps"] == 2 and identity["params"]["working_area"] == 64 * 64
    assert set(identity["params"]) >= {
        "steps",
        "true_cfg_scale",
        "negative_prompt",
        "output_size",
        "working_area",
        "dtype",
        "device",
        "attention_backend",
        "compile",
        "free_text_encoder",
    }
    assert identity["resolved"] == {
        "device": "cpu",
        "dtype": "float32",
        "condition_area": None,
        "seed_generator": "cpu",
    }
    assert identity["versions"]["diffusers"] and identity["versions"]["torch"]


@pytest.mark.parametrize(
    "params",
    [
        {"stepz": 2},
        {"steps": "0"},
        {"output_size": "big"},
        {"dtype": "int8"},
        {"attention_backend": "flash_hub"},
    ],
)
def test_bad_parameters_fail_at_load(tiny_models, params) -> None:
    with pytest.raises(ParamError):
        load_editor("qwen-image-edit", str(tiny_models.editor), **params)


def test_a_missing_folder_is_never_looked_up_on_the_hub(tmp_path) -> None:
    with pytest.raises(FileNotFoundError, match="local disk"):
        load_editor("qwen-image-edit", "Qwen/Qwen-Image-Edit")
