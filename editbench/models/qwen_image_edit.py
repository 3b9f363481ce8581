"""Qwen-Image-Edit editors (``qwen-image-edit``, ``qwen-image-edit-plus``) on diffusers pipelines.

Why this adapter drives the pipeline's components instead of calling ``pipe(...)``:
``QwenImageEditPipeline.__call__`` always resizes the source to ~1024×1024 pixels for the VAE
and the VL text encoder (``calculate_dimensions(1024 * 1024, ratio)``; the Plus pipeline uses
the module constants ``VAE_IMAGE_SIZE``/``CONDITION_IMAGE_SIZE``), and ``height``/``width`` only
set the output size. Pre-resizing the source does not help (the call resizes again), and passing
pre-encoded latents breaks the call (the VL-encoder image is then never defined and the RoPE
shapes of the image latents are still computed from 1024²). So the working area cannot be set
through ``__call__`` without patching library internals. Instead this module runs the same
algorithm over the pipeline's *public* pieces — ``image_processor.resize``/``preprocess``,
``encode_prompt``, ``prepare_latents``, the scheduler, the transformer, the VAE and
``image_processor.postprocess`` — with the working area as a parameter. At the pipeline's own
area (1024²) the result equals ``pipe(...)`` pixel for pixel, which a test checks.

Per-sample determinism: the initial noise comes from a CPU ``torch.Generator`` seeded with
``EditRequest.seed``, so an edit is reproducible exactly on the same hardware and software, and
every device type starts from the same noise.

Capacity planning (``capacity="full"``/``"tiny"``): the transformer, VAE and text encoder are
built by :mod:`editbench.models.capacity` with random weights directly on the device (nothing
read from disk but the tokenizer and processor of the model folder), so a real run measures real
timings and memory where no weights are present. Its images are noise; ``identity()`` says
``"capacity"`` so run cards and reports mark it.

Speed options (``rope``, ``fuse_gelu``, ``fp8``) rewrite the transformer with
:mod:`editbench.models.qwen_speedups` before compilation; all default off. ``compile=true``
compiles the repeated blocks with the text-sequence dim marked dynamic from the first call
(:func:`~editbench.models.qwen_speedups.compile_blocks_text_dynamic`): each instruction has its
own token count, and with every shape static the blocks recompiled for each new one (seconds per
new length on an H200). The image-token dim stays static, the same for every edit at one working
area and aspect, so Inductor's kernels stay specialised on it.

Phase hook: ``bench/editor.py`` times this adapter's own ``edit`` (not a copy of the loop), so
an editor has an optional ``phase_hook``, called with a phase name each time a phase's work has
been issued (see :data:`EDIT_PHASES`). The benchmark records a CUDA event per call; left at
``None`` (always, in runs) it costs one attribute test per phase.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from PIL import Image

from editbench.errors import UnsupportedInputError
from editbench.models import capacity as capacity_models
from editbench.models.base import EditOOMError, EditRequest, register_editor
from editbench.models.fingerprint import config_hash, library_versions
from editbench.models.load_times import LoadTimes
from editbench.models.offline import ensure_offline, local_model_dir
from editbench.models.oom import OOM_ERRORS, free_accelerator_memory, simulated_oom
from editbench.models.params import (
    ParamError,
    build_params,
    parse_area,
    parse_size,
    settings_dict,
)
from editbench.models.placement import dtype_name, resolve_device, resolve_dtype

# The areas the diffusers pipelines hard-code; the defaults here reproduce them.
PIPELINE_AREA = 1024 * 1024
PLUS_CONDITION_AREA = 384 * 384
# calculate_dimensions in the pipelines rounds both sides to multiples of 32.
DIMENSION_MULTIPLE = 32
CAPACITY_SIZES = ("full", "tiny")
ROPE_MODES = ("complex", "real")
# Capacity mode's random weights are seeded, so two loads build the same model.
CAPACITY_SEED = 0
# What ``phase_hook`` is called with, in order: after host-side preprocessing; after prompt
# encoding; after VAE encode + initial noise; per step after the cond (and, with true CFG, the
# uncond) transformer forward and after CFG + scheduler step; after VAE decode + copy to a PIL image.
EDIT_PHASES = ("conditioning", "text_encoder", "latents", "forward_cond", "forward_uncond", "step", "vae_decode")


@dataclass(frozen=True)
class QwenEditSettings:
    """Every setting that changes an edit's output or cost; all are recorded by ``identity()``."""

    steps: int = 50
    true_cfg_scale: float = 4.0
    # " " (not None) is what the Qwen model card uses: None switches true CFG off entirely.
    negative_prompt: str | None = " "
    # None: the working-area size at the source's aspect; "source": resized back to the source's
    # exact size; "WxH": that exact size.
    output_size: str | None = None
    working_area: int = field(default=PIPELINE_AREA, metadata={"parse": parse_area})
    # Plus only: pixels of each image given to the VL encoder. None: 384*384 as in diffusers,
    # but never more than working_area.
    condition_area: int | None = field(default=None, metadata={"parse": parse_area})
    dtype: str = "auto"
    device: str = "auto"
    attention_backend: str | None = None
    compile: bool = False
    free_text_encoder: bool = False
    # Fault injection for worker tests and drills: comma-separated sample ids whose edit raises a
    # real torch.OutOfMemoryError (then reported as EditOOMError like a genuine one).
    simulate_oom_for: str = ""
    # Capacity planning: "full" (public configs) or "tiny" builds the transformer, VAE and text
    # encoder with random weights on the device; the model folder supplies only the tokenizer and
    # processor. Timings are real, images are noise.
    capacity: str | None = None
    # Transformer speedups (qwen_speedups), applied before compile. "real": real-valued RoPE.
    rope: str = "complex"
    # MLP up-projection + bias + tanh-GELU in one cuBLASLt GEMM.
    fuse_gelu: bool = False
    # FP8 block linears: changes numerics, not validated for quality (timing only until checked).
    fp8: bool = False
    # Real weights on CUDA: read the safetensors straight into GPU memory (from_pretrained's
    # device_map) instead of loading them on the host and copying them over (a 58 GB editor
    # spent ~29 s in that copy per worker, two workers loading at once; docs/BENCHMARKS.md 10.4).
    load_on_device: bool = False

    def __post_init__(self) -> None:
        if self.steps < 1:
            raise ParamError("steps must be >= 1")
        if self.capacity not in (None, *CAPACITY_SIZES):
            raise ParamError(f"capacity must be one of none, {', '.join(CAPACITY_SIZES)}; got {self.capacity!r}")
        if self.rope not in ROPE_MODES:
            raise ParamError(f"rope must be one of {', '.join(ROPE_MODES)}; got {self.rope!r}")
        if self.output_size not in (None, "source"):
            parse_size(self.output_size)
        if self.attention_backend and self.attention_backend.endswith("_hub"):
            raise ParamError("hub attention backends download kernels; editbench runs offline")


