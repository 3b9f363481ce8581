"""``diffusers:PATH``: any diffusers image-editing pipeline from a local folder.

The folder's ``model_index.json`` names the pipeline class; it is loaded with that class's
``from_pretrained`` (local files only, never remote code) and called with editbench's request
mapped onto its ``__call__`` signature, found by inspection: the source image (and, where the
pipeline takes a list, the extra images) goes to ``image``, the instruction to ``prompt``, the
seed to a CPU ``generator``, and the settings (``steps``, ``guidance_scale``, ``true_cfg_scale``,
``image_guidance_scale``, ``negative_prompt``) to the arguments of those names. A setting the
pipeline has no argument for is an error, not silently dropped; a setting left unset takes the
pipeline's own default, and the value actually used is recorded in ``identity()``.

Working area: the source is resized to about ``working_area`` pixels at its aspect ratio (sides
multiples of the latent grid) before the call, and ``height``/``width`` (where the pipeline has
them) ask for the same size, so cost and output do not depend on the benchmark's image sizes. What
a pipeline does on top of that is its *quirk*, kept in :data:`QUIRKS` (docs/models.md has the same
table): FLUX.1 Kontext would snap the image to its own preferred ~1 MP sizes, so that is switched
off; Qwen-Image-Edit's ``__call__`` always works at ~1024², so those pipelines are driven by the
``qwen-image-edit`` adapters' component loop instead, which honours ``working_area``.

A pipeline that cannot be driven (no image input, needs a mask, makes videos, custom code) is
refused by :func:`validate` with the reason — the producer calls it at submit, before anything is
recorded — and the same check runs again at load.

Seeds, out-of-memory and identity follow the Qwen adapter: noise from
``torch.Generator("cpu").manual_seed(request.seed)``; an OOM frees memory and raises
:class:`~editbench.models.base.EditOOMError` (reason ``oom``, the worker goes on);
``identity()`` has the pipeline class, the folder's ``config_hash``, every setting, the resolved
call arguments and the library versions.
"""

from __future__ import annotations

import inspect
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PIL import Image

from editbench.errors import UnsupportedInputError
from editbench.models.base import EditOOMError, Editor, EditRequest, accepts_extra_images
from editbench.models.fingerprint import config_hash, library_versions
from editbench.models.offline import ensure_offline, local_model_dir
from editbench.models.params import ParamError, build_params, parse_area, parse_size, settings_dict

KIND = "diffusers"
DEFAULT_AREA = 1024 * 1024


class UnsupportedPipelineError(ValueError):
    """The folder's pipeline cannot be driven as an instruction editor; the message says why."""


@dataclass(frozen=True)
class PipelineQuirks:
    """What one pipeline needs beyond the generic signature mapping."""

    note: str
    # Call arguments always passed (e.g. switching off the pipeline's own resizing).
    fixed_arguments: dict[str, Any] = field(default_factory=dict)
    # An argument that takes the working area in pixels.
    area_argument: str | None = None
    # ``image=`` takes a list: extra images follow the source.
    multi_image: bool = False
    # An editbench adapter kind that drives this pipeline instead of ``__call__``.
    delegate: str | None = None
    # The pipeline refuses images with a side below this: smaller working areas are scaled up.
    min_side: int | None = None
    # The pipeline resizes to this area itself whatever it is given: another working_area is refused.
    fixed_area: int | None = None


