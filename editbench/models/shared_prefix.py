"""One prefill of the shared prefix per request, for judges that ask each criterion separately.

A logits-mode judge asks every criterion of a request as its own conversation (one digit per
criterion). Those conversations differ only after the images — in the rubric text that names the
criterion — so prefilling each in full recomputes the image tokens, most of the sequence, once per
criterion: 2–3× the work for the example benchmark's 2–3 criteria (issue 15, goal 1: the judge's
share of a run's GPU time).

Here the conversations are tokenised exactly as before (one processor call, the same tokens and
images). :func:`split_shared_prefixes` then finds each request's longest common token prefix; the
model prefills those prefixes once (one row per request) and each conversation's remaining tokens
continue from that prefix's KV cache, one short forward per criterion slot. Every token keeps the
position ids (Qwen-VL's 3-D M-RoPE) and the context it has in the full sequence, so the next-token
distributions equal the full prefill's up to kernel rounding (tests compare both paths).

Pure tensor bookkeeping: no model, no processor — the adapter passes the processor output and the
positions its model computed for the full sequences.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch


class SharedPrefixError(ValueError):
    """The conversations of a request do not share everything up to their last image (a rubric
    template that puts criterion text before an image): the caller prefills them in full."""


@dataclass(frozen=True)
class SuffixSlot:
    """One forward over the prefix cache: row ``i`` continues request ``i``'s prefix with the
    tokens of conversation ``rows[i]`` (None: a filler row for a request with fewer criteria,
    computed and ignored so every slot keeps one row per request)."""

    inputs: dict[str, torch.Tensor]  # input_ids [G, S], attention_mask [G, P+S], position_ids [3, G, S]
    rows: list[int | None]


@dataclass(frozen=True)
class SplitBatch:
    prefix: dict[str, torch.Tensor]  # model inputs of the prefix prefill, one left-padded row per request
    slots: list[SuffixSlot]


def split_shared_prefixes(
    batch: dict[str, torch.Tensor],
    group_sizes: Sequence[int],
    images_per_row: Sequence[int],
    positions: torch.Tensor,
    pad_token_id: int,
) -> SplitBatch:
    """Split a left-padded processor batch whose rows come in groups (one group per request, its
    conversations in criterion order) into a prefix prefill and per-slot suffix forwards.

    ``positions`` are the model's position ids for ``batch`` ([3, rows, length]);
    ``images_per_row`` says how many of ``batch["image_grid_thw"]``'s images each row holds, in
    order (the processor concatenates ``pixel_values`` row by row, image by image).
    """
    if sum(group_sizes) != batch["input_ids"].shape[0] or min(group_sizes, default=1) < 1:
        raise ValueError(f"group sizes {list(group_sizes)} do not cover {batch['input_ids'].shape[0]} rows")
    device = batch["input_ids"].device
    ids, mask = batch["input_ids"].cpu(), batch["attention_mask"].cpu().bool()
    types = batch["mm_token_type_ids"].cpu()
    pos = positions.cpu()
    real = [(ids[r][mask[r]], types[r][mask[r]], pos[:, r][:, mask[r]]) for r in range(ids.shape[0])]

    starts = [sum(group_sizes[:g]) for g in range(len(group_sizes))]
    cuts = [_common_prefix_length([real[s + i][0] for i in range(k)]) for s, k in zip(starts, group_sizes)]
    for s, k, cut in zip(starts, group_sizes, cuts):
        if any(bool(real[r][1][cut:].any()) for r in range(s, s + k)):
            raise SharedPrefixError(f"conversations {s}..{s + k - 1} differ before their last image")

    prefix_rows = [(real[s][0][:cut], real[s][1][:cut], real[s][2][:, :cut]) for s, cut in zip(starts, cuts)]
    prefix = _left_padded(prefix_rows, pad_token_id)
    prefix_mask = prefix["attention_mask"]
    prefix.update(_images_of_rows(batch, starts, images_per_row))
    prefix = {name: value.to(device) for name, value in prefix.items()}

    slots = []
    for slot in range(max(group_sizes)):
        rows: list[int | None] = [s + slot if slot < k else None for s, k in zip(starts, group_sizes)]
        taken = [row if row is not None else s for row, s in zip(rows, starts)]
        suffix = _left_padded(
            [(real[r][0][cut:], real[r][1][cut:], real[r][2][:, cut:]) for r, cut in zip(taken, cuts)],
            pad_token_id,
        )
        inputs = {
            "input_ids": suffix["input_ids"].to(device),
            "attention_mask": torch.cat([prefix_mask, suffix["attention_mask"]], dim=1).to(device),
            "position_ids": suffix["position_ids"].to(device),
        }
        slots.append(SuffixSlot(inputs, rows))
    return SplitBatch(prefix, slots)


def _common_prefix_length(rows: list[torch.Tensor]) -> int:
    """Longest common prefix, leaving every row at least one token of its own (the answer
    position is the last token of each conversation)."""
    cut = min(len(row) for row in rows) - 1
    first = rows[0]
    for other in rows[1:]:
        differ = (first[:cut] != other[:cut]).nonzero()
        if len(differ):
            cut = int(differ[0, 0])
    return cut


def _left_padded(rows: list[tuple[torch.Tensor, torch.Tensor, torch.Tensor]], pad_token_id: int) -> dict[str, torch.Tensor]:
    length = max(len(ids) for ids, _, _ in rows)
    count = len(rows)
    input_ids = torch.full((count, length), pad_token_id, dtype=rows[0][0].dtype)
    attention_mask = torch.zeros((count, length), dtype=torch.long)
    types = torch.zeros((count, length), dtype=rows[0][1].dtype)
    position_ids = torch.zeros((3, count, length), dtype=rows[0][2].dtype)
    for i, (ids, kinds, positions) in enumerate(rows):
        if len(ids):
            input_ids[i, -len(ids) :] = ids
            attention_mask[i, -len(ids) :] = 1
            types[i, -len(ids) :] = kinds
            position_ids[:, i, -len(ids) :] = positions
    return {"input_ids": input_ids, "attention_mask": attention_mask, "mm_token_type_ids": types, "position_ids": position_ids}


def _images_of_rows(batch: dict[str, torch.Tensor], rows: Sequence[int], images_per_row: Sequence[int]) -> dict[str, torch.Tensor]:
    """``pixel_values``/``image_grid_thw`` of the given rows' images only (the prefix rows')."""
    grids = batch.get("image_grid_thw")
    if grids is None or not sum(images_per_row):
        return {}
    first_image = [sum(images_per_row[:r]) for r in range(len(images_per_row))]
    patches = grids.prod(dim=-1).tolist()
    first_patch = [sum(patches[:i]) for i in range(len(patches))]
    images = [i for r in rows for i in range(first_image[r], first_image[r] + images_per_row[r])]
    index = torch.cat([torch.arange(first_patch[i], first_patch[i] + patches[i]) for i in images])
    pixels = batch["pixel_values"]
    return {"pixel_values": pixels.index_select(0, index.to(pixels.device)), "image_grid_thw": grids[images]}
