"""Speed rewrites of Qwen-Image's transformer (``QwenImageTransformer2DModel``), all opt-in.

One job: swap modules of an already-built transformer for faster equivalents. The editor adapters
expose them as settings (``rope``, ``fuse_gelu``, ``fp8``; applied before ``torch.compile``) and
``bench/editor.py`` measures them. Each function below says what it buys; the numbers are
medians measured on one H100 80GB (bf16, 1024² working area, 8192 image + ~1400 text tokens per
forward, full-size random weights; ``docs/BENCHMARKS.md``):

=======================================  =============  =============  ===============
setting (with regional ``compile``)      one forward    50 steps, CFG  8 steps, no CFG
=======================================  =============  =============  ===============
compile                                  0.373 s        37.6 s (*)     3.287 s
+ ``rope=real``                          0.369 s        37.46 s        3.271 s
+ ``fuse_gelu``                          0.357–0.361 s  36.08 s        3.130 s
+ ``fp8`` (changes numerics, see below)  0.320–0.324 s  32.23 s        2.879 s
=======================================  =============  =============  ===============

(*) composed from stage and per-forward times (validated to 0.1% on a measured run); the other
50-step figures are measured end to end.

Without compile, real-valued RoPE is *slower* (0.516 s against 0.461 s per eager forward): its
gain is that Inductor fuses it with the q/k RMSNorm. Use it together with ``compile=true``.

:func:`set_rope` and :func:`set_gelu_epilogue` are reversible; :func:`convert_blocks_to_fp8` is
not (the bf16 weights are dropped).
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

ROPE_MODES = ("complex", "real")

#: A diffusers module whose submodules are reached and swapped by attribute name (the
#: transformer, its blocks, a GELU activation): torch types such attributes only as
#: ``Tensor | Module``, so the helpers below take these as ``Any``.
DiffusersModule = Any

# ---------------------------------------------------------------------------------------------
# Real-valued RoPE: the transformer's pos_embed returns complex freqs; wrap it so blocks get
# (cos, sin) pairs as one float tensor [S, D/2, 2], and apply the rotation with real arithmetic.


class RealRopePosEmbed(nn.Module):
    """Wraps the transformer's ``pos_embed``: complex freqs become ``view_as_real`` (cos, sin) pairs."""

    def __init__(self, inner: nn.Module) -> None:
        super().__init__()
        self.inner = inner

    def forward(self, *args: Any, **kwargs: Any) -> tuple[torch.Tensor, torch.Tensor]:
        vid, txt = self.inner(*args, **kwargs)
        return torch.view_as_real(vid).contiguous(), torch.view_as_real(txt).contiguous()


def apply_rope_real(x: torch.Tensor, cs: torch.Tensor) -> torch.Tensor:
    """x: [B, S, H, D]; cs: [S, D/2, 2] (cos, sin). Same as complex multiply of (x0 + i x1)."""
    xf = x.float().unflatten(-1, (-1, 2))
    x0, x1 = xf.unbind(-1)
    c = cs[None, :, None, :, 0]
    s = cs[None, :, None, :, 1]
    out = torch.stack((x0 * c - x1 * s, x0 * s + x1 * c), dim=-1).flatten(3)
    return out.to(x.dtype)


