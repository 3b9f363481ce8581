"""Tiny random checkpoints of diffusers' image-editing pipelines, built offline, for ``diffusers:``.

As :mod:`editbench.models.tiny` does for the Qwen models: the *real* pipeline and component
classes at toy widths with seeded random weights, saved with ``save_pretrained`` so the generic
editor loads them through ``model_index.json`` exactly like a downloaded folder. Tokenizers are
trained in-process on a small corpus (CLIP's byte-level BPE with ``</w>`` word ends; T5's
Unigram with the ``▁`` metaspace), so nothing is downloaded. Outputs are noise; loading, the
signature mapping, the pipelines' own preprocessing and denoising loops are real.

``build_tiny_pipeline(name, dest)`` builds one; :data:`BUILDERS` lists the pipelines covered.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from editbench.models.offline import ensure_offline
from editbench.models.tiny import _CORPUS, SEED, _ensure

HIDDEN = 32


def _words() -> list[str]:
    return list(_CORPUS) * 4


def build_tiny_clip_tokenizer() -> Any:
    """CLIP's tokenizer class with a small vocabulary trained here (same normaliser/pre-tokeniser)."""
    from tokenizers import Regex, Tokenizer, models, normalizers, pre_tokenizers, trainers
    from transformers import CLIPTokenizer

    bpe = Tokenizer(models.BPE(end_of_word_suffix="</w>", unk_token="<|endoftext|>"))
    bpe.normalizer = normalizers.Sequence([normalizers.NFC(), normalizers.Replace(Regex(r"\s+"), " "), normalizers.Lowercase()])
    bpe.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Split(
                Regex(r"""<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+"""),
                behavior="removed",
                invert=True,
            ),
            pre_tokenizers.ByteLevel(add_prefix_space=False),
        ]
    )
    alphabet = pre_tokenizers.ByteLevel.alphabet()
    trainer = trainers.BpeTrainer(
        vocab_size=600,
        initial_alphabet=alphabet,
        special_tokens=["<|startoftext|>", "<|endoftext|>"],
        end_of_word_suffix="</w>",
        show_progress=False,
    )
    bpe.train_from_iterator(_words(), trainer)
    model = json.loads(bpe.to_str())["model"]
    vocab = dict(model["vocab"])
    # Every byte must exist as a word end too, or an unseen one-letter word has no token.
    for char in alphabet:
        vocab.setdefault(char + "</w>", len(vocab))
    merges = [tuple(m) if isinstance(m, list) else tuple(m.split(" ")) for m in model["merges"]]
    tokenizer = CLIPTokenizer(vocab=vocab, merges=merges)  # type: ignore[arg-type]  # tokenizers takes (a, b) merge pairs; the hint names only "a b" strings
    tokenizer.model_max_length = 77
    return tokenizer


def build_tiny_t5_tokenizer() -> Any:
    """T5's tokenizer class with a small Unigram vocabulary trained here."""
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers
    from transformers import T5Tokenizer

    unigram = Tokenizer(models.Unigram())
    unigram.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.WhitespaceSplit(),
            pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always", split=True),
        ]
    )
    trainer = trainers.UnigramTrainer(vocab_size=400, special_tokens=["<pad>", "</s>", "<unk>"], unk_token="<unk>", show_progress=False)
    unigram.train_from_iterator(_words(), trainer)
    pieces = [(piece, score) for piece, score in json.loads(unigram.to_str())["model"]["vocab"]]
    tokenizer = T5Tokenizer(vocab=pieces, extra_ids=0)
    tokenizer.model_max_length = 512
    return tokenizer


def _clip_text_config(tokenizer: Any, **extra: Any) -> Any:
    from transformers import CLIPTextConfig

    return CLIPTextConfig(
        vocab_size=len(tokenizer),
        hidden_size=HIDDEN,
        intermediate_size=37,
        num_hidden_layers=2,
        num_attention_heads=4,
        max_position_embeddings=77,
        projection_dim=HIDDEN,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        **extra,
    )


def _sd_vae() -> Any:
    import torch
    from diffusers import AutoencoderKL

    torch.manual_seed(SEED)
    return AutoencoderKL(
        block_out_channels=[32, 64],
        in_channels=3,
        out_channels=3,
        down_block_types=["DownEncoderBlock2D"] * 2,
        up_block_types=["UpDecoderBlock2D"] * 2,
        latent_channels=4,
        sample_size=64,
    )


