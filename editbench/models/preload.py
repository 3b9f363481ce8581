"""Import the model libraries ahead of the first model load, without initialising CUDA.

A worker's parent process calls :func:`preload_model_libraries` before Celery forks its pool
child (``editbench/workers/boot.py``), so the child inherits torch, diffusers, transformers and
the built-in adapters already imported instead of importing them inside its first task (issue 15
goal 2: on an H200 a fresh worker child spent 16 s building an editor that takes 2.4 s in a
process that already had these imported). Measured on a CPU with the tiny editor: 5.5 s → 0.2 s
for the first load.

Fork safety: the child must be able to initialise CUDA itself. Importing diffusers asks
``torch.cuda.is_available()``, which by default calls ``cudaGetDeviceCount`` (``cuInit``) and
poisons every later fork (torch then refuses CUDA in the child: "Cannot re-initialize CUDA in
forked subprocess"). So the imports run with ``PYTORCH_NVML_BASED_CUDA_CHECK=1``, which answers
from NVML instead, and are skipped where NVML cannot answer for the visible devices (torch would
fall back to the CUDA runtime). The variable is restored afterwards, so the child checks CUDA as
usual.
"""

from __future__ import annotations

import importlib
import os
import sys
import time
from dataclasses import dataclass, field

#: The built-in adapters that build local models, and the helpers their first load imports.
ADAPTER_MODULES = (
    "editbench.models.qwen_image_edit",
    "editbench.models.qwen_speedups",
    "editbench.models.capacity",
    "editbench.models.qwen3_vl",
    "editbench.models.qwen3_vl_speedups",
    "editbench.models.diffusers_editor",
)
#: diffusers and transformers import their model classes lazily (on first attribute access):
#: the classes the built-in adapters build, touched so their modules are imported too.
LAZY_CLASSES: dict[str, tuple[str, ...]] = {
    "diffusers": (
        "QwenImageEditPipeline",
        "QwenImageEditPlusPipeline",
        "QwenImageTransformer2DModel",
        "AutoencoderKLQwenImage",
        "FlowMatchEulerDiscreteScheduler",
    ),
    "transformers": (
        "AutoProcessor",
        "AutoTokenizer",
        "GenerationConfig",
        "Qwen2_5_VLForConditionalGeneration",
        "Qwen3VLForConditionalGeneration",
    ),
}
#: What a worker's log reports as preloaded (or not) at a model load.
LIBRARIES = ("torch", "diffusers", "transformers")
_NVML_CHECK = "PYTORCH_NVML_BASED_CUDA_CHECK"


@dataclass
class Preload:
    """What :func:`preload_model_libraries` did, for the worker log."""

    seconds: float = 0.0
    modules: int = 0  # modules newly imported
    skipped: str | None = None  # why nothing was imported
    failed: list[str] = field(default_factory=list)  # "name: error" of imports that failed
    cuda_initialised: bool = False

    def describe(self) -> str:
        if self.skipped:
            return f"model libraries not preloaded: {self.skipped}"
        failed = f"; failed: {'; '.join(self.failed)}" if self.failed else ""
        return (
            f"preloaded model libraries ({' '.join(LIBRARIES)} and the built-in adapters) in {self.seconds:.1f}s: "
            f"{self.modules} modules, CUDA initialised: {'yes' if self.cuda_initialised else 'no'}{failed}"
        )


def preload_model_libraries(device: str) -> Preload:
    """Import torch, diffusers, transformers and the built-in adapters; never initialises CUDA.

    ``device`` is the worker's (``cpu`` or ``cuda``). A failed import is reported, not raised:
    the first model load then imports (and reports) it as it always did.
    """
    result = Preload()
    before = len(sys.modules)
    started = time.perf_counter()
    previous = os.environ.get(_NVML_CHECK)
    os.environ[_NVML_CHECK] = "1"
    try:
        import torch

        if device != "cpu" and _nvml_device_count(torch) < 0:
            result.skipped = "NVML cannot count the visible GPUs, so importing diffusers would initialise CUDA before the fork"
            return result
        for library, names in LAZY_CLASSES.items():
            try:
                module = importlib.import_module(library)
                for name in names:
                    getattr(module, name)
            except Exception as exc:  # noqa: BLE001 - reported; the first load imports it again and fails loudly there
                result.failed.append(f"{library}: {type(exc).__name__}: {exc}")
        for name in ADAPTER_MODULES:
            try:
                importlib.import_module(name)
            except Exception as exc:  # noqa: BLE001 - as above
                result.failed.append(f"{name}: {type(exc).__name__}: {exc}")
        result.cuda_initialised = torch.cuda.is_initialized()
    finally:
        if previous is None:
            os.environ.pop(_NVML_CHECK, None)
        else:
            os.environ[_NVML_CHECK] = previous
        result.seconds = time.perf_counter() - started
        result.modules = len(sys.modules) - before
    return result


def _nvml_device_count(torch: object) -> int:
    """The visible GPUs as NVML counts them, negative where NVML cannot tell (torch's own helper)."""
    count = getattr(getattr(torch, "cuda", None), "_device_count_nvml", None)
    return int(count()) if callable(count) else -1


def already_imported() -> list[str]:
    """Which of :data:`LIBRARIES` this process has imported, with the model classes of
    :data:`LAZY_CLASSES` resolved (a lazy module caches each class in its ``__dict__`` once
    imported, so a bare ``import diffusers`` does not count)."""
    return [name for name in LIBRARIES if name in sys.modules and all(cls in vars(sys.modules[name]) for cls in LAZY_CLASSES.get(name, ()))]


def fork_poisoned() -> bool:
    """Whether this process was forked from one that had touched CUDA (torch then refuses to
    initialise CUDA here); False where torch is not imported."""
    torch = sys.modules.get("torch")
    check = getattr(getattr(torch, "cuda", None), "_is_in_bad_fork", None)
    return bool(check()) if callable(check) else False
