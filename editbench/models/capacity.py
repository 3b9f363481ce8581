"""Capacity-planning mode: the real model classes at full size, with random weights, built on a device.

A capacity-planning run answers "how long does a benchmark take, and does it fit on this card?"
without downloading ~60 GB of weights: it builds Qwen-Image-Edit's components
(``QwenImageTransformer2DModel`` 20.4 B, ``AutoencoderKLQwenImage``, the Qwen2.5-VL-7B text
encoder) and the Qwen3-VL-8B judge from the public architecture configs in
``editbench/models/configs/`` with random weights, directly on the target device and in the
target dtype (no fp32 copy on the host, no weight files). Timings and memory of such a run are
those of the real models; its images and scores are noise, so a run that uses these builders
must be marked as capacity-planning in its run card.

Tiny variants (``size="tiny"``) keep the same classes and token plumbing at toy widths so the
same code paths run on a CPU in seconds (CI, ``bench/*.py --tiny``).

The editor and judge adapters use these builders for their ``capacity`` setting: the model
folder then supplies only the tokenizer and processor, whose special-token ids are written into
the built configs (``token_ids=``) so the processor's image placeholders line up with the model.
This module holds only what those adapters need at run time; benchmark-only helpers (synthetic
processor output, parameter counts) live in ``bench/capacity_helpers.py``.

Everything heavy (torch, diffusers, transformers) is imported inside the functions.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

CONFIG_DIR = Path(__file__).resolve().parent / "configs"

TRANSFORMER_CONFIG = "qwen-image-transformer.json"
VAE_CONFIG = "qwen-image-vae.json"
TEXT_ENCODER_CONFIG = "qwen2.5-vl-7b-text-encoder.json"
JUDGE_CONFIG = "qwen3-vl-8b.json"

# Qwen-Image's scheduler (Qwen/Qwen-Image scheduler/scheduler_config.json): flow matching with
# resolution-dependent exponential time shift and a terminal stretch.
QWEN_IMAGE_SCHEDULER_CONFIG: dict[str, Any] = {
    "base_image_seq_len": 256,
    "base_shift": 0.5,
    "invert_sigmas": False,
    "max_image_seq_len": 8192,
    "max_shift": 0.9,
    "num_train_timesteps": 1000,
    "shift": 1.0,
    "shift_terminal": 0.02,
    "stochastic_sampling": False,
    "time_shift_type": "exponential",
    "use_beta_sigmas": False,
    "use_dynamic_shifting": True,
    "use_exponential_sigmas": False,
    "use_karras_sigmas": False,
}

# Token ids shared by Qwen2/2.5/3 VL tokenizers.
QWEN_IDS = {
    "endoftext": 151643,
    "im_start": 151644,
    "im_end": 151645,
    "vision_start": 151652,
    "vision_end": 151653,
    "image_pad": 151655,
    "video_pad": 151656,
}

# The image processors' pixel limits in the public processor configs (smart_resize keeps an image
# between these areas): Qwen-Image-Edit's processor is Qwen2.5-VL-7B-Instruct's (min_pixels 3136,
# max_pixels 12845056), Qwen3-VL-8B-Instruct's is 256²..4096². Capacity mode at full size applies
# them to whatever processor the model folder supplies, so prompts hold as many image tokens as
# with the real model (the tiny processors of :mod:`editbench.models.tiny` cap images far lower).
EDIT_PROCESSOR_PIXELS = {"shortest_edge": 56 * 56, "longest_edge": 28 * 28 * 16384}
JUDGE_PROCESSOR_PIXELS = {"shortest_edge": 256 * 256, "longest_edge": 4096 * 4096}

SIZES = ("full", "tiny")

_QWEN_VOCAB = 152064  # large enough for every special id above; tiny models keep it

TINY_TRANSFORMER = {
    "patch_size": 2,
    "in_channels": 16,
    "out_channels": 4,
    "num_layers": 2,
    "attention_head_dim": 16,
    "num_attention_heads": 2,
    "joint_attention_dim": 32,
    "guidance_embeds": False,
    "axes_dims_rope": [8, 4, 4],
}
TINY_VAE = {
    "base_dim": 8,
    "z_dim": 4,
    "dim_mult": [1, 2, 4],
    "num_res_blocks": 1,
    "temperal_downsample": [False, True],
    "latents_mean": [0.0] * 4,
    "latents_std": [1.0] * 4,
}
TINY_TEXT_ENCODER = {
    "text_config": {
        "hidden_size": 32,
        "intermediate_size": 64,
        "num_hidden_layers": 2,
        "num_attention_heads": 2,
        "num_key_value_heads": 1,
        "vocab_size": _QWEN_VOCAB,
        "rope_parameters": {"rope_type": "default", "mrope_section": [2, 3, 3], "rope_theta": 1000000.0},
        "tie_word_embeddings": False,
    },
    "vision_config": {
        "depth": 2,
        "hidden_size": 32,
        "intermediate_size": 32,
        "num_heads": 2,
        "out_hidden_size": 32,
        "patch_size": 14,
        "spatial_merge_size": 2,
        "temporal_patch_size": 2,
        "window_size": 112,
        "fullatt_block_indexes": [1],
    },
    "image_token_id": QWEN_IDS["image_pad"],
    "video_token_id": QWEN_IDS["video_pad"],
    "vision_start_token_id": QWEN_IDS["vision_start"],
    "vision_end_token_id": QWEN_IDS["vision_end"],
    "tie_word_embeddings": False,
}
TINY_JUDGE = {
    "text_config": {
        "hidden_size": 64,
        "intermediate_size": 128,
        "num_hidden_layers": 2,
        "num_attention_heads": 4,
        "num_key_value_heads": 2,
        "head_dim": 16,
        "vocab_size": _QWEN_VOCAB,
        "rope_parameters": {
            "rope_type": "default",
            "rope_theta": 5000000.0,
            "mrope_section": [4, 2, 2],
            "mrope_interleaved": True,
        },
        "tie_word_embeddings": False,
    },
    "vision_config": {
        "depth": 2,
        "hidden_size": 32,
        "intermediate_size": 64,
        "num_heads": 2,
        "out_hidden_size": 64,
        "patch_size": 16,
        "spatial_merge_size": 2,
        "temporal_patch_size": 2,
        "num_position_embeddings": 64,
        "deepstack_visual_indexes": [0, 1],
        "in_channels": 3,
    },
    "image_token_id": QWEN_IDS["image_pad"],
    "video_token_id": QWEN_IDS["video_pad"],
    "vision_start_token_id": QWEN_IDS["vision_start"],
    "vision_end_token_id": QWEN_IDS["vision_end"],
    "tie_word_embeddings": False,
}


def load_config(name: str) -> dict[str, Any]:
    """A packaged public config, without documentation keys (``_note``)."""
    data = json.loads((CONFIG_DIR / name).read_text())
    return _strip_private(data)


def _strip_private(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {k: _strip_private(v) for k, v in obj.items() if not k.startswith("_")}
    return obj


def _check_size(size: str) -> None:
    if size not in SIZES:
        raise ValueError(f"size must be 'full' or 'tiny', not {size!r}")


def edit_configs(size: str = "full") -> dict[str, dict[str, Any]]:
    """The configs :func:`build_edit_components` builds from: transformer, vae, text_encoder, scheduler.

    Fresh copies (callers may change them). ``size="full"``: the packaged public configs.
    """
    _check_size(size)
    if size == "full":
        configs = {
            "transformer": load_config(TRANSFORMER_CONFIG),
            "vae": load_config(VAE_CONFIG),
            "text_encoder": load_config(TEXT_ENCODER_CONFIG),
        }
    else:
        configs = {"transformer": TINY_TRANSFORMER, "vae": TINY_VAE, "text_encoder": TINY_TEXT_ENCODER}
    configs["scheduler"] = QWEN_IMAGE_SCHEDULER_CONFIG
    return json.loads(json.dumps(configs))


def judge_config(size: str = "full") -> dict[str, Any]:
    """The config :func:`build_judge` builds from (a fresh copy)."""
    _check_size(size)
    return load_config(JUDGE_CONFIG) if size == "full" else json.loads(json.dumps(TINY_JUDGE))


def configs_hash(configs: Any) -> str:
    """SHA-256 of configs as canonical JSON: what a capacity-mode run card records as config hash."""
    text = json.dumps(configs, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def tokenizer_token_ids(tokenizer: Any) -> dict[str, int]:
    """The special-token ids of a Qwen-style tokenizer, keyed like :data:`QWEN_IDS`.

    Each name ``n`` is the token ``<|n|>``; raises ``ValueError`` if the tokenizer lacks one.
    """
    vocab = tokenizer.get_vocab()
    ids, missing = {}, []
    for name in QWEN_IDS:
        token_id = vocab.get(f"<|{name}|>")
        if token_id is None:
            missing.append(f"<|{name}|>")
        else:
            ids[name] = int(token_id)
    if missing:
        raise ValueError(f"tokenizer lacks Qwen special tokens {', '.join(missing)}")
    return ids


def _merged_token_ids(token_ids: Mapping[str, int] | None) -> dict[str, int]:
    ids = dict(QWEN_IDS)
    if token_ids:
        unknown = sorted(set(token_ids) - set(QWEN_IDS))
        if unknown:
            raise ValueError(f"unknown token id name(s) {', '.join(unknown)}; known: {', '.join(QWEN_IDS)}")
        ids.update({name: int(value) for name, value in token_ids.items()})
    return ids


def _set_vl_token_ids(config: dict[str, Any], ids: Mapping[str, int]) -> None:
    """Write the vision placeholder ids into a Qwen VL config dict; every id must fit the vocabulary."""
    vocab = config["text_config"]["vocab_size"]
    too_big = {name: value for name, value in ids.items() if not 0 <= value < vocab}
    if too_big:
        raise ValueError(f"token ids {too_big} do not fit the model's vocabulary of {vocab}")
    config["image_token_id"] = ids["image_pad"]
    config["video_token_id"] = ids["video_pad"]
    config["vision_start_token_id"] = ids["vision_start"]
    config["vision_end_token_id"] = ids["vision_end"]


def _set_generation_ids(model: Any, ids: Mapping[str, int]) -> None:
    # As in Qwen's generation_config.json: pad = bos = <|endoftext|>, stop at <|im_end|> or it.
    gc = model.generation_config
    gc.pad_token_id = ids["endoftext"]
    gc.bos_token_id = ids["endoftext"]
    gc.eos_token_id = [ids["im_end"], ids["endoftext"]]


@contextlib.contextmanager
def _build_on(device: Any, dtype: Any, seed: int | None = None) -> Iterator[None]:
    """Allocate parameters directly on ``device`` in ``dtype`` (no host copy, no fp32 detour).

    With ``seed``, the random initialisation is reproducible and the caller's RNG state is left
    as it was.
    """
    import torch

    old = torch.get_default_dtype()
    rng: contextlib.AbstractContextManager = contextlib.nullcontext()
    cuda_index = None
    if seed is not None:
        if device.type == "cuda":
            cuda_index = device.index if device.index is not None else torch.cuda.current_device()
        rng = torch.random.fork_rng(devices=[] if cuda_index is None else [cuda_index])
    torch.set_default_dtype(dtype)
    try:
        with rng, torch.device(device):
            if seed is not None:
                torch.random.default_generator.manual_seed(seed)
                if cuda_index is not None:
                    with torch.cuda.device(cuda_index):
                        torch.cuda.manual_seed(seed)
            yield
    finally:
        torch.set_default_dtype(old)


def _resolve(device: Any, dtype: Any) -> tuple[Any, Any]:
    import torch

    device = torch.device(device)
    if isinstance(dtype, str):
        dtype = getattr(torch, dtype)
    return device, dtype


def build_scheduler() -> Any:
    from diffusers import FlowMatchEulerDiscreteScheduler

    return FlowMatchEulerDiscreteScheduler(**QWEN_IMAGE_SCHEDULER_CONFIG)


def build_edit_components(
    device: Any = "cuda",
    dtype: Any = "bfloat16",
    size: str = "full",
    *,
    token_ids: Mapping[str, int] | None = None,
    seed: int | None = None,
) -> dict[str, Any]:
    """Qwen-Image-Edit's components with random weights on ``device``.

    Returns ``{"transformer", "vae", "text_encoder", "scheduler"}`` (eval mode, no grad needed).
    ``size="full"`` uses the public configs (20.4 B + 0.13 B + 8.3 B parameters, ~54 GiB in
    bf16); ``size="tiny"`` the toy widths in this module. ``token_ids`` (names as in
    :data:`QWEN_IDS`, e.g. from :func:`tokenizer_token_ids`) replace the text encoder's special
    ids, so that a tokenizer other than Qwen's real one lines up with the model; ``seed`` makes
    the random weights reproducible.
    """
    import torch
    from diffusers import AutoencoderKLQwenImage, QwenImageTransformer2DModel
    from transformers import Qwen2_5_VLConfig, Qwen2_5_VLForConditionalGeneration

    device, dtype = _resolve(device, dtype)
    configs = edit_configs(size)
    ids = _merged_token_ids(token_ids)
    _set_vl_token_ids(configs["text_encoder"], ids)

    with torch.no_grad(), _build_on(device, dtype, seed):
        transformer = QwenImageTransformer2DModel(**configs["transformer"]).eval()
        vae = AutoencoderKLQwenImage(**configs["vae"]).eval()
        config = Qwen2_5_VLConfig(**configs["text_encoder"])
        config._attn_implementation = "sdpa"
        text_encoder = Qwen2_5_VLForConditionalGeneration(config).eval()
    for module in (transformer, vae, text_encoder):
        module.requires_grad_(False)
    _set_generation_ids(text_encoder, ids)
    return {
        "transformer": transformer,
        "vae": vae,
        "text_encoder": text_encoder,
        "scheduler": build_scheduler(),
    }


def build_judge(
    device: Any = "cuda",
    dtype: Any = "bfloat16",
    size: str = "full",
    *,
    token_ids: Mapping[str, int] | None = None,
    seed: int | None = None,
    attn_implementation: str = "sdpa",
) -> Any:
    """``Qwen3VLForConditionalGeneration`` with random weights on ``device`` (eval).

    ``token_ids`` replace the vision placeholder ids and the generation pad/bos/eos ids (names as
    in :data:`QWEN_IDS`); ``seed`` makes the random weights reproducible.
    """
    import torch
    from transformers import Qwen3VLConfig, Qwen3VLForConditionalGeneration

    device, dtype = _resolve(device, dtype)
    cfg = judge_config(size)
    ids = _merged_token_ids(token_ids)
    _set_vl_token_ids(cfg, ids)
    with torch.no_grad(), _build_on(device, dtype, seed):
        config = Qwen3VLConfig(**cfg)
        config._attn_implementation = attn_implementation
        model = Qwen3VLForConditionalGeneration(config).eval()
    model.requires_grad_(False)
    _set_generation_ids(model, ids)
    return model


def check_processor_matches(image_processor: Any, vision_config: Mapping[str, Any] | Any) -> None:
    """Raise ``ValueError`` unless the image processor patches images as the vision tower expects.

    Patch size, temporal patch size and spatial merge size decide how many pixel values and
    placeholder tokens an image becomes; a mismatch would fail (or, worse, silently mis-shape)
    inside the model. ``vision_config``: a config dict (as in :func:`edit_configs`) or object.
    """

    def get(name: str) -> Any:
        return vision_config[name] if isinstance(vision_config, Mapping) else getattr(vision_config, name)

    pairs = {
        "patch_size": (image_processor.patch_size, get("patch_size")),
        "temporal_patch_size": (image_processor.temporal_patch_size, get("temporal_patch_size")),
        "merge_size": (image_processor.merge_size, get("spatial_merge_size")),
    }
    wrong = {name: pair for name, pair in pairs.items() if pair[0] != pair[1]}
    if wrong:
        detail = ", ".join(f"{name} {ours} (processor) != {theirs} (model)" for name, (ours, theirs) in wrong.items())
        raise ValueError(f"the processor does not match the capacity-mode model: {detail}")


def check_tokenizer_fits(tokenizer: Any, config: Mapping[str, Any]) -> None:
    """Raise ``ValueError`` if the tokenizer can produce ids beyond the config's vocabulary."""
    vocab = config["text_config"]["vocab_size"]
    if len(tokenizer) > vocab:
        raise ValueError(f"the tokenizer has {len(tokenizer)} tokens, more than the capacity-mode model's vocabulary of {vocab}")