class RealRopeQwenAttnProcessor:
    """``QwenDoubleStreamAttnProcessor2_0`` with real-valued RoPE (same inputs, same outputs).

    Same math as the complex multiply, in fp32 as there: identical outputs in fp32 on a CPU, a
    1.4e-4–1.9e-4 relative difference of a full-size block's output in bf16 on an H100 (kernel
    reduction order). Buys ~1% per compiled forward (0.3727 → 0.3688 s on an H100) because
    Inductor can fuse real arithmetic with the q/k RMSNorm and cannot fuse complex tensors.
    """

    _attention_backend = None
    _parallel_config = None

    def __call__(
        self,
        attn: Any,
        hidden_states: torch.Tensor,
        encoder_hidden_states: torch.Tensor | None = None,
        encoder_hidden_states_mask: torch.Tensor | None = None,
        attention_mask: torch.Tensor | None = None,
        image_rotary_emb: tuple[torch.Tensor, torch.Tensor] | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        from diffusers.models.attention_dispatch import dispatch_attention_fn

        if encoder_hidden_states is None:
            raise ValueError("needs encoder_hidden_states (text stream)")
        if attention_mask is not None:
            raise ValueError("pass encoder_hidden_states_mask, not attention_mask")
        if encoder_hidden_states_mask is not None:
            image_mask = torch.ones(
                (hidden_states.shape[0], hidden_states.shape[1]),
                dtype=torch.bool,
                device=hidden_states.device,
            )
            attention_mask = torch.cat([encoder_hidden_states_mask, image_mask], dim=1)[:, None, None, :]
        seq_txt = encoder_hidden_states.shape[1]
        head_dim = attn.inner_dim // attn.heads

        img_q = attn.to_q(hidden_states).unflatten(-1, (-1, head_dim))
        img_k = attn.to_k(hidden_states).unflatten(-1, (-1, head_dim))
        img_v = attn.to_v(hidden_states).unflatten(-1, (-1, head_dim))
        txt_q = attn.add_q_proj(encoder_hidden_states).unflatten(-1, (-1, head_dim))
        txt_k = attn.add_k_proj(encoder_hidden_states).unflatten(-1, (-1, head_dim))
        txt_v = attn.add_v_proj(encoder_hidden_states).unflatten(-1, (-1, head_dim))
        if attn.norm_q is not None:
            img_q = attn.norm_q(img_q)
        if attn.norm_k is not None:
            img_k = attn.norm_k(img_k)
        if attn.norm_added_q is not None:
            txt_q = attn.norm_added_q(txt_q)
        if attn.norm_added_k is not None:
            txt_k = attn.norm_added_k(txt_k)
        if image_rotary_emb is not None:
            img_cs, txt_cs = image_rotary_emb
            img_q = apply_rope_real(img_q, img_cs)
            img_k = apply_rope_real(img_k, img_cs)
            txt_q = apply_rope_real(txt_q, txt_cs)
            txt_k = apply_rope_real(txt_k, txt_cs)
        q = torch.cat([txt_q, img_q], dim=1)
        k = torch.cat([txt_k, img_k], dim=1)
        v = torch.cat([txt_v, img_v], dim=1)
        out = dispatch_attention_fn(
            q,
            k,
            v,
            attn_mask=attention_mask,
            dropout_p=0.0,
            is_causal=False,
            backend=self._attention_backend,
            parallel_config=self._parallel_config,
        )
        out = out.flatten(2, 3).to(q.dtype)
        txt_out = out[:, :seq_txt, :]
        img_out = out[:, seq_txt:, :]
        img_out = attn.to_out[0](img_out.contiguous())
        if len(attn.to_out) > 1:
            img_out = attn.to_out[1](img_out)
        txt_out = attn.to_add_out(txt_out.contiguous())
        return img_out, txt_out


def set_rope(transformer: DiffusersModule, mode: str) -> None:
    """``"real"``: real-valued RoPE (pos_embed wrapper + :class:`RealRopeQwenAttnProcessor`);
    ``"complex"``: diffusers' own. The attention backend set on the current processors is kept."""
    from diffusers.models.transformers.transformer_qwenimage import (
        QwenDoubleStreamAttnProcessor2_0,
    )

    if mode not in ROPE_MODES:
        raise ValueError(f"rope must be one of {', '.join(ROPE_MODES)}, got {mode!r}")
    current = next(iter(transformer.attn_processors.values()), None)
    backend = getattr(current, "_attention_backend", None)
    parallel = getattr(current, "_parallel_config", None)
    pos_embed = transformer.pos_embed
    if mode == "real":
        if not isinstance(pos_embed, RealRopePosEmbed):
            transformer.pos_embed = RealRopePosEmbed(pos_embed)
        processor: Any = RealRopeQwenAttnProcessor()
    else:
        if isinstance(pos_embed, RealRopePosEmbed):
            transformer.pos_embed = pos_embed.inner
        processor = QwenDoubleStreamAttnProcessor2_0()
    processor._attention_backend = backend
    processor._parallel_config = parallel
    transformer.set_attn_processor(processor)


# ---------------------------------------------------------------------------------------------
# MLP up-projection with bias + tanh-GELU fused into the GEMM epilogue (cuBLASLt), exposed as a
# custom op so Inductor keeps it as one extern kernel instead of a GEMM plus a GELU pass over the
# 8192 x 12288 activation.


@torch.library.custom_op("editbench::linear_gelu_tanh", mutates_args=())
def linear_gelu_tanh(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
    """``gelu(x @ weight.T + bias, approximate="tanh")``; one cuBLASLt call on CUDA."""
    x2 = x.reshape(-1, x.shape[-1])
    if x.is_cuda:
        y = torch._addmm_activation(bias, x2, weight.t(), use_gelu=True)
    else:
        y = F.gelu(F.linear(x2, weight, bias), approximate="tanh")
    return y.reshape(*x.shape[:-1], weight.shape[0])


@linear_gelu_tanh.register_fake
def _linear_gelu_tanh_fake(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
    return x.new_empty((*x.shape[:-1], weight.shape[0]))


class FusedGeluProj(nn.Module):
    """Drop-in for diffusers' ``GELU(dim, inner, approximate="tanh")`` (its ``proj`` Linear kept).

    Removes the separate GELU pass over each MLP's 4×-wide activation: −9 ms per compiled forward
    on an H100 (compile + real RoPE: 0.3688 → 0.3571–0.3606 s; 50 steps with CFG 37.46 → 36.08 s,
    8 steps 3.271 → 3.130 s). Numerics: cuBLASLt's epilogue is 1.7e-3 from an fp32 reference where
    the unfused bf16 path is 2.7e-3; on a CPU it is the unfused computation (identical outputs).
    """

    proj: nn.Module

    def __init__(self, gelu_module: DiffusersModule) -> None:
        super().__init__()
        self.proj = gelu_module.proj
        gelu_module.proj = None  # one owner, so an FP8 swap of self.proj frees the bf16 weight
        self.orig = [gelu_module]  # list: not registered as a submodule

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if isinstance(self.proj, nn.Linear):
            return linear_gelu_tanh(x, self.proj.weight, self.proj.bias)
        return F.gelu(self.proj(x), approximate="tanh")  # e.g. after FP8 conversion


def set_gelu_epilogue(transformer: DiffusersModule, on: bool) -> None:
    """Swap every block's image and text MLP GELU for :class:`FusedGeluProj` (``on``) or back."""
    for block in transformer.transformer_blocks:
        for ff in (block.img_mlp, block.txt_mlp):
            first = ff.net[0]
            if on and not isinstance(first, FusedGeluProj):
                ff.net[0] = FusedGeluProj(first)
            elif not on and isinstance(first, FusedGeluProj):
                orig = first.orig[0]
                orig.proj = first.proj
                ff.net[0] = orig


# ---------------------------------------------------------------------------------------------
# FP8 linears (opt-in): e4m3 weights with per-output-channel scales, activations quantized per
# row on the fly, torch._scaled_mm with bf16 output and fused bias.

FP8_MAX = 448.0
FP8_NOTE = (
    "FP8 block linears: not validated for quality (checked on random weights only); "
    "use for timing until checked against bf16 with real weights"
)


class Fp8Linear(nn.Module):
    """FP8 (e4m3) ``nn.Linear``: per-output-channel weight scales, per-row activation scales.

    Buys ~11% per forward on an H100 (compile + real RoPE + GELU epilogue: 0.357 → 0.320 s; 50
    steps with CFG 36.08 → 32.23 s, 8 steps 3.130 → 2.879 s) and 12.7 GiB of memory (53.9 → 41.2
    GiB allocated). **Changes numerics** (5.3e-3 relative difference per full-size block on random
    weights) and is **not validated for quality**: timing only until checked with real weights.
    On a CPU the GEMM is emulated in fp32 (for tests, slow).
    """

    weight: torch.Tensor  # buffers (register_buffer), declared for the type checker
    w_scale: torch.Tensor

    def __init__(self, linear: nn.Linear) -> None:
        super().__init__()
        w = linear.weight.detach()
        scale = w.abs().amax(dim=1, keepdim=True).float().clamp(min=1e-12) / FP8_MAX  # [N, 1]
        self.register_buffer("weight", (w.float() / scale).clamp(-FP8_MAX, FP8_MAX).to(torch.float8_e4m3fn))
        self.register_buffer("w_scale", scale.t().contiguous())  # [1, N]
        self.bias = None if linear.bias is None else nn.Parameter(linear.bias.detach(), requires_grad=False)
        self.out_features, self.in_features = w.shape

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shape = x.shape
        x2 = x.reshape(-1, shape[-1])
        x_scale = x2.abs().amax(dim=1, keepdim=True).float().clamp(min=1e-12) / FP8_MAX  # [M, 1]
        xq = (x2.float() / x_scale).clamp(-FP8_MAX, FP8_MAX).to(torch.float8_e4m3fn)
        if x.is_cuda:
            y = torch._scaled_mm(
                xq,
                self.weight.t(),
                scale_a=x_scale,
                scale_b=self.w_scale,
                bias=self.bias,
                out_dtype=x.dtype,
            )
        else:  # emulation for CPU tests
            y = (xq.float() * x_scale) @ (self.weight.float() * self.w_scale.t()).t()
            if self.bias is not None:
                y = y + self.bias.float()
            y = y.to(x.dtype)
        return y.reshape(*shape[:-1], self.out_features)


def convert_blocks_to_fp8(transformer: DiffusersModule) -> int:
    """Swap every nn.Linear inside the transformer blocks (not the 1-token modulation) for Fp8Linear.

    Irreversible. Returns the number of linears converted.
    """
    n = 0
    for block in transformer.transformer_blocks:
        for name, module in list(block.named_modules()):
            for child_name, child in list(module.named_children()):
                if not isinstance(child, nn.Linear) or (child_name == "1" and name.endswith("_mod")):
                    continue
                setattr(module, child_name, Fp8Linear(child))
                n += 1
                del child
    return n


def fp8_unsupported_reason(device: Any) -> str | None:
    """Why FP8 linears cannot run on ``device``, or None if they can (emulated on a CPU)."""
    device = torch.device(device)
    if not hasattr(torch, "float8_e4m3fn"):
        return f"torch {torch.__version__} has no float8_e4m3fn"
    if device.type == "cuda":
        if not torch.cuda.is_available():
            return "CUDA is not available"
        capability = torch.cuda.get_device_capability(device)
        if capability < (8, 9):
            name = torch.cuda.get_device_name(device)
            return f"FP8 GEMMs need compute capability 8.9+ (Ada, Hopper); {name} has {capability[0]}.{capability[1]}"
        return None
    if device.type == "cpu":
        try:
            torch.ones(2).to(torch.float8_e4m3fn).float()
        except (RuntimeError, TypeError) as exc:
            return f"this torch cannot convert to float8 on the CPU ({exc})"
        return None
    return f"FP8 linears are not implemented for device type {device.type!r}"


# ---------------------------------------------------------------------------------------------
# Regional compilation with a dynamic text length. diffusers' ``compile_repeated_blocks`` compiles
# each transformer block with every shape static, so each prompt's token count (it differs per
# sample) first recompiled the block graph: measured on an H200, the first edits of a run took
# 7.8, 4.8 and 4.8 s against 3.25 s steady with a warm compile cache (docs/BENCHMARKS.md 10.4).
# Here the text-sequence dim of the blocks' inputs is marked dynamic before the first compile,
# so one graph serves every prompt length; the image-token dim stays static (it is the same for
# every edit at one working area and aspect), so Inductor's kernels stay specialised on it.


#: Which input of a Qwen-Image block carries the text length in which dim (``image_rotary_emb``
#: is the (image, text) pair of RoPE tables: its text table, dim 0).
TEXT_DIMS = {"encoder_hidden_states": 1, "encoder_hidden_states_mask": 1}


class TextDynamicForward:
    """A block's ``forward``: marks the text dim of its inputs dynamic (outside the compiled
    region, where marking works), then calls the compiled forward shared by all blocks."""

    def __init__(self, compiled: Any, block: nn.Module) -> None:
        self.compiled = compiled
        self.block = block

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        for name, dim in TEXT_DIMS.items():
            value = kwargs.get(name)
            if isinstance(value, torch.Tensor):
                torch._dynamo.maybe_mark_dynamic(value, dim)
        rope = kwargs.get("image_rotary_emb")
        if isinstance(rope, tuple) and len(rope) == 2 and isinstance(rope[1], torch.Tensor):
            torch._dynamo.maybe_mark_dynamic(rope[1], 0)
        return self.compiled(self.block, *args, **kwargs)


def compile_blocks_text_dynamic(transformer: DiffusersModule, **compile_kwargs: Any) -> int:
    """Compile the transformer's repeated blocks (``_repeated_blocks``, as diffusers'
    ``compile_repeated_blocks``) with ``fullgraph=True`` and a dynamic text length. Returns the
    number of blocks; all share one compiled forward per block class (compiled at first call).

    ``maybe_mark_dynamic`` (not ``mark_dynamic``): should a future diffusers specialise the text
    length, the blocks recompile per length as before instead of failing the edit."""
    names = set(getattr(transformer, "_repeated_blocks", None) or ())
    compiled: dict[type, Any] = {}
    count = 0
    for module in transformer.modules():
        cls = type(module)
        if cls.__name__ not in names:
            continue
        if cls not in compiled:
            compiled[cls] = torch.compile(cls.forward, fullgraph=True, **compile_kwargs)
        # An instance ``forward`` (as diffusers' own hooks set): nn.Module.__call__ runs it, and
        # hooks stay eager around it.
        module.forward = TextDynamicForward(compiled[cls], module)
        count += 1
    if not count:
        raise ValueError(f"{type(transformer).__name__} has no repeated blocks ({sorted(names)}) to compile")
    return count


def apply_speedups(transformer: nn.Module, *, rope: str = "complex", fuse_gelu: bool = False, fp8: bool = False) -> dict[str, Any]:
    """Apply the chosen rewrites in a safe order (RoPE, GELU epilogue, then the irreversible FP8).

    Call before ``torch.compile``. Returns what was done (for a run card); empty when nothing.
    """
    done: dict[str, Any] = {}
    if rope != "complex":
        set_rope(transformer, rope)
        done["rope"] = rope
    if fuse_gelu:
        set_gelu_epilogue(transformer, True)
        done["fuse_gelu"] = True
    if fp8:
        reason = fp8_unsupported_reason(next(transformer.parameters()).device)
        if reason:
            raise RuntimeError(reason)
        done["fp8_linears"] = convert_blocks_to_fp8(transformer)
        done["fp8_note"] = FP8_NOTE
        if torch.cuda.is_available():
            torch.cuda.empty_cache()
    return done
