"""Write model folders with random weights, for measuring the real loading path (issue 15).

Capacity mode (``capacity=full``) builds random-weight models directly on the device, so a run
never reads weights from disk. This script writes the same models as ordinary model folders, so
the adapters load them *without* ``capacity``, through ``from_pretrained`` (safetensors read from
disk, then moved to the device) as they would load the real weights:

- ``OUT/editor``: a diffusers ``QwenImageEditPipeline`` folder (``model_index.json``,
  ``transformer/``, ``text_encoder/``, ``vae/``, ``scheduler/``, ``tokenizer/``, ``processor/``);
- ``OUT/judge``: a ``Qwen3VLForConditionalGeneration`` folder (config, safetensors, processor).

The models come from the builders capacity mode uses (:func:`editbench.models.capacity.
build_edit_components` and ``build_judge``, same sizes, same seed, special-token ids from the
same tokenizer), and the tokenizer/processor files from the tiny folders ``editbench models
tiny`` writes. At full size the processors get the real models' pixel limits, as capacity mode
sets them at load time, so a run over these folders does the same work as a capacity run.

Full size (bf16, built on ``--device``): the editor is ~58 GB on disk, the judge ~17 GB. Each
folder is written into a hidden sibling and renamed into place when complete; the editor's
memory is freed before the judge is built.

    python bench/weights_on_disk.py --size tiny --out /tmp/wod/models                 # CPU, float32
    python bench/weights_on_disk.py --size full --out /root/w --device cuda:0          # GPU, bf16
"""

from __future__ import annotations

import argparse
import gc
import json
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from editbench.models import capacity
from editbench.models.offline import ensure_offline
from editbench.models.tiny import build_tiny_models

SEED = 0  # the adapters' CAPACITY_SEED: the same weights a capacity run builds
MARKER = "editbench-random-weights.json"
GB = 1e9


def _name(dtype: Any) -> str:
    return str(dtype).removeprefix("torch.")


def folder_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def param_bytes(*modules: Any) -> int:
    return sum(p.numel() * p.element_size() for m in modules for p in m.parameters()) + sum(
        b.numel() * b.element_size() for m in modules for b in m.buffers()
    )


def _free_device(device: Any) -> None:
    import torch

    gc.collect()
    if device.type == "cuda":
        torch.cuda.empty_cache()


def _check_disk(target: Path, needed: int) -> None:
    free = shutil.disk_usage(target.parent).free
    if free < needed * 1.05:
        raise SystemExit(f"{target.parent}: {free / GB:.1f} GB free, {needed / GB:.1f} GB needed")