QUIRKS: dict[str, PipelineQuirks] = {
    "QwenImageEditPipeline": PipelineQuirks(
        note="__call__ resizes the source to ~1024² whatever it is given; driven by the qwen-image-edit "
        "adapter's component loop so working_area holds (its settings apply: true_cfg_scale, condition_area, ...)",
        delegate="qwen-image-edit",
    ),
    "QwenImageEditPlusPipeline": PipelineQuirks(
        note="as QwenImageEditPipeline; driven by the qwen-image-edit-plus adapter (extra images are Picture 2, 3, ...)",
        delegate="qwen-image-edit-plus",
        multi_image=True,
    ),
    "FluxKontextPipeline": PipelineQuirks(
        note="snaps the image to one of Kontext's preferred ~1 MP resolutions unless _auto_resize=False; "
        "switched off, and max_area=working_area",
        fixed_arguments={"_auto_resize": False},
        area_argument="max_area",
    ),
    "StableDiffusionInstructPix2PixPipeline": PipelineQuirks(
        note="no height/width: the output has the size of the (working-area) input; image_guidance_scale weighs the source",
    ),
    "StableDiffusionXLInstructPix2PixPipeline": PipelineQuirks(
        note="height/width set the output; image_guidance_scale weighs the source",
    ),
    "Flux2KleinPipeline": PipelineQuirks(
        note="image= takes a list of reference images: extra images follow the source; images need both "
        "sides >= 64 px, so a smaller working area is scaled up to that",
        multi_image=True,
        min_side=64,
    ),
    "Flux2Pipeline": PipelineQuirks(
        note="image= takes a list of reference images: extra images follow the source; images need both "
        "sides >= 64 px, so a smaller working area is scaled up to that",
        multi_image=True,
        min_side=64,
    ),
    "JoyImageEditPlusPipeline": PipelineQuirks(note="takes images= (a list): the source first, extra images after it", multi_image=True),
    "LongCatImageEditPipeline": PipelineQuirks(
        note="__call__ resizes the source to ~1024² itself and has no height/width: only working_area=1024*1024 is accepted",
        fixed_area=1024 * 1024,
    ),
}

# Pipelines with an ``image`` input that still cannot serve as instruction editors.
UNSUPPORTED: dict[str, str] = {
    "QwenImageEditInpaintPipeline": "inpainting: needs a mask_image, and editbench requests carry none",
    "FluxKontextInpaintPipeline": "inpainting: needs a mask_image, and editbench requests carry none",
    "LEditsPPPipelineStableDiffusion": "LEDITS++ edits an inverted image (pipe.invert() first) with editing_prompt "
    "lists, not an instruction",
    "LEditsPPPipelineStableDiffusionXL": "LEDITS++ edits an inverted image (pipe.invert() first) with editing_prompt "
    "lists, not an instruction",
    "ChronoEditPipeline": "a video model: it returns frames, not one edited image",
    "BriaFiboEditPipeline": "its prompt is a structured JSON caption with an edit_instruction (made by FIBO's VLM), "
    "not a free-text instruction",
    "LucyEditPipeline": "video-to-video editing: it takes and returns videos",
}

# Request fields the editor supplies itself; any other argument without a default is refused.
_SUPPLIED = {
    "image",
    "images",
    "prompt",
    "generator",
    "num_inference_steps",
    "height",
    "width",
    "output_type",
    "num_images_per_prompt",
    "return_dict",
    "negative_prompt",
    "guidance_scale",
    "true_cfg_scale",
    "image_guidance_scale",
}
# Settings that map one-to-one onto call arguments of the same meaning.
_SETTING_ARGUMENTS = {
    "steps": "num_inference_steps",
    "guidance_scale": "guidance_scale",
    "true_cfg_scale": "true_cfg_scale",
    "image_guidance_scale": "image_guidance_scale",
    "negative_prompt": "negative_prompt",
}
_MASK_ARGUMENTS = ("mask_image", "mask")
_IMAGE_ARGUMENTS = ("image", "images")


@dataclass(frozen=True)
class DiffusersEditSettings:
    """Settings of the generic editor; ``None`` means "the pipeline's own default"."""

    steps: int | None = None
    guidance_scale: float | None = None
    true_cfg_scale: float | None = None
    image_guidance_scale: float | None = None
    negative_prompt: str | None = None
    # Pixels the source is resized to (at its aspect ratio) before the call.
    working_area: int = field(default=DEFAULT_AREA, metadata={"parse": parse_area})
    # None: the working-area size; "source": resized back to the source's size; "WxH": that size.
    output_size: str | None = None
    dtype: str = "auto"
    device: str = "auto"
    # Fault injection for tests and drills (as qwen-image-edit): sample ids whose edit raises a real
    # torch.OutOfMemoryError.
    simulate_oom_for: str = ""

    def __post_init__(self) -> None:
        if self.steps is not None and self.steps < 1:
            raise ParamError("steps must be >= 1")
        if self.output_size not in (None, "source"):
            parse_size(self.output_size)


