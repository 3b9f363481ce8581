"""The Qwen3-VL judge on a tiny real model: batching, both modes, outcomes, OOM back-off."""

from __future__ import annotations

import json

import pytest

from editbench.models import Criterion, JudgePrompt, JudgeRequest, Outcome, load_judge
from editbench.models.base import judge_names
from editbench.models.qwen3_vl import GeneratedText

PROMPT = JudgePrompt(
    "Instruction: {instruction}\nReference answer: {reference}\nAll criteria:\n{criteria}\n"
    "Score {criterion} ({criterion_description}) from {scale_min} to {scale_max}.",
    version="rubric-v1",
)
CRITERIA = (
    Criterion("semantic_consistency", "Does the edit do what the instruction asks, and only that?"),
    Criterion("perceptual_quality", "Does the edited image look natural?"),
)
# Mixed sizes and aspect ratios give different numbers of image tokens, hence left padding.
SIZES = [(64, 64), (200, 100), (48, 96), (120, 40), (32, 32)]


@pytest.fixture
def requests_mixed(noise_image) -> list[JudgeRequest]:
    return [
        JudgeRequest(
            key=f"k{i}",
            source_image=noise_image(w, h, i),
            edited_image=noise_image(h, w, 100 + i),
            instruction=f"Make the sky blue, variant {i}" + " please" * i,
            prompt=PROMPT,
            criteria=CRITERIA,
            reference_text="a blue sky" if i % 2 else None,
            reference_image=noise_image(40, 40, 200 + i) if i == 3 else None,
        )
        for i, (w, h) in enumerate(SIZES)
    ]


def judge(tiny_models, **params):
    return load_judge("qwen3-vl", str(tiny_models.judge), **params)


def test_judge_is_registered() -> None:
    assert "qwen3-vl" in judge_names()


@pytest.mark.parametrize(("shared_prefix", "prefill_rows"), [("true", [5]), ("false", [10])])
def test_logits_mode_batched_scores_equal_one_by_one_scores(tiny_models, requests_mixed, shared_prefix, prefill_rows) -> None:
    scorer = judge(tiny_models, mode="logits", batch_size="16", shared_prefix=shared_prefix)
    batched = scorer.score(requests_mixed)
    # Shared prefix: one prefill row per request (its 2 criteria continue from the cache);
    # otherwise 5 requests x 2 criteria prefilled in full.
    assert scorer.last_batch_sizes == prefill_rows
    singles = [scorer.score([r])[0] for r in requests_mixed]
    for together, alone, request in zip(batched, singles, requests_mixed):
        assert together.key == alone.key == request.key
        assert [s.criterion for s in together.scores] == ["semantic_consistency", "perceptual_quality"]
        for a, b in zip(together.scores, alone.scores):
            assert a.outcome is b.outcome is Outcome.DONE
            assert a.score == pytest.approx(b.score, abs=1e-4)
            assert a.confidence == pytest.approx(b.confidence, abs=1e-4)
            assert 0 <= a.score <= 10 and 0 <= a.confidence <= 1
            assert a.extra["prompt_version"] == "rubric-v1" and a.extra["mode"] == "logits"
            assert sum(json.loads(a.raw_output)["digit_probabilities"]) == pytest.approx(1.0)
    # The random model is not indifferent: scores differ between requests and criteria.
    assert len({round(s.score, 3) for r in batched for s in r.scores}) > 3


def test_logits_scores_map_onto_the_requests_scale(tiny_models, requests_mixed) -> None:
    from dataclasses import replace

    scorer = judge(tiny_models, mode="logits")
    on_ten = scorer.score(requests_mixed[:1])[0].scores[0]
    on_five = scorer.score([replace(requests_mixed[0], scale_min=1, scale_max=5)])[0].scores[0]
    assert on_five.extra["expected_digit"] == pytest.approx(on_ten.extra["expected_digit"], abs=1e-4)
    assert on_five.score == pytest.approx(1 + on_ten.extra["expected_digit"] / 9 * 4, abs=1e-4)


