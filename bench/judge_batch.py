#!/usr/bin/env python3
"""Seconds per judge batch through ``Qwen3VLJudge.score``: the call a judge worker makes.

Unlike ``bench/judge.py`` (the model step on synthetic processor output), this times the whole
logits-mode batch as ``workers/score.py`` runs it: real ``JudgeRequest``s holding PIL images
(noise, the worst case for nothing), conversations built from a rubric, the processor (chat
template, image resize/normalise/patchify), the prefill(s), digit probabilities to the host.
Issue 15 goal 1: a batch of 8 pairs with 2–3 criteria took ~3.2 s inside a worker against ~1 s
estimated for the model, so the variants separate the two speedups of the adapter:

  full         ``shared_prefix=false preprocess_on_device=false`` (every criterion prefilled in
               full, images processed on the host CPU: the adapter before issue 15's change)
  shared-host  ``shared_prefix=true preprocess_on_device=false``
  shared       ``shared_prefix=true preprocess_on_device=true`` (the adapter's defaults)
  compiled     ``shared`` + ``compile_layers=true`` (compiled once before timing; compile time reported)

The judge is built once (``capacity=full`` random weights on the GPU; the folder supplies only
the processor); the variants switch the adapter's call-time settings. Times are host wall clock
after ``torch.cuda.synchronize``, medians of ``--repeats`` after one untimed call per shape.

    python bench/judge_batch.py --tiny                                   # CPU smoke test
    python bench/judge_batch.py --pairs 8 --criteria 2,3 --area 1024 --json out/judge_batch.json
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import numpy as np
import torch
from PIL import Image

from editbench.models.base import Criterion, JudgePrompt, JudgeRequest
from editbench.models.qwen3_vl import Qwen3VLJudge
from editbench.models.qwen3_vl_speedups import compile_decoder_layers

RUBRIC = JudgePrompt(
    "You are judging an image edit.\nInstruction: {instruction}\nReference answer: {reference}\n"
    "Criterion: {criterion} - {criterion_description}\nAll criteria of this category:\n{criteria}\n"
    "Rate the edited image on this criterion from {scale_min} (worst) to {scale_max} (best).",
    version="bench-v1",
)
CRITERIA = (
    Criterion("semantic_consistency", "Does the edit do what the instruction asks, and only that?"),
    Criterion("perceptual_quality", "Does the edited image look natural and free of artifacts?"),
    Criterion("plausibility", "Is the result consistent with real-world knowledge and the reference answer?"),
)
VARIANTS = {
    "full": {"shared_prefix": False, "preprocess_on_device": False},
    "shared-host": {"shared_prefix": True, "preprocess_on_device": False},
    "shared": {"shared_prefix": True, "preprocess_on_device": True},
    "compiled": {"shared_prefix": True, "preprocess_on_device": True},
}


def noise(side: int, seed: int) -> Image.Image:
    return Image.fromarray(np.random.RandomState(seed).randint(0, 256, (side, side, 3), dtype=np.uint8))


def requests(pairs: int, criteria: int, side: int) -> list[JudgeRequest]:
    return [
        JudgeRequest(
            key=str(i),
            source_image=noise(side, i),
            edited_image=noise(side, 1000 + i),
            instruction=f"Replace the background of scene {i} with a beach at sunset",
            prompt=RUBRIC,
            criteria=CRITERIA[:criteria],
        )
        for i in range(pairs)
    ]


def timed(judge: Qwen3VLJudge, batch: list[JudgeRequest], device: torch.device) -> float:
    if device.type == "cuda":
        torch.cuda.synchronize()
    started = time.perf_counter()
    results = judge.score(batch)
    if device.type == "cuda":
        torch.cuda.synchronize()
    assert all(s.score is not None for r in results for s in r.scores), "every criterion scored"
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--tiny", action="store_true", help="tiny random judge on the CPU, 64² images (CI smoke test)")
    p.add_argument("--pairs", type=int, default=8, help="requests per batch (a worker's judge batch)")
    p.add_argument("--criteria", default="2,3", help="criteria per request, one timing each")
    p.add_argument("--area", type=int, default=None, help="image side in pixels (default 1024; tiny: 64)")
    p.add_argument("--variants", default="full,shared-host,shared,compiled")
    p.add_argument("--batch-size", type=int, default=16, help="the adapter's batch_size (prefill rows per forward)")
    p.add_argument("--repeats", type=int, default=None)
    p.add_argument("--models", default=None, help="folder with the judge's processor (default: a tiny one built offline)")
    p.add_argument("--json", default=None)
    args = p.parse_args(argv)

    device = torch.device("cpu" if args.tiny or not torch.cuda.is_available() else "cuda")
    side = args.area or (64 if args.tiny else 1024)
    repeats = args.repeats or (1 if args.tiny else 5)
    folder = args.models
    if folder is None:
        from editbench.models.tiny import build_tiny_models

        folder = build_tiny_models(Path(tempfile.mkdtemp(prefix="editbench-bench-"))).judge
    started = time.perf_counter()
    judge = Qwen3VLJudge(
        str(folder),
        capacity="tiny" if args.tiny else "full",
        mode="logits",
        batch_size=args.batch_size,
        device=str(device),
        dtype="float32" if args.tiny else "bfloat16",
    )
    import transformers

    results: dict[str, Any] = {
        "env": {
            "date_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "gpu": torch.cuda.get_device_name() if device.type == "cuda" else "cpu",
            "torch": torch.__version__,
            "transformers": transformers.__version__,
            "python": platform.python_version(),
            "argv": sys.argv,
        },
        "build_s": round(time.perf_counter() - started, 2),
        "pairs": args.pairs,
        "side": side,
        "runs": [],
    }
    settings = judge.settings
    for variant in args.variants.split(","):
        judge.settings = dataclasses.replace(settings, **VARIANTS[variant])
        compile_s = None
        if variant == "compiled":
            compile_decoder_layers(judge.model)
            compile_s = 0.0
        for criteria in (int(c) for c in args.criteria.split(",")):
            batch = requests(args.pairs, criteria, side)
            warm = timed(judge, batch, device)  # first call of a shape (and the compile, once)
            if compile_s == 0.0:
                compile_s = round(warm, 2)
            times = [timed(judge, batch, device) for _ in range(repeats)]
            median = statistics.median(times)
            run = {
                "variant": variant,
                "criteria": criteria,
                "s_per_batch": round(median, 4),
                "all_s": [round(t, 4) for t in times],
                "pairs_per_s": round(args.pairs / median, 2),
                "prefill_rows": list(judge.last_batch_sizes),
                "first_call_s": round(warm, 2),
            }
            results["runs"].append(run)
            print(json.dumps(run), flush=True)
        if compile_s is not None:
            results["compile_first_call_s"] = compile_s
    results["identity"] = judge.identity()
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(results, indent=1, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
