"""Capacity-planning mode of the Qwen adapters: random-weight models built on the device, the
model folder supplying only the tokenizer and processor (CPU, ``capacity=tiny``; the full-size
plumbing is checked with the builders swapped for tiny ones)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from editbench.models import (
    Criterion,
    EditRequest,
    JudgePrompt,
    JudgeRequest,
    Outcome,
    capacity,
    load_editor,
    load_judge,
)
from editbench.models.fingerprint import config_hash
from editbench.models.params import ParamError
from editbench.models.qwen_image_edit import EDIT_PHASES, area_dimensions

FAST = {"steps": "2", "working_area": "64*64"}
PROMPT = JudgePrompt(
    "Instruction: {instruction}\nScore {criterion} ({criterion_description}) from {scale_min} to {scale_max}.",
    version="rubric-v1",
)
CRITERIA = (Criterion("semantic_consistency", "Does it?"), Criterion("perceptual_quality", "Natural?"))


def pixels(image) -> np.ndarray:
    return np.asarray(image.convert("RGB"), dtype=np.int16)


def edit_request(image, seed: int = 5, **kwargs) -> EditRequest:
    return EditRequest("s1", image, "Make the sky blue.", seed=seed, **kwargs)


@pytest.fixture
def judge_requests(noise_image) -> list[JudgeRequest]:
    sizes = [(64, 64), (96, 48), (40, 80)]
    return [
        JudgeRequest(
            key=f"k{i}",
            source_image=noise_image(w, h, i),
            edited_image=noise_image(h, w, 50 + i),
            instruction="Make the sky blue" + " please" * i,
            prompt=PROMPT,
            criteria=CRITERIA,
        )
        for i, (w, h) in enumerate(sizes)
    ]


@pytest.fixture(scope="module")
def capacity_editor(tiny_models):
    return load_editor("qwen-image-edit", str(tiny_models.editor), capacity="tiny", **FAST)


# -- editor --------------------------------------------------------------------------------------


@pytest.mark.parametrize("output_size", [None, "48x32", "source"])
def test_capacity_editor_edits_at_the_requested_size(tiny_models, noise_image, output_size) -> None:
    editor = load_editor("qwen-image-edit", str(tiny_models.editor), capacity="tiny", output_size=output_size or "none", **FAST)
    edited = editor.edit(edit_request(noise_image(90, 60, 0)))
    expected = {None: area_dimensions(64 * 64, 1.5), "48x32": (48, 32), "source": (90, 60)}[output_size]
    assert edited.mode == "RGB" and edited.size == expected


def test_the_phase_hook_sees_every_phase_of_an_edit_in_order_and_changes_nothing(capacity_editor, noise_image) -> None:
    request = edit_request(noise_image(64, 64, 3))
    plain = capacity_editor.edit(request)
    seen: list[str] = []
    capacity_editor.phase_hook = seen.append
    try:
        hooked = capacity_editor.edit(request)
    finally:
        capacity_editor.phase_hook = None
    # FAST: 2 steps with true CFG (the default scale 4): cond, uncond, step per step.
    loop = ["forward_cond", "forward_uncond", "step"] * 2
    assert seen == ["conditioning", "text_encoder", "latents", *loop, "vae_decode"]
    assert set(seen) == set(EDIT_PHASES)
    assert np.array_equal(pixels(plain), pixels(hooked))


def test_capacity_editor_uses_random_components_and_the_folders_tokenizer(capacity_editor, tiny_models) -> None:
    pipe = capacity_editor.pipe
    # The weights-bearing modules are the capacity builders' (tiny widths), not the folder's.
    assert pipe.transformer.config.num_layers == capacity.TINY_TRANSFORMER["num_layers"]
    assert pipe.transformer.config.joint_attention_dim == capacity.TINY_TRANSFORMER["joint_attention_dim"]
    assert dict(pipe.scheduler.config)["shift_terminal"] == capacity.QWEN_IMAGE_SCHEDULER_CONFIG["shift_terminal"]
    # ...with the special ids of the folder's tokenizer, so the image placeholders line up.
    tokenizer = pipe.processor.tokenizer
    config = pipe.text_encoder.config
    assert config.image_token_id == tokenizer.convert_tokens_to_ids("<|image_pad|>") != capacity.QWEN_IDS["image_pad"]
    assert config.vision_start_token_id == tokenizer.convert_tokens_to_ids("<|vision_start|>")
    assert config.vision_end_token_id == tokenizer.convert_tokens_to_ids("<|vision_end|>")
    assert config.video_token_id == tokenizer.convert_tokens_to_ids("<|video_pad|>")
    assert pipe.text_encoder.device.type == "cpu" and pipe.transformer.dtype == torch.float32


def test_capacity_editor_is_seeded_and_reproducible(capacity_editor, tiny_models, noise_image) -> None:
    source = noise_image(64, 48, 2)
    first = pixels(capacity_editor.edit(edit_request(source, seed=7)))
    again = load_editor("qwen-image-edit", str(tiny_models.editor), capacity="tiny", **FAST)
    assert np.array_equal(first, pixels(again.edit(edit_request(source, seed=7))))
    assert not np.array_equal(first, pixels(capacity_editor.edit(edit_request(source, seed=8))))


def test_capacity_plus_editor_takes_extra_images(tiny_models, noise_image) -> None:
    editor = load_editor("qwen-image-edit-plus", str(tiny_models.editor), capacity="tiny", **FAST)
    edited = editor.edit(edit_request(noise_image(96, 48, 4), extra_images=(noise_image(32, 64, 5),)))
    assert edited.size == area_dimensions(64 * 64, 2.0)


def test_capacity_editor_identity_is_marked_and_hashes_the_packaged_configs(capacity_editor, tiny_models) -> None:
    identity = capacity_editor.identity()
    assert identity["capacity"] == "tiny" and identity["params"]["capacity"] == "tiny"
    assert identity["config_hash"] == capacity.configs_hash(capacity.edit_configs("tiny"))
    assert identity["config_hash"] != config_hash(tiny_models.editor)
    planning = identity["capacity_planning"]
    assert "random" in planning["weights"] and "noise" in planning["weights"]
    assert planning["folder_config_hash"] == config_hash(tiny_models.editor)
    assert planning["token_ids"]["image_pad"] == capacity_editor.pipe.text_encoder.config.image_token_id
    assert planning["processor_pixels"] is None  # tiny keeps the folder's processor limits


def test_without_capacity_identity_says_so(tiny_models) -> None:
    editor = load_editor("qwen-image-edit", str(tiny_models.editor), **FAST)
    identity = editor.identity()
    assert identity["capacity"] is None and "capacity_planning" not in identity
    assert identity["config_hash"] == config_hash(tiny_models.editor)


@pytest.mark.parametrize("params", [{"capacity": "huge"}, {"capacity": ""}, {"rope": "imaginary"}])
def test_bad_capacity_or_rope_fails_at_load(tiny_models, params) -> None:
    with pytest.raises(ParamError):
        load_editor("qwen-image-edit", str(tiny_models.editor), **params)
    if "capacity" in params:
        with pytest.raises(ParamError):
            load_judge("qwen3-vl", str(tiny_models.judge), **params)


# -- judge ---------------------------------------------------------------------------------------


def test_capacity_judge_logits_batch(tiny_models, judge_requests) -> None:
    judge = load_judge("qwen3-vl", str(tiny_models.judge), capacity="tiny", mode="logits", batch_size="4")
    results = judge.score(judge_requests)
    assert judge.last_batch_sizes == [3]  # 3 requests, one shared-prefix row each (their 2 criteria continue from it)
    assert [r.key for r in results] == [r.key for r in judge_requests]
    for result in results:
        assert [s.criterion for s in result.scores] == ["semantic_consistency", "perceptual_quality"]
        for score in result.scores:
            assert score.outcome is Outcome.DONE and 0 <= score.score <= 10 and 0 <= score.confidence <= 1
    # Batched and one-by-one agree (left padding and placeholders line up with the model).
    alone = judge.score(judge_requests[1:2])[0]
    for a, b in zip(results[1].scores, alone.scores):
        assert a.score == pytest.approx(b.score, abs=1e-4)
    model = judge.model
    assert model.config.text_config.num_hidden_layers == capacity.TINY_JUDGE["text_config"]["num_hidden_layers"]
    assert model.config.image_token_id == judge.processor.tokenizer.convert_tokens_to_ids("<|image_pad|>")


def test_capacity_judge_generate_batch(tiny_models, judge_requests) -> None:
    judge = load_judge("qwen3-vl", str(tiny_models.judge), capacity="tiny", mode="generate", max_new_tokens="6", batch_size="2")
    results = judge.score(judge_requests)
    assert [r.key for r in results] == [r.key for r in judge_requests]
    for result in results:
        assert len(result.scores) == 2
        for score in result.scores:
            # A random model's answers are noise: whatever it says is recorded, never lost.
            assert score.outcome in (Outcome.DONE, Outcome.PARSE_ERROR, Outcome.REFUSAL)
            assert score.raw_output is not None and score.extra["attempts"] >= 1
    tokenizer = judge.processor.tokenizer
    eos = judge.identity()["decoding"]["eos_token_id"]
    assert eos == [tokenizer.convert_tokens_to_ids("<|im_end|>"), tokenizer.convert_tokens_to_ids("<|endoftext|>")]


def test_capacity_judge_identity(tiny_models) -> None:
    judge = load_judge("qwen3-vl", str(tiny_models.judge), capacity="tiny", mode="logits")
    identity = judge.identity()
    assert identity["capacity"] == "tiny"
    assert identity["config_hash"] == capacity.configs_hash(capacity.judge_config("tiny"))
    assert identity["capacity_planning"]["folder_config_hash"] == config_hash(tiny_models.judge)
    plain = load_judge("qwen3-vl", str(tiny_models.judge), mode="logits").identity()
    assert plain["capacity"] is None and "capacity_planning" not in plain


# -- full size, with the builders swapped for tiny ones (a full build needs ~70 GB) ---------------


@pytest.fixture
def tiny_builders(monkeypatch):
    """Replace the full-size builders with tiny ones and record how the adapters called them."""
    calls: list[dict] = []
    build_edit, build_judge = capacity.build_edit_components, capacity.build_judge

    def fake_edit(device, dtype, size="full", **kwargs):
        calls.append({"what": "edit", "device": device, "dtype": dtype, "size": size, **kwargs})
        return build_edit(device, dtype, "tiny", **kwargs)

    def fake_judge(device, dtype, size="full", **kwargs):
        calls.append({"what": "judge", "device": device, "dtype": dtype, "size": size, **kwargs})
        return build_judge(device, dtype, "tiny", **kwargs)

    monkeypatch.setattr(capacity, "build_edit_components", fake_edit)
    monkeypatch.setattr(capacity, "build_judge", fake_judge)
    return calls


def test_full_capacity_editor_plumbing(tiny_models, tiny_builders, noise_image) -> None:
    editor = load_editor("qwen-image-edit", str(tiny_models.editor), capacity="full", dtype="fp32", **FAST)
    (call,) = tiny_builders
    assert call["size"] == "full" and str(call["device"]) == "cpu" and call["dtype"] == torch.float32
    tokenizer = editor.pipe.processor.tokenizer
    assert call["token_ids"] == capacity.tokenizer_token_ids(tokenizer)
    # The real model's processor pixel limits, so prompts hold as many image tokens as with it.
    size = editor.pipe.processor.image_processor.size
    assert (size.shortest_edge, size.longest_edge) == (3136, 12845056)
    identity = editor.identity()
    assert identity["capacity"] == "full"
    assert identity["config_hash"] == capacity.configs_hash(capacity.edit_configs("full"))
    assert identity["capacity_planning"]["configs"] == [
        "editbench/models/configs/qwen-image-transformer.json",
        "editbench/models/configs/qwen-image-vae.json",
        "editbench/models/configs/qwen2.5-vl-7b-text-encoder.json",
    ]
    assert identity["capacity_planning"]["processor_pixels"] == capacity.EDIT_PROCESSOR_PIXELS
    assert editor.edit(edit_request(noise_image(64, 64, 1))).size == (64, 64)


def test_full_capacity_judge_plumbing(tiny_models, tiny_builders, judge_requests) -> None:
    judge = load_judge("qwen3-vl", str(tiny_models.judge), capacity="full", mode="logits", attn_implementation="eager")
    (call,) = tiny_builders
    assert call["size"] == "full" and call["attn_implementation"] == "eager"
    assert call["token_ids"] == capacity.tokenizer_token_ids(judge.processor.tokenizer)
    size = judge.processor.image_processor.size
    assert (size.shortest_edge, size.longest_edge) == (256 * 256, 4096 * 4096)
    identity = judge.identity()
    assert identity["capacity"] == "full"
    assert identity["config_hash"] == capacity.configs_hash(capacity.judge_config("full"))
    assert all(s.outcome is Outcome.DONE for r in judge.score(judge_requests[:1]) for s in r.scores)


# -- the builders --------------------------------------------------------------------------------


def test_tiny_processors_patch_like_the_real_models(tiny_models) -> None:
    """The tiny folders' image processors cut images like the full-size models expect."""
    from transformers import AutoProcessor

    editor_processor = AutoProcessor.from_pretrained(tiny_models.editor / "processor", local_files_only=True)
    judge_processor = AutoProcessor.from_pretrained(tiny_models.judge, local_files_only=True)
    for size in ("full", "tiny"):
        editor_vision = capacity.edit_configs(size)["text_encoder"]["vision_config"]
        judge_vision = capacity.judge_config(size)["vision_config"]
        capacity.check_processor_matches(editor_processor.image_processor, editor_vision)
        capacity.check_processor_matches(judge_processor.image_processor, judge_vision)
    assert (editor_processor.image_processor.patch_size, editor_processor.image_processor.merge_size) == (14, 2)
    assert (judge_processor.image_processor.patch_size, judge_processor.image_processor.merge_size) == (16, 2)
    with pytest.raises(ValueError, match="patch_size 14"):
        capacity.check_processor_matches(editor_processor.image_processor, judge_vision)