@dataclass(frozen=True)
class PipelinePlan:
    """What :func:`validate` found: the class and how a request maps onto its call."""

    folder: Path
    class_name: str
    arguments: tuple[str, ...]
    defaults: dict[str, Any]
    quirks: PipelineQuirks | None


def read_pipeline_class(folder: Path) -> str:
    """The pipeline class named by ``folder/model_index.json``."""
    index = folder / "model_index.json"
    if not index.is_file():
        raise UnsupportedPipelineError(f"{folder} has no model_index.json (not a diffusers pipeline folder)")
    try:
        data = json.loads(index.read_text())
    except (OSError, ValueError) as exc:
        raise UnsupportedPipelineError(f"{index}: not readable JSON ({exc})") from None
    name = data.get("_class_name") if isinstance(data, dict) else None
    if isinstance(name, list):
        raise UnsupportedPipelineError(
            f"{index} names custom pipeline code {name!r}; editbench loads only diffusers' own classes (no remote code)"
        )
    if not isinstance(name, str) or not name:
        raise UnsupportedPipelineError(f"{index} has no _class_name")
    return name


def plan_pipeline(path: str | None, params: dict[str, Any] | None = None) -> PipelinePlan:
    """Check that the folder's pipeline can be driven with these settings; raise with the reason."""
    import diffusers

    folder = local_model_dir(path, KIND)
    class_name = read_pipeline_class(folder)
    if class_name in UNSUPPORTED:
        raise UnsupportedPipelineError(f"{class_name} cannot be driven by editbench: {UNSUPPORTED[class_name]}")
    cls = getattr(diffusers, class_name, None)
    if cls is None or not (inspect.isclass(cls) and issubclass(cls, diffusers.DiffusionPipeline)):
        raise UnsupportedPipelineError(
            f"{class_name} (from {folder / 'model_index.json'}) is not a pipeline of diffusers {diffusers.__version__}"
        )
    signature = inspect.signature(cls.__call__)
    arguments = tuple(name for name in signature.parameters if name != "self")
    defaults = {name: p.default for name, p in signature.parameters.items() if p.default is not inspect.Parameter.empty}
    if not any(name in arguments for name in _IMAGE_ARGUMENTS):
        raise UnsupportedPipelineError(f"{class_name} takes no image (a text-to-image pipeline generates, it does not edit)")
    if "prompt" not in arguments:
        raise UnsupportedPipelineError(f"{class_name} takes no text prompt, so it cannot follow an instruction")
    if any(name in arguments for name in _MASK_ARGUMENTS):
        raise UnsupportedPipelineError(f"{class_name} needs a mask (inpainting), and editbench requests carry none")
    if "num_frames" in arguments:
        raise UnsupportedPipelineError(f"{class_name} makes videos (it has num_frames), not one edited image")
    required = [
        name
        for name, p in signature.parameters.items()
        if name != "self"
        and p.default is inspect.Parameter.empty
        and p.kind not in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)
        and name not in _SUPPLIED
    ]
    if required:
        raise UnsupportedPipelineError(f"{class_name} needs {', '.join(required)}, which an edit request cannot supply")
    quirks = QUIRKS.get(class_name)
    user = {k: v for k, v in (params or {}).items()}
    if quirks is not None and quirks.delegate:
        from editbench.models.qwen_image_edit import QwenEditSettings

        build_params(QwenEditSettings, user, what=f"{KIND} ({class_name}, driven by {quirks.delegate})")
    else:
        settings = build_params(DiffusersEditSettings, user, what=f"{KIND} ({class_name})")
        for setting, argument in _SETTING_ARGUMENTS.items():
            if getattr(settings, setting) is not None and argument not in arguments:
                raise UnsupportedPipelineError(f"{class_name} has no {argument} argument, so {setting} cannot be set")
        if quirks is not None and quirks.fixed_area and settings.working_area != quirks.fixed_area:
            raise UnsupportedPipelineError(
                f"{class_name} always works at ~{math.isqrt(quirks.fixed_area)}² px (it resizes the source itself), "
                f"so working_area={settings.working_area} cannot be honoured"
            )
    return PipelinePlan(folder, class_name, arguments, defaults, quirks)


def validate(path: str | None, **params: Any) -> None:
    """Submit-time check (no weights loaded): raises with one clear reason if this cannot run."""
    ensure_offline()
    plan_pipeline(path, params)


