#!/usr/bin/env python3
"""Images per second for the Qwen3-VL-8B judge (full size, random weights) on one GPU.

The model is the real adapter's: ``editbench.models.qwen3_vl.Qwen3VLJudge`` with
``capacity=full`` (random weights built on the GPU from the public config; the model folder, by
default a tiny one built offline, supplies only the processor). One judged image = one (source,
edited) pair in one chat with a ~200-token rubric prompt, left-padded into batches as
``Qwen3VLProcessor`` would, but as synthetic token ids and pixels (``bench/capacity_helpers.py``),
so the model work is timed without host-side image preprocessing. Modes:

  logits    the adapter's logits-mode step, ``Qwen3VLJudge.digit_probabilities``: one prefill
            (``logits_to_keep=1``), digit probabilities at the last position, copied to the host
  generate  ``model.generate`` of 32 new tokens with the adapter's greedy generation config
            (EOS suppressed so all 32 are made)
  static    the same with the adapter's ``static_cache=true`` settings (static KV cache):
            transformers compiles the decode step (torch.compile, CUDA graphs) once per batch shape

Times are host wall-clock after ``torch.cuda.synchronize`` (host-side work such as M-RoPE
index building counts), medians of ``--repeats`` after ``--warmup`` untimed calls.

Examples:
  python bench/judge.py --tiny                                  # CPU smoke test, seconds
  python bench/judge.py --areas 512,1024 --batch-sizes 1,2,4,8,16,32 --json judge.json
  python bench/judge.py --mode generate,static --gen-batch-sizes 16 --areas 512
"""

from __future__ import annotations

import argparse
import copy
import json
import platform
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import torch

from bench import capacity_helpers
from editbench.models.qwen3_vl import Qwen3VLJudge
from editbench.models.qwen3_vl_speedups import (
    STATIC_CACHE_GENERATION,
    compile_decoder_layers,
)


def parse_area(spec: str) -> tuple[int, int]:
    """'512' -> source 512², edited 512²; '512x1024' -> source 512², edited 1024²."""
    if "x" in spec:
        a, b = spec.split("x")
        return int(a), int(b)
    return int(spec), int(spec)


def make_batch(
    judge: Qwen3VLJudge,
    batch: int,
    area: tuple[int, int],
    rubric_tokens: int,
    ragged: int,
    device: Any,
    dtype: Any,
    seed: int,
) -> dict[str, torch.Tensor]:
    rng = random.Random(seed)
    src, edt = area
    template = 24  # chat-template tokens around the rubric (system/user/assistant markers)
    texts = [rubric_tokens + template + (rng.randint(-ragged, ragged) if ragged else 0) for _ in range(batch)]
    images = [[(src, src), (edt, edt)] for _ in range(batch)]
    return capacity_helpers.synthetic_vl_batch(
        judge.model.config,
        images,
        texts,
        device=device,
        dtype=dtype,
        seed=seed,
        prefix_tokens=16,
        pad_token_id=judge.processor.tokenizer.pad_token_id,
    )


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def wall(fn, device: torch.device, warmup: int, repeats: int) -> tuple[float, list[float], float]:
    t0 = time.perf_counter()
    for _ in range(warmup):
        fn()
    sync(device)
    first = time.perf_counter() - t0
    times = []
    for _ in range(repeats):
        sync(device)
        t1 = time.perf_counter()
        fn()
        sync(device)
        times.append(time.perf_counter() - t1)
    return statistics.median(times), times, first


def score_logits(judge: Qwen3VLJudge, inputs: dict[str, torch.Tensor]) -> list:
    """The adapter's own logits-mode step (prefill, digit probabilities, copy to the host)."""
    return judge.digit_probabilities(inputs)


# ---------------------------------------------------------------------------------------------
# Vision-tower speedups (opt-in, exact math):
# 1. Qwen3-VL's vision attention with sdpa loops over images (one SDPA call per image per layer,
#    plus a device->host sync per layer for the split sizes). Registered under a name containing
#    "flash", an attention function receives cu_seqlens and max_seqlen instead; when every image
#    in the batch has the same number of patches (the usual case: one working area) it runs one
#    batched SDPA over [images, heads, patches, dim]; otherwise it falls back to the loop.
# 2. The patch embedding is a Conv3d whose kernel equals its input patch: a plain matmul.

VISION_ATTN_NAME = "flash_sdpa_equal_len"


