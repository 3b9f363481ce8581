"""``diffusers:PATH`` on tiny random checkpoints of real editing pipelines, built offline."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from editbench.models.base import EditOOMError, EditRequest, load_editor, validate_model
from editbench.models.diffusers_editor import UnsupportedPipelineError, validate
from editbench.models.fingerprint import config_hash
from editbench.models.tiny_pipelines import BUILDERS, build_tiny_pipeline

FAST = {"steps": "2", "working_area": "48*48"}
# Qwen pipelines are driven by the qwen-image-edit adapters, whose settings apply.
QWEN_FAST = {**FAST, "true_cfg_scale": "1"}


def _params(name: str, **extra: str) -> dict[str, str]:
    return {**(QWEN_FAST if name.startswith("Qwen") else FAST), **extra}


@pytest.fixture(scope="session")
def tiny_pipelines(tmp_path_factory: pytest.TempPathFactory) -> Path:
    cache = os.environ.get("EDITBENCH_TEST_MODELS")
    root = Path(cache) / "pipelines" if cache else tmp_path_factory.mktemp("pipelines")
    for name in BUILDERS:
        build_tiny_pipeline(name, root)
    return root


@pytest.fixture(scope="module")
def editors(tiny_pipelines: Path) -> dict:
    return {name: load_editor("diffusers", str(tiny_pipelines / name), device="cpu", **_params(name)) for name in BUILDERS}


def _pixels(image: Image.Image) -> np.ndarray:
    return np.asarray(image.convert("RGB"))


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_each_covered_pipeline_edits_reproducibly_at_the_working_area(name, editors, noise_image) -> None:
    editor = editors[name]
    source = noise_image(56, 40, seed=1)
    request = EditRequest("s/1", source, "make the sky blue", seed=7)
    first, again = editor.edit(request), editor.edit(request)
    assert np.array_equal(_pixels(first), _pixels(again))
    other = editor.edit(EditRequest("s/1", source, "make the sky blue", seed=8))
    assert not np.array_equal(_pixels(first), _pixels(other))
    # ~48*48 pixels at the source's 1.4 aspect (sides rounded to the pipeline's latent grid),
    # whatever the pipeline's own default size; FLUX.2 refuses sides under 64 px, so its
    # working area is scaled up to that.
    width, height = first.size
    assert width > height, first.size
    if name.startswith("Flux2"):
        assert height == 64 and 88 <= width <= 96, first.size
    else:
        assert 1500 <= width * height <= 3000, first.size


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_identity_names_the_pipeline_and_hashes_the_folder_like_the_run_card(name, editors, tiny_pipelines) -> None:
    identity = editors[name].identity()
    assert identity["pipeline"] == name
    assert identity["config_hash"] == config_hash(tiny_pipelines / name)
    assert (identity["kind"] if name.startswith("Qwen") else identity["name"]) == "diffusers"
    assert identity["resolved"]["seed_generator"] == "cpu"
    assert identity["versions"]["diffusers"]


def test_unset_settings_take_the_pipeline_defaults_and_are_recorded(editors) -> None:
    kontext = editors["FluxKontextPipeline"].identity()["resolved"]["call"]
    assert kontext["guidance_scale"] == 3.5 and kontext["num_inference_steps"] == 2
    # Kontext's own resizing to ~1 MP is off and its area follows working_area.
    assert kontext["_auto_resize"] is False and kontext["max_area"] == 48 * 48
    pix2pix = editors["StableDiffusionInstructPix2PixPipeline"].identity()["resolved"]["call"]
    assert pix2pix["image_guidance_scale"] == 1.5 and pix2pix["guidance_scale"] == 7.5


def test_settings_reach_the_pipeline_call(tiny_pipelines, editors, noise_image) -> None:
    folder = tiny_pipelines / "StableDiffusionInstructPix2PixPipeline"
    request = EditRequest("s/2", noise_image(40, 40), "remove the cat", seed=3)
    base_image = editors["StableDiffusionInstructPix2PixPipeline"].edit(request)
    changed = load_editor("diffusers", str(folder), device="cpu", **FAST, image_guidance_scale="3.0", negative_prompt="blurry")
    assert changed.identity()["resolved"]["call"]["image_guidance_scale"] == 3.0
    assert not np.array_equal(_pixels(base_image), _pixels(changed.edit(request)))


def test_output_size_source_and_exact(tiny_pipelines, noise_image) -> None:
    folder = str(tiny_pipelines / "FluxKontextPipeline")
    source = noise_image(50, 30)
    back = load_editor("diffusers", folder, device="cpu", **FAST, output_size="source")
    assert back.edit(EditRequest("a", source, "x", seed=1)).size == (50, 30)
    exact = load_editor("diffusers", folder, device="cpu", **FAST, output_size="30x18")
    assert exact.edit(EditRequest("a", source, "x", seed=1)).size == (30, 18)


def test_a_larger_working_area_gives_a_larger_edit(tiny_pipelines, noise_image) -> None:
    folder = str(tiny_pipelines / "StableDiffusionXLInstructPix2PixPipeline")
    larger = load_editor("diffusers", folder, device="cpu", steps="1", working_area="64*64")
    image = larger.edit(EditRequest("a", noise_image(40, 40), "x", seed=1))
    assert image.size == (64, 64)


def test_qwen_plus_is_driven_by_the_qwen_adapter_and_takes_extra_images(tiny_pipelines, editors, noise_image) -> None:
    folder = str(tiny_pipelines / "QwenImageEditPlusPipeline")
    editor = editors["QwenImageEditPlusPipeline"]
    assert editor.identity()["driven_by"] == "qwen-image-edit-plus"
    request = EditRequest("p", noise_image(48, 32), "put picture 2 on the table", seed=5, extra_images=(noise_image(32, 32, seed=9),))
    direct = load_editor("qwen-image-edit-plus", folder, device="cpu", **QWEN_FAST)
    assert np.array_equal(_pixels(editor.edit(request)), _pixels(direct.edit(request)))


def test_flux2_klein_takes_extra_images_as_references(editors, noise_image) -> None:
    editor = editors["Flux2KleinPipeline"]
    alone = EditRequest("k", noise_image(64, 64), "put the cup on the table", seed=2)
    with_reference = EditRequest("k", noise_image(64, 64), "put the cup on the table", seed=2, extra_images=(noise_image(64, 64, seed=5),))
    assert not np.array_equal(_pixels(editor.edit(alone)), _pixels(editor.edit(with_reference)))


def test_a_single_image_pipeline_refuses_extra_images_for_that_sample(editors, noise_image) -> None:
    request = EditRequest("x", noise_image(32, 32), "x", seed=1, extra_images=(noise_image(32, 32),))
    with pytest.raises(ValueError, match="edits one image; this sample has 1 extra"):
        editors["FluxKontextPipeline"].edit(request)


def test_out_of_memory_is_reported_as_edit_oom(tiny_pipelines, noise_image) -> None:
    editor = load_editor(
        "diffusers", str(tiny_pipelines / "StableDiffusionInstructPix2PixPipeline"), device="cpu", **FAST, simulate_oom_for="boom"
    )
    with pytest.raises(EditOOMError, match="boom"):
        editor.edit(EditRequest("boom", noise_image(32, 32), "x", seed=1))
    assert editor.edit(EditRequest("fine", noise_image(32, 32), "x", seed=1)).size == (48, 48)


def _index_only(tmp_path: Path, class_name) -> str:
    folder = tmp_path / "model"
    folder.mkdir(exist_ok=True)
    (folder / "model_index.json").write_text(json.dumps({"_class_name": class_name}))
    return str(folder)


@pytest.mark.parametrize(
    ("class_name", "params", "reason"),
    [
        ("FluxPipeline", {}, "takes no image"),
        ("QwenImageEditInpaintPipeline", {}, "needs a mask_image"),
        ("FluxKontextInpaintPipeline", {}, "needs a mask_image"),
        ("StableDiffusionInpaintPipeline", {}, "needs a mask"),
        ("ChronoEditPipeline", {}, "video model"),
        ("LEditsPPPipelineStableDiffusion", {}, "invert"),
        ("NoSuchPipeline", {}, "is not a pipeline of diffusers"),
        (["my_module", "MyPipeline"], {}, "custom pipeline code"),
        ("Flux2KleinPipeline", {"negative_prompt": "blurry"}, "has no negative_prompt argument"),
        ("StableDiffusionInstructPix2PixPipeline", {"stepz": "4"}, "unknown parameter"),
        ("LongCatImageEditPipeline", {"working_area": "512*512"}, "always works at ~1024² px"),
        ("BriaFiboEditPipeline", {}, "structured JSON caption"),
        ("CosmosVideoToWorldPipeline", {}, "makes videos"),
    ],
)
def test_validate_refuses_what_it_cannot_drive_with_the_reason(tmp_path, class_name, params, reason) -> None:
    with pytest.raises(ValueError, match=reason):
        validate(_index_only(tmp_path, class_name), **params)


def test_validate_refuses_a_folder_without_model_index(tmp_path) -> None:
    with pytest.raises(UnsupportedPipelineError, match="no model_index.json"):
        validate_model("editor", "diffusers", str(tmp_path), {})


def test_submit_refuses_an_undrivable_pipeline_and_records_nothing(sqlite_db, tmp_path) -> None:
    from sqlalchemy import select

    from editbench.producer.submit import ModelRef, RunConfigError, RunRequest, create_run
    from editbench.schema.db import session_scope
    from editbench.schema.models import Run
    from tests.integration.harness import ingest_example

    benchmark = ingest_example(tmp_path, per_category=1)
    editor = ModelRef("diffusers", _index_only(tmp_path, "FluxPipeline"))
    with pytest.raises(RunConfigError, match="--editor diffusers: FluxPipeline takes no image"):
        create_run(RunRequest(benchmark, editor, ModelRef("simulated", None)))
    with session_scope() as s:
        assert s.scalars(select(Run)).all() == []


@pytest.mark.integration
def test_a_run_with_a_diffusers_editor_goes_end_to_end_through_workers(workers, tiny_pipelines, tmp_path) -> None:
    from sqlalchemy import select

    from editbench.producer.submit import ModelRef, RunRequest, submit
    from editbench.schema.db import session_scope
    from editbench.schema.models import Edit, Judgment, Run, Status
    from tests.integration.harness import assert_exactly_once, ingest_example, wait_done

    folder = tiny_pipelines / "StableDiffusionInstructPix2PixPipeline"
    benchmark = ingest_example(tmp_path, per_category=2)
    workers.start(0)
    workers.wait_ready(1)
    run_id = submit(
        RunRequest(
            benchmark=benchmark,
            categories=["physics"],
            editor=ModelRef.parse(f"diffusers:{folder}", dict(FAST)),
            judge=ModelRef("simulated", None, {}),
        )
    )
    wait_done(run_id, workers)
    assert_exactly_once(run_id)
    with session_scope() as s:
        edits = s.scalars(select(Edit).where(Edit.run_id == run_id)).all()
        assert [e.status for e in edits] == [Status.DONE, Status.DONE], workers.logs()
        # Edited at the working area (~48*48 px), not at the benchmark images' own size.
        sizes = [Image.open(e.output_path).size for e in edits]
        assert all(1500 <= w * h <= 3000 for w, h in sizes), sizes
        card = s.get(Run, run_id).run_card
        assert {j.status for j in s.scalars(select(Judgment).where(Judgment.run_id == run_id))} == {Status.DONE}
    assert card["editor"]["kind"] == "diffusers" and card["editor"]["config_hash"] == config_hash(folder)


def test_cli_builds_tiny_pipelines_and_refuses_unknown_names(tiny_pipelines) -> None:
    from click.testing import CliRunner

    from editbench.cli.models import models_group

    result = CliRunner().invoke(models_group, ["tiny-pipelines", str(tiny_pipelines), "FluxKontextPipeline"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == f"FluxKontextPipeline: {tiny_pipelines / 'FluxKontextPipeline'}"
    bad = CliRunner().invoke(models_group, ["tiny-pipelines", str(tiny_pipelines), "NoSuchPipeline"])
    assert bad.exit_code == 2 and "no tiny builder for NoSuchPipeline" in bad.output


def test_editbench_run_refuses_an_unknown_pipeline_in_one_line(sqlite_db, redis_url, tmp_path) -> None:
    import diffusers
    from click.testing import CliRunner
    from sqlalchemy import select

    from editbench.cli import main
    from editbench.schema.db import session_scope
    from editbench.schema.models import Run
    from tests.integration.harness import ingest_example

    benchmark = ingest_example(tmp_path, per_category=1)
    folder = _index_only(tmp_path, "NotARealPipeline")
    arguments = ["run", "--benchmark", benchmark, "--editor", f"diffusers:{folder}", "--judge", "simulated:"]
    result = CliRunner().invoke(main, arguments, catch_exceptions=False)
    assert result.exit_code == 2  # bad input (docs/cli.md)
    assert result.output.strip() == (
        f"error: --editor diffusers: NotARealPipeline (from {folder}/model_index.json) "
        f"is not a pipeline of diffusers {diffusers.__version__}"
    )
    with session_scope() as s:
        assert s.scalars(select(Run)).all() == []
