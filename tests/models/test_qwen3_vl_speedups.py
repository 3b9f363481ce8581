"""The Qwen3-VL judge's opt-in speedups (``static_cache``, ``compile_layers``) on the tiny judge:
they change cost, not results."""

from __future__ import annotations

import functools
import time

import pytest
import torch

from editbench.models import Criterion, JudgePrompt, JudgeRequest, Outcome, load_judge
from editbench.models.qwen3_vl_speedups import decoder_layers

PROMPT = JudgePrompt(
    "Instruction: {instruction}\nScore {criterion} ({criterion_description}) from {scale_min} to {scale_max}.",
    version="rubric-v1",
)
CRITERIA = (Criterion("semantic_consistency", "Does the edit follow the instruction?"), Criterion("quality", "Natural?"))
# Different image sizes and text lengths: left padding inside a batch.
SIZES = [(64, 64), (96, 48), (32, 32)]
# Inductor on this CPU compiled the tiny judge's layer in ~8 s; give up (skip) well past that.
COMPILE_BUDGET_S = 60


@pytest.fixture
def requests_small(noise_image) -> list[JudgeRequest]:
    return [
        JudgeRequest(
            key=f"k{i}",
            source_image=noise_image(w, h, i),
            edited_image=noise_image(h, w, 50 + i),
            instruction="Make the sky blue" + " please" * i,
            prompt=PROMPT,
            criteria=CRITERIA,
        )
        for i, (w, h) in enumerate(SIZES)
    ]


def judge(tiny_models, **params):
    return load_judge("qwen3-vl", str(tiny_models.judge), **params)


def _record_cache_types(scorer) -> list[str]:
    """Spy on the model's forward: the type of KV cache each call got."""
    seen: list[str] = []
    forward = scorer.model.forward

    @functools.wraps(forward)  # generate checks its kwargs against forward's signature
    def spy(*args, **kwargs):
        seen.append(type(kwargs.get("past_key_values")).__name__)
        return forward(*args, **kwargs)

    scorer.model.forward = spy
    return seen


def test_static_cache_generates_the_same_text_as_the_dynamic_cache(tiny_models, requests_small) -> None:
    params = {"mode": "generate", "max_new_tokens": "12", "batch_size": "8", "max_reasks": "1"}
    plain = judge(tiny_models, **params)
    static = judge(tiny_models, **params, static_cache="true")
    caches = _record_cache_types(static)
    want, got = plain.score(requests_small), static.score(requests_small)

    assert static.generation_config.cache_implementation == "static"
    assert plain.generation_config.cache_implementation is None
    assert "StaticCache" in caches  # really ran with a static KV cache
    assert static.last_batch_sizes == plain.last_batch_sizes == [3, 3]  # answers, then re-asks
    texts = set()
    for a, b in zip(want, got):
        assert a.key == b.key
        for x, y in zip(a.scores, b.scores):
            assert x.outcome is y.outcome and x.outcome is Outcome.PARSE_ERROR  # random model: gibberish
            assert x.error == y.error and x.raw_output == y.raw_output
            assert x.extra["outputs"] == y.extra["outputs"]
            texts.add(x.raw_output)
    assert len(texts) > 1

    identity = static.identity()
    assert identity["params"]["static_cache"] is True and identity["params"]["compile_layers"] is False
    assert identity["decoding"]["cache_implementation"] == "static"
    # transformers compiles a static-cache decode step on CUDA only.
    # Generate mode on the CPU: no shared prefix (logits mode only), the processor runs on the host.
    assert identity["speedups"] == {
        "compile_layers": False,
        "static_cache": True,
        "compiled_decode": False,
        "shared_prefix": False,
        "preprocess_on_device": False,
    }
    assert plain.identity()["decoding"]["cache_implementation"] == "dynamic"


def test_speedups_are_off_by_default_and_parse_from_strings(tiny_models) -> None:
    identity = judge(tiny_models, mode="logits").identity()
    assert identity["params"]["compile_layers"] is False and identity["params"]["static_cache"] is False
    assert identity["speedups"]["compile_layers"] is False


def test_compiled_decoder_layers_give_the_same_logits_scores(tiny_models, requests_small) -> None:
    plain = judge(tiny_models, mode="logits", batch_size="16")
    want = plain.score(requests_small)
    compiled = judge(tiny_models, mode="logits", batch_size="16", compile_layers="true")
    layers = decoder_layers(compiled.model)
    assert len(layers) > 0 and all(layer._compiled_call_impl is not None for layer in layers)
    assert compiled.identity()["speedups"]["compile_layers"] is True

    torch._dynamo.utils.counters.clear()
    start = time.perf_counter()
    try:
        got = compiled.score(requests_small)  # first call compiles
    except Exception as exc:  # noqa: BLE001 - no C++ compiler, unsupported platform, ...
        pytest.skip(f"torch.compile unavailable on this machine: {type(exc).__name__}: {str(exc)[:200]}")
    compile_s = time.perf_counter() - start
    if compile_s > COMPILE_BUDGET_S:
        pytest.skip(f"torch.compile of the decoder layers took {compile_s:.0f} s on this CPU (> {COMPILE_BUDGET_S} s)")
    assert torch._dynamo.utils.counters["stats"]["unique_graphs"] > 0  # really compiled

    again = compiled.score(requests_small[:1])  # another batch shape reuses the dynamic graph
    for a, b in zip(want, got):
        for x, y in zip(a.scores, b.scores):
            assert x.outcome is y.outcome is Outcome.DONE
            assert y.score == pytest.approx(x.score, abs=1e-4)
            assert y.confidence == pytest.approx(x.confidence, abs=1e-4)
    for x, y in zip(want[0].scores, again[0].scores):
        assert y.score == pytest.approx(x.score, abs=1e-4)
