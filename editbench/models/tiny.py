"""Build tiny, randomly initialised copies of the real Qwen editor and judge, offline.

Why: every code path that touches a model (``from_pretrained``, processors, chat templates,
batching, the denoising loop, OOM handling) must be exercised in tests and in the CPU demo
without downloading 60 GB of weights. These are the *real* classes
(``QwenImageEditPipeline`` with ``QwenImageTransformer2DModel``, ``AutoencoderKLQwenImage`` and a
``Qwen2_5_VLForConditionalGeneration`` text encoder; ``Qwen3VLForConditionalGeneration`` with its
processor) at toy sizes, saved with ``save_pretrained`` so that adapters load them exactly like a
user's local folder. Their outputs are noise; their shapes, token plumbing and file layout are
real.

The tokenizer is a byte-level BPE trained in-process on a small built-in corpus with Qwen2's
pre-tokenizer (digits split one per token, as in real Qwen tokenizers), wrapped in
``transformers.Qwen2Tokenizer`` and given Qwen's special tokens and a chat template.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from editbench.models.offline import ensure_offline

# Bump when the recipe changes: a folder built by another recipe is rebuilt, never half-reused.
TINY_RECIPE_VERSION = "5"
MARKER_NAME = "editbench-tiny.json"
SEED = 0

QWEN_SPECIAL_TOKENS = (
    "<|im_start|>",
    "<|im_end|>",
    "<|object_ref_start|>",
    "<|object_ref_end|>",
    "<|box_start|>",
    "<|box_end|>",
    "<|quad_start|>",
    "<|quad_end|>",
    "<|vision_start|>",
    "<|vision_end|>",
    "<|vision_pad|>",
    "<|image_pad|>",
    "<|video_pad|>",
)

# A chat template in the shape of Qwen's: images become <|vision_start|><|image_pad|><|vision_end|>
# (the processor expands <|image_pad|> to one token per merged patch).
CHAT_TEMPLATE = (
    "{%- for message in messages -%}"
    "{{- '<|im_start|>' + message['role'] + '\\n' -}}"
    "{%- if message['content'] is string -%}{{- message['content'] -}}"
    "{%- else -%}{%- for item in message['content'] -%}"
    "{%- if item['type'] == 'image' -%}{{- '<|vision_start|><|image_pad|><|vision_end|>' -}}"
    "{%- elif item['type'] == 'text' -%}{{- item['text'] -}}{%- endif -%}"
    "{%- endfor -%}{%- endif -%}"
    "{{- '<|im_end|>\\n' -}}"
    "{%- endfor -%}"
    "{%- if add_generation_prompt -%}{{- '<|im_start|>assistant\\n' -}}{%- endif -%}"
)

# Text the tiny tokenizer is trained on: the pipelines' fixed prompts, rubric vocabulary and JSON
# punctuation, so prompts tokenize into a realistic (not byte-per-token) number of tokens.
_CORPUS = (
    "Describe the key features of the input image (color, shape, size, texture, objects, "
    "background), then explain how the user's text instruction should alter or modify the image. "
    "Generate a new image that meets the user's requirements while maintaining consistency with "
    "the original input where appropriate.",
    "Picture 1: Picture 2: Make the sky blue. Remove the cat. Add a red hat to the person. "
    "Turn the photo into a watercolor painting. Replace the text with 'hello'.",
    "You are a strict judge of image edits. The first image is the source, the second is the "
    "edited result. Instruction: Reference: Criterion: semantic consistency, perceptual quality, "
    "instruction following, visual consistency, knowledge plausibility. Rate from 0 to 10.",
    'Answer with one JSON object: {"scores": {"semantic_consistency": 7, '
    '"perceptual_quality": 8}, "reasoning": "The edit follows the instruction."}',
    "Answer with a single digit from 0 to 9. 0 1 2 3 4 5 6 7 8 9 10",
    "I can't help with that. I cannot evaluate this image. Sorry.",
)


@dataclass(frozen=True)
class TinyModelPaths:
    """Where :func:`build_tiny_models` put things; pass these folders as ``--editor``/``--judge``."""

    root: Path
    editor: Path
    judge: Path


def build_tiny_models(dest: Path) -> TinyModelPaths:
    """Build ``dest/editor`` and ``dest/judge`` unless complete copies are already there.

    Each folder is written into a temporary sibling and renamed into place only after its marker
    file is written, so a crash or a concurrent builder never leaves a half folder that looks
    complete. A folder without our marker is never deleted (it may be the user's).
    """
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    paths = TinyModelPaths(root=dest, editor=dest / "editor", judge=dest / "judge")
    ensure_offline()
    _ensure(paths.editor, _write_tiny_editor)
    _ensure(paths.judge, _write_tiny_judge)
    return paths


def is_complete(folder: Path) -> bool:
    """True if ``folder`` was fully written by this recipe version."""
    marker = Path(folder) / MARKER_NAME
    try:
        return json.loads(marker.read_text())["recipe"] == TINY_RECIPE_VERSION
    except (OSError, ValueError, KeyError):
        return False


def _ensure(target: Path, write: Any) -> None:
    if is_complete(target):
        return
    if target.exists() and not (target / MARKER_NAME).exists():
        raise FileExistsError(f"{target} exists and was not built by editbench; move it away first")
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    try:
        write(tmp)
        (tmp / MARKER_NAME).write_text(json.dumps({"recipe": TINY_RECIPE_VERSION, "seed": SEED}))
        if target.exists():  # an older recipe of ours: replace it
            shutil.rmtree(target)
        try:
            os.rename(tmp, target)
        except OSError:
            # Another process renamed its copy first; theirs is as good as ours.
            if not is_complete(target):
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def build_tiny_tokenizer() -> Any:
    """A small byte-level BPE with Qwen's pre-tokenizer and special tokens (~400 tokens)."""
    from tokenizers import Regex, Tokenizer, models, pre_tokenizers, trainers
    from transformers import Qwen2Tokenizer
    from transformers.models.qwen2.tokenization_qwen2 import PRETOKENIZE_REGEX

    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Split(Regex(PRETOKENIZE_REGEX), behavior="isolated"),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
        ]
    )
    trainer = trainers.BpeTrainer(
        vocab_size=512,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        special_tokens=["<|endoftext|>"],
        show_progress=False,
    )
    bpe.train_from_iterator(list(_CORPUS) * 4, trainer)
    model = json.loads(bpe.to_str())["model"]
    merges = [tuple(m) if isinstance(m, list) else tuple(m.split(" ")) for m in model["merges"]]
    tokenizer = Qwen2Tokenizer(vocab=model["vocab"], merges=merges)  # type: ignore[arg-type]  # tokenizers takes (a, b) merge pairs; the hint names only "a b" strings
    tokenizer.add_special_tokens({"additional_special_tokens": list(QWEN_SPECIAL_TOKENS)})
    tokenizer.chat_template = CHAT_TEMPLATE
    tokenizer.model_max_length = 32768
    return tokenizer


