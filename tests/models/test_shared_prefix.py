"""Logits mode with one prefill of each request's shared prefix equals the full prefill.

Run on the tiny real Qwen3-VL: the same requests scored both ways must give the same digit
distributions (float32 on the CPU: equal to ~1e-5), whatever the image sizes (left padding),
criteria counts (filler rows), reference and extra images (more images in the prefix).
"""

from __future__ import annotations

import pytest
import torch

from editbench.models import Criterion, JudgePrompt, JudgeRequest, Outcome, load_judge
from editbench.models.base import InputImage
from editbench.models.shared_prefix import SharedPrefixError, split_shared_prefixes

PROMPT = JudgePrompt(
    "Instruction: {instruction}\nReference answer: {reference}\nScore {criterion} ({criterion_description}) from {scale_min} to {scale_max}.",
    version="rubric-v1",
)
CRITERIA = (
    Criterion("semantic_consistency", "Does the edit do what the instruction asks?"),
    Criterion("perceptual_quality", "Does the edited image look natural?"),
    Criterion("plausibility", "Is the result consistent with real-world knowledge?"),
)
SIZES = [(64, 64), (200, 100), (48, 96), (120, 40), (32, 32), (80, 48)]


@pytest.fixture
def requests_varied(noise_image) -> list[JudgeRequest]:
    """2 or 3 criteria, mixed sizes, a reference image on one, an extra input image on another."""
    return [
        JudgeRequest(
            key=f"k{i}",
            source_image=noise_image(w, h, i),
            edited_image=noise_image(h, w, 100 + i),
            instruction="Make the sky blue" + " please" * i,
            prompt=PROMPT,
            criteria=CRITERIA[: 2 + i % 2],
            reference_text="a blue sky" if i % 2 else None,
            reference_image=noise_image(40, 40, 200 + i) if i == 3 else None,
            extra_images=(InputImage("second", noise_image(56, 56, 300)),) if i == 4 else (),
        )
        for i, (w, h) in enumerate(SIZES)
    ]


def _digits(results) -> list[list[float]]:
    return [s.extra["digit_probabilities"] + [s.extra["digit_mass"], s.score] for r in results for s in r.scores]


def test_shared_prefix_scores_equal_full_prefill_scores(tiny_models, requests_varied) -> None:
    full = load_judge("qwen3-vl", str(tiny_models.judge), mode="logits", batch_size=16, shared_prefix=False)
    shared = load_judge("qwen3-vl", str(tiny_models.judge), mode="logits", batch_size=16)
    want, got = full.score(requests_varied), shared.score(requests_varied)
    assert full.last_batch_sizes == [15]  # 3 requests x 3 criteria + 3 x 2, prefilled in full
    assert shared.last_batch_sizes == [6]  # one prefix row per request
    assert [r.key for r in got] == [r.key for r in want]
    for a, b in zip(got, want):
        assert [s.criterion for s in a.scores] == [s.criterion for s in b.scores]
        assert all(s.outcome is Outcome.DONE for s in a.scores)
    for a_row, b_row in zip(_digits(got), _digits(want), strict=True):
        assert a_row == pytest.approx(b_row, abs=1e-4)
    # The random model is not indifferent: criteria of one request get different answers.
    assert len({round(s.score, 4) for s in got[0].scores}) == 2
    assert shared.identity()["speedups"]["shared_prefix"] is True
    assert full.identity()["speedups"]["shared_prefix"] is False


def test_shared_prefix_batches_of_one_equal_one_big_batch(tiny_models, requests_varied) -> None:
    shared = load_judge("qwen3-vl", str(tiny_models.judge), mode="logits", batch_size=2)
    together = shared.score(requests_varied)
    assert shared.last_batch_sizes == [2, 2, 2]
    alone = [shared.score([r])[0] for r in requests_varied]
    for a_row, b_row in zip(_digits(together), _digits(alone), strict=True):
        assert a_row == pytest.approx(b_row, abs=1e-4)


def _batch(rows: list[list[int]], types: list[list[int]]) -> dict[str, torch.Tensor]:
    length = max(map(len, rows))
    ids = torch.zeros((len(rows), length), dtype=torch.long)
    mask = torch.zeros((len(rows), length), dtype=torch.long)
    kinds = torch.zeros((len(rows), length), dtype=torch.long)
    for i, (row, kind) in enumerate(zip(rows, types)):
        ids[i, -len(row) :], mask[i, -len(row) :], kinds[i, -len(row) :] = torch.tensor(row), 1, torch.tensor(kind)
    return {"input_ids": ids, "attention_mask": mask, "mm_token_type_ids": kinds}


def test_split_keeps_each_tokens_position_and_leaves_every_row_an_answer_token() -> None:
    # Two requests: (3 conversations sharing 4 tokens, one of them identical to another) and (1).
    rows = [[5, 6, 7, 8, 1], [5, 6, 7, 8, 2, 3], [5, 6, 7, 8, 1], [9, 9]]
    batch = _batch(rows, [[0] * len(r) for r in rows])
    positions = torch.arange(batch["input_ids"].numel()).view(1, 4, -1).expand(3, -1, -1).clone()
    split = split_shared_prefixes(batch, [3, 1], [0, 0, 0, 0], positions, pad_token_id=0)
    prefix = split.prefix["input_ids"]
    assert prefix.tolist() == [[5, 6, 7, 8], [0, 0, 0, 9]]  # left-padded; the lone row keeps its last token
    assert split.prefix["attention_mask"].tolist() == [[1, 1, 1, 1], [0, 0, 0, 1]]
    assert [slot.rows for slot in split.slots] == [[0, 3], [1, None], [2, None]]
    first, second = split.slots[0].inputs, split.slots[1].inputs
    assert first["input_ids"].tolist() == [[1], [9]]
    assert second["input_ids"].tolist() == [[2, 3], [0, 9]]  # a filler row for the one-criterion request
    assert second["attention_mask"].tolist() == [[1, 1, 1, 1, 1, 1], [0, 0, 0, 1, 0, 1]]
    # Positions are the full sequence's: row 1's token 3 sat at the row's last column.
    assert int(second["position_ids"][0, 0, -1]) == int(positions[0, 1, -1])


def test_split_refuses_conversations_that_differ_before_their_last_image() -> None:
    rows = [[5, 6, 1, 1, 8], [5, 7, 1, 1, 8]]
    batch = _batch(rows, [[0, 0, 1, 1, 0], [0, 0, 1, 1, 0]])
    positions = torch.zeros((3, 2, 5), dtype=torch.long)
    with pytest.raises(SharedPrefixError):
        split_shared_prefixes(batch, [2], [0, 0], positions, pad_token_id=0)