def open_diffusers_editor(path: str | None, **params: Any) -> Editor:
    """The ``diffusers`` factory: a :class:`DiffusersEditor`, or the adapter a quirk delegates to."""
    ensure_offline()
    plan = plan_pipeline(path, {k: v for k, v in params.items() if k != "device"})
    if plan.quirks is not None and plan.quirks.delegate:
        from editbench.models.base import load_editor

        return DelegatedEditor(plan, load_editor(plan.quirks.delegate, str(plan.folder), **params))
    return DiffusersEditor(plan, **params)


open_diffusers_editor.validate = validate  # type: ignore[attr-defined]


def grid_dimensions(area: int, ratio: float, multiple: int) -> tuple[int, int]:
    """(width, height) with ``width / height ≈ ratio``, ``width * height ≈ area``, both multiples
    of ``multiple`` (never below one multiple, so extreme aspect ratios stay valid)."""
    width = math.sqrt(area * ratio)
    height = width / ratio
    return (
        max(multiple, round(width / multiple) * multiple),
        max(multiple, round(height / multiple) * multiple),
    )


class DelegatedEditor:
    """A pipeline driven by another editbench adapter (see :data:`QUIRKS`); identity says so."""

    name = KIND

    def __init__(self, plan: PipelinePlan, inner: Editor) -> None:
        self.plan = plan
        self.inner = inner

    def identity(self) -> dict[str, Any]:
        assert self.plan.quirks is not None
        return {**self.inner.identity(), "kind": KIND, "driven_by": self.plan.quirks.delegate, "quirk": self.plan.quirks.note}

    @property
    def accepts_extra_images(self) -> bool:
        return accepts_extra_images(self.inner)

    def edit(self, request: EditRequest) -> Image.Image:
        return self.inner.edit(request)


