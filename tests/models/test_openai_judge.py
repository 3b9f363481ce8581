"""The ``openai`` judge against a real HTTP server on 127.0.0.1 (tests/http_fake/openai_server.py)
that speaks Chat Completions and is scripted per test: retries, Retry-After, timeouts, malformed
bodies, re-asks, refusals, logprobs, usage and cost, budgets, concurrency and secrets."""

from __future__ import annotations

import itertools
import json
import logging
import math
import socket
import time
from collections.abc import Iterator

import pytest
from PIL import Image

from editbench.models import load_judge
from editbench.models.base import Criterion, JudgePrompt, JudgeRequest, Outcome
from editbench.models.openai_judge import BudgetExhausted, ServerCheckError
from editbench.models.params import ParamError
from tests.http_fake.openai_server import (
    DEFAULT_KEY,
    FakeOpenAIServer,
    Malformed,
    Reply,
    Status,
)

PROMPT = JudgePrompt("Judge the edit '{instruction}' on {criterion} ({scale_min}-{scale_max}).", "rubric-v1")


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeOpenAIServer]:
    for name in ("OPENAI_BASE_URL", "EDITBENCH_OPENAI_BASE_URL", "OPENAI_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("EDITBENCH_OPENAI_API_KEY", DEFAULT_KEY)
    with FakeOpenAIServer() as fake:
        yield fake


def _judge(server: FakeOpenAIServer, **params: object):
    return load_judge("openai", "fake-vl", **{"base_url": server.url, "device": "cpu", "backoff_s": "0.01", **params})


def _request(key: str = "1", criteria: tuple[str, ...] = ("adherence", "quality")) -> JudgeRequest:
    image = Image.new("RGB", (48, 32), (200, 10, 10))
    return JudgeRequest(
        key=key,
        source_image=image,
        edited_image=image.rotate(90),
        instruction="make it blue",
        prompt=PROMPT,
        criteria=tuple(Criterion(c, f"{c} of the edit") for c in criteria),
    )


def test_generate_mode_scores_every_criterion_with_images_sent_as_data_urls(server: FakeOpenAIServer) -> None:
    result = _judge(server).score([_request()])[0]
    assert [(s.criterion, s.outcome, s.score) for s in result.scores] == [("adherence", Outcome.DONE, 7.0), ("quality", Outcome.DONE, 7.0)]
    assert result.scores[0].extra["prompt_version"] == "rubric-v1" and result.scores[0].extra["attempts"] == 1
    (sent,) = server.received
    assert sent.headers["authorization"] == f"Bearer {DEFAULT_KEY}"
    assert sent.body["model"] == "fake-vl" and sent.body["temperature"] == 0.0
    assert sent.body["max_completion_tokens"] == 512
    images = [p for p in sent.body["messages"][0]["content"] if p["type"] == "image_url"]
    assert len(images) == 2 and all(p["image_url"]["url"].startswith("data:image/png;base64,") for p in images)


def test_429_is_retried_after_the_retry_after_the_server_gave(server: FakeOpenAIServer) -> None:
    server.script(Status(429, "Rate limit reached", headers={"Retry-After": "1"}))
    judge = _judge(server)
    result = judge.score([_request()])[0]
    assert result.scores[0].outcome is Outcome.DONE
    first, second = server.received
    # Honoured: at least the second asked for, plus at most 10% jitter (and scheduling slack).
    assert 0.98 <= second.at - first.at <= 1.5
    usage = judge.last_usage
    assert (usage.requests, usage.retries, usage.rate_limited, usage.failed) == (2, 1, 1, 0)


def test_retry_after_ms_takes_precedence_over_retry_after(server: FakeOpenAIServer) -> None:
    server.script(Status(429, headers={"Retry-After": "5", "retry-after-ms": "200"}))
    _judge(server).score([_request()])
    first, second = server.received
    assert 0.19 <= second.at - first.at <= 0.6


def test_500s_are_retried_with_backoff_then_recorded_as_failed(server: FakeOpenAIServer) -> None:
    server.script(Status(500), Status(503), Status(502))
    judge = _judge(server, max_retries=2)
    scores = judge.score([_request()])[0].scores
    assert {(s.outcome, s.error_code) for s in scores} == {(Outcome.FAILED, "server_error")}
    assert "gave up after 3 attempts" in scores[0].error
    assert (judge.last_usage.requests, judge.last_usage.retries, judge.last_usage.server_errors) == (3, 2, 3)
    assert judge.last_usage.failed == 1
    server.script(Status(500), Status(500))
    assert judge.score([_request()])[0].scores[0].outcome is Outcome.DONE  # third attempt succeeds


def test_backoff_grows_exponentially(server: FakeOpenAIServer) -> None:
    server.script(Status(500), Status(500), Status(500))
    _judge(server, max_retries=3, backoff_s=0.2).score([_request()])
    times = [r.at for r in server.received]
    gaps = [b - a for a, b in itertools.pairwise(times)]
    # Jittered within [0.5, 1] of 0.2, 0.4, 0.8 s.
    assert 0.09 <= gaps[0] <= 0.35 and 0.19 <= gaps[1] <= 0.55 and 0.39 <= gaps[2] <= 0.95


def test_an_answer_slower_than_the_timeout_is_abandoned_and_retried(server: FakeOpenAIServer) -> None:
    server.script(Reply(content="late", delay_s=2.0))
    judge = _judge(server, timeout_s=0.3)
    started = time.monotonic()
    result = judge.score([_request()])[0]
    assert time.monotonic() - started < 1.5
    assert result.scores[0].outcome is Outcome.DONE
    assert (judge.last_usage.timeouts, judge.last_usage.retries) == (1, 1)


def test_timeouts_that_persist_fail_the_request_with_reason_timeout(server: FakeOpenAIServer) -> None:
    server.script(Reply(delay_s=2.0), Reply(delay_s=2.0))
    scores = _judge(server, timeout_s=0.2, max_retries=1).score([_request()])[0].scores
    assert {(s.outcome, s.error_code) for s in scores} == {(Outcome.FAILED, "timeout")}


def test_a_malformed_json_body_is_retried_then_recorded_as_bad_response(server: FakeOpenAIServer) -> None:
    server.script(Malformed(), Malformed())
    judge = _judge(server, max_retries=1)
    scores = judge.score([_request()])[0].scores
    assert {(s.outcome, s.error_code) for s in scores} == {(Outcome.FAILED, "bad_response")}
    server.script(Malformed())
    assert judge.score([_request()])[0].scores[0].outcome is Outcome.DONE


def test_an_unusable_answer_is_reasked_then_recorded_as_parse_error_with_every_answer(server: FakeOpenAIServer) -> None:
    server.script(Reply("The edit looks fine."), Reply('{"scores": {"adherence": 7}}'), Reply("{broken"))
    scores = _judge(server, max_reasks=2).score([_request()])[0].scores
    assert {s.outcome for s in scores} == {Outcome.PARSE_ERROR} and all(s.score is None for s in scores)
    assert scores[0].extra["attempts"] == 3
    assert scores[0].extra["outputs"] == ["The edit looks fine.", '{"scores": {"adherence": 7}}', "{broken"]
    assert scores[0].raw_output == "{broken" and "invalid JSON" in scores[0].error
    # The re-ask carries the previous answer and the reason it was not usable.
    reask = server.received[1].body["messages"]
    assert reask[1] == {"role": "assistant", "content": "The edit looks fine."}
    assert "could not be used" in reask[2]["content"][0]["text"]
    assert "missing score(s) for quality" in server.received[2].body["messages"][-1]["content"][0]["text"]


def test_a_reasked_answer_that_is_usable_is_scored(server: FakeOpenAIServer) -> None:
    server.script(Reply('```json\n{"scores": {"adherence": 11, "quality": 2}}\n```'))
    scores = _judge(server).score([_request()])[0].scores
    assert [(s.outcome, s.score) for s in scores] == [(Outcome.DONE, 7.0), (Outcome.DONE, 7.0)]
    assert scores[0].extra["attempts"] == 2


@pytest.mark.parametrize(
    "action",
    [
        Reply("I'm sorry, but I can't help with evaluating this image."),
        Reply(content=None, refusal="I can't assist with that request."),
        Reply(content="", finish_reason="content_filter"),
        Status(400, "Invalid prompt: flagged", code="content_policy_violation"),
    ],
    ids=["refusal-text", "refusal-field", "content-filter", "content-policy-400"],
)
def test_refusals_are_recorded_as_refusal_and_not_reasked(server: FakeOpenAIServer, action) -> None:
    server.script(action)
    scores = _judge(server, max_reasks=3).score([_request()])[0].scores
    assert {s.outcome for s in scores} == {Outcome.REFUSAL} and all(s.score is None for s in scores)
    assert len(server.received) == 1


def test_logits_mode_expected_score_and_confidence_match_the_hand_computed_values(server: FakeOpenAIServer) -> None:
    top = [("7", math.log(0.5)), (" 8", math.log(0.25)), ("6", math.log(0.15)), ("The", math.log(0.1))]
    server.script(Reply(content="7", top_logprobs=top, completion_tokens=1))
    score = _judge(server, mode="logits").score([_request(criteria=("adherence",))])[0].scores[0]
    # Digits only (the non-digit "The" is dropped), renormalised: 6: .15/.9, 7: .5/.9, 8: .25/.9.
    p6, p7, p8 = 0.15 / 0.9, 0.5 / 0.9, 0.25 / 0.9
    expected_digit = 6 * p6 + 7 * p7 + 8 * p8
    entropy = -(p6 * math.log(p6) + p7 * math.log(p7) + p8 * math.log(p8))
    assert score.outcome is Outcome.DONE
    assert score.score == pytest.approx(expected_digit / 9 * 10, abs=1e-9)
    assert score.confidence == pytest.approx(1 - entropy / math.log(10), abs=1e-9)
    assert score.extra["digit_mass"] == pytest.approx(0.9)
    (sent,) = server.received
    assert sent.body["logprobs"] is True and sent.body["top_logprobs"] == 20 and sent.body["max_completion_tokens"] == 1
    assert "single digit from 0 to 9" in sent.body["messages"][0]["content"][-1]["text"]


def test_logits_mode_sends_one_request_per_criterion_and_keeps_criterion_order(server: FakeOpenAIServer) -> None:
    def by_criterion(received):
        text = received.text()
        digit = "2" if "on adherence" in text else "9"
        return Reply(content=digit, top_logprobs=[(digit, 0.0)], completion_tokens=1)

    server.responder = by_criterion
    results = _judge(server, mode="logits", concurrency=4).score([_request("a"), _request("b")])
    assert [[(s.criterion, s.score) for s in r.scores] for r in results] == [
        [("adherence", pytest.approx(20 / 9)), ("quality", pytest.approx(10.0))]
    ] * 2
    assert len(server.received) == 4


def test_logits_answers_without_a_digit_or_without_logprobs_are_not_scored(server: FakeOpenAIServer) -> None:
    server.script(Reply(content="The", top_logprobs=[("The", -0.1), ("I", -2.0)]), Reply(content="7"))
    judge = _judge(server, mode="logits", concurrency=1)
    first = judge.score([_request(criteria=("adherence",))])[0].scores[0]
    second = judge.score([_request(criteria=("adherence",))])[0].scores[0]
    assert (first.outcome, first.error_code) == (Outcome.PARSE_ERROR, "parse_error")
    assert (second.outcome, second.error_code) == (Outcome.FAILED, "no_logprobs")


def test_check_passes_a_server_with_logprobs_and_refuses_one_without(server: FakeOpenAIServer) -> None:
    _judge(server, mode="logits").check()
    server.script(Reply(content="7"))
    with pytest.raises(ServerCheckError, match="returned no top_logprobs.*use mode=generate"):
        _judge(server, mode="logits").check()
    server.script(Status(400, "logprobs is not supported for this model"))
    with pytest.raises(ServerCheckError, match="does not return logprobs"):
        _judge(server, mode="logits").check()


def test_check_refuses_a_wrong_key_and_an_unreachable_server_in_one_line(server: FakeOpenAIServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EDITBENCH_OPENAI_API_KEY", "sk-wrong-secret-key")
    with pytest.raises(ServerCheckError) as rejected:
        _judge(server).check()
    assert "rejected the API key from EDITBENCH_OPENAI_API_KEY" in str(rejected.value)
    assert "sk-wrong" not in str(rejected.value) and "\n" not in str(rejected.value)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    judge = load_judge("openai", "m", base_url=f"http://127.0.0.1:{closed_port}/v1", max_retries=0)
    with pytest.raises(ServerCheckError, match="cannot reach the server \\(base URL from base_url parameter\\)") as down:
        judge.check()
    assert str(closed_port) not in str(down.value)


def test_usage_and_cost_are_counted_per_batch_and_for_the_judge(server: FakeOpenAIServer) -> None:
    judge = _judge(server, price_input_per_mtok=2.0, price_output_per_mtok=8.0)
    batch = judge.score_with_usage([_request(str(i)) for i in range(3)])
    assert len(batch.results) == 3
    usage = batch.usage
    assert (usage.requests, usage.prompt_tokens, usage.completion_tokens, usage.total_tokens) == (3, 360, 90, 450)
    assert usage.cost_usd == pytest.approx(360 * 2.0 / 1e6 + 90 * 8.0 / 1e6)
    judge.score([_request("4")])
    assert judge.last_usage.requests == 1 and judge.usage.requests == 4
    assert judge.usage.cost_usd == pytest.approx(4 * (120 * 2.0 + 30 * 8.0) / 1e6)
    assert _judge(server).score_with_usage([_request()]).usage.cost_usd is None  # no price, no cost


def test_budget_stops_new_requests_and_hands_back_the_finished_results(server: FakeOpenAIServer) -> None:
    judge = _judge(server, concurrency=1, budget_tokens=300)  # each answer costs 150 tokens
    with pytest.raises(BudgetExhausted, match="budget reached \\(budget_tokens=300\\); 3 of 5") as stopped:
        judge.score_with_usage([_request(str(i)) for i in range(5)])
    assert [r.key for r in stopped.value.batch.results] == ["0", "1"]
    assert all(s.outcome is Outcome.DONE for r in stopped.value.batch.results for s in r.scores)
    assert stopped.value.unjudged == ["2", "3", "4"]
    assert stopped.value.batch.usage.total_tokens == 300 and len(server.received) == 2
    # Against a run-wide total passed by the caller: nothing starts at all.
    fresh = _judge(server, budget_usd=0.001, price_input_per_mtok=10)
    from editbench.models.openai_client import Usage

    with pytest.raises(BudgetExhausted):
        fresh.score_with_usage([_request()], spent=Usage(cost_usd=0.002))
    assert len(server.received) == 2


def test_requests_of_a_batch_run_concurrently_up_to_the_limit(server: FakeOpenAIServer) -> None:
    server.latency_s = 0.2
    started = time.monotonic()
    results = _judge(server, concurrency=4).score([_request(str(i)) for i in range(8)])
    elapsed = time.monotonic() - started
    assert [r.key for r in results] == [str(i) for i in range(8)]
    assert server.max_in_flight == 4
    assert 0.38 <= elapsed < 1.2  # two waves of 0.2 s, not eight


def test_requests_per_minute_limit_paces_requests(server: FakeOpenAIServer) -> None:
    judge = _judge(server, concurrency=16, rpm=1200)  # 20 per second, bursts of 20
    started = time.monotonic()
    judge.score([_request(str(i)) for i in range(40)])
    assert time.monotonic() - started >= 0.9


def test_tokens_per_minute_limit_paces_requests(server: FakeOpenAIServer) -> None:
    # Each request is estimated at ~1,000 tokens (two images + 512 answer tokens): 60,000 per
    # minute is about one request a second after the first.
    judge = _judge(server, concurrency=8, tpm=60_000)
    started = time.monotonic()
    judge.score([_request(str(i)) for i in range(3)])
    assert time.monotonic() - started >= 0.8


def test_key_and_base_url_never_appear_in_logs_repr_identity_or_errors(server: FakeOpenAIServer, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    server.script(Status(429, headers={"Retry-After": "0.05"}), Status(500, f"echo {DEFAULT_KEY} {server.url}"))
    judge = _judge(server, max_retries=1)
    scores = judge.score([_request()])[0].scores
    server.script(Status(400, f"bad request from {server.url} with {DEFAULT_KEY}"))
    scores += judge.score([_request()])[0].scores
    assert "retry 1/1" in caplog.text  # the retry was logged...
    port = str(server.port)
    texts = [caplog.text, repr(judge), repr(judge.client), json.dumps(judge.identity()), repr(judge.endpoint)]
    texts += [f"{s.error} {s.raw_output}" for s in scores]
    for text in texts:  # ...without the key, the URL or its port
        assert DEFAULT_KEY not in text and server.url not in text and port not in text, text


def test_the_key_is_refused_as_a_parameter_and_a_missing_key_is_one_clear_line(
    server: FakeOpenAIServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(ParamError, match="API key is not taken as a parameter"):
        load_judge("openai", "m", base_url=server.url, api_key="sk-x")
    monkeypatch.delenv("EDITBENCH_OPENAI_API_KEY")
    with pytest.raises(ParamError, match="no API key; set EDITBENCH_OPENAI_API_KEY or OPENAI_API_KEY"):
        load_judge("openai", "m", base_url=server.url)
    monkeypatch.setenv("MY_VLLM_KEY", DEFAULT_KEY)
    assert _judge(server, api_key_env="MY_VLLM_KEY").score([_request()])[0].scores[0].outcome is Outcome.DONE


def test_the_base_url_comes_from_the_environment_when_not_given(server: FakeOpenAIServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    monkeypatch.setenv("EDITBENCH_OPENAI_BASE_URL", server.url)  # editbench's own wins
    judge = load_judge("openai", "m", backoff_s="0.01")
    assert judge.score([_request()])[0].scores[0].outcome is Outcome.DONE
    assert "EDITBENCH_OPENAI_BASE_URL" in repr(judge.endpoint)


def _gedit_protocol_request():
    from editbench.models.base import InputImage, ProtocolQuestion, ProtocolQuestions
    from editbench.protocols import judging

    protocol = {
        "kind": "gedit",
        "prompts": {
            "SC": {
                "text": "SC question for '{instruction}'. Answer as the official format says.",
                "criteria": ["semantic_consistency"],
                "images": ["source", "edited"],
            },
            "PQ": {"text": "PQ question. Answer as the official format says.", "criteria": ["perceptual_quality"], "images": ["edited"]},
        },
        "categories": {"*": ["SC", "PQ"]},
    }
    criteria = ("semantic_consistency", "perceptual_quality")
    asked, not_asked = judging.item_questions(protocol, "color_alter", "1_en", criteria)
    questions = ProtocolQuestions(
        kind="gedit",
        questions=tuple(ProtocolQuestion(q.name, JudgePrompt(q.text, q.version), q.criteria, q.images) for q in asked),
        parse=judging.answer_parser("gedit", "color_alter", asked),
        not_asked=not_asked,
    )
    image = Image.new("RGB", (48, 32), (200, 10, 10))
    return JudgeRequest(
        key="1",
        source_image=image,
        edited_image=image.rotate(90),
        instruction="make it blue",
        prompt=PROMPT,
        criteria=tuple(Criterion(c, c) for c in criteria),
        scale_min=0,
        scale_max=10,
        extra_images=(InputImage("the garment", image),),
        protocol=questions,
    )


def test_protocol_mode_asks_each_official_question_with_its_images_and_reads_the_official_format(
    server: FakeOpenAIServer,
) -> None:
    server.script(
        Reply('||V^=^V||{"score": [8, 6], "reasoning": "ok"}||V^=^V||'),
        Reply('{"score": [9, 7], "reasoning": "clean"}'),
    )
    result = _judge(server, mode="logits").score([_gedit_protocol_request()])[0]
    assert [(s.criterion, s.outcome, s.score) for s in result.scores] == [
        ("semantic_consistency", Outcome.DONE, 6.0),
        ("perceptual_quality", Outcome.DONE, 7.0),
    ]
    assert result.scores[0].extra["question"] == "SC" and result.scores[0].raw_output.startswith("||V^=^V||")
    sc, pq = server.received
    sc_parts, pq_parts = sc.body["messages"][0]["content"], pq.body["messages"][0]["content"]
    assert [p["type"] for p in sc_parts] == ["text", "image_url", "text", "image_url", "text", "image_url", "text"]
    assert sc_parts[2]["text"] == "Additional input image given to the editor after the source (the garment):"
    assert [p["type"] for p in pq_parts] == ["text", "image_url", "text"]
    assert sc_parts[-1]["text"].strip() == "SC question for 'make it blue'. Answer as the official format says."
    assert "JSON object" not in pq_parts[-1]["text"]  # no answer format of editbench's is added


def test_protocol_mode_records_an_unparsable_official_answer_as_a_parse_error(server: FakeOpenAIServer) -> None:
    server.script(Reply("I cannot tell."), Reply('{"score": [5, 5]}'))
    result = _judge(server).score([_gedit_protocol_request()])[0]
    assert [(s.criterion, s.outcome, s.score) for s in result.scores] == [
        ("semantic_consistency", Outcome.PARSE_ERROR, None),
        ("perceptual_quality", Outcome.DONE, 5.0),
    ]
    assert result.scores[0].raw_output == "I cannot tell."