def test_token_id_overrides(tiny_models) -> None:
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tiny_models.editor / "tokenizer", local_files_only=True)
    ids = capacity.tokenizer_token_ids(tokenizer)
    assert set(ids) == set(capacity.QWEN_IDS) and ids["image_pad"] < len(tokenizer)
    judge = capacity.build_judge("cpu", "float32", "tiny", token_ids=ids)
    assert (judge.config.image_token_id, judge.config.vision_start_token_id) == (ids["image_pad"], ids["vision_start"])
    assert judge.generation_config.pad_token_id == ids["endoftext"]
    assert judge.generation_config.eos_token_id == [ids["im_end"], ids["endoftext"]]
    # Without overrides the real Qwen ids stay (bench/*.py feed synthetic inputs with them).
    default = capacity.build_judge("cpu", "float32", "tiny")
    assert default.config.image_token_id == capacity.QWEN_IDS["image_pad"]
    encoder = capacity.build_edit_components("cpu", "float32", "tiny", token_ids={"image_pad": 7})["text_encoder"]
    assert encoder.config.image_token_id == 7 and encoder.config.video_token_id == capacity.QWEN_IDS["video_pad"]
    with pytest.raises(ValueError, match="unknown token id"):
        capacity.build_judge("cpu", "float32", "tiny", token_ids={"img": 1})
    with pytest.raises(ValueError, match="vocabulary"):
        capacity.build_judge("cpu", "float32", "tiny", token_ids={"image_pad": 10**7})


@pytest.mark.slow  # a subprocess or a large build: integration tier
def test_seeded_builds_are_identical_and_leave_the_rng_alone() -> None:
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    first = capacity.build_judge("cpu", "float32", "tiny", seed=4)
    after = torch.rand(3)
    second = capacity.build_judge("cpu", "float32", "tiny", seed=4)
    assert torch.equal(expected, after)
    assert all(torch.equal(a, b) for a, b in zip(first.parameters(), second.parameters()))


def test_a_tokenizer_without_qwen_special_tokens_is_refused() -> None:
    class Plain:
        def get_vocab(self):
            return {"a": 0, "<|endoftext|>": 1}

    with pytest.raises(ValueError, match="image_pad"):
        capacity.tokenizer_token_ids(Plain())