def sdpa_equal_len_attention(
    module: Any,
    query: torch.Tensor,
    key: torch.Tensor,
    value: torch.Tensor,
    attention_mask: Any = None,
    scaling: float | None = None,
    dropout: float = 0.0,
    cu_seq_lens_q: torch.Tensor | None = None,
    max_length_q: int | None = None,
    is_causal: bool = False,
    **kwargs: Any,
) -> tuple[torch.Tensor, None]:
    import torch.nn.functional as F

    _, h, s, d = query.shape  # [1, heads, total patches, dim]
    n = 1 if cu_seq_lens_q is None else cu_seq_lens_q.shape[0] - 1
    if cu_seq_lens_q is None or (max_length_q is not None and n * int(max_length_q) == s):
        L = s // n

        def split(x: torch.Tensor) -> torch.Tensor:
            return x.reshape(h, n, L, d).transpose(0, 1)

        out = F.scaled_dot_product_attention(split(query), split(key), split(value), scale=scaling)
        return out.permute(0, 2, 1, 3).reshape(1, s, h, d), None
    lengths = (cu_seq_lens_q[1:] - cu_seq_lens_q[:-1]).tolist()
    outs = [
        F.scaled_dot_product_attention(q, k, v, scale=scaling)
        for q, k, v in zip(*(torch.split(t, lengths, dim=2) for t in (query, key, value)))
    ]
    return torch.cat(outs, dim=2).transpose(1, 2), None


class PatchEmbedMatmul(torch.nn.Module):
    """Conv3d(kernel == stride == input patch) as one GEMM; same weights, same result."""

    def __init__(self, conv: torch.nn.Conv3d) -> None:
        super().__init__()
        self.weight = torch.nn.Parameter(conv.weight.detach().reshape(conv.out_channels, -1), requires_grad=False)
        self.bias = None if conv.bias is None else torch.nn.Parameter(conv.bias.detach(), requires_grad=False)
        self.out_channels = conv.out_channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = torch.nn.functional.linear(x.reshape(x.shape[0], -1), self.weight, self.bias)
        return y.view(x.shape[0], self.out_channels, 1, 1, 1)


def enable_vision_opt(model: Any) -> None:
    from transformers import AttentionInterface

    AttentionInterface.register(VISION_ATTN_NAME, sdpa_equal_len_attention)
    visual = model.model.visual
    visual.config._attn_implementation = VISION_ATTN_NAME
    pe = visual.patch_embed
    if isinstance(pe.proj, torch.nn.Conv3d):
        pe.proj = PatchEmbedMatmul(pe.proj)


