#!/usr/bin/env python3
"""Seconds per edited image for Qwen-Image-Edit (full size, random weights) on one GPU.

Times the real adapter, ``editbench.models.qwen_image_edit.QwenImageEditor``, in capacity-planning
mode (``capacity=full``: the 20.4 B transformer, VAE and Qwen2.5-VL-7B text encoder built from
the public configs with random bf16 weights on the GPU; nothing is downloaded): one timed image
is one call of ``editor.edit(request)``, the code a worker runs for a sample. It contains the
adapter's host-side preprocessing (PIL resize, tokenizer), prompt encoding with the source image
inside the prompt (the negative prompt too with true CFG), VAE encode, N denoising steps x (1 or
2) transformer forwards with the flow-matching scheduler and Qwen's CFG norm rescale, VAE decode
and the copy to a PIL image. It is timed with CUDA events around the call (medians over
``--repeats`` edits, after an untimed warm-up edit that also compiles); the adapter's
``phase_hook`` records a CUDA event per phase, which gives the per-stage and per-forward split.
The model folder supplies only the tokenizer and processor (default: a tiny folder built offline
by ``editbench.models.tiny``, as ``editbench models tiny`` does).

Options map onto the adapter's settings:
  --steps N, --cfg/--no-cfg     steps, true_cfg_scale (--cfg-scale, default 4; --no-cfg: 1)
  --area S                      working_area = S*S
  --compile                     compile=true (regional torch.compile of the repeated blocks)
  --attention cudnn|flash|efficient|math|default   attention_backend=_native_cudnn|... (default: none)
  --rope real                   rope=real (real-valued RoPE that Inductor fuses; same math)
  --gelu-epilogue               fuse_gelu=true (MLP up-projection + bias + tanh-GELU in one GEMM)
  --fp8                         fp8=true (FP8 block linears; numerics change, opt-in only)
Each variant in a --plan gets a freshly built adapter (the previous one is freed first).
Examples:
  python bench/editor.py --tiny                                      # CPU smoke test, seconds
  python bench/editor.py --steps 8 --no-cfg --compile --rope real --gelu-epilogue --repeats 3
  python bench/editor.py --plan e2e:compile-real-gelu:8:nocfg:3,e2e:compile-real-gelu:50:cfg:1
"""

from __future__ import annotations

import argparse
import dataclasses
import gc
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
import torch.nn.functional as F
from PIL import Image
from torch import nn

from bench import capacity_helpers
from editbench.models.base import EditRequest
from editbench.models.qwen_image_edit import QwenImageEditor
from editbench.models.qwen_speedups import (
    RealRopePosEmbed,
    RealRopeQwenAttnProcessor,
    convert_blocks_to_fp8,
    linear_gelu_tanh,
)

INSTRUCTION = "Replace the sky with a dramatic sunset and add a small red boat on the lake."
# --attention names -> the adapter's attention_backend (diffusers' native SDPA backends).
ATTENTION_BACKENDS = {
    "default": None,
    "cudnn": "_native_cudnn",
    "flash": "_native_flash",
    "efficient": "_native_efficient",
    "math": "_native_math",
}

# ---------------------------------------------------------------------------------------------
# Variants: the adapter settings that change speed (each one a separately built editor)


@dataclasses.dataclass(frozen=True)
class Variant:
    name: str
    compile: bool = False
    attention: str = "default"
    rope: str = "complex"
    fp8: bool = False
    gelu_epilogue: bool = False  # adapter setting fuse_gelu
    tune: bool = False  # Inductor coordinate-descent tuning (global Inductor config, not a setting)

    def editor_params(self) -> dict[str, Any]:
        params: dict[str, Any] = {
            "compile": self.compile,
            "rope": self.rope,
            "fuse_gelu": self.gelu_epilogue,
            "fp8": self.fp8,
        }
        if ATTENTION_BACKENDS[self.attention]:
            params["attention_backend"] = ATTENTION_BACKENDS[self.attention]
        return params