def _token_ids(tokenizer: Any) -> dict[str, int]:
    ids = {name: tokenizer.convert_tokens_to_ids(f"<|{name}|>") for name in ("vision_start", "vision_end")}
    ids["image"] = tokenizer.convert_tokens_to_ids("<|image_pad|>")
    ids["video"] = tokenizer.convert_tokens_to_ids("<|video_pad|>")
    ids["vision_pad"] = tokenizer.convert_tokens_to_ids("<|vision_pad|>")
    ids["eos"] = tokenizer.convert_tokens_to_ids("<|endoftext|>")
    ids["im_end"] = tokenizer.convert_tokens_to_ids("<|im_end|>")
    return ids


def _write_tiny_editor(folder: Path) -> None:
    import torch
    from diffusers import (
        AutoencoderKLQwenImage,
        FlowMatchEulerDiscreteScheduler,
        QwenImageEditPipeline,
        QwenImageTransformer2DModel,
    )
    from transformers import (
        Qwen2_5_VLConfig,
        Qwen2_5_VLForConditionalGeneration,
        Qwen2VLImageProcessor,
        Qwen2VLProcessor,
        Qwen2VLVideoProcessor,
    )

    tokenizer = build_tiny_tokenizer()
    ids = _token_ids(tokenizer)
    z_dim = 4
    hidden = 16
    torch.manual_seed(SEED)
    # Channel counts follow the real model's ratios (in_channels = 4 * z_dim after 2x2 packing;
    # joint_attention_dim = the text encoder's hidden size) at toy widths.
    transformer = QwenImageTransformer2DModel(
        patch_size=2,
        in_channels=4 * z_dim,
        out_channels=z_dim,
        num_layers=2,
        attention_head_dim=16,
        num_attention_heads=2,
        joint_attention_dim=hidden,
        guidance_embeds=False,
        axes_dims_rope=(8, 4, 4),
    )
    torch.manual_seed(SEED)
    # Four levels and three downsamples give the real model's 8x spatial factor (so latent
    # grids, packing and RoPE shapes match real runs) at a width that encodes 1024² in ~1.5 s.
    vae = AutoencoderKLQwenImage(
        base_dim=z_dim,
        z_dim=z_dim,
        dim_mult=[1, 2, 4, 4],
        num_res_blocks=1,
        temperal_downsample=[False, True, True],
        latents_mean=[0.0] * z_dim,
        latents_std=[1.0] * z_dim,
    )
    torch.manual_seed(SEED)
    config = Qwen2_5_VLConfig(  # type: ignore[call-arg]  # transformers configs take extra kwargs at runtime, their dataclass hints do not
        text_config={
            "hidden_size": hidden,
            "intermediate_size": hidden * 2,
            "num_hidden_layers": 2,
            "num_attention_heads": 2,
            "num_key_value_heads": 2,
            "vocab_size": len(tokenizer),
            "bos_token_id": ids["eos"],
            "eos_token_id": ids["im_end"],
            "pad_token_id": ids["eos"],
            "rope_parameters": {"rope_type": "default", "mrope_section": [1, 1, 2], "rope_theta": 1000000.0},
        },
        vision_config={
            "depth": 2,
            "hidden_size": hidden,
            "intermediate_size": hidden,
            "num_heads": 2,
            "out_hidden_size": hidden,
        },
        vocab_size=len(tokenizer),
        image_token_id=ids["image"],
        video_token_id=ids["video"],
        vision_start_token_id=ids["vision_start"],
        vision_end_token_id=ids["vision_end"],
        vision_token_id=ids["vision_pad"],
    )
    text_encoder = Qwen2_5_VLForConditionalGeneration(config).eval()
    processor = Qwen2VLProcessor(
        image_processor=Qwen2VLImageProcessor(),
        tokenizer=tokenizer,
        video_processor=Qwen2VLVideoProcessor(),
        chat_template=CHAT_TEMPLATE,
    )
    pipe = QwenImageEditPipeline(
        scheduler=FlowMatchEulerDiscreteScheduler(),
        vae=vae,
        text_encoder=text_encoder,
        tokenizer=tokenizer,
        processor=processor,
        transformer=transformer,
    )
    pipe.save_pretrained(folder)