def _write(target: Path, force: bool, write: Any) -> None:
    """``write(tmp)`` into a hidden sibling, then rename it to ``target``."""
    if target.exists():
        if not force:
            raise SystemExit(f"{target} exists; pass --force to replace it")
        shutil.rmtree(target)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    try:
        write(tmp)
        tmp.rename(target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _marker(folder: Path, role: str, size: str, dtype: Any, token_ids: dict, pixels: dict | None, configs: Any) -> None:
    record = {
        "role": role,
        "size": size,
        "dtype": _name(dtype),
        "seed": SEED,
        "weights": "random (capacity-mode builders): outputs are noise, load and run timings are real",
        "configs_hash": capacity.configs_hash(configs),
        "token_ids": token_ids,
        "processor_pixels": pixels,
        "written_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    (folder / MARKER).write_text(json.dumps(record, indent=2))


def write_editor(tiny_editor: Path, target: Path, size: str, device: Any, dtype: Any, force: bool = False) -> dict[str, Any]:
    """The capacity editor, saved as a pipeline folder with the tiny folder's tokenizer/processor."""
    from diffusers import QwenImageEditPipeline
    from transformers import AutoProcessor, AutoTokenizer

    # As QwenImageEditor._build_capacity_pipeline: ids from the processor's tokenizer, checks
    # before the build, and the real pixel limits at full size.
    processor = AutoProcessor.from_pretrained(tiny_editor / "processor", local_files_only=True)
    tokenizer: Any = AutoTokenizer.from_pretrained(tiny_editor / "tokenizer", local_files_only=True)
    token_ids = capacity.tokenizer_token_ids(processor.tokenizer)
    configs = capacity.edit_configs(size)
    capacity.check_tokenizer_fits(processor.tokenizer, configs["text_encoder"])
    capacity.check_processor_matches(processor.image_processor, configs["text_encoder"]["vision_config"])
    pixels = dict(capacity.EDIT_PROCESSOR_PIXELS) if size == "full" else None
    if pixels:
        capacity.set_processor_pixels(processor.image_processor, pixels)

    started = time.perf_counter()
    components = capacity.build_edit_components(device, dtype, size, token_ids=token_ids, seed=SEED)
    _sync(device)
    build_s = time.perf_counter() - started
    weights = param_bytes(components["transformer"], components["vae"], components["text_encoder"])
    print(f"editor: built {weights / GB:.2f} GB of {_name(dtype)} weights on {device} in {build_s:.1f}s", flush=True)
    pipe = QwenImageEditPipeline(tokenizer=tokenizer, processor=processor, **components)
    target.parent.mkdir(parents=True, exist_ok=True)
    _check_disk(target, weights)

    def save(tmp: Path) -> None:
        pipe.save_pretrained(tmp, safe_serialization=True)
        _marker(tmp, "editor", size, dtype, token_ids, pixels, configs)

    started = time.perf_counter()
    _write(target, force, save)
    save_s = time.perf_counter() - started
    on_disk = folder_bytes(target)
    print(f"editor: saved {on_disk / GB:.2f} GB to {target} in {save_s:.1f}s ({on_disk / GB / save_s:.2f} GB/s)", flush=True)
    _check_pixels(target / "processor", pixels)
    return {"path": str(target), "build_s": build_s, "save_s": save_s, "weights_bytes": weights, "disk_bytes": on_disk}


def write_judge(tiny_judge: Path, target: Path, size: str, device: Any, dtype: Any, force: bool = False) -> dict[str, Any]:
    """The capacity judge, saved with the tiny folder's processor (real pixel limits at full size)."""
    from transformers import AutoProcessor

    processor = AutoProcessor.from_pretrained(tiny_judge, local_files_only=True)
    token_ids = capacity.tokenizer_token_ids(processor.tokenizer)
    config = capacity.judge_config(size)
    capacity.check_tokenizer_fits(processor.tokenizer, config)
    capacity.check_processor_matches(processor.image_processor, config["vision_config"])
    pixels = dict(capacity.JUDGE_PROCESSOR_PIXELS) if size == "full" else None
    if pixels:
        capacity.set_processor_pixels(processor.image_processor, pixels)

    started = time.perf_counter()
    model = capacity.build_judge(device, dtype, size, token_ids=token_ids, seed=SEED)
    _sync(device)
    build_s = time.perf_counter() - started
    weights = param_bytes(model)
    print(f"judge: built {weights / GB:.2f} GB of {_name(dtype)} weights on {device} in {build_s:.1f}s", flush=True)
    target.parent.mkdir(parents=True, exist_ok=True)
    _check_disk(target, weights)

    def save(tmp: Path) -> None:
        model.save_pretrained(tmp, safe_serialization=True)
        processor.save_pretrained(tmp)
        _marker(tmp, "judge", size, dtype, token_ids, pixels, config)

    started = time.perf_counter()
    _write(target, force, save)
    save_s = time.perf_counter() - started
    on_disk = folder_bytes(target)
    print(f"judge: saved {on_disk / GB:.2f} GB to {target} in {save_s:.1f}s ({on_disk / GB / save_s:.2f} GB/s)", flush=True)
    _check_pixels(target, pixels)
    return {"path": str(target), "build_s": build_s, "save_s": save_s, "weights_bytes": weights, "disk_bytes": on_disk}


def _sync(device: Any) -> None:
    import torch

    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _check_pixels(folder: Path, pixels: dict | None) -> None:
    """The saved processor reloads with the pixel limits capacity mode would set."""
    if not pixels:
        return
    from transformers import AutoProcessor

    size = AutoProcessor.from_pretrained(folder, local_files_only=True).image_processor.size
    got = {k: (size[k] if isinstance(size, dict) else getattr(size, k)) for k in pixels}
    if got != pixels:
        raise RuntimeError(f"{folder}: the saved processor reloads with {got}, not {pixels}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", choices=capacity.SIZES, default="full")
    parser.add_argument("--out", type=Path, required=True, help="writes OUT/editor and OUT/judge")
    parser.add_argument("--device", default=None, help="where to build (default: cuda for full, cpu for tiny)")
    parser.add_argument("--dtype", default=None, help="default: bfloat16 for full, float32 for tiny")
    parser.add_argument("--parts", default="editor,judge", help="which folders to write (comma-separated)")
    parser.add_argument("--force", action="store_true", help="replace existing folders")
    parser.add_argument("--json", type=Path, help="write the timings here")
    args = parser.parse_args()

    import torch

    ensure_offline()
    parts = [p.strip() for p in args.parts.split(",") if p.strip()]
    if not parts or set(parts) - {"editor", "judge"}:
        parser.error("--parts takes editor, judge or both")
    device = torch.device(args.device or ("cuda" if args.size == "full" else "cpu"))
    dtype = getattr(torch, args.dtype or ("bfloat16" if args.size == "full" else "float32"))
    out = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    # Tokenizer and processor files (and the editor's folder layout) from the tiny folders.
    tiny = build_tiny_models(out / ".tiny")
    report: dict[str, Any] = {"size": args.size, "device": str(device), "dtype": _name(dtype), "seed": SEED}
    if "editor" in parts:
        report["editor"] = write_editor(tiny.editor, out / "editor", args.size, device, dtype, args.force)
        _free_device(device)  # the editor's ~58 GB go before the judge is built
    if "judge" in parts:
        report["judge"] = write_judge(tiny.judge, out / "judge", args.size, device, dtype, args.force)
        _free_device(device)
    print(json.dumps(report))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