PRESETS = {
    v.name: v
    for v in (
        Variant("eager"),
        Variant("eager-cudnn", attention="cudnn"),
        Variant("eager-flash", attention="flash"),
        Variant("eager-efficient", attention="efficient"),
        Variant("eager-real", rope="real"),
        Variant("eager-gelu", gelu_epilogue=True),
        Variant("eager-real-fp8", rope="real", fp8=True),
        Variant("compile", compile=True),
        Variant("compile-real", compile=True, rope="real"),
        Variant("compile-real-gelu", compile=True, rope="real", gelu_epilogue=True),
        Variant("compile-real-tune", compile=True, rope="real", tune=True),
        Variant("compile-real-gelu-tune", compile=True, rope="real", gelu_epilogue=True, tune=True),
        Variant("compile-real-fp8", compile=True, rope="real", fp8=True),
        Variant("compile-real-gelu-fp8", compile=True, rope="real", gelu_epilogue=True, fp8=True),
    )
}


def variant_from_flags(args: argparse.Namespace) -> Variant:
    name = ("compile" if args.compile else "eager") + ("-real" if args.rope == "real" else "")
    name += ("-gelu" if args.gelu_epilogue else "") + ("-fp8" if args.fp8 else "")
    name += "" if args.attention == "default" else f"-{args.attention}"
    return Variant(name, args.compile, args.attention, args.rope, args.fp8, args.gelu_epilogue)


@dataclasses.dataclass(frozen=True)
class PlanItem:
    kind: str  # "e2e" (timed edits) or "prof" (kernel profile of one edit)
    variant: Variant
    steps: int
    cfg: bool
    repeats: int


def parse_plan(spec: str, default_steps: int, default_cfg: bool) -> list[PlanItem]:
    """``e2e:VARIANT:steps:cfg|nocfg:repeats`` and ``prof:VARIANT[:steps:cfg|nocfg]`` items."""
    items = []
    for item in filter(None, (x.strip() for x in spec.split(","))):
        kind, name, *rest = item.split(":")
        if kind not in ("e2e", "prof"):
            raise ValueError(
                f"{item!r}: plan items are e2e:VARIANT:steps:cfg|nocfg:repeats or prof:VARIANT[:steps:cfg|nocfg] "
                "(per-forward medians are part of every e2e item)"
            )
        if name not in PRESETS:
            raise ValueError(f"{item!r}: unknown variant {name!r}; known: {', '.join(PRESETS)}")
        steps = int(rest[0]) if rest else default_steps
        cfg = (rest[1] == "cfg") if len(rest) > 1 else default_cfg
        repeats = int(rest[2]) if len(rest) > 2 else 1
        items.append(PlanItem(kind, PRESETS[name], steps, cfg, repeats))
    return items


# ---------------------------------------------------------------------------------------------
# Building and driving the adapter


def build_editor(folder: Path, variant: Variant, args: argparse.Namespace) -> QwenImageEditor:
    import torch._inductor.config as inductor_config

    inductor_config.coordinate_descent_tuning = variant.tune
    return QwenImageEditor(
        str(folder),
        capacity="tiny" if args.tiny else "full",
        device=args.device,
        dtype=args.dtype,
        working_area=args.area * args.area,
        **variant.editor_params(),
    )


def free_editor(editor: QwenImageEditor | None) -> None:
    """Drop an editor and its compiled graphs before the next variant is built."""
    if editor is None:
        return
    editor.pipe = None
    del editor
    gc.collect()
    torch._dynamo.reset()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()


def set_loop(editor: QwenImageEditor, steps: int, cfg: bool, cfg_scale: float) -> None:
    """Steps and CFG of the next edits. Both are read by ``edit`` only (nothing at load depends on
    them), so one built editor serves every (steps, cfg) item of its variant."""
    editor.settings = dataclasses.replace(editor.settings, steps=steps, true_cfg_scale=cfg_scale if cfg else 1.0)


def make_request(area: int, seed: int = 0) -> EditRequest:
    rng = np.random.default_rng(seed)
    pixels = rng.integers(0, 256, size=(area, area, 3), dtype=np.uint8)
    return EditRequest(sample_id="bench-0", image=Image.fromarray(pixels), instruction=INSTRUCTION, seed=seed)


