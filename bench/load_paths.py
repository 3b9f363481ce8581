#!/usr/bin/env python3
"""Seconds to load real weights through the adapters, host copy vs straight onto the GPU.

Issue 15 goal 2 measured the real loading path (model folders of full-size random weights written
by ``bench/weights_on_disk.py``, page cache evicted, two workers loading at once): the editor's
load took ~41 s, of which ~29 s was ``to_device`` — ``from_pretrained`` reads the safetensors
into host memory and ``.to("cuda")`` then copies 58 GB from pageable memory. The adapters'
``load_on_device=true`` passes ``device_map`` to ``from_pretrained`` so the weights are read
straight into GPU memory. This script loads each folder both ways, one after the other in one
process (side by side), evicting the folder's files from the page cache before each load, and
checks that both ways hold the same weights (a checksum over every parameter).

    python bench/load_paths.py --editor /root/w/editor --judge /root/w/judge --json out/load_paths.json
    python bench/load_paths.py --editor /tmp/wod/models/editor --judge /tmp/wod/models/judge --device cpu   # plumbing
"""

from __future__ import annotations

import argparse
import gc
import json
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import torch

from bench.run_efficiency import evict_page_cache
from editbench.models.base import load_editor, load_judge


def checksum(module: torch.nn.Module) -> float:
    """Sum of every parameter's float64 sum: equal loads give equal sums."""
    with torch.no_grad():
        return float(sum(p.detach().double().sum().item() for p in module.parameters()))


def load_once(role: str, folder: Path, device: str, on_device: bool, evict: bool) -> dict[str, Any]:
    evicted = evict_page_cache(folder) if evict else 0
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    started = time.perf_counter()
    if role == "editor":
        model = load_editor("qwen-image-edit", str(folder), device=device, load_on_device=on_device)
        weights = model.pipe.transformer  # type: ignore[attr-defined]
    else:
        model = load_judge("qwen3-vl", str(folder), device=device, mode="logits", load_on_device=on_device)
        weights = model.model  # type: ignore[attr-defined]
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    wall = time.perf_counter() - started
    result = {
        "role": role,
        "load_on_device": on_device,
        "wall_s": round(wall, 2),
        "parts_s": {k: round(v, 2) for k, v in model.load_times.seconds.items()},  # type: ignore[attr-defined]
        "evicted_bytes": evicted,
        "device_of_weights": str(next(weights.parameters()).device),
        "checksum": checksum(weights),
    }
    del model, weights
    gc.collect()
    if device.startswith("cuda"):
        torch.cuda.empty_cache()
    return result


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--editor", type=Path, help="editor folder (bench/weights_on_disk.py)")
    p.add_argument("--judge", type=Path, help="judge folder (bench/weights_on_disk.py)")
    p.add_argument("--device", default="cuda")
    p.add_argument("--no-evict", action="store_true", help="keep the page cache (a warm second load)")
    p.add_argument("--json", type=Path)
    args = p.parse_args(argv)
    # Library imports first, so neither variant's time includes them.
    import diffusers  # noqa: F401
    from transformers import Qwen3VLForConditionalGeneration  # noqa: F401

    runs = []
    for role, folder in (("editor", args.editor), ("judge", args.judge)):
        if folder is None:
            continue
        for on_device in (False, True):
            run = load_once(role, folder, args.device, on_device, evict=not args.no_evict)
            runs.append(run)
            print(json.dumps(run), flush=True)
        first, second = runs[-2:]
        assert first["checksum"] == second["checksum"], f"{role}: the two loads hold different weights"
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"date_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "runs": runs}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