def _write_tiny_judge(folder: Path) -> None:
    import torch
    from transformers import (
        GenerationConfig,
        Qwen2VLImageProcessor,
        Qwen3VLConfig,
        Qwen3VLForConditionalGeneration,
        Qwen3VLProcessor,
        Qwen3VLVideoProcessor,
    )

    tokenizer = build_tiny_tokenizer()
    ids = _token_ids(tokenizer)
    torch.manual_seed(SEED)
    config = Qwen3VLConfig(
        text_config={
            "vocab_size": len(tokenizer),
            "hidden_size": 32,
            "intermediate_size": 64,
            "num_hidden_layers": 2,
            "num_attention_heads": 4,
            "num_key_value_heads": 2,
            "head_dim": 8,
            "max_position_embeddings": 4096,
            "pad_token_id": ids["eos"],
            # Wider than the 0.02 default so a random model's next-token distributions are peaked
            # and differ between prompts: tests can then tell batching bugs from noise.
            "initializer_range": 0.5,
            "rope_parameters": {
                "rope_type": "default",
                "rope_theta": 10000.0,
                "mrope_section": [2, 1, 1],
                "mrope_interleaved": True,
            },
        },
        vision_config={
            "depth": 2,
            "hidden_size": 32,
            "intermediate_size": 64,
            "num_heads": 4,
            "out_hidden_size": 32,
            "patch_size": 16,
            "spatial_merge_size": 2,
            "temporal_patch_size": 2,
            "num_position_embeddings": 64,
            "deepstack_visual_indexes": [1],
        },
        image_token_id=ids["image"],
        video_token_id=ids["video"],
        vision_start_token_id=ids["vision_start"],
        vision_end_token_id=ids["vision_end"],
        tie_word_embeddings=True,
    )
    model = Qwen3VLForConditionalGeneration(config).eval()
    model.generation_config = GenerationConfig(eos_token_id=[ids["im_end"], ids["eos"]], pad_token_id=ids["eos"], do_sample=False)
    # Qwen3-VL's image settings (16 px patches, 2x2 merge, mean/std 0.5) with a small pixel
    # budget so a judge prompt holds tens of image tokens, not thousands.
    image_processor = Qwen2VLImageProcessor(
        patch_size=16,
        merge_size=2,
        temporal_patch_size=2,
        image_mean=[0.5, 0.5, 0.5],
        image_std=[0.5, 0.5, 0.5],
        size={"shortest_edge": 32 * 32, "longest_edge": 128 * 128},
    )
    processor = Qwen3VLProcessor(
        image_processor=image_processor,
        tokenizer=tokenizer,
        video_processor=Qwen3VLVideoProcessor(),
        chat_template=CHAT_TEMPLATE,
    )
    model.save_pretrained(folder)
    processor.save_pretrained(folder)