class PhaseTimer:
    """The adapter's ``phase_hook``: a CUDA event per phase, or host time where there is no CUDA."""

    def __init__(self, device: torch.device) -> None:
        self.cuda = device.type == "cuda"
        self.marks: list[tuple[str, Any]] = []

    def _now(self) -> Any:
        if not self.cuda:
            return time.perf_counter()
        event = torch.cuda.Event(enable_timing=True)
        event.record()
        return event

    def start(self) -> None:
        self.marks = [("start", self._now())]

    def __call__(self, phase: str) -> None:
        self.marks.append((phase, self._now()))

    def intervals(self) -> list[tuple[str, float]]:
        """(phase, seconds since the previous mark), in order; call after the work finished."""
        out = []
        for (_, a), (name, b) in zip(self.marks, self.marks[1:]):
            out.append((name, a.elapsed_time(b) / 1000 if self.cuda else b - a))
        return out


def timed_edits(editor: QwenImageEditor, request: EditRequest, repeats: int) -> dict[str, Any]:
    """Time ``repeats`` calls of ``editor.edit``: totals, stage sums and per-forward medians."""
    timer = PhaseTimer(editor.device)
    editor.phase_hook = timer
    totals, walls, stages = [], [], []
    forwards: dict[str, list[float]] = {"forward_cond": [], "forward_uncond": []}
    image = None
    try:
        for _ in range(repeats):
            sync(editor.device)
            t0 = time.perf_counter()
            timer.start()
            image = editor.edit(request)
            timer("output_resize")  # after vae_decode: the resize to the requested size, if any
            sync(editor.device)
            walls.append(time.perf_counter() - t0)
            intervals = timer.intervals()
            totals.append(sum(s for _, s in intervals))
            per_stage: dict[str, float] = {}
            for name, seconds in intervals:
                key = "denoise" if name in ("forward_cond", "forward_uncond", "step") else name
                per_stage[key] = per_stage.get(key, 0.0) + seconds
                if name in forwards:
                    forwards[name].append(seconds)
            stages.append({k: round(v, 4) for k, v in per_stage.items()})
    finally:
        editor.phase_hook = None
    return {
        "seconds_per_image_median": round(statistics.median(totals), 3),
        "seconds_per_image_all": [round(t, 3) for t in totals],
        "host_wall_s_all": [round(w, 3) for w in walls],
        "stages_s": stages,
        "forward_cond_median_s": round(statistics.median(forwards["forward_cond"]), 4),
        "forward_uncond_median_s": (round(statistics.median(forwards["forward_uncond"]), 4) if forwards["forward_uncond"] else None),
        "image_size": list(image.size) if image is not None else None,
    }


# ---------------------------------------------------------------------------------------------
# Numerical checks of the speedups on the built editor's block 0 (relative errors)


def _block_inputs(transformer: nn.Module, area: int, seed: int) -> tuple[Any, ...]:
    side = area // 16  # latent grid after the VAE (8x) and 2x2 packing
    img_shapes = [[(1, side, side), (1, side, side)]]
    g = torch.Generator().manual_seed(seed)
    p = next(transformer.parameters())
    hs = torch.randn(1, 2 * side * side, transformer.inner_dim, generator=g).to(p.device, p.dtype)
    ehs = torch.randn(1, 77, transformer.inner_dim, generator=g).to(p.device, p.dtype)
    temb = torch.randn(1, transformer.inner_dim, generator=g).to(p.device, p.dtype)
    pe = transformer.pos_embed.inner if isinstance(transformer.pos_embed, RealRopePosEmbed) else transformer.pos_embed
    rot = pe(img_shapes, max_txt_seq_len=77, device=p.device)
    return hs, ehs, temb, rot


def _rel(a: torch.Tensor, b: torch.Tensor) -> float:
    return float((a.float() - b.float()).norm() / a.float().norm().clamp(min=1e-30))


def check_rope(transformer: nn.Module, area: int) -> dict[str, float]:
    """Real vs complex RoPE on block 0 (same weights)."""
    from diffusers.models.transformers.transformer_qwenimage import (
        QwenDoubleStreamAttnProcessor2_0,
    )

    block = transformer.transformer_blocks[0]
    hs, ehs, temb, rot = _block_inputs(transformer, area, 123)
    rot_real = tuple(torch.view_as_real(r).contiguous() for r in rot)
    saved = block.attn.processor
    with torch.no_grad():
        block.attn.set_processor(QwenDoubleStreamAttnProcessor2_0())
        ref = block(hs, ehs, None, temb, rot)
        block.attn.set_processor(RealRopeQwenAttnProcessor())
        out = block(hs, ehs, None, temb, rot_real)
    block.attn.set_processor(saved)
    return {"txt": _rel(ref[0], out[0]), "img": _rel(ref[1], out[1])}