def capacity_record(
    kind: str,
    size: str,
    folder: Path,
    token_ids: Mapping[str, int],
    pixels: Mapping[str, int] | None,
    *,
    seed: int | None,
) -> dict[str, Any]:
    """What an adapter's ``identity()`` records about a capacity-mode model (``kind``: edit/judge)."""
    from editbench.models.fingerprint import config_hash

    if size == "full":
        files = (TRANSFORMER_CONFIG, VAE_CONFIG, TEXT_ENCODER_CONFIG) if kind == "edit" else (JUDGE_CONFIG,)
        configs: Any = [f"editbench/models/configs/{name}" for name in files]
    else:
        configs = "editbench.models.capacity TINY_* (toy widths)"
    return {
        "weights": f"random (seed {seed}), built on the device: outputs are noise, timings are real",
        "configs": configs,
        "processor_path": str(folder),
        "folder_config_hash": config_hash(folder),  # the tokenizer and processor came from here
        "token_ids": dict(token_ids),
        "processor_pixels": dict(pixels) if pixels else None,
    }


def set_processor_pixels(image_processor: Any, pixels: Mapping[str, int]) -> None:
    """Give an image processor the real model's pixel limits (``shortest_edge``/``longest_edge``)."""
    size = image_processor.size
    if dataclasses.is_dataclass(size) and not isinstance(size, type):
        image_processor.size = dataclasses.replace(size, **pixels)
    else:
        image_processor.size = {**dict(size), **pixels}