class DiffusersEditor:
    """A diffusers pipeline called through its own ``__call__`` with the request mapped onto it."""

    name = KIND

    def __init__(self, plan: PipelinePlan, **params: Any) -> None:
        from editbench.models.placement import resolve_device, resolve_dtype

        self.plan = plan
        self.folder = plan.folder
        self.settings = build_params(DiffusersEditSettings, params, what=f"{KIND} ({plan.class_name})")
        self._oom_ids = {s.strip() for s in self.settings.simulate_oom_for.split(",") if s.strip()}
        self.device = resolve_device(self.settings.device)
        try:
            self.dtype = resolve_dtype(self.settings.dtype, self.device)
        except ValueError as exc:
            raise ParamError(f"{KIND}: {exc}") from None
        self.config_hash = config_hash(self.folder)
        self.pipe = self._load()
        self.multiple = int(getattr(self.pipe, "vae_scale_factor", 8)) * 2
        self.call_settings = self._call_settings()

    @property
    def accepts_extra_images(self) -> bool:
        """Multi-image pipelines (``QUIRKS`` with ``multi_image``) take extra images after the source."""
        return self.plan.quirks is not None and self.plan.quirks.multi_image

    def _load(self) -> Any:
        import diffusers

        cls = getattr(diffusers, self.plan.class_name)
        pipe = cls.from_pretrained(self.folder, dtype=self.dtype, local_files_only=True)
        pipe.set_progress_bar_config(disable=True)
        return pipe.to(self.device)

    def _call_settings(self) -> dict[str, Any]:
        """Every call argument that shapes the output, as it will be passed (for identity())."""
        arguments = set(self.plan.arguments)
        call: dict[str, Any] = {}
        for setting, argument in _SETTING_ARGUMENTS.items():
            value = getattr(self.settings, setting)
            if argument in arguments:
                call[argument] = value if value is not None else self.plan.defaults.get(argument)
        quirks = self.plan.quirks
        if quirks is not None:
            call.update({k: v for k, v in quirks.fixed_arguments.items() if k in arguments})
            if quirks.area_argument in arguments:
                call[quirks.area_argument] = self.settings.working_area
        if "num_images_per_prompt" in arguments:
            call["num_images_per_prompt"] = 1
        return call

    # -- public protocol -----------------------------------------------------------------------

    def identity(self) -> dict[str, Any]:
        from editbench.models.placement import dtype_name

        return {
            "name": KIND,
            "pipeline": self.plan.class_name,
            "path": str(self.folder),
            "config_hash": self.config_hash,
            "params": settings_dict(self.settings),
            "resolved": {
                "device": str(self.device),
                "dtype": dtype_name(self.dtype),
                "seed_generator": "cpu",
                "call": {k: v for k, v in self.call_settings.items()},
                "size_multiple": self.multiple,
            },
            "quirk": self.plan.quirks.note if self.plan.quirks else None,
            "versions": library_versions(),
        }

    def edit(self, request: EditRequest) -> Image.Image:
        """Edit one image; raises :class:`EditOOMError` (memory already freed) on OOM."""
        from editbench.models.oom import OOM_ERRORS, free_accelerator_memory

        failure = None
        try:
            return self._edit(request)
        except OOM_ERRORS as exc:
            failure = f"{type(exc).__name__}: {exc}"
        # Outside the except block, so the failed attempt's tensors are no longer referenced.
        free_accelerator_memory()
        raise EditOOMError(f"{KIND} ({self.plan.class_name}) ran out of memory on sample {request.sample_id!r}: {failure}")

    # -- the edit ------------------------------------------------------------------------------

    def _edit(self, request: EditRequest) -> Image.Image:
        import torch

        from editbench.models.oom import simulated_oom

        images = [im.convert("RGB") for im in request.images]
        multi = self.accepts_extra_images
        if len(images) > 1 and not multi:
            raise UnsupportedInputError(f"{self.plan.class_name} edits one image; this sample has {len(images) - 1} extra input image(s)")
        if request.sample_id in self._oom_ids:
            raise simulated_oom(f"sample {request.sample_id!r} listed in simulate_oom_for")
        source = images[0]
        (width, height), final_size = self._output_plan(source.size)
        resized = [self._to_working_area(image) for image in images]
        if not ({"height", "width"} <= set(self.plan.arguments)):
            # Output follows the input's size: feed the source at the generation size.
            resized[0] = source.resize((width, height), Image.Resampling.LANCZOS)
        call = dict(self.call_settings)
        image_argument = "image" if "image" in self.plan.arguments else "images"
        call.update(
            {image_argument: resized if multi else resized[0]},
            prompt=request.instruction,
            generator=torch.Generator("cpu").manual_seed(int(request.seed)),
            output_type="pil",
        )
        if "height" in self.plan.arguments and "width" in self.plan.arguments:
            call.update(height=height, width=width)
        if "return_dict" in self.plan.arguments:
            call["return_dict"] = True
        with torch.inference_mode():
            output = self.pipe(**call)
        images_out = output.images if hasattr(output, "images") else output[0]
        image = images_out[0]
        if not isinstance(image, Image.Image):
            raise TypeError(f"{self.plan.class_name} returned {type(image).__name__}, not an image")
        if final_size is not None and image.size != final_size:
            image = image.resize(final_size, Image.Resampling.LANCZOS)
        return image

    def _to_working_area(self, image: Image.Image) -> Image.Image:
        size = self._grid(image.width / image.height)
        return image if image.size == size else image.resize(size, Image.Resampling.LANCZOS)

    def _grid(self, ratio: float) -> tuple[int, int]:
        width, height = grid_dimensions(self.settings.working_area, ratio, self.multiple)
        floor = self.plan.quirks.min_side if self.plan.quirks else None
        if floor and min(width, height) < floor:
            scale = floor / min(width, height)
            width, height = (
                math.ceil(width * scale / self.multiple) * self.multiple,
                math.ceil(height * scale / self.multiple) * self.multiple,
            )
        return width, height

    def _output_plan(self, source_size: tuple[int, int]) -> tuple[tuple[int, int], tuple[int, int] | None]:
        """(size to generate at, size to return or None for "as generated")."""
        requested = self.settings.output_size
        if requested in (None, "source"):
            size = self._grid(source_size[0] / source_size[1])
            return size, (source_size if requested == "source" else None)
        width, height = final = parse_size(requested)
        m = self.multiple
        floor = max(m, (self.plan.quirks.min_side or m) if self.plan.quirks else m)
        return (max(floor, width // m * m), max(floor, height // m * m)), final