def check_fp8(transformer: nn.Module, area: int) -> dict[str, float]:
    """FP8 vs bf16 linears on a copy of block 0 (random weights)."""
    import copy

    hs, ehs, temb, rot = _block_inputs(transformer, area, 7)
    block = transformer.transformer_blocks[0]
    with torch.no_grad():
        ref = block(hs, ehs, None, temb, rot)
        holder = nn.Module()
        holder.transformer_blocks = nn.ModuleList([copy.deepcopy(block)])
        convert_blocks_to_fp8(holder)
        out = holder.transformer_blocks[0](hs, ehs, None, temb, rot)
    return {"txt": _rel(ref[0], out[0]), "img": _rel(ref[1], out[1])}


def check_gelu(transformer: nn.Module, area: int) -> dict[str, float]:
    """cuBLASLt GELU epilogue vs Linear + tanh-GELU on block 0's image MLP, both against fp32."""
    lin = transformer.transformer_blocks[0].img_mlp.net[0].proj
    side = area // 16
    g = torch.Generator().manual_seed(11)
    x = torch.randn(1, 2 * side * side, lin.in_features, generator=g).to(lin.weight.device, lin.weight.dtype)
    with torch.no_grad():
        ref = F.gelu(F.linear(x.float(), lin.weight.float(), lin.bias.float()), approximate="tanh")
        out = linear_gelu_tanh(x, lin.weight, lin.bias).float()
        base = F.gelu(F.linear(x, lin.weight, lin.bias), approximate="tanh").float()
    return {"epilogue_vs_fp32": _rel(ref, out), "unfused_bf16_vs_fp32": _rel(ref, base)}


# ---------------------------------------------------------------------------------------------
# Environment and kernel profile


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def env_info(device: torch.device) -> dict[str, Any]:
    import diffusers
    import transformers

    info = {
        "date_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "host": platform.node(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "diffusers": diffusers.__version__,
        "transformers": transformers.__version__,
        "device": str(device),
        "argv": sys.argv,
    }
    if device.type == "cuda":
        info["gpu"] = capacity_helpers.describe_gpu(device)
        info["cuda"] = torch.version.cuda
        info["cudnn"] = torch.backends.cudnn.version()
    return info


def mem_gib(device: torch.device) -> dict[str, float]:
    if device.type != "cuda":
        return {}
    return {
        "allocated_gib": round(torch.cuda.memory_allocated() / 2**30, 2),
        "peak_gib": round(torch.cuda.max_memory_allocated() / 2**30, 2),
    }


def kernel_profile(fn: Any, device: torch.device, top: int = 30) -> dict[str, Any]:
    """Kernel times of one call of ``fn`` (torch.profiler), grouped by name and by category."""
    from torch.profiler import ProfilerActivity, profile

    if device.type != "cuda":
        return {"note": "kernel profile needs CUDA"}
    with profile(activities=[ProfilerActivity.CUDA]) as prof:
        fn()
        sync(device)
    by_name: dict[str, list[float]] = {}
    for evt in prof.events():
        if str(getattr(evt, "device_type", "")).endswith("CUDA"):
            row = by_name.setdefault(evt.name, [0.0, 0])
            row[0] += evt.time_range.elapsed_us()
            row[1] += 1

    def category(name: str) -> str:
        n = name.lower()
        if any(k in n for k in ("fmha", "flash", "sdpa", "attention", "attn")):
            return "attention"
        if any(k in n for k in ("gemm", "nvjet", "sm90_xmma", "cutlass", "xmma", "matmul", "gemv")):
            return "gemm"
        return "triton" if n.startswith("triton") else "other"

    cats: dict[str, float] = {}
    for name, (us, _) in by_name.items():
        cats[category(name)] = cats.get(category(name), 0.0) + us
    rows = sorted(by_name.items(), key=lambda kv: -kv[1][0])[:top]
    return {
        "total_kernel_ms": round(sum(cats.values()) / 1000, 3),
        "by_category_ms": {k: round(v / 1000, 3) for k, v in sorted(cats.items(), key=lambda kv: -kv[1])},
        "top_kernels": [{"name": n[:160], "ms": round(us / 1000, 3), "count": c, "cat": category(n)} for n, (us, c) in rows],
    }