def test_generate_mode_batched_text_equals_one_by_one_text(tiny_models, requests_mixed) -> None:
    """The tiny random model writes gibberish, so every answer is a parse error; what matters is
    that the raw texts (after a re-ask) are identical batched and alone."""
    scorer = judge(tiny_models, mode="generate", max_new_tokens="12", batch_size="8")
    batched = scorer.score(requests_mixed)
    assert scorer.last_batch_sizes == [5, 5]  # first answers, then the re-asks
    singles = [scorer.score([r])[0] for r in requests_mixed]
    texts = set()
    for together, alone in zip(batched, singles):
        for a, b in zip(together.scores, alone.scores):
            assert a.outcome is Outcome.PARSE_ERROR and a.error
            assert a.raw_output == b.raw_output and a.extra["outputs"] == b.extra["outputs"]
            assert a.extra["attempts"] == 2
            texts.add(a.raw_output)
    assert len(texts) > 1  # distinct prompts gave distinct gibberish: batching bugs would show


def _substitute(answers: dict[str, list[str]], seen: list[GeneratedText]):
    """Test-only hook: replace the model's real decoded text by scripted answers per key/attempt."""

    def hook(batch: list[GeneratedText]) -> list[str]:
        seen.extend(batch)
        return [answers[item.key][item.attempt] for item in batch]

    return hook


def test_generate_path_with_substituted_text_classifies_garbage_refusal_and_valid_answers(tiny_models, requests_mixed) -> None:
    """Through the real generate path (chat template, batching, model.generate, batch_decode),
    with the decoded text replaced by a test hook, because a random tiny model cannot be made to
    write a particular answer."""
    valid = '```json\n{"scores": {"semantic_consistency": 7, "perceptual_quality": 9}, "reasoning": "ok"}\n```'
    answers = {
        "k0": ["garbage ###", "still garbage"],
        "k1": ["I can't help with that."],
        "k2": [valid],
        "k3": ["7 and 9", valid],  # fixed after one re-ask
        "k4": ['{"scores": {"semantic_consistency": 12, "perceptual_quality": 3}}', "nope"],
    }
    seen: list[GeneratedText] = []
    scorer = load_judge(
        "qwen3-vl",
        str(tiny_models.judge),
        mode="generate",
        max_new_tokens=4,
        generated_text_hook=_substitute(answers, seen),
    )
    results = {r.key: r for r in scorer.score(requests_mixed)}
    outcomes = {key: [s.outcome for s in r.scores] for key, r in results.items()}
    assert outcomes == {
        "k0": [Outcome.PARSE_ERROR] * 2,
        "k1": [Outcome.REFUSAL] * 2,
        "k2": [Outcome.DONE] * 2,
        "k3": [Outcome.DONE] * 2,
        "k4": [Outcome.PARSE_ERROR] * 2,
    }
    assert [s.score for s in results["k2"].scores] == [7.0, 9.0]
    assert results["k3"].scores[0].extra["attempts"] == 2
    assert results["k0"].scores[0].raw_output == "still garbage"  # the raw text is kept, no number
    assert results["k0"].scores[0].score is None and results["k4"].scores[0].score is None
    assert "outside" in results["k4"].scores[0].extra["outputs"][0] or results["k4"].scores[0].error
    assert results["k1"].scores[0].extra["attempts"] == 1  # refusals are not re-asked
    # Re-asks went only to the three unusable answers, as one batch.
    assert scorer.last_batch_sizes == [5, 3]
    assert sorted(item.key for item in seen if item.attempt == 1) == ["k0", "k3", "k4"]