def _write_instruct_pix2pix(folder: Path) -> None:
    import torch
    from diffusers import EulerAncestralDiscreteScheduler, StableDiffusionInstructPix2PixPipeline, UNet2DConditionModel
    from transformers import CLIPTextModel

    tokenizer = build_tiny_clip_tokenizer()
    torch.manual_seed(SEED)
    # 8 input channels: the noisy latents and the source image's latents, as in InstructPix2Pix.
    unet = UNet2DConditionModel(
        block_out_channels=(32, 64),
        layers_per_block=1,
        sample_size=32,
        in_channels=8,
        out_channels=4,
        down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
        up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
        cross_attention_dim=HIDDEN,
        attention_head_dim=(2, 4),
    )
    torch.manual_seed(SEED)
    text_encoder = CLIPTextModel(_clip_text_config(tokenizer)).eval()
    pipe = StableDiffusionInstructPix2PixPipeline(
        vae=_sd_vae(),
        text_encoder=text_encoder,
        tokenizer=tokenizer,
        unet=unet,
        scheduler=EulerAncestralDiscreteScheduler(beta_schedule="scaled_linear", beta_start=0.00085, beta_end=0.012),
        safety_checker=None,  # type: ignore[arg-type]  # an optional component: diffusers accepts None, its hint does not say so
        feature_extractor=None,  # type: ignore[arg-type]  # an optional component: diffusers accepts None, its hint does not say so
        image_encoder=None,
        requires_safety_checker=False,
    )
    pipe.save_pretrained(folder)


def _write_sdxl_instruct_pix2pix(folder: Path) -> None:
    import torch
    from diffusers import EulerDiscreteScheduler, StableDiffusionXLInstructPix2PixPipeline, UNet2DConditionModel
    from transformers import CLIPTextModel, CLIPTextModelWithProjection

    tokenizer = build_tiny_clip_tokenizer()
    time_embed = 8
    torch.manual_seed(SEED)
    unet = UNet2DConditionModel(
        block_out_channels=(32, 64),
        layers_per_block=1,
        sample_size=32,
        in_channels=8,
        out_channels=4,
        down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
        up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
        attention_head_dim=(2, 4),
        use_linear_projection=True,
        addition_embed_type="text_time",
        addition_time_embed_dim=time_embed,
        transformer_layers_per_block=(1, 2),
        # Six size/crop ids of time_embed each, plus the second encoder's pooled projection.
        projection_class_embeddings_input_dim=6 * time_embed + HIDDEN,
        # Both encoders' hidden states side by side.
        cross_attention_dim=2 * HIDDEN,
    )
    torch.manual_seed(SEED)
    text_encoder = CLIPTextModel(_clip_text_config(tokenizer)).eval()
    torch.manual_seed(SEED + 1)
    text_encoder_2 = CLIPTextModelWithProjection(_clip_text_config(tokenizer)).eval()
    pipe = StableDiffusionXLInstructPix2PixPipeline(
        vae=_sd_vae(),
        text_encoder=text_encoder,
        text_encoder_2=text_encoder_2,
        tokenizer=tokenizer,
        tokenizer_2=tokenizer,
        unet=unet,
        scheduler=EulerDiscreteScheduler(
            beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear", steps_offset=1, timestep_spacing="leading"
        ),
        add_watermarker=False,
    )
    pipe.save_pretrained(folder)


def _write_flux_kontext(folder: Path) -> None:
    import torch
    from diffusers import AutoencoderKL, FlowMatchEulerDiscreteScheduler, FluxKontextPipeline, FluxTransformer2DModel
    from transformers import CLIPTextModel, T5Config, T5EncoderModel

    clip_tokenizer = build_tiny_clip_tokenizer()
    t5_tokenizer = build_tiny_t5_tokenizer()
    latent_channels = 4
    torch.manual_seed(SEED)
    # FLUX packs 2x2 latent patches: in_channels = 4 * the VAE's latent channels. The RoPE axes
    # add up to the head dim; guidance is embedded (Kontext is guidance-distilled).
    transformer = FluxTransformer2DModel(
        patch_size=1,
        in_channels=4 * latent_channels,
        num_layers=1,
        num_single_layers=1,
        attention_head_dim=16,
        num_attention_heads=2,
        joint_attention_dim=HIDDEN,
        pooled_projection_dim=HIDDEN,
        guidance_embeds=True,
        axes_dims_rope=(4, 6, 6),
    )
    torch.manual_seed(SEED)
    vae = AutoencoderKL(
        block_out_channels=[8, 16],
        in_channels=3,
        out_channels=3,
        down_block_types=["DownEncoderBlock2D"] * 2,
        up_block_types=["UpDecoderBlock2D"] * 2,
        latent_channels=latent_channels,
        norm_num_groups=4,
        sample_size=32,
        use_quant_conv=False,
        use_post_quant_conv=False,
        shift_factor=0.0609,
        scaling_factor=1.5035,
    )
    torch.manual_seed(SEED)
    text_encoder = CLIPTextModel(_clip_text_config(clip_tokenizer)).eval()
    torch.manual_seed(SEED)
    text_encoder_2 = T5EncoderModel(
        T5Config(  # type: ignore[call-arg]  # transformers configs take extra kwargs at runtime, their dataclass hints do not
            vocab_size=len(t5_tokenizer),
            d_model=HIDDEN,
            d_kv=8,
            d_ff=37,
            num_layers=2,
            num_heads=4,
            relative_attention_num_buckets=8,
            decoder_start_token_id=0,
            pad_token_id=t5_tokenizer.pad_token_id,
            eos_token_id=t5_tokenizer.eos_token_id,
        )
    ).eval()
    pipe = FluxKontextPipeline(
        scheduler=FlowMatchEulerDiscreteScheduler(),
        vae=vae,
        text_encoder=text_encoder,
        tokenizer=clip_tokenizer,
        text_encoder_2=text_encoder_2,
        tokenizer_2=t5_tokenizer,
        transformer=transformer,
        image_encoder=None,  # type: ignore[arg-type]  # an optional component: diffusers accepts None, its hint does not say so
        feature_extractor=None,  # type: ignore[arg-type]  # an optional component: diffusers accepts None, its hint does not say so
    )
    pipe.save_pretrained(folder)