# ---------------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--tiny", action="store_true", help="capacity=tiny on the CPU, 64² area, 2 steps (CI smoke test)")
    p.add_argument(
        "--models", type=Path, default=None, help="editor folder supplying tokenizer + processor (default: a tiny folder built offline)"
    )
    p.add_argument("--device", default=None, help="adapter device (default: cuda if available; cpu with --tiny)")
    p.add_argument("--dtype", default=None, help="adapter dtype (default: bfloat16 on CUDA, float32 on CPU)")
    p.add_argument("--steps", type=int, default=None, help="denoising steps (default 50; 2 with --tiny)")
    p.add_argument("--cfg", dest="cfg", action="store_true", default=True, help="true CFG: cond+uncond (default)")
    p.add_argument("--no-cfg", dest="cfg", action="store_false", help="true_cfg_scale=1: one forward per step")
    p.add_argument("--cfg-scale", type=float, default=4.0, help="true_cfg_scale with --cfg (default 4)")
    p.add_argument("--area", type=int, default=None, help="working area side: area² pixels (default 1024)")
    p.add_argument("--compile", action="store_true", help="compile=true: regional torch.compile")
    p.add_argument("--attention", default="default", choices=list(ATTENTION_BACKENDS))
    p.add_argument("--rope", default="complex", choices=["complex", "real"])
    p.add_argument("--fp8", action="store_true", help="fp8=true: FP8 block linears (opt-in, numerics change)")
    p.add_argument("--gelu-epilogue", action="store_true", help="fuse_gelu=true: GELU in the GEMM epilogue")
    p.add_argument("--repeats", type=int, default=None, help="timed edits (default 3; 1 with --tiny)")
    p.add_argument("--warmup-steps", type=int, default=2, help="steps of the untimed warm-up edit (compiles)")
    p.add_argument(
        "--plan",
        default="",
        help=f"ordered comma list of e2e:VARIANT:steps:cfg|nocfg:repeats and prof:VARIANT[:steps:cfg|nocfg]; variants: {','.join(PRESETS)}",
    )
    p.add_argument("--check", action="store_true", help="numerical checks on block 0: real vs complex RoPE, GELU epilogue, FP8 vs bf16")
    p.add_argument("--budget-s", type=float, default=1e9, help="skip remaining items after this many seconds")
    p.add_argument("--json", default=None, help="write all results here (rewritten after each item)")
    args = p.parse_args(argv)
    cuda = torch.cuda.is_available() and not args.tiny
    args.device = args.device or ("cuda" if cuda else "cpu")
    args.dtype = args.dtype or ("bfloat16" if args.device.startswith("cuda") else "float32")
    # One step gives NaN sigmas with Qwen-Image's shift_terminal, as in the real pipeline.
    args.steps = args.steps or (2 if args.tiny else 50)
    args.area = args.area or (64 if args.tiny else 1024)
    args.repeats = args.repeats or (1 if args.tiny else 3)
    try:
        args.items = (
            parse_plan(args.plan, args.steps, args.cfg)
            if args.plan
            else [PlanItem("e2e", variant_from_flags(args), args.steps, args.cfg, args.repeats)]
        )
    except ValueError as exc:
        p.error(str(exc))
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    t_start = time.perf_counter()
    device = torch.device(args.device)
    results: dict[str, Any] = {"env": env_info(device), "area": args.area, "e2e": [], "builds": []}

    def save() -> None:
        if args.json:
            Path(args.json).parent.mkdir(parents=True, exist_ok=True)
            Path(args.json).write_text(json.dumps(results, indent=1, default=str))

    with tempfile.TemporaryDirectory(prefix="editbench-bench-") as tmp:
        folder = args.models
        if folder is None:
            from editbench.models.tiny import build_tiny_models

            folder = build_tiny_models(Path(tmp)).editor
        request = make_request(args.area)
        editor: QwenImageEditor | None = None
        editor_variant: Variant | None = None
        checked = False
        for item in args.items:
            label = f"{item.kind}:{item.variant.name}:{item.steps}:{'cfg' if item.cfg else 'nocfg'}"
            if time.perf_counter() - t_start > args.budget_s:
                print(f"[budget] skipping {label}", flush=True)
                results.setdefault("skipped", []).append(label)
                continue
            try:
                if editor is None or editor_variant != item.variant:
                    free_editor(editor)
                    editor = None
                    t0 = time.perf_counter()
                    editor = build_editor(folder, item.variant, args)
                    editor_variant = item.variant
                    sync(device)
                    build = {
                        "variant": item.variant.name,
                        "build_s": round(time.perf_counter() - t0, 2),
                        "params": {
                            name: capacity_helpers.estimate_parameters(getattr(editor.pipe, name))
                            for name in ("transformer", "vae", "text_encoder")
                        },
                        "memory": mem_gib(device),
                        "identity": editor.identity(),
                    }
                    results["builds"].append(build)
                    print(f"built {item.variant.name} in {build['build_s']} s; {build['memory']}", flush=True)
                    if args.check and not checked:
                        transformer = editor.pipe.transformer
                        results["check_rope_rel_err"] = check_rope(transformer, args.area)
                        results["check_gelu_rel_err"] = check_gelu(transformer, args.area)
                        if device.type == "cuda":
                            results["check_fp8_rel_err"] = check_fp8(transformer, args.area)
                        checked = True
                        print({k: v for k, v in results.items() if k.startswith("check_")}, flush=True)
                cfg_scale = args.cfg_scale if item.cfg else 1.0
                set_loop(editor, min(args.warmup_steps, item.steps), item.cfg, cfg_scale)
                tw = time.perf_counter()
                editor.edit(request)  # warm-up: compiles on the first edit of a compiled variant
                sync(device)
                warm = time.perf_counter() - tw
                set_loop(editor, item.steps, item.cfg, cfg_scale)
                if item.kind == "prof":
                    prof = kernel_profile(lambda e=editor: e.edit(request), device)
                    results.setdefault("profile", {})[label] = prof
                    print(f"profile {label}: {prof.get('total_kernel_ms')} ms, {prof.get('by_category_ms')}", flush=True)
                    continue
                if device.type == "cuda":
                    torch.cuda.reset_peak_memory_stats()
                entry = {
                    "variant": dataclasses.asdict(item.variant),
                    "steps": item.steps,
                    "cfg": item.cfg,
                    "true_cfg_scale": cfg_scale,
                    "forwards_per_image": item.steps * (2 if item.cfg else 1),
                    "warmup_s": round(warm, 1),
                    "editor_settings": dataclasses.asdict(editor.settings),
                    **timed_edits(editor, request, item.repeats),
                    "memory": mem_gib(device),
                }
                results["e2e"].append(entry)
                print(
                    f"{label}  {entry['seconds_per_image_median']:.3f} s/image (all {entry['seconds_per_image_all']}; "
                    f"cond forward {entry['forward_cond_median_s']} s; warm-up {entry['warmup_s']} s)\n"
                    f"    stages {entry['stages_s'][-1]}",
                    flush=True,
                )
            except Exception as exc:  # noqa: BLE001 - record and go on with the next measurement
                err = f"{type(exc).__name__}: {exc}"[:2000]
                print(f"[error] {label}: {err}", flush=True)
                results.setdefault("errors", {})[label] = err
                if "out of memory" in err.lower():
                    free_editor(editor)
                    editor = None
            finally:
                save()
        free_editor(editor)

    results["total_wall_s"] = round(time.perf_counter() - t_start, 1)
    save()
    summary = {
        f"{e['variant']['name']}:{e['steps']}:{'cfg' if e['cfg'] else 'nocfg'}": e["seconds_per_image_median"] for e in results["e2e"]
    }
    print(json.dumps({"summary_e2e": summary}))
    return 1 if results.get("errors") and not results["e2e"] else 0


if __name__ == "__main__":
    raise SystemExit(main())
