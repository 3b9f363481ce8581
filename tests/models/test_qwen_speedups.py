"""The transformer speed rewrites (qwen_speedups) on the tiny transformer, and as editor options.

On a CPU they must not change results: real-valued RoPE is the complex multiply's math, the GELU
epilogue falls back to the unfused computation. FP8 changes numerics by design (bounded here).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from editbench.models import EditRequest, capacity, load_editor, qwen_speedups
from editbench.models.params import ParamError
from editbench.models.qwen_image_edit import area_dimensions

FAST = {"steps": "2", "working_area": "64*64"}
ROOT = Path(__file__).resolve().parents[2]


def tiny_transformer():
    from diffusers import QwenImageTransformer2DModel

    torch.manual_seed(0)
    return QwenImageTransformer2DModel(**capacity.TINY_TRANSFORMER).eval()


def forward(transformer, *, masked: bool = False) -> torch.Tensor:
    """One forward on fixed random inputs: 2 latent grids of 4x4 tokens, 9 text tokens."""
    g = torch.Generator().manual_seed(1)
    cfg = transformer.config
    hidden = torch.randn(1, 32, cfg.in_channels, generator=g)
    text = torch.randn(1, 9, cfg.joint_attention_dim, generator=g)
    mask = torch.ones(1, 9, dtype=torch.long)
    if masked:
        mask[:, 6:] = 0  # padded text positions
    with torch.no_grad():
        return transformer(
            hidden_states=hidden,
            timestep=torch.tensor([0.5]),
            guidance=None,
            encoder_hidden_states_mask=mask,
            encoder_hidden_states=text,
            img_shapes=[[(1, 4, 4), (1, 4, 4)]],
            return_dict=False,
        )[0]


@pytest.mark.parametrize("masked", [False, True])
def test_real_rope_gives_the_complex_ropes_output(masked) -> None:
    transformer = tiny_transformer()
    reference = forward(transformer, masked=masked)
    qwen_speedups.set_rope(transformer, "real")
    assert isinstance(transformer.pos_embed, qwen_speedups.RealRopePosEmbed)
    assert all(isinstance(p, qwen_speedups.RealRopeQwenAttnProcessor) for p in transformer.attn_processors.values())
    torch.testing.assert_close(forward(transformer, masked=masked), reference, rtol=1e-5, atol=1e-6)
    qwen_speedups.set_rope(transformer, "complex")  # reversible
    assert not isinstance(transformer.pos_embed, qwen_speedups.RealRopePosEmbed)
    assert torch.equal(forward(transformer, masked=masked), reference)


def test_apply_rope_real_equals_the_complex_multiply() -> None:
    g = torch.Generator().manual_seed(2)
    x = torch.randn(2, 5, 3, 8, generator=g)
    freqs = torch.polar(torch.ones(5, 4), torch.randn(5, 4, generator=g))
    complex_out = torch.view_as_real(torch.view_as_complex(x.unflatten(-1, (-1, 2))) * freqs[None, :, None]).flatten(3)
    real_out = qwen_speedups.apply_rope_real(x, torch.view_as_real(freqs))
    torch.testing.assert_close(real_out, complex_out, rtol=1e-6, atol=1e-6)


def test_set_rope_keeps_the_attention_backend() -> None:
    transformer = tiny_transformer()
    for processor in transformer.attn_processors.values():
        processor._attention_backend = "native"
    qwen_speedups.set_rope(transformer, "real")
    assert {p._attention_backend for p in transformer.attn_processors.values()} == {"native"}
    with pytest.raises(ValueError, match="rope"):
        qwen_speedups.set_rope(transformer, "quaternion")


def test_fused_gelu_gives_the_same_output_and_is_reversible() -> None:
    transformer = tiny_transformer()
    reference = forward(transformer)
    qwen_speedups.set_gelu_epilogue(transformer, True)
    fused = [ff.net[0] for b in transformer.transformer_blocks for ff in (b.img_mlp, b.txt_mlp)]
    assert all(isinstance(m, qwen_speedups.FusedGeluProj) for m in fused)
    torch.testing.assert_close(forward(transformer), reference, rtol=1e-6, atol=1e-6)
    qwen_speedups.set_gelu_epilogue(transformer, False)
    assert not any(
        isinstance(ff.net[0], qwen_speedups.FusedGeluProj) for b in transformer.transformer_blocks for ff in (b.img_mlp, b.txt_mlp)
    )
    assert torch.equal(forward(transformer), reference)


def test_fp8_linears_stay_close_to_the_reference() -> None:
    reason = qwen_speedups.fp8_unsupported_reason("cpu")
    if reason:
        pytest.skip(f"FP8 unavailable on this CPU build: {reason}")
    transformer = tiny_transformer()
    reference = forward(transformer)
    done = qwen_speedups.apply_speedups(transformer, rope="real", fuse_gelu=True, fp8=True)
    assert done["fp8_linears"] > 0 and "not validated" in done["fp8_note"]
    linears = [m for m in transformer.transformer_blocks.modules() if isinstance(m, qwen_speedups.Fp8Linear)]
    assert len(linears) == done["fp8_linears"] and linears[0].weight.dtype == torch.float8_e4m3fn
    out = forward(transformer)
    relative = float((out - reference).norm() / reference.norm())
    assert 0 < relative < 0.05, relative  # changed numerics, within FP8's rounding


def test_apply_speedups_by_default_changes_nothing() -> None:
    transformer = tiny_transformer()
    reference = forward(transformer)
    assert qwen_speedups.apply_speedups(transformer) == {}
    assert torch.equal(forward(transformer), reference)


# -- as editor options ---------------------------------------------------------------------------


def _edit(editor, noise_image) -> np.ndarray:
    image = editor.edit(EditRequest("s1", noise_image(64, 48, 3), "Make the sky blue.", seed=9))
    return np.asarray(image, dtype=np.int16)


def test_editor_speed_options_keep_the_pixels(tiny_models, noise_image) -> None:
    plain = load_editor("qwen-image-edit", str(tiny_models.editor), **FAST)
    fast = load_editor("qwen-image-edit", str(tiny_models.editor), rope="real", fuse_gelu="true", **FAST)
    assert isinstance(fast.pipe.transformer.pos_embed, qwen_speedups.RealRopePosEmbed)
    # Same math in fp32: at most a rounding flip of one level in a few pixels.
    difference = np.abs(_edit(plain, noise_image) - _edit(fast, noise_image))
    assert difference.max() <= 1 and (difference > 0).mean() < 0.01
    identity = fast.identity()
    assert identity["params"]["rope"] == "real" and identity["params"]["fuse_gelu"] is True
    assert identity["speedups"] == {"rope": "real", "fuse_gelu": True}
    assert "speedups" not in plain.identity() and plain.identity()["params"]["fp8"] is False


def test_editor_fp8_option(tiny_models, noise_image) -> None:
    reason = qwen_speedups.fp8_unsupported_reason("cpu")
    if reason:
        with pytest.raises(ParamError, match="fp8"):
            load_editor("qwen-image-edit", str(tiny_models.editor), fp8="true", **FAST)
        pytest.skip(f"FP8 unavailable on this CPU build: {reason}")
    editor = load_editor("qwen-image-edit", str(tiny_models.editor), capacity="tiny", fp8="true", **FAST)
    width, height = area_dimensions(64 * 64, 64 / 48)
    assert _edit(editor, noise_image).shape == (height, width, 3)
    assert editor.identity()["speedups"]["fp8_linears"] > 0