def check_vision_opt(judge: Qwen3VLJudge, device: Any, dtype: Any) -> float:
    """Relative difference of the vision features with and without the speedups (fresh inputs)."""
    model = judge.model
    x = make_batch(
        judge,
        2,
        (64, 64) if device.type == "cpu" else (512, 512),
        50,
        0,
        device,
        dtype,
        seed=99,
    )
    ref = model.model.get_image_features(x["pixel_values"], x["image_grid_thw"])
    ref = ref.pooler_output if hasattr(ref, "pooler_output") else ref
    ref = torch.cat(list(ref), 0) if isinstance(ref, (list, tuple)) else ref
    visual = model.model.visual
    saved = (copy.copy(visual.config._attn_implementation), visual.patch_embed.proj)
    enable_vision_opt(model)
    out = model.model.get_image_features(x["pixel_values"], x["image_grid_thw"])
    out = out.pooler_output if hasattr(out, "pooler_output") else out
    out = torch.cat(list(out), 0) if isinstance(out, (list, tuple)) else out
    del saved
    return float((out.float() - ref.float()).norm() / ref.float().norm())


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--tiny", action="store_true", help="tiny random judge on CPU (CI smoke test)")
    p.add_argument("--device", default=None)
    p.add_argument("--dtype", default=None)
    p.add_argument(
        "--models",
        type=Path,
        default=None,
        help="judge folder supplying the processor (default: a tiny folder built offline)",
    )
    p.add_argument(
        "--mode",
        default="logits,generate",
        help="comma list of logits, generate, static",
    )
    p.add_argument(
        "--areas",
        default=None,
        help="comma list: 512 (both 512²), 1024, 512x1024 (source x edited)",
    )
    p.add_argument(
        "--batch-sizes",
        default=None,
        help="logits mode batch sizes (default 1,2,4,8,16,32)",
    )
    p.add_argument(
        "--gen-batch-sizes",
        default=None,
        help="generate/static batch sizes (default 1,16)",
    )
    p.add_argument("--rubric-tokens", type=int, default=200)
    p.add_argument(
        "--ragged",
        type=int,
        default=16,
        help="± random text-length spread per sample (padding)",
    )
    p.add_argument(
        "--uniform-at",
        type=int,
        default=16,
        help="also time logits at this batch with no padding",
    )
    p.add_argument("--new-tokens", type=int, default=32)
    p.add_argument("--repeats", type=int, default=None)
    p.add_argument("--warmup", type=int, default=1)
    p.add_argument(
        "--breakdown",
        action="store_true",
        help="time the vision tower alone at --uniform-at",
    )
    p.add_argument(
        "--compile-prefill",
        default="",
        help="batch sizes to re-time logits mode with regional torch.compile of the text decoder layers (e.g. 16,32); runs last",
    )
    p.add_argument(
        "--vision-opt",
        action="store_true",
        help="batched vision attention over equal-size images and matmul patch embedding (exact); checked against the stock path first",
    )
    p.add_argument("--budget-s", type=float, default=1e9)
    p.add_argument("--json", default=None)
    args = p.parse_args(argv)

    t_start = time.perf_counter()
    device = torch.device(args.device or ("cpu" if args.tiny or not torch.cuda.is_available() else "cuda"))
    dtype = getattr(torch, args.dtype or ("float32" if args.tiny else "bfloat16"))
    areas = [parse_area(a) for a in (args.areas or ("64" if args.tiny else "512,1024")).split(",")]
    bss = [int(x) for x in (args.batch_sizes or ("1,2" if args.tiny else "1,2,4,8,16,32")).split(",")]
    gbss = [int(x) for x in (args.gen_batch_sizes or ("2" if args.tiny else "1,16")).split(",")]
    repeats = args.repeats or (1 if args.tiny else 3)
    modes = set(args.mode.split(","))
    new_tokens = 4 if args.tiny and args.new_tokens == 32 else args.new_tokens
    for knob, value in (("cache_size_limit", 64), ("recompile_limit", 64)):
        if hasattr(torch._dynamo.config, knob):
            setattr(torch._dynamo.config, knob, value)

    import transformers

    results: dict[str, Any] = {
        "env": {
            "date_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "gpu": capacity_helpers.describe_gpu(device) if device.type == "cuda" else "cpu",
            "torch": torch.__version__,
            "transformers": transformers.__version__,
            "python": platform.python_version(),
            "argv": sys.argv,
        },
        "rubric_tokens": args.rubric_tokens,
        "ragged": args.ragged,
        "runs": [],
    }

    def save() -> None:
        if args.json:
            Path(args.json).parent.mkdir(parents=True, exist_ok=True)
            Path(args.json).write_text(json.dumps(results, indent=1, default=str))

    def over_budget(what: str) -> bool:
        if time.perf_counter() - t_start > args.budget_s:
            print(f"[budget] skipping {what}", flush=True)
            results.setdefault("skipped", []).append(what)
            return True
        return False

    folder = args.models
    if folder is None:
        from editbench.models.tiny import build_tiny_models

        folder = build_tiny_models(Path(tempfile.mkdtemp(prefix="editbench-bench-"))).judge
    t0 = time.perf_counter()
    judge = Qwen3VLJudge(
        str(folder),
        capacity="tiny" if args.tiny else "full",
        mode="logits",
        device=str(device),
        dtype=str(dtype).removeprefix("torch."),
    )
    model = judge.model
    sync(device)
    results["identity"] = judge.identity()
    results["build_s"] = round(time.perf_counter() - t0, 2)
    results["params"] = capacity_helpers.estimate_parameters(model)
    if device.type == "cuda":
        results["weights_gib"] = round(torch.cuda.memory_allocated() / 2**30, 2)
    print(
        f"judge built in {results['build_s']} s, {results['params'] / 1e9:.2f} B params",
        flush=True,
    )

    def record(
        mode: str,
        area: tuple[int, int],
        batch: int,
        fn,
        label: str = "",
        ragged: int | None = None,
        warmup: int | None = None,
        reps: int | None = None,
    ) -> dict[str, Any] | None:
        name = f"{mode}{label} area={area[0]}x{area[1]} B={batch}"
        if over_budget(name):
            return None
        entry: dict[str, Any] = {
            "mode": mode + label,
            "source": area[0],
            "edited": area[1],
            "batch": batch,
        }
        try:
            inputs = make_batch(
                judge,
                batch,
                area,
                args.rubric_tokens,
                args.ragged if ragged is None else ragged,
                device,
                dtype,
                seed=batch,
            )
            entry["seq_len"] = int(inputs["input_ids"].shape[1])
            entry["padded"] = bool((inputs["attention_mask"] == 0).any())
            if device.type == "cuda":
                torch.cuda.reset_peak_memory_stats()
            med, times, first = wall(
                lambda: fn(inputs),
                device,
                args.warmup if warmup is None else warmup,
                repeats if reps is None else reps,
            )
            entry.update(
                {
                    "median_s": round(med, 4),
                    "times_s": [round(t, 4) for t in times],
                    "first_calls_s": round(first, 2),
                    "ms_per_image": round(1000 * med / batch, 2),
                    "images_per_s": round(batch / med, 2),
                }
            )
            if device.type == "cuda":
                entry["peak_gib"] = round(torch.cuda.max_memory_allocated() / 2**30, 2)
            print(
                f"{name:48s} seq {entry['seq_len']:5d}  {entry['median_s']:.4f} s/batch  "
                f"{entry['ms_per_image']:8.2f} ms/img  {entry['images_per_s']:7.2f} img/s"
                f"{'  peak ' + str(entry.get('peak_gib')) + ' GiB' if 'peak_gib' in entry else ''}",
                flush=True,
            )
        except Exception as exc:  # noqa: BLE001
            msg = f"{type(exc).__name__}: {exc}"[:1500]
            entry["error"] = msg
            print(f"{name:48s} ERROR {msg[:300]}", flush=True)
        if "error" in entry and device.type == "cuda":
            torch.cuda.empty_cache()
        results["runs"].append(entry)
        save()
        return entry

    def generate(inputs: dict[str, torch.Tensor], static: bool) -> torch.Tensor:
        # The adapter's greedy config; static: what its static_cache=true setting adds.
        config = copy.deepcopy(judge.generation_config)
        config.update(
            max_new_tokens=new_tokens,
            min_new_tokens=new_tokens,
            **(STATIC_CACHE_GENERATION if static else {}),
        )
        out = model.generate(**inputs, generation_config=config)
        return out[:, -new_tokens:].cpu()

    with torch.inference_mode():
        if args.vision_opt:
            results["vision_opt_rel_diff"] = check_vision_opt(judge, device, dtype)
            print(
                f"vision-opt enabled; features vs stock path: rel diff {results['vision_opt_rel_diff']:.2e}",
                flush=True,
            )
        if "logits" in modes:
            for area in areas:
                for b in bss:
                    record("logits", area, b, lambda x: score_logits(judge, x))
                if args.uniform_at:
                    record(
                        "logits",
                        area,
                        args.uniform_at,
                        lambda x: score_logits(judge, x),
                        label="-nopad",
                        ragged=0,
                    )
        if args.breakdown:
            for area in areas:

                def vision(x: dict[str, torch.Tensor]) -> Any:
                    return model.model.get_image_features(x["pixel_values"], x["image_grid_thw"])

                record("vision-only", area, args.uniform_at or 16, vision)
        if "generate" in modes:
            for area in areas:
                for b in gbss:
                    record("generate", area, b, lambda x: generate(x, static=False))
        if "static" in modes:
            for area in areas:
                for b in gbss:
                    # first call compiles the decode step for this batch shape (reported as first_calls_s)
                    record("static", area, b, lambda x: generate(x, static=True))
        if args.compile_prefill:
            compile_decoder_layers(model)
            for area in areas:
                for b in (int(x) for x in args.compile_prefill.split(",")):
                    record(
                        "logits",
                        area,
                        b,
                        lambda x: score_logits(judge, x),
                        label="-compiled",
                    )

    # decode cost per token = (generate - logits prefill) / new tokens, where both were measured
    by = {(r["mode"], r["source"], r["edited"], r["batch"]): r for r in results["runs"] if "median_s" in r}
    for (mode, s, e, b), r in by.items():
        if mode in ("generate", "static") and ("logits", s, e, b) in by:
            r["decode_ms_per_token"] = round(
                1000 * (r["median_s"] - by[("logits", s, e, b)]["median_s"]) / new_tokens,
                2,
            )
    results["total_wall_s"] = round(time.perf_counter() - t_start, 1)
    save()
    summary = {
        f"{r['mode']} {r['source']}x{r['edited']} B={r['batch']}": (
            r.get("images_per_s"),
            r.get("decode_ms_per_token"),
        )
        for r in results["runs"]
        if "median_s" in r
    }
    print(json.dumps({"img_per_s_and_decode_ms_per_token": summary}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