@pytest.mark.parametrize(
    ("shared_prefix", "attempts"),
    # 10 full prefills: 8 fails, 4 fails, then batches of 2 (the reduced size is kept);
    # shared prefix: 5 request rows: 5 fails (halved to 2), then 2, 2, 1.
    [("false", [8, 4, 2, 2, 2, 2, 2]), ("true", [5, 2, 2, 1])],
)
def test_injected_oom_halves_the_batch_until_it_fits(tiny_models, requests_mixed, shared_prefix, attempts) -> None:
    scorer = judge(tiny_models, mode="logits", batch_size="8", simulate_oom_above="2", shared_prefix=shared_prefix)
    reference = judge(tiny_models, mode="logits", shared_prefix="false").score(requests_mixed)
    results = scorer.score(requests_mixed)
    assert scorer.last_batch_sizes == attempts
    for got, want in zip(results, reference):
        assert [s.score for s in got.scores] == pytest.approx([s.score for s in want.scores], abs=1e-4)


def test_a_single_request_that_still_runs_out_of_memory_fails_as_oom(tiny_models, requests_mixed) -> None:
    # logits: 3 prefill rows (one per request, shared prefix); full prefills: 6 (3 requests x 2
    # criteria); generate: 3 conversations.
    expected_batches = {"logits": [3, 1, 1, 1], "logits-full": [4, 2, 1, 1, 1, 1, 1, 1], "generate": [3, 1, 1, 1]}
    for mode in ("logits", "logits-full", "generate"):
        params = {"mode": "logits", "shared_prefix": "false"} if mode == "logits-full" else {"mode": mode}
        scorer = judge(tiny_models, **params, batch_size="4", simulate_oom_above="0", max_new_tokens="2")
        results = scorer.score(requests_mixed[:3])
        assert [r.key for r in results] == ["k0", "k1", "k2"]
        for result in results:
            assert [s.outcome for s in result.scores] == [Outcome.FAILED, Outcome.FAILED]
            assert {s.error_code for s in result.scores} == {"oom"}
            assert "OutOfMemoryError" in result.scores[0].error
        assert scorer.last_batch_sizes == expected_batches[mode]


def test_a_broken_rubric_template_fails_only_its_requests(tiny_models, requests_mixed) -> None:
    from dataclasses import replace

    broken = replace(requests_mixed[1], prompt=JudgePrompt("Rate {colour}", version="bad"))
    for mode in ("logits", "generate"):
        results = judge(tiny_models, mode=mode, max_new_tokens="2").score([requests_mixed[0], broken])
        assert results[1].scores[0].outcome is Outcome.FAILED and results[1].scores[0].error_code == "bad_prompt"
        assert results[0].scores[0].outcome is not Outcome.FAILED


def test_identity_records_model_decoding_and_prompt_format(tiny_models) -> None:
    identity = judge(tiny_models, mode="logits", image_area="128*128").identity()
    assert identity["path"] == str(tiny_models.judge.resolve()) and len(identity["config_hash"]) == 64
    assert identity["params"]["mode"] == "logits" and identity["params"]["image_area"] == 128 * 128
    assert identity["decoding"]["greedy"] is True and identity["decoding"]["max_new_tokens"] == 512
    assert len(identity["prompt_format_version"]) == 12
    assert identity["versions"]["transformers"]


def test_protocol_mode_generates_one_answer_per_official_question_and_reads_it_officially(tiny_models) -> None:
    """Through the real generate path with a substituted decoded text (as above), in logits mode
    too: official questions are always answered freely."""
    from tests.models.test_openai_judge import _gedit_protocol_request

    queue = {"1": ['{"score": [8, 6], "reasoning": "ok"}', "no score here"]}
    seen: list[GeneratedText] = []

    def hook(batch: list[GeneratedText]) -> list[str]:
        seen.extend(batch)
        return [queue[item.key].pop(0) for item in batch]

    scorer = load_judge("qwen3-vl", str(tiny_models.judge), mode="logits", max_new_tokens=4, generated_text_hook=hook)
    result = scorer.score([_gedit_protocol_request()])[0]
    assert [(s.criterion, s.outcome, s.score) for s in result.scores] == [
        ("semantic_consistency", Outcome.DONE, 6.0),
        ("perceptual_quality", Outcome.PARSE_ERROR, None),
    ]
    assert len(seen) == 2 and result.scores[1].raw_output == "no score here"
    assert result.scores[0].extra["question"] == "SC" and result.scores[1].extra["question"] == "PQ"