@dataclass(frozen=True)
class _Conditioning:
    """The source image(s) prepared at the working area, in the forms the pipeline expects."""

    prompt_images: Any  # PIL image(s) for the VL text encoder
    vae_images: Any  # tensor(s) of shape (1, 3, 1, H, W) in [-1, 1]
    vae_sizes: list[tuple[int, int]]  # (width, height) of each VAE image


def area_dimensions(area: int, ratio: float) -> tuple[int, int]:
    """(width, height) with ``width / height ≈ ratio`` and ``width * height ≈ area``.

    The same rounding as the pipelines' ``calculate_dimensions`` (multiples of 32), but never
    below one multiple so extreme aspect ratios at small areas stay valid.
    """
    width = math.sqrt(area * ratio)
    height = width / ratio
    return (
        max(DIMENSION_MULTIPLE, round(width / DIMENSION_MULTIPLE) * DIMENSION_MULTIPLE),
        max(DIMENSION_MULTIPLE, round(height / DIMENSION_MULTIPLE) * DIMENSION_MULTIPLE),
    )


@register_editor("qwen-image-edit")
class QwenImageEditor:
    """``QwenImageEditPipeline`` from a local folder, with a settable working area."""

    name = "qwen-image-edit"
    pipeline_class = "QwenImageEditPipeline"
    # Benchmarks only (see the module docstring): called with each name of EDIT_PHASES.
    phase_hook: Callable[[str], None] | None = None

    @classmethod
    def validate(cls, path: str | None, **params: Any) -> None:
        """Submit-time check, no weights loaded: the folder exists and every parameter name and
        value is one this adapter accepts (so a typo is refused before a run is recorded)."""
        build_params(QwenEditSettings, params, what=cls.name)
        local_model_dir(path, cls.name)

    def __init__(self, path: str | None, **params: Any) -> None:
        ensure_offline()
        self.folder = local_model_dir(path, self.name)
        self.settings = build_params(QwenEditSettings, params, what=self.name)
        self._oom_ids = {s.strip() for s in self.settings.simulate_oom_for.split(",") if s.strip()}
        self.device = resolve_device(self.settings.device)
        try:
            self.dtype = resolve_dtype(self.settings.dtype, self.device)
        except ValueError as exc:
            raise ParamError(f"{self.name}: {exc}") from None
        if self.settings.fp8:
            from editbench.models.qwen_speedups import fp8_unsupported_reason

            reason = fp8_unsupported_reason(self.device)
            if reason:
                raise ParamError(f"{self.name}: fp8 is not available here: {reason}")
        self.capacity_info: dict[str, Any] | None = None
        if self.settings.capacity:
            self.config_hash = capacity_models.configs_hash(capacity_models.edit_configs(self.settings.capacity))
        else:
            self.config_hash = config_hash(self.folder)
        self.speedups: dict[str, Any] = {}
        self.load_times = LoadTimes()
        self.pipe = self._load()

    # -- loading -------------------------------------------------------------------------------

    def _load(self) -> Any:
        times = self.load_times
        with times("imports"):
            import diffusers

            getattr(diffusers, self.pipeline_class)  # diffusers imports its pipelines lazily
        with times("build"):
            pipe = self._build_capacity_pipeline() if self.settings.capacity else self._load_pipeline()
        if pipe.transformer.config.guidance_embeds:
            raise ValueError(f"{self.folder}: guidance-distilled transformers are not supported by {self.name}")
        pipe.set_progress_bar_config(disable=True)
        with times("to_device"):
            pipe.to(self.device)
            if self._offloads_text_encoder:
                pipe.text_encoder.to("cpu")
        with times("setup"):
            # Module rewrites first: they replace the attention processors, which the backend is
            # set on, and compilation must see the final modules.
            from editbench.models.qwen_speedups import apply_speedups, compile_blocks_text_dynamic

            self.speedups = apply_speedups(
                pipe.transformer, rope=self.settings.rope, fuse_gelu=self.settings.fuse_gelu, fp8=self.settings.fp8
            )
            if self.settings.attention_backend:
                pipe.transformer.set_attention_backend(self.settings.attention_backend)
            if self.settings.compile:
                # Regional compilation: the repeated blocks compile once and are reused, which keeps
                # compile time to tens of seconds instead of minutes for the whole transformer. The
                # text length is dynamic from the first compile (see compile_blocks_text_dynamic):
                # every prompt has its own token count, and a static one recompiled per new length.
                compile_blocks_text_dynamic(pipe.transformer)
        return pipe

    def _load_pipeline(self) -> Any:
        import diffusers

        placement = {"device_map": "cuda"} if self.settings.load_on_device and str(self.device) == "cuda" else {}
        return getattr(diffusers, self.pipeline_class).from_pretrained(self.folder, dtype=self.dtype, local_files_only=True, **placement)

    def _build_capacity_pipeline(self) -> Any:
        """The pipeline with random-weight components built on the device; tokenizer and processor
        from the folder (its ``tokenizer/`` and ``processor/`` subfolders, or the folder itself)."""
        import diffusers
        from transformers import AutoProcessor, AutoTokenizer

        size = self.settings.capacity
        assert size, "only built when settings.capacity names a size"
        processor = AutoProcessor.from_pretrained(self._part("processor"), local_files_only=True)
        tokenizer_dir = self.folder / "tokenizer"
        tokenizer = AutoTokenizer.from_pretrained(tokenizer_dir, local_files_only=True) if tokenizer_dir.is_dir() else processor.tokenizer
        # The processor's tokenizer is the one that writes the image placeholders of the prompt.
        token_ids = capacity_models.tokenizer_token_ids(processor.tokenizer)
        # Checked before building: a full-size build takes tens of GB and seconds.
        config = capacity_models.edit_configs(size)["text_encoder"]
        capacity_models.check_tokenizer_fits(processor.tokenizer, config)
        capacity_models.check_processor_matches(processor.image_processor, config["vision_config"])
        pixels = None
        if size == "full":
            pixels = dict(capacity_models.EDIT_PROCESSOR_PIXELS)
            capacity_models.set_processor_pixels(processor.image_processor, pixels)
        components = capacity_models.build_edit_components(self.device, self.dtype, size, token_ids=token_ids, seed=CAPACITY_SEED)
        self.capacity_info = capacity_models.capacity_record("edit", size, self.folder, token_ids, pixels, seed=CAPACITY_SEED)
        return getattr(diffusers, self.pipeline_class)(tokenizer=tokenizer, processor=processor, **components)

    def _part(self, name: str) -> Any:
        sub = self.folder / name
        return sub if sub.is_dir() else self.folder

    @property
    def _offloads_text_encoder(self) -> bool:
        return self.settings.free_text_encoder and self.device.type != "cpu"

    # -- public protocol -----------------------------------------------------------------------

    def identity(self) -> dict[str, Any]:
        identity = {
            "name": self.name,
            "pipeline": self.pipeline_class,
            "path": str(self.folder),
            # With capacity: the hash of the packaged configs the random-weight model was built from.
            "config_hash": self.config_hash,
            "capacity": self.settings.capacity,
            "params": settings_dict(self.settings),
            "resolved": {
                "device": str(self.device),
                "dtype": dtype_name(self.dtype),
                "condition_area": self._condition_area(),
                "seed_generator": "cpu",
            },
            "versions": library_versions(),
        }
        if self.capacity_info is not None:
            identity["capacity_planning"] = self.capacity_info
        if self.speedups:
            identity["speedups"] = dict(self.speedups)
        return identity

    def edit(self, request: EditRequest) -> Image.Image:
        """Edit one image; raises :class:`EditOOMError` (memory already freed) on OOM."""
        failure = None
        try:
            return self._edit(request)
        except OOM_ERRORS as exc:
            failure = f"{type(exc).__name__}: {exc}"
        # Outside the except block, so the failed attempt's tensors are no longer referenced.
        free_accelerator_memory()
        raise EditOOMError(f"{self.name} ran out of memory on sample {request.sample_id!r}: {failure}")

    # -- the edit ------------------------------------------------------------------------------

    def _edit(self, request: EditRequest) -> Image.Image:
        images = [im.convert("RGB") for im in request.images]
        self._check_images(images)
        if request.sample_id in self._oom_ids:
            raise simulated_oom(f"sample {request.sample_id!r} listed in simulate_oom_for")
        source = images[0]
        (gen_width, gen_height), final_size = self._output_plan(source.size)
        conditioning = self._conditioning(images)
        self._phase("conditioning")
        generator = torch.Generator("cpu").manual_seed(int(request.seed))
        with torch.inference_mode():
            prompt, negative = self._encode_prompts(request.instruction, conditioning.prompt_images)
            self._phase("text_encoder")
            latents, image_latents = self.pipe.prepare_latents(
                conditioning.vae_images,
                1,
                self.pipe.transformer.config.in_channels // 4,
                gen_height,
                gen_width,
                prompt[0].dtype,
                self.device,
                generator,
            )
            self._phase("latents")
            scale = self.pipe.vae_scale_factor * 2
            img_shapes = [
                [(1, gen_height // scale, gen_width // scale)]
                + [(1, height // scale, width // scale) for width, height in conditioning.vae_sizes]
            ]
            latents = self._denoise(latents, image_latents, img_shapes, prompt, negative)
            image = self._decode(latents, gen_height, gen_width)
            self._phase("vae_decode")
        if final_size is not None and image.size != final_size:
            image = image.resize(final_size, Image.Resampling.LANCZOS)
        return image

    def _phase(self, name: str) -> None:
        if self.phase_hook is not None:
            self.phase_hook(name)

    def _check_images(self, images: list[Image.Image]) -> None:
        if len(images) > 1:
            raise UnsupportedInputError(
                f"{self.name} edits one image and this sample has {len(images) - 1} extra input image(s); "
                "use qwen-image-edit-plus for multi-image items"
            )

    def _condition_area(self) -> int | None:
        return None

    def _conditioning(self, images: list[Image.Image]) -> _Conditioning:
        # As in QwenImageEditPipeline: one resize to the working area feeds both the VL encoder
        # (which tiles it into 28 px patches itself) and the VAE.
        source = images[0]
        width, height = area_dimensions(self.settings.working_area, source.width / source.height)
        resized = self.pipe.image_processor.resize(source, height, width)
        tensor = self.pipe.image_processor.preprocess(resized, height, width).unsqueeze(2)
        return _Conditioning(prompt_images=resized, vae_images=tensor, vae_sizes=[(width, height)])

    def _output_plan(self, source_size: tuple[int, int]) -> tuple[tuple[int, int], tuple[int, int] | None]:
        """(size to generate at, size to return or None for "as generated")."""
        multiple = self.pipe.vae_scale_factor * 2
        requested = self.settings.output_size
        if requested in (None, "source"):
            width, height = area_dimensions(self.settings.working_area, source_size[0] / source_size[1])
            final = source_size if requested == "source" else None
        else:
            width, height = final = parse_size(requested)
        # The latent grid needs multiples of (VAE factor × 2×2 packing); resized afterwards.
        return (
            max(multiple, width // multiple * multiple),
            max(multiple, height // multiple * multiple),
        ), final

    def _encode_prompts(self, instruction: str, prompt_images: Any) -> tuple[tuple[Any, Any], tuple[Any, Any] | None]:
        """(embeds, mask) for the instruction and, with true CFG, for the negative prompt."""
        encoder = self.pipe.text_encoder
        if self._offloads_text_encoder:
            encoder.to(self.device)
        try:
            prompt = self.pipe.encode_prompt(prompt=instruction, image=prompt_images, device=self.device)
            negative = None
            if self._true_cfg:
                negative = self.pipe.encode_prompt(prompt=self.settings.negative_prompt, image=prompt_images, device=self.device)
        finally:
            if self._offloads_text_encoder:
                # Give the encoder's memory back for the denoising loop (and a judge on the card).
                encoder.to("cpu")
                free_accelerator_memory()
        return prompt, negative

    @property
    def _true_cfg(self) -> bool:
        return self.settings.true_cfg_scale > 1 and self.settings.negative_prompt is not None

    def _denoise(self, latents: Any, image_latents: Any, img_shapes: list, prompt: tuple, negative: tuple | None) -> Any:
        from diffusers.pipelines.qwenimage.pipeline_qwenimage_edit import (
            calculate_shift,
        )

        scheduler, transformer = self.pipe.scheduler, self.pipe.transformer
        steps = self.settings.steps
        mu = calculate_shift(
            latents.shape[1],
            scheduler.config.get("base_image_seq_len", 256),
            scheduler.config.get("max_image_seq_len", 4096),
            scheduler.config.get("base_shift", 0.5),
            scheduler.config.get("max_shift", 1.15),
        )
        scheduler.set_timesteps(sigmas=np.linspace(1.0, 1 / steps, steps), device=self.device, mu=mu)
        scheduler.set_begin_index(0)
        for t in scheduler.timesteps:
            model_input = torch.cat([latents, image_latents], dim=1)
            timestep = t.expand(latents.shape[0]).to(latents.dtype) / 1000
            with transformer.cache_context("cond"):
                noise = self._predict(model_input, timestep, prompt, img_shapes)[:, : latents.size(1)]
            self._phase("forward_cond")
            if negative is not None:
                with transformer.cache_context("uncond"):
                    negative_noise = self._predict(model_input, timestep, negative, img_shapes)[:, : latents.size(1)]
                self._phase("forward_uncond")
                combined = negative_noise + self.settings.true_cfg_scale * (noise - negative_noise)
                # Qwen's norm-preserving CFG: keep the conditional prediction's magnitude.
                noise = combined * (torch.norm(noise, dim=-1, keepdim=True) / torch.norm(combined, dim=-1, keepdim=True))
            latents = scheduler.step(noise, t, latents, return_dict=False)[0]
            self._phase("step")
        return latents

    def _predict(self, model_input: Any, timestep: Any, text: tuple[Any, Any], img_shapes: list) -> Any:
        embeds, mask = text
        return self.pipe.transformer(
            hidden_states=model_input,
            timestep=timestep,
            guidance=None,
            encoder_hidden_states_mask=mask,
            encoder_hidden_states=embeds,
            img_shapes=img_shapes,
            attention_kwargs={},
            return_dict=False,
        )[0]

    def _decode(self, latents: Any, height: int, width: int) -> Image.Image:
        vae = self.pipe.vae
        latents = _unpack(latents, height, width, self.pipe.vae_scale_factor).to(vae.dtype)
        shape = (1, vae.config.z_dim, 1, 1, 1)
        mean = torch.tensor(vae.config.latents_mean).view(shape).to(latents.device, latents.dtype)
        inverse_std = 1.0 / torch.tensor(vae.config.latents_std).view(shape).to(latents.device, latents.dtype)
        latents = latents / inverse_std + mean
        decoded = vae.decode(latents, return_dict=False)[0][:, :, 0]
        return self.pipe.image_processor.postprocess(decoded, output_type="pil")[0]


@register_editor("qwen-image-edit-plus")
class QwenImageEditPlusEditor(QwenImageEditor):
    """``QwenImageEditPlusPipeline`` (Qwen-Image-Edit-2509 and later): several input images.

    ``EditRequest.extra_images`` follow the source as "Picture 2", "Picture 3", ... in the
    prompt. Unlike diffusers (which sizes the output after the *last* image), the output keeps
    the source's aspect ratio, because the source is what a benchmark edits.
    """

    name = "qwen-image-edit-plus"
    pipeline_class = "QwenImageEditPlusPipeline"
    accepts_extra_images = True

    def _check_images(self, images: list[Image.Image]) -> None:
        return None

    def _condition_area(self) -> int:
        if self.settings.condition_area is not None:
            return self.settings.condition_area
        return min(PLUS_CONDITION_AREA, self.settings.working_area)

    def _conditioning(self, images: list[Image.Image]) -> _Conditioning:
        # As in QwenImageEditPlusPipeline: a small copy of every image for the VL encoder and a
        # working-area copy for the VAE, each at its own aspect ratio.
        prompt_images, vae_images, vae_sizes = [], [], []
        for image in images:
            ratio = image.width / image.height
            cond_width, cond_height = area_dimensions(self._condition_area(), ratio)
            width, height = area_dimensions(self.settings.working_area, ratio)
            prompt_images.append(self.pipe.image_processor.resize(image, cond_height, cond_width))
            vae_images.append(self.pipe.image_processor.preprocess(image, height, width).unsqueeze(2))
            vae_sizes.append((width, height))
        return _Conditioning(prompt_images=prompt_images, vae_images=vae_images, vae_sizes=vae_sizes)


def _unpack(latents: Any, height: int, width: int, vae_scale_factor: int) -> Any:
    """Packed (B, tokens, C·4) latents back to the VAE's (B, C, 1, H/f, W/f) layout."""
    batch, _, channels = latents.shape
    rows, cols = height // (vae_scale_factor * 2), width // (vae_scale_factor * 2)
    grid = latents.view(batch, rows, cols, channels // 4, 2, 2).permute(0, 3, 1, 4, 2, 5)
    return grid.reshape(batch, channels // 4, 1, rows * 2, cols * 2)
