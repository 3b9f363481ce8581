#!/usr/bin/env python3
"""Seconds per edited image for Qwen-Image-Edit (full size, random weights) on one GPU.

Times the whole per-image work the way ``QwenImageEditPipeline.__call__`` does it: text-encoder
prompt encoding with the source image inside the prompt (cond, and the negative prompt too with
true CFG), VAE encode of the source, N denoising steps x (1 or 2 transformer forwards) with the
Qwen-Image flow-matching scheduler and the pipeline's CFG norm rescale, VAE decode and the copy
of the image to the host. Models come from ``editbench.models.capacity`` (public configs, random
bf16 weights built on the GPU; nothing is downloaded).

Speed options (each measured separately):
  --attention cudnn|flash|efficient|math|default   pin the SDPA backend (default: torch's choice)
  --compile          regional torch.compile of the 60 repeated transformer blocks (dynamic text length)
  --rope real        real-valued RoPE (cos/sin) instead of complex multiply, so Inductor fuses it
                     with the q/k RMSNorm (identical math; checked by --check)
  --gelu-epilogue    MLP up-projection + bias + tanh-GELU as one cuBLASLt GEMM (custom op)
  --fp8              FP8 (e4m3, row-wise scales) GEMMs for the block linears; changes numerics,
                     opt-in only
The rewrites behind --rope/--gelu-epilogue/--fp8 are editbench.models.qwen_speedups, the same code
the editors run with their rope=real, fuse_gelu=true and fp8=true settings.
Examples:
  python bench/editor.py --tiny                                      # CPU smoke test, seconds
  python bench/editor.py --steps 50 --cfg --compile --rope real --repeats 2 --json out.json
  python bench/editor.py --variants eager,compile,compile-real --e2e compile-real:8:nocfg:3
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import math
import platform
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import torch
import torch.nn.functional as F
from torch import nn

from editbench.cluster.launcher import gpu_description
from editbench.models import capacity
from editbench.models.qwen_speedups import (  # the module rewrites measured here live in the package
    RealRopePosEmbed,
    RealRopeQwenAttnProcessor,
    convert_blocks_to_fp8,
    linear_gelu_tanh,
    set_gelu_epilogue,
    set_rope,
)

# ---------------------------------------------------------------------------------------------
# Variants


@dataclasses.dataclass(frozen=True)
class Variant:
    name: str
    compile: bool = False
    attention: str = "default"
    rope: str = "complex"
    fp8: bool = False
    gelu_epilogue: bool = (
        False  # MLP up-projection + bias + tanh-GELU in one cuBLASLt call
    )
    tune: bool = False  # Inductor coordinate-descent tuning of its Triton kernels


PRESETS = {
    "eager": Variant("eager"),
    "eager-cudnn": Variant("eager-cudnn", attention="cudnn"),
    "eager-flash": Variant("eager-flash", attention="flash"),
    "eager-efficient": Variant("eager-efficient", attention="efficient"),
    "eager-real": Variant("eager-real", rope="real"),
    "compile": Variant("compile", compile=True),
    "compile-real": Variant("compile-real", compile=True, rope="real"),
    "compile-real-fp8": Variant(
        "compile-real-fp8", compile=True, rope="real", fp8=True
    ),
    "eager-real-fp8": Variant("eager-real-fp8", rope="real", fp8=True),
    "eager-gelu": Variant("eager-gelu", gelu_epilogue=True),
    "compile-real-gelu": Variant(
        "compile-real-gelu", compile=True, rope="real", gelu_epilogue=True
    ),
    "compile-real-tune": Variant(
        "compile-real-tune", compile=True, rope="real", tune=True
    ),
    "compile-real-gelu-tune": Variant(
        "compile-real-gelu-tune",
        compile=True,
        rope="real",
        gelu_epilogue=True,
        tune=True,
    ),
    "compile-real-gelu-fp8": Variant(
        "compile-real-gelu-fp8", compile=True, rope="real", gelu_epilogue=True, fp8=True
    ),
}


def sdpa_context(name: str) -> contextlib.AbstractContextManager:
    from torch.nn.attention import SDPBackend, sdpa_kernel

    table = {
        "cudnn": SDPBackend.CUDNN_ATTENTION,
        "flash": SDPBackend.FLASH_ATTENTION,
        "efficient": SDPBackend.EFFICIENT_ATTENTION,
        "math": SDPBackend.MATH,
    }
    if name == "default":
        return contextlib.nullcontext()
    return sdpa_kernel([table[name]])


# ---------------------------------------------------------------------------------------------
# The edit workload


def calculate_shift(
    seq_len: int, base_seq: int, max_seq: int, base_shift: float, max_shift: float
) -> float:
    m = (max_shift - base_shift) / (max_seq - base_seq)
    return seq_len * m + (base_shift - m * base_seq)


def pack(latents: torch.Tensor) -> torch.Tensor:
    b, c, _, h, w = latents.shape
    x = latents.view(b, c, h // 2, 2, w // 2, 2).permute(0, 2, 4, 1, 3, 5)
    return x.reshape(b, (h // 2) * (w // 2), c * 4)


def unpack(latents: torch.Tensor, h: int, w: int) -> torch.Tensor:
    b, _, d = latents.shape
    c = d // 4
    x = latents.view(b, h // 2, w // 2, c, 2, 2).permute(0, 3, 1, 4, 2, 5)
    return x.reshape(b, c, 1, h, w)


class EditBench:
    def __init__(
        self,
        comps: dict[str, Any],
        area: int,
        device: torch.device,
        dtype: torch.dtype,
        seed: int = 0,
    ):
        self.t = comps["transformer"]
        self.vae = comps["vae"]
        self.te = comps["text_encoder"]
        self.scheduler = comps["scheduler"]
        self.device, self.dtype = device, dtype
        side = int(round(math.sqrt(area * area) / 32) * 32)  # square working area
        self.height = self.width = side
        self.vae_scale = 2 ** len(self.vae.temperal_downsample)
        self.lat_h = 2 * (side // (self.vae_scale * 2))
        self.lat_w = 2 * (side // (self.vae_scale * 2))
        self.z = self.vae.config.z_dim
        g = torch.Generator().manual_seed(seed)
        self.source = (torch.rand(1, 3, 1, side, side, generator=g) * 2 - 1).to(
            device, dtype
        )
        # Prompt: QwenImageEditPipeline's template (64 system tokens dropped later) + instruction,
        # with the source image (resized to the working area) inside: ~1369 image tokens at 1024².
        cfg = self.te.config
        self.cond_inputs = capacity.synthetic_vl_batch(
            cfg,
            [[(side, side)]],
            [capacity.EDIT_PROMPT_DROP_TOKENS + 40],
            device=device,
            dtype=dtype,
            seed=seed,
            prefix_tokens=capacity.EDIT_PROMPT_DROP_TOKENS + 4,
        )
        self.neg_inputs = capacity.synthetic_vl_batch(
            cfg,
            [[(side, side)]],
            [capacity.EDIT_PROMPT_DROP_TOKENS + 10],
            device=device,
            dtype=dtype,
            seed=seed + 1,
            prefix_tokens=capacity.EDIT_PROMPT_DROP_TOKENS + 4,
        )
        self.noise = torch.randn(1, self.z, 1, self.lat_h, self.lat_w, generator=g).to(
            device, dtype
        )
        self.img_shapes = [
            [
                (1, self.lat_h // 2, self.lat_w // 2),
                (1, self.lat_h // 2, self.lat_w // 2),
            ]
        ]
        mean = torch.tensor(self.vae.config.latents_mean).view(1, self.z, 1, 1, 1)
        std = torch.tensor(self.vae.config.latents_std).view(1, self.z, 1, 1, 1)
        self.lat_mean, self.lat_std = mean.to(device, dtype), std.to(device, dtype)

    # -- stages
    def encode_prompt(self, inputs: dict[str, torch.Tensor]) -> torch.Tensor:
        out = self.te(**inputs, output_hidden_states=True)
        hs = out.hidden_states[-1]
        return hs[:, capacity.EDIT_PROMPT_DROP_TOKENS :].to(
            self.dtype
        )  # B=1: no padding, mask=None

    def vae_encode(self) -> torch.Tensor:
        lat = self.vae.encode(self.source).latent_dist.mode()
        lat = (lat - self.lat_mean) / self.lat_std
        return pack(lat)

    def vae_decode(self, latents: torch.Tensor) -> torch.Tensor:
        lat = unpack(latents, self.lat_h, self.lat_w).to(self.vae.dtype)
        lat = lat * self.lat_std + self.lat_mean
        img = self.vae.decode(lat, return_dict=False)[0][:, :, 0]
        img = ((img.float() / 2 + 0.5).clamp(0, 1) * 255).round().to(torch.uint8)
        return img.cpu()

    def forward(
        self,
        latents: torch.Tensor,
        image_latents: torch.Tensor,
        t: torch.Tensor,
        embeds: torch.Tensor,
    ):
        x = torch.cat([latents, image_latents], dim=1)
        out = self.t(
            hidden_states=x,
            timestep=t.expand(latents.shape[0]).to(latents.dtype) / 1000,
            guidance=None,
            encoder_hidden_states_mask=None,
            encoder_hidden_states=embeds,
            img_shapes=self.img_shapes,
            attention_kwargs={},
            return_dict=False,
        )[0]
        return out[:, : latents.shape[1]]

    def edit(
        self,
        steps: int,
        cfg: bool,
        true_cfg_scale: float = 4.0,
        events: dict | None = None,
    ) -> torch.Tensor:
        """One full edit; if ``events`` is a dict, CUDA events at stage boundaries are stored in it."""
        import numpy as np

        def mark(name: str) -> None:
            if events is not None and self.device.type == "cuda":
                ev = torch.cuda.Event(enable_timing=True)
                ev.record()
                events[name] = ev

        mark("start")
        embeds = self.encode_prompt(self.cond_inputs)
        neg = self.encode_prompt(self.neg_inputs) if cfg else None
        mark("text_encoder")
        image_latents = self.vae_encode()
        mark("vae_encode")
        latents = pack(self.noise)
        sched = self.scheduler
        sigmas = np.linspace(1.0, 1 / steps, steps)
        mu = calculate_shift(
            latents.shape[1],
            sched.config.get("base_image_seq_len", 256),
            sched.config.get("max_image_seq_len", 4096),
            sched.config.get("base_shift", 0.5),
            sched.config.get("max_shift", 1.15),
        )
        sched.set_timesteps(sigmas=sigmas, device=self.device, mu=mu)
        sched.set_begin_index(0)
        for t in sched.timesteps:
            pred = self.forward(latents, image_latents, t, embeds)
            if cfg:
                neg_pred = self.forward(latents, image_latents, t, neg)
                comb = neg_pred + true_cfg_scale * (pred - neg_pred)
                cond_norm = torch.norm(pred, dim=-1, keepdim=True)
                noise_norm = torch.norm(comb, dim=-1, keepdim=True)
                pred = comb * (cond_norm / noise_norm)
            latents = sched.step(pred, t, latents, return_dict=False)[0]
        mark("denoise")
        image = self.vae_decode(latents)
        mark("vae_decode")
        return image


# ---------------------------------------------------------------------------------------------
# Applying variants (stateful; FP8 is irreversible so it must come last)


class VariantState:
    def __init__(self, transformer: nn.Module) -> None:
        self.t = transformer
        self.rope = "complex"
        self.compiled = False
        self.fp8 = False
        self.gelu = False
        self.tune = False

    def apply(self, v: Variant) -> None:
        t = self.t
        if self.fp8 and not v.fp8:
            raise RuntimeError("FP8 conversion is irreversible: put FP8 variants last")
        if v.rope != self.rope:
            set_rope(t, v.rope)
            self.rope = v.rope
        if v.gelu_epilogue != self.gelu:
            set_gelu_epilogue(t, v.gelu_epilogue)
            self.gelu = v.gelu_epilogue
        if v.tune != self.tune:
            import torch._inductor.config as inductor_config

            inductor_config.coordinate_descent_tuning = v.tune
            torch._dynamo.reset()  # recompile with the new Inductor settings
            self.tune = v.tune
        if v.fp8 and not self.fp8:
            n = convert_blocks_to_fp8(t)
            torch.cuda.empty_cache() if torch.cuda.is_available() else None
            print(f"  fp8: converted {n} linears", flush=True)
            self.fp8 = True
        for block in t.transformer_blocks:
            if v.compile:
                block.compile(
                    dynamic=True
                )  # fresh wrapper; dynamo's cache keeps earlier graphs
            else:
                block._compiled_call_impl = None
        self.compiled = v.compile


# ---------------------------------------------------------------------------------------------
# Timing helpers


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def time_fn(fn, device: torch.device, warmup: int, repeats: int) -> dict[str, Any]:
    for _ in range(warmup):
        fn()
    sync(device)
    times = []
    for _ in range(repeats):
        if device.type == "cuda":
            a, b = (
                torch.cuda.Event(enable_timing=True),
                torch.cuda.Event(enable_timing=True),
            )
            a.record()
            fn()
            b.record()
            b.synchronize()
            times.append(a.elapsed_time(b) / 1000)
        else:
            t0 = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t0)
    return {"median_s": statistics.median(times), "min_s": min(times), "times_s": times}


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
        info["gpu"] = gpu_description()
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


# ---------------------------------------------------------------------------------------------


def check_rope(bench: EditBench) -> dict[str, float]:
    """Real vs complex RoPE on one block: relative error of the block outputs (same weights)."""
    from diffusers.models.transformers.transformer_qwenimage import (
        QwenDoubleStreamAttnProcessor2_0,
    )

    t = bench.t
    block = t.transformer_blocks[0]
    g = torch.Generator().manual_seed(123)
    dev, dt = bench.device, bench.dtype
    n_img = 2 * (bench.lat_h // 2) * (bench.lat_w // 2)
    hs = torch.randn(1, n_img, t.inner_dim, generator=g).to(dev, dt)
    ehs = torch.randn(1, 77, t.inner_dim, generator=g).to(dev, dt)
    temb = torch.randn(1, t.inner_dim, generator=g).to(dev, dt)
    pe = t.pos_embed.inner if isinstance(t.pos_embed, RealRopePosEmbed) else t.pos_embed
    rot = pe(bench.img_shapes, max_txt_seq_len=77, device=dev)
    rot_real = tuple(torch.view_as_real(r).contiguous() for r in rot)
    saved = block.attn.processor
    with torch.no_grad():
        block.attn.set_processor(QwenDoubleStreamAttnProcessor2_0())
        ref = block(hs, ehs, None, temb, rot)
        block.attn.set_processor(RealRopeQwenAttnProcessor())
        out = block(hs, ehs, None, temb, rot_real)
    block.attn.set_processor(saved)
    errs = {}
    for name, a, b in (("txt", ref[0], out[0]), ("img", ref[1], out[1])):
        errs[name] = float(
            (a.float() - b.float()).norm() / b.float().norm().clamp(min=1e-30)
        )
        if not torch.isfinite(b).all():
            errs[name] = float("nan")
    return errs


def check_fp8(bench: EditBench) -> dict[str, float]:
    """FP8 vs bf16 for one block's linears (random weights): relative error of the block outputs."""
    import copy

    t = bench.t
    block = t.transformer_blocks[0]
    g = torch.Generator().manual_seed(7)
    dev, dt = bench.device, bench.dtype
    n_img = 2 * (bench.lat_h // 2) * (bench.lat_w // 2)
    hs = torch.randn(1, n_img, t.inner_dim, generator=g).to(dev, dt)
    ehs = torch.randn(1, 77, t.inner_dim, generator=g).to(dev, dt)
    temb = torch.randn(1, t.inner_dim, generator=g).to(dev, dt)
    pe = t.pos_embed
    rot = pe(bench.img_shapes, max_txt_seq_len=77, device=dev)
    with torch.no_grad():
        ref = block(hs, ehs, None, temb, rot)
        q = copy.deepcopy(block)
        q._compiled_call_impl = None
        holder = nn.Module()
        holder.transformer_blocks = nn.ModuleList([q])
        convert_blocks_to_fp8(holder)
        out = q(hs, ehs, None, temb, rot)
    del q, holder
    return {
        name: float((a.float() - b.float()).norm() / a.float().norm().clamp(min=1e-30))
        for name, a, b in (("txt", ref[0], out[0]), ("img", ref[1], out[1]))
    }


def check_gelu(bench: EditBench) -> float:
    """cuBLASLt GELU epilogue vs Linear + tanh-GELU on block 0's image MLP (relative error)."""
    lin = bench.t.transformer_blocks[0].img_mlp.net[0].proj
    g = torch.Generator().manual_seed(11)
    x = torch.randn(
        1, 2 * (bench.lat_h // 2) * (bench.lat_w // 2), lin.in_features, generator=g
    ).to(bench.device, bench.dtype)
    with torch.no_grad():
        ref = F.gelu(
            F.linear(x.float(), lin.weight.float(), lin.bias.float()),
            approximate="tanh",
        )
        out = linear_gelu_tanh(x, lin.weight, lin.bias).float()
        base = F.gelu(F.linear(x, lin.weight, lin.bias), approximate="tanh").float()
    return {
        "epilogue_vs_fp32": float((out - ref).norm() / ref.norm()),
        "unfused_bf16_vs_fp32": float((base - ref).norm() / ref.norm()),
    }


def kernel_profile(fn, device: torch.device, top: int = 30) -> dict[str, Any]:
    """Kernel times of one call of ``fn`` (torch.profiler), grouped by name and by category."""
    from torch.profiler import ProfilerActivity, profile

    if device.type != "cuda":
        return {"note": "kernel profile needs CUDA"}
    fn()
    sync(device)
    with profile(activities=[ProfilerActivity.CUDA]) as prof:
        fn()
        sync(device)
    by_name: dict[str, list[float]] = {}
    for evt in prof.events():
        if str(getattr(evt, "device_type", "")).endswith("CUDA"):
            dur = evt.time_range.elapsed_us()
            by_name.setdefault(evt.name, [0.0, 0])
            by_name[evt.name][0] += dur
            by_name[evt.name][1] += 1

    def category(name: str) -> str:
        n = name.lower()
        if any(k in n for k in ("fmha", "flash", "sdpa", "attention", "attn")):
            return "attention"
        if any(
            k in n
            for k in ("gemm", "nvjet", "sm90_xmma", "cutlass", "xmma", "matmul", "gemv")
        ):
            return "gemm"
        if n.startswith("triton"):
            return "triton"
        return "other"

    cats: dict[str, float] = {}
    for name, (us, _) in by_name.items():
        cats[category(name)] = cats.get(category(name), 0.0) + us
    total = sum(cats.values())
    rows = sorted(by_name.items(), key=lambda kv: -kv[1][0])[:top]
    return {
        "total_kernel_ms": round(total / 1000, 3),
        "by_category_ms": {
            k: round(v / 1000, 3)
            for k, v in sorted(cats.items(), key=lambda kv: -kv[1])
        },
        "top_kernels": [
            {"name": n[:160], "ms": round(us / 1000, 3), "count": c, "cat": category(n)}
            for n, (us, c) in rows
        ],
    }


def parse_e2e(spec: str) -> list[tuple[str, int, bool, int]]:
    out = []
    for item in filter(None, (s.strip() for s in spec.split(","))):
        name, steps, cfg, reps = item.split(":")
        out.append((name, int(steps), cfg == "cfg", int(reps)))
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument(
        "--tiny",
        action="store_true",
        help="tiny random config on CPU, 1 step (CI smoke test)",
    )
    p.add_argument(
        "--device", default=None, help="default: cuda if available (cpu with --tiny)"
    )
    p.add_argument(
        "--dtype", default=None, help="default: bfloat16 (float32 with --tiny)"
    )
    p.add_argument("--steps", type=int, default=None)
    p.add_argument(
        "--cfg",
        dest="cfg",
        action="store_true",
        default=True,
        help="true CFG: cond+uncond (default)",
    )
    p.add_argument("--no-cfg", dest="cfg", action="store_false")
    p.add_argument(
        "--area",
        type=int,
        default=None,
        help="working area side: area² pixels (default 1024)",
    )
    p.add_argument(
        "--compile",
        action="store_true",
        help="regional torch.compile of the transformer blocks",
    )
    p.add_argument(
        "--attention",
        default="default",
        choices=["default", "cudnn", "flash", "efficient", "math"],
    )
    p.add_argument("--rope", default="complex", choices=["complex", "real"])
    p.add_argument(
        "--fp8",
        action="store_true",
        help="FP8 GEMMs in the transformer blocks (opt-in, numerics change)",
    )
    p.add_argument(
        "--gelu-epilogue",
        action="store_true",
        help="MLP up-projection + bias + tanh-GELU in one cuBLASLt GEMM (exact to bf16 rounding)",
    )
    p.add_argument(
        "--repeats",
        type=int,
        default=None,
        help="timed full edits (default 3; 1 with --tiny)",
    )
    p.add_argument(
        "--warmup-steps", type=int, default=2, help="steps of the untimed warm-up edit"
    )
    p.add_argument(
        "--variants",
        default="",
        help=f"comma list of presets for per-forward timing: {','.join(PRESETS)}",
    )
    p.add_argument(
        "--e2e",
        default="",
        help="full-edit timings, comma list of variant:steps:cfg|nocfg:repeats",
    )
    p.add_argument(
        "--plan",
        default="",
        help="ordered comma list of fwd:VARIANT and e2e:VARIANT:steps:cfg|nocfg:repeats "
        "(overrides --variants/--e2e; FP8 variants must come last)",
    )
    p.add_argument(
        "--stages",
        action="store_true",
        help="time text encoder / VAE encode / VAE decode alone",
    )
    p.add_argument(
        "--check",
        action="store_true",
        help="numerical checks: real vs complex RoPE, FP8 vs bf16",
    )
    p.add_argument("--forward-repeats", type=int, default=5)
    p.add_argument(
        "--budget-s",
        type=float,
        default=1e9,
        help="skip remaining measurements after this many seconds",
    )
    p.add_argument(
        "--json",
        default=None,
        help="write all results here (rewritten after each measurement)",
    )
    args = p.parse_args(argv)

    t_start = time.perf_counter()
    device = torch.device(
        args.device or ("cpu" if args.tiny or not torch.cuda.is_available() else "cuda")
    )
    dtype = getattr(torch, args.dtype or ("float32" if args.tiny else "bfloat16"))
    steps = args.steps or (
        2 if args.tiny else 50
    )  # 1 step gives NaN sigmas with shift_terminal
    area = args.area or (64 if args.tiny else 1024)
    repeats = args.repeats or (1 if args.tiny else 3)
    for knob, value in (
        ("cache_size_limit", 64),
        ("recompile_limit", 64),
        ("accumulated_cache_size_limit", 1024),
        ("accumulated_recompile_limit", 1024),
    ):
        if hasattr(torch._dynamo.config, knob):
            setattr(torch._dynamo.config, knob, value)

    results: dict[str, Any] = {
        "env": env_info(device),
        "area": area,
        "forward": {},
        "e2e": [],
        "stages": {},
    }

    def save() -> None:
        if args.json:
            Path(args.json).parent.mkdir(parents=True, exist_ok=True)
            Path(args.json).write_text(json.dumps(results, indent=1, default=str))

    def over_budget(what: str) -> bool:
        if time.perf_counter() - t_start > args.budget_s:
            print(f"[budget] skipping {what}", flush=True)
            results.setdefault("skipped", []).append(what)
            save()
            return True
        return False

    t0 = time.perf_counter()
    comps = capacity.build_edit_components(
        device, dtype, size="tiny" if args.tiny else "full"
    )
    sync(device)
    results["build_s"] = round(time.perf_counter() - t0, 2)
    results["params"] = {
        k: capacity.estimate_parameters(v)
        for k, v in comps.items()
        if isinstance(v, nn.Module)
    }
    results["memory_after_build"] = mem_gib(device)
    print(
        f"built in {results['build_s']} s; params {results['params']}; {results['memory_after_build']}",
        flush=True,
    )
    bench = EditBench(comps, area, device, dtype)
    results["tokens"] = {
        "text_encoder_cond": int(bench.cond_inputs["input_ids"].shape[1]),
        "text_encoder_neg": int(bench.neg_inputs["input_ids"].shape[1]),
        "image_tokens_transformer": int(2 * (bench.lat_h // 2) * (bench.lat_w // 2)),
    }
    print(f"tokens {results['tokens']}", flush=True)
    state = VariantState(bench.t)

    with torch.inference_mode():
        embeds = bench.encode_prompt(bench.cond_inputs)
        neg = bench.encode_prompt(bench.neg_inputs)
        image_latents = bench.vae_encode()
        latents = pack(bench.noise)
        results["tokens"]["text_transformer_cond"] = int(embeds.shape[1])
        results["tokens"]["text_transformer_neg"] = int(neg.shape[1])

        if args.check:
            results["check_rope_rel_err"] = check_rope(bench)
            print(
                f"check rope real vs complex: {results['check_rope_rel_err']}",
                flush=True,
            )
            results["check_gelu_rel_err"] = check_gelu(bench)
            print(f"check gelu epilogue: {results['check_gelu_rel_err']}", flush=True)
            save()

        if args.stages and not over_budget("stages"):
            r = {
                "text_encoder": time_fn(
                    lambda: bench.encode_prompt(bench.cond_inputs), device, 2, 5
                ),
                "vae_encode": time_fn(bench.vae_encode, device, 2, 5),
                "vae_decode": time_fn(lambda: bench.vae_decode(latents), device, 2, 5),
            }
            results["stages"] = {k: round(v["median_s"], 4) for k, v in r.items()}
            print(f"stages (median s): {results['stages']}", flush=True)
            save()

        plan: list[tuple[str, Any]] = []
        if args.plan:
            for item in filter(None, (x.strip() for x in args.plan.split(","))):
                kind, rest = item.split(":", 1)
                if kind in ("fwd", "prof"):
                    plan.append((kind, PRESETS[rest]))
                else:
                    plan.append(("e2e", parse_e2e(rest)[0]))
        else:
            plan += [
                ("fwd", PRESETS[n]) for n in filter(None, args.variants.split(","))
            ]
            plan += [("e2e", e) for e in parse_e2e(args.e2e)]
        if not plan:  # plain CLI: one variant from the flags
            name = ("compile" if args.compile else "eager") + (
                "-real" if args.rope == "real" else ""
            )
            name += "-gelu" if args.gelu_epilogue else ""
            name += "-fp8" if args.fp8 else ""
            name += "" if args.attention == "default" else f"-{args.attention}"
            PRESETS[name] = Variant(
                name,
                args.compile,
                args.attention,
                args.rope,
                args.fp8,
                args.gelu_epilogue,
            )
            plan = [("e2e", (name, steps, args.cfg, repeats))]

        def maybe_check_fp8(v: Variant) -> None:
            if (
                v.fp8
                and args.check
                and not state.fp8
                and "check_fp8_rel_err" not in results
            ):
                results["check_fp8_rel_err"] = check_fp8(bench)
                print(
                    f"check fp8 vs bf16 (one block, random weights): {results['check_fp8_rel_err']}",
                    flush=True,
                )
                save()

        t_step = torch.tensor(500.0, device=device)

        def run_forward(v: Variant) -> None:
            tv = time.perf_counter()
            maybe_check_fp8(v)
            state.apply(v)
            with sdpa_context(v.attention):
                fw_c = lambda: bench.forward(latents, image_latents, t_step, embeds)
                fw_n = lambda: bench.forward(latents, image_latents, t_step, neg)
                t_c0 = time.perf_counter()
                fw_c()
                fw_n()  # first calls: compilation happens here
                sync(device)
                first = time.perf_counter() - t_c0
                rc = time_fn(fw_c, device, 1, args.forward_repeats)
                rn = time_fn(fw_n, device, 1, args.forward_repeats)
            results["forward"][v.name] = {
                "variant": dataclasses.asdict(v),
                "cond_median_s": round(rc["median_s"], 4),
                "uncond_median_s": round(rn["median_s"], 4),
                "cond_times_s": [round(x, 4) for x in rc["times_s"]],
                "first_calls_s": round(first, 1),
                "wall_s": round(time.perf_counter() - tv, 1),
                "memory": mem_gib(device),
            }
            print(
                f"forward {v.name:18s} cond {rc['median_s']:.4f} s  uncond {rn['median_s']:.4f} s  "
                f"(first calls {first:.1f} s)",
                flush=True,
            )

        def run_e2e(name: str, n_steps: int, use_cfg: bool, reps: int) -> None:
            v = PRESETS[name]
            maybe_check_fp8(v)
            state.apply(v)
            with sdpa_context(v.attention):
                tw = time.perf_counter()
                bench.edit(
                    min(args.warmup_steps, n_steps), use_cfg
                )  # warm-up (compiles)
                sync(device)
                warm = time.perf_counter() - tw
                walls, stage_list = [], []
                if device.type == "cuda":
                    torch.cuda.reset_peak_memory_stats()
                for _ in range(reps):
                    ev: dict[str, Any] = {}
                    sync(device)
                    t1 = time.perf_counter()
                    img = bench.edit(n_steps, use_cfg, events=ev)
                    sync(device)
                    walls.append(time.perf_counter() - t1)
                    if ev:
                        names = list(ev)
                        stage_list.append(
                            {
                                names[i]: round(
                                    ev[names[i - 1]].elapsed_time(ev[names[i]]) / 1000,
                                    4,
                                )
                                for i in range(1, len(names))
                            }
                        )
            entry = {
                "variant": dataclasses.asdict(v),
                "steps": n_steps,
                "cfg": use_cfg,
                "forwards_per_image": n_steps * (2 if use_cfg else 1),
                "seconds_per_image_median": round(statistics.median(walls), 3),
                "seconds_per_image_all": [round(w, 3) for w in walls],
                "stages_s": stage_list,
                "warmup_s": round(warm, 1),
                "image_shape": list(img.shape),
                "memory": mem_gib(device),
            }
            results["e2e"].append(entry)
            print(
                f"e2e {name}:{n_steps}:{'cfg' if use_cfg else 'nocfg'}  {entry['seconds_per_image_median']:.3f} "
                f"s/image (all {entry['seconds_per_image_all']}, warm-up {entry['warmup_s']} s)",
                flush=True,
            )
            if stage_list:
                print(f"    stages {stage_list[-1]}", flush=True)

        def run_profile(v: Variant) -> None:
            maybe_check_fp8(v)
            state.apply(v)
            with sdpa_context(v.attention):
                prof = kernel_profile(
                    lambda: bench.forward(latents, image_latents, t_step, embeds),
                    device,
                )
            results.setdefault("profile", {})[v.name] = prof
            print(
                f"profile {v.name}: total kernel {prof.get('total_kernel_ms')} ms, "
                f"by category {prof.get('by_category_ms')}",
                flush=True,
            )
            for row in prof.get("top_kernels", [])[:25]:
                print(
                    f"   {row['ms']:8.3f} ms  x{row['count']:4d}  {row['cat']:9s} {row['name'][:110]}",
                    flush=True,
                )

        for kind, item in plan:
            label = (
                f"{kind}:{item.name}"
                if kind in ("fwd", "prof")
                else "e2e:" + ":".join(map(str, item))
            )
            if over_budget(label):
                continue
            try:
                if kind == "fwd":
                    run_forward(item)
                elif kind == "prof":
                    run_profile(item)
                else:
                    run_e2e(*item)
            except Exception as exc:  # noqa: BLE001 - record and go on with the next measurement
                err = f"{type(exc).__name__}: {exc}"[:2000]
                print(f"[error] {label}: {err}", flush=True)
                results.setdefault("errors", {})[label] = err
                if "out of memory" in err.lower():
                    torch.cuda.empty_cache()
            save()

    results["total_wall_s"] = round(time.perf_counter() - t_start, 1)
    save()
    print(
        json.dumps(
            {
                "summary_e2e": {
                    f"{e['variant']['name']}:{e['steps']}:{'cfg' if e['cfg'] else 'nocfg'}": e[
                        "seconds_per_image_median"
                    ]
                    for e in results["e2e"]
                },
                "summary_forward": {
                    k: v["cond_median_s"] for k, v in results["forward"].items()
                },
            }
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