def _write_flux2_klein(folder: Path) -> None:
    import torch
    from diffusers import AutoencoderKLFlux2, FlowMatchEulerDiscreteScheduler, Flux2KleinPipeline, Flux2Transformer2DModel
    from transformers import Qwen3Config, Qwen3ForCausalLM

    from editbench.models.tiny import build_tiny_tokenizer

    tokenizer = build_tiny_tokenizer()
    hidden = 16
    torch.manual_seed(SEED)
    # The pipeline's patchified latents are 4 × the VAE's latent channels; its batch-norm
    # statistics are over those.
    vae = AutoencoderKLFlux2(
        block_out_channels=(8, 16),
        down_block_types=("DownEncoderBlock2D",) * 2,
        up_block_types=("UpDecoderBlock2D",) * 2,
        latent_channels=4,
        norm_num_groups=4,
        layers_per_block=1,
        sample_size=32,
    )
    torch.manual_seed(SEED)
    # 28 layers (at width 16): the pipeline stacks hidden states 9, 18 and 27 as the prompt
    # embedding, as for the real Qwen3 encoder, so joint_attention_dim = 3 × hidden.
    text_encoder = Qwen3ForCausalLM(
        Qwen3Config(
            vocab_size=len(tokenizer),
            hidden_size=hidden,
            intermediate_size=32,
            num_hidden_layers=28,
            num_attention_heads=2,
            num_key_value_heads=1,
            head_dim=8,
            max_position_embeddings=1024,
            pad_token_id=tokenizer.convert_tokens_to_ids("<|endoftext|>"),
        )
    ).eval()
    torch.manual_seed(SEED)
    transformer = Flux2Transformer2DModel(
        patch_size=1,
        in_channels=16,
        num_layers=1,
        num_single_layers=1,
        attention_head_dim=16,
        num_attention_heads=2,
        joint_attention_dim=3 * hidden,
        timestep_guidance_channels=32,
        axes_dims_rope=(4, 4, 4, 4),
        guidance_embeds=False,
    )
    pipe = Flux2KleinPipeline(
        scheduler=FlowMatchEulerDiscreteScheduler(),
        vae=vae,
        text_encoder=text_encoder,
        tokenizer=tokenizer,
        transformer=transformer,
        is_distilled=True,
    )
    pipe.save_pretrained(folder)


def _write_qwen(class_name: str) -> Callable[[Path], None]:
    def write(folder: Path) -> None:
        from editbench.models.tiny import _write_tiny_editor

        # The Plus checkpoints (Qwen-Image-Edit-2509 and later) have the same components as the
        # first one; only the pipeline class in model_index.json differs.
        _write_tiny_editor(folder)
        index = folder / "model_index.json"
        data = json.loads(index.read_text())
        data["_class_name"] = class_name
        index.write_text(json.dumps(data, indent=2))

    return write


BUILDERS: dict[str, Callable[[Path], None]] = {
    "QwenImageEditPipeline": _write_qwen("QwenImageEditPipeline"),
    "QwenImageEditPlusPipeline": _write_qwen("QwenImageEditPlusPipeline"),
    "FluxKontextPipeline": _write_flux_kontext,
    "StableDiffusionInstructPix2PixPipeline": _write_instruct_pix2pix,
    "StableDiffusionXLInstructPix2PixPipeline": _write_sdxl_instruct_pix2pix,
    "Flux2KleinPipeline": _write_flux2_klein,
}


def build_tiny_pipeline(class_name: str, dest: Path) -> Path:
    """Build ``dest/<class_name>`` unless a complete copy is there; returns the folder."""
    if class_name not in BUILDERS:
        raise ValueError(f"no tiny builder for {class_name}; available: {', '.join(sorted(BUILDERS))}")
    ensure_offline()
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    folder = dest / class_name
    _ensure(folder, BUILDERS[class_name])
    return folder
