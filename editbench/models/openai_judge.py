"""A judge served over HTTP by any OpenAI-compatible Chat Completions server (``openai:MODEL``):
OpenAI, vLLM, SGLang, ... — how the published edit benchmarks are scored.

Same contract as the ``qwen3-vl`` judge, from the same shared pieces (:mod:`judge_prompt` builds
the conversations, :mod:`judge_output` parses answers, :mod:`digit_scale` turns digit
probabilities into a score), so the two judges differ only in where the model runs:

- ``generate``: one request per :class:`JudgeRequest` asks for every criterion as one JSON object;
  an unusable answer is re-asked ``max_reasks`` times with the reason, then recorded as
  PARSE_ERROR with every raw answer; a refusal (the text reads like one, the server sets
  ``message.refusal``, ``finish_reason`` is ``content_filter``, or its safety system rejects the
  request) is recorded as REFUSAL and not re-asked.
- ``logits``: one request per (request, criterion) with ``max_completion_tokens=1``,
  ``logprobs=true`` and ``top_logprobs``; the probabilities of the answer tokens "0".."9" among
  the top ones become an expected score and a confidence. Digits outside the top list count as 0
  (``extra["digit_mass"]`` says how much probability the listed digits carry). A server that
  returns no logprobs is refused by :meth:`OpenAIJudge.check` before anything is recorded.

Concurrency: a batch's requests run on a thread pool of ``concurrency`` threads, all sharing one
:class:`OpenAIClient` (connection pool, rate limits, retries); dozens of requests are in flight
per worker while the Celery task itself stays single-threaded.

Usage and budget — the API for callers (the worker, the ledger, the run card):

- ``judge.usage`` is a :class:`Usage` snapshot of everything this judge object spent;
- ``judge.score_with_usage(requests, spent=None)`` returns a :class:`JudgeBatch`
  ``(results, usage)`` with the usage of that batch alone, so the caller can persist it next to the
  results; ``judge.score(requests)`` (the :class:`Judge` protocol) is its ``.results`` and leaves the
  batch's usage in ``judge.last_usage``;
- with ``budget_usd`` (needs a price) or ``budget_tokens``, no new request starts once
  ``spent + this batch`` reaches the budget (``spent`` defaults to this judge object's own
  lifetime usage; pass the run's total to make the budget per run). Requests already in flight
  finish, then :class:`BudgetExhausted` is raised carrying the finished results, the keys left
  unjudged and the batch's usage, so the caller records the former and leaves the latter open for
  ``resume``. The overshoot is at most the requests in flight (``concurrency``).

Provenance: ``identity()`` has the model, every setting except ``base_url`` (it and the key never
leave :class:`Endpoint`), the decoding settings and ``prompt_format_version``; every score has
``extra["prompt_version"]``, ``extra["mode"]`` and, per mode, the attempts and raw answers or the
digit distribution, as the qwen3-vl judge has.
"""

from __future__ import annotations

import base64
import io
import json
import math
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any

from PIL import Image

from editbench.errors import ModelCheckError
from editbench.models.base import (
    Criterion,
    CriterionScore,
    JudgeRequest,
    JudgeResult,
    Outcome,
    register_judge,
)
from editbench.models.digit_scale import DIGITS, score_from_digit_probabilities
from editbench.models.judge_output import ParsedScores, parse_judge_output
from editbench.models.judge_prompt import (
    PROMPT_FORMAT_VERSION,
    Conversation,
    ImageBudget,
    PromptTemplateError,
    check_mode,
    generate_conversation,
    logits_conversation,
    protocol_conversation,
    protocol_result,
    reask_conversation,
)
from editbench.models.openai_client import (
    APIError,
    ClientLimits,
    ContentPolicyError,
    OpenAIClient,
    Price,
    Usage,
    image_token_estimate,
    served_endpoint,
)
from editbench.models.params import ParamError, parse_area, settings_dict

IMAGE_FORMATS = {"png": "image/png", "jpeg": "image/jpeg", "webp": "image/webp"}
TOKEN_LIMIT_FIELDS = ("max_completion_tokens", "max_tokens")
CHAT_PATH = "chat/completions"
# Never recorded: resolving them is the adapter's business, and the run card must not hold them.
SECRET_SETTINGS = ("base_url",)


@dataclass(frozen=True)
class OpenAIJudgeSettings:
    """Every setting of ``--judge-param``; all but ``base_url`` are recorded by ``identity()``."""

    mode: str = "generate"
    # The model name sent to the server; default: the PATH part of ``openai:PATH``.
    model: str | None = None
    # Else EDITBENCH_OPENAI_BASE_URL, OPENAI_BASE_URL, then OpenAI's own.
    base_url: str | None = None
    # Name of the environment variable holding the key (default EDITBENCH_OPENAI_API_KEY, then
    # OPENAI_API_KEY). The key itself is never a parameter: parameters go into the run card.
    api_key_env: str | None = None
    concurrency: int = 16
    rpm: float | None = None
    tpm: float | None = None
    max_retries: int = 5
    timeout_s: float = 60.0
    backoff_s: float = 0.5
    max_backoff_s: float = 30.0
    max_retry_after_s: float = 300.0
    max_tokens: int = 512
    token_limit_field: str = "max_completion_tokens"
    max_reasks: int = 1
    temperature: float = 0.0
    seed: int | None = None
    json_mode: bool = False
    top_logprobs: int = 20
    image_area: int | None = field(default=None, metadata={"parse": parse_area})
    image_format: str = "png"
    image_detail: str | None = None
    price_input_per_mtok: float | None = None
    price_output_per_mtok: float | None = None
    budget_usd: float | None = None
    budget_tokens: int | None = None

    def __post_init__(self) -> None:
        check_mode(self.mode)
        if self.image_format not in IMAGE_FORMATS:
            raise ParamError(f"image_format must be one of {', '.join(IMAGE_FORMATS)}, got {self.image_format!r}")
        if self.token_limit_field not in TOKEN_LIMIT_FIELDS:
            raise ParamError(f"token_limit_field must be one of {', '.join(TOKEN_LIMIT_FIELDS)}")
        if self.concurrency < 1 or self.max_retries < 0 or self.max_reasks < 0 or self.max_tokens < 1:
            raise ParamError("concurrency and max_tokens must be >= 1, max_retries and max_reasks >= 0")
        if self.timeout_s <= 0 or not 1 <= self.top_logprobs <= 20:
            raise ParamError("timeout_s must be > 0 and top_logprobs within 1..20")
        if self.budget_usd is not None and self.price_input_per_mtok is None and self.price_output_per_mtok is None:
            raise ParamError("budget_usd needs a price: price_input_per_mtok and/or price_output_per_mtok")

    @property
    def limits(self) -> ClientLimits:
        return ClientLimits.from_settings(self)


class ServerCheckError(ModelCheckError):
    """The server cannot serve this judge as configured (unreachable, bad key, no logprobs...).
    One line, safe to show: it never contains the key or the base URL."""


class BudgetExhausted(RuntimeError):
    """The budget was reached: ``batch`` holds the results that finished, ``unjudged`` the keys of
    the requests never started (leave them open for ``resume``)."""

    def __init__(self, message: str, batch: JudgeBatch, unjudged: list[str]) -> None:
        super().__init__(message)
        self.batch = batch
        self.unjudged = unjudged


@dataclass
class JudgeBatch:
    """What one call returns: results in request order, and what the call cost."""

    results: list[JudgeResult]
    usage: Usage


@dataclass
class _Work:
    """One unit run on a thread: a whole request (generate) or one criterion (logits)."""

    index: int
    request: JudgeRequest
    criterion: Criterion | None = None
    scores: list[CriterionScore] = field(default_factory=list)
    started: bool = False


@register_judge("openai")
class OpenAIJudge:
    """``openai:MODEL`` — see the module docstring."""

    name = "openai"
    # PATH in ``openai:PATH`` is a model name on the server, not a local folder: callers that
    # resolve paths (the producer) must pass it verbatim.
    path_is_model_name = True
    # The model runs on the server: judge batches go to the CPU judge queue (editbench.judge.cpu)
    # that ``editbench worker --serve api`` workers consume, and the producer builds this judge
    # at submit (cheap: no weights) to call :meth:`check`.
    runs_on = "cpu"
    # Parameters ``editbench resume RUN --judge-param ...`` may change on a recorded run: they
    # affect how much is judged, never a score.
    resumable_params = ("budget_usd", "budget_tokens")

    def __init__(self, path: str | None, *, device: str | None = None, **params: Any) -> None:
        # ``device`` is passed to every adapter by the worker; the model runs on the server.
        self.settings, self.model, self.endpoint = served_endpoint(
            self.name, path, params, OpenAIJudgeSettings, "openai:gpt-4.1 (or --judge-param model=NAME)"
        )
        self.price = Price(self.settings.price_input_per_mtok, self.settings.price_output_per_mtok)
        self.client = OpenAIClient(self.endpoint, self.settings.limits, self.price, seed=self.settings.seed)
        self.budget = ImageBudget(self.settings.image_area)
        self.last_usage = Usage()
        self._pool = ThreadPoolExecutor(max_workers=self.settings.concurrency, thread_name_prefix="openai-judge")
        self._budget_lock = threading.Lock()

    def __repr__(self) -> str:
        return f"OpenAIJudge(model={self.model!r}, mode={self.settings.mode!r}, {self.endpoint!r})"

    @property
    def usage(self) -> Usage:
        return self.client.usage

    def close(self) -> None:
        self._pool.shutdown(wait=True)
        self.client.close()

    # -- public protocol -------------------------------------------------------------------------

    def identity(self) -> dict[str, Any]:
        params = {k: v for k, v in settings_dict(self.settings).items() if k not in SECRET_SETTINGS}
        return {
            "name": self.name,
            "model": self.model,
            "path": None,
            "config_hash": None,
            "api": "chat.completions",
            "params": params,
            "decoding": {
                "mode": self.settings.mode,
                "temperature": self.settings.temperature,
                "seed": self.settings.seed,
                "max_tokens": self.settings.max_tokens if self.settings.mode == "generate" else 1,
                "max_reasks": self.settings.max_reasks,
                "top_logprobs": self.settings.top_logprobs if self.settings.mode == "logits" else None,
                "logits_answer_scale": "digits 0-9, mapped linearly onto the rubric scale",
            },
            "prompt_format_version": PROMPT_FORMAT_VERSION,
            "versions": {"httpx": metadata.version("httpx")},
        }

    def score(self, requests: Sequence[JudgeRequest]) -> list[JudgeResult]:
        """One result per request, in order (the :class:`Judge` protocol); usage in ``last_usage``."""
        return self.score_with_usage(requests).results

    def score_with_usage(self, requests: Sequence[JudgeRequest], *, spent: Usage | None = None) -> JudgeBatch:
        """Score concurrently; raise :class:`BudgetExhausted` (after in-flight requests finish)
        when the budget runs out. ``spent``: what counts against the budget before this batch."""
        before = self.client.usage
        spent = before if spent is None else spent
        work = self._plan(list(requests))
        futures = [self._pool.submit(self._run, item, spent, before) for item in work]
        for future in futures:
            future.result()
        usage = self.client.usage - before
        self.last_usage = usage
        results = [JudgeResult(key=r.key) for r in requests]
        unjudged: set[int] = set()
        for item in work:
            if not item.started:
                unjudged.add(item.index)
            results[item.index].scores.extend(item.scores)
        for result, request in zip(results, requests):
            order = {c.name: i for i, c in enumerate(request.criteria)}
            result.scores.sort(key=lambda s: order.get(s.criterion, len(order)))
        if unjudged:
            finished = [r for i, r in enumerate(results) if i not in unjudged]
            raise BudgetExhausted(
                f"{self.name}: budget reached ({self._budget_text()}); {len(unjudged)} of {len(requests)} requests left unjudged",
                JudgeBatch(finished, usage),
                [requests[i].key for i in sorted(unjudged)],
            )
        return JudgeBatch(results, usage)

    def check(self) -> None:
        """Probe the server once (a one-token text request): reachable, key accepted, model known
        and, in logits mode, ``top_logprobs`` returned. Raises :class:`ServerCheckError` with one
        line otherwise. Meant for submit time, before anything is recorded."""
        body = self._body([{"role": "user", "content": "Reply with the single digit 7."}], max_tokens=1)
        if self.settings.mode == "logits":
            body |= {"logprobs": True, "top_logprobs": self.settings.top_logprobs}
        try:
            answer = self.client.post_json(CHAT_PATH, body, estimated_tokens=20).body
        except APIError as exc:
            where = f"the server (base URL from {self.endpoint.base_url_source})"
            if exc.code == "connection":
                raise ServerCheckError(f"{self.name}: cannot reach {where}: {exc}") from None
            if exc.code == "auth":
                raise ServerCheckError(f"{self.name}: {where} rejected the API key from {self.endpoint.api_key_source}: {exc}") from None
            if self.settings.mode == "logits" and exc.code == "bad_request" and "logprob" in str(exc).lower():
                raise ServerCheckError(f"{self.name}: {where} does not return logprobs, which logits mode needs: {exc}") from None
            raise ServerCheckError(f"{self.name}: probing {where} with model {self.model!r} failed: {exc}") from None
        if self.settings.mode == "logits" and _top_logprobs(answer) is None:
            raise ServerCheckError(
                f"{self.name}: the server returned no top_logprobs for model {self.model!r}; logits mode needs a "
                "server that does (vLLM, OpenAI) — use mode=generate"
            )

    # -- work --------------------------------------------------------------------------------------

    def _plan(self, requests: list[JudgeRequest]) -> list[_Work]:
        if self.settings.mode == "logits":
            # Protocol-mode requests are one unit each: their official questions are answered freely.
            return [
                work
                for i, r in enumerate(requests)
                for work in ([_Work(i, r)] if r.protocol is not None else [_Work(i, r, c) for c in r.criteria])
            ]
        return [_Work(i, r) for i, r in enumerate(requests)]

    def _run(self, item: _Work, spent: Usage, before: Usage) -> None:
        with self._budget_lock:
            if self._over_budget(spent + (self.client.usage - before)):
                return
            item.started = True
        try:
            if item.request.protocol is not None:
                item.scores = self._protocol(item.request)
            elif item.criterion is None:
                item.scores = self._generate(item.request)
            else:
                item.scores = [self._logits(item.request, item.criterion)]
        except PromptTemplateError as exc:
            criteria = [item.criterion] if item.criterion else list(item.request.criteria)
            item.scores = [_failed(c.name, "bad_prompt", str(exc)) for c in criteria]

    def _over_budget(self, spent: Usage) -> bool:
        budget_usd, budget_tokens = self.settings.budget_usd, self.settings.budget_tokens
        return (budget_usd is not None and (spent.cost_usd or 0.0) >= budget_usd) or (
            budget_tokens is not None and spent.total_tokens >= budget_tokens
        )

    def _budget_text(self) -> str:
        parts = []
        if self.settings.budget_usd is not None:
            parts.append(f"budget_usd={self.settings.budget_usd:g}")
        if self.settings.budget_tokens is not None:
            parts.append(f"budget_tokens={self.settings.budget_tokens}")
        return ", ".join(parts)

    def _generate(self, request: JudgeRequest) -> list[CriterionScore]:
        conversation = generate_conversation(request, self.budget)
        names = [c.name for c in request.criteria]
        outputs: list[str] = []
        extra = self._base_extra(request)
        for attempt in range(self.settings.max_reasks + 1):
            body = self._body(self._messages(conversation), max_tokens=self.settings.max_tokens)
            if self.settings.json_mode:
                body["response_format"] = {"type": "json_object"}
            answer = self._post(body, conversation)
            if isinstance(answer, APIError):
                outcome = Outcome.REFUSAL if isinstance(answer, ContentPolicyError) else Outcome.FAILED
                return [_failure(n, outcome, answer.code, str(answer), None, extra | {"attempts": attempt + 1}) for n in names]
            text, refusal = _answer_text(answer)
            outputs.append(text if refusal is None else refusal)
            extra = self._base_extra(request) | {"attempts": len(outputs), "outputs": list(outputs)}
            if refusal is not None:
                return [_failure(n, Outcome.REFUSAL, "refusal", "the judge refused", outputs[-1], extra) for n in names]
            parsed = parse_judge_output(text, names, request.scale_min, request.scale_max)
            if isinstance(parsed, ParsedScores):
                return [
                    CriterionScore(
                        criterion=n,
                        outcome=Outcome.DONE,
                        score=parsed.scores[n],
                        reasoning=parsed.reasoning,
                        raw_output=text,
                        extra=dict(extra),
                    )
                    for n in names
                ]
            if parsed.outcome is Outcome.REFUSAL or attempt == self.settings.max_reasks:
                return [_failure(n, parsed.outcome, parsed.outcome.value, parsed.reason, text, extra) for n in names]
            conversation = reask_conversation(conversation, text, parsed.reason, request)
        raise AssertionError("unreachable: the last attempt always returns")

    def _protocol(self, request: JudgeRequest) -> list[CriterionScore]:
        """Protocol mode: one call per official question, each answer read by the official parser."""
        assert request.protocol is not None
        answers: dict[str, str | CriterionScore] = {}
        for question in request.protocol.questions:
            conversation = protocol_conversation(request, question, self.budget)
            answer = self._post(self._body(self._messages(conversation), max_tokens=self.settings.max_tokens), conversation)
            if isinstance(answer, APIError):
                outcome = Outcome.REFUSAL if isinstance(answer, ContentPolicyError) else Outcome.FAILED
                answers[question.name] = _failure(question.name, outcome, answer.code, str(answer), None, {})
                continue
            text, refusal = _answer_text(answer)
            if refusal is not None:
                answers[question.name] = _failure(question.name, Outcome.REFUSAL, "refusal", "the judge refused", refusal, {})
            else:
                answers[question.name] = text
        return protocol_result(request, answers, self._base_extra(request)).scores

    def _logits(self, request: JudgeRequest, criterion: Criterion) -> CriterionScore:
        conversation = logits_conversation(request, criterion, self.budget)
        body = self._body(self._messages(conversation), max_tokens=1)
        body |= {"logprobs": True, "top_logprobs": self.settings.top_logprobs}
        extra = self._base_extra(request)
        answer = self._post(body, conversation)
        if isinstance(answer, APIError):
            outcome = Outcome.REFUSAL if isinstance(answer, ContentPolicyError) else Outcome.FAILED
            return _failure(criterion.name, outcome, answer.code, str(answer), None, extra)
        text, refusal = _answer_text(answer)
        if refusal is not None:
            return _failure(criterion.name, Outcome.REFUSAL, "refusal", "the judge refused", refusal, extra)
        top = _top_logprobs(answer)
        if top is None:
            return _failure(criterion.name, Outcome.FAILED, "no_logprobs", "the server returned no top_logprobs", text, extra)
        probs = [0.0] * len(DIGITS)
        for token, logprob in top:
            if token.strip() in DIGITS:
                probs[DIGITS.index(token.strip())] += math.exp(logprob)
        mass = sum(probs)
        raw = json.dumps({"top_logprobs": top})
        if mass <= 0.0:
            return _failure(
                criterion.name,
                Outcome.PARSE_ERROR,
                "parse_error",
                f"no digit among the top {len(top)} answer tokens",
                raw,
                extra,
            )
        digit = score_from_digit_probabilities(probs, request.scale_min, request.scale_max)
        extra |= {
            "expected_digit": digit.expected_digit,
            "digit_probabilities": list(digit.digit_probabilities),
            "digit_mass": mass,
            "max_probability": digit.max_probability,
            "top_logprobs": top,
        }
        return CriterionScore(
            criterion=criterion.name,
            outcome=Outcome.DONE,
            score=digit.score,
            confidence=digit.confidence,
            raw_output=json.dumps({"digit_probabilities": extra["digit_probabilities"], "digit_mass": mass, **json.loads(raw)}),
            extra=extra,
        )

    # -- request plumbing --------------------------------------------------------------------------

    def _post(self, body: dict[str, Any], conversation: Conversation) -> dict[str, Any] | APIError:
        try:
            return self.client.post_json(CHAT_PATH, body, estimated_tokens=self._estimate(conversation, body)).body
        except APIError as exc:
            return exc

    def _body(self, messages: list[dict[str, Any]], *, max_tokens: int) -> dict[str, Any]:
        body: dict[str, Any] = {
            "model": self.model,
            "messages": messages,
            "temperature": self.settings.temperature,
            self.settings.token_limit_field: max_tokens,
        }
        if self.settings.seed is not None:
            body["seed"] = self.settings.seed
        return body

    def _messages(self, conversation: Conversation) -> list[dict[str, Any]]:
        """judge_prompt's conversation in Chat Completions form: images as data URLs."""
        messages: list[dict[str, Any]] = []
        for turn in conversation:
            if turn["role"] == "assistant":
                text = "".join(part["text"] for part in turn["content"] if part["type"] == "text")
                messages.append({"role": "assistant", "content": text})
                continue
            content: list[dict[str, Any]] = []
            for part in turn["content"]:
                if part["type"] == "image":
                    image_url: dict[str, Any] = {"url": self._data_url(part["image"])}
                    if self.settings.image_detail:
                        image_url["detail"] = self.settings.image_detail
                    content.append({"type": "image_url", "image_url": image_url})
                else:
                    content.append({"type": "text", "text": part["text"]})
            messages.append({"role": turn["role"], "content": content})
        return messages

    def _data_url(self, image: Image.Image) -> str:
        buffer = io.BytesIO()
        # PNG stays lossless at compress level 1: several times faster to encode than Pillow's
        # default 6 (a 1024² image is tens of ms of a worker's CPU per request), a larger body.
        options = {"compress_level": 1} if self.settings.image_format == "png" else {}
        image.save(buffer, format=self.settings.image_format.upper(), **options)
        mime = IMAGE_FORMATS[self.settings.image_format]
        return f"data:{mime};base64,{base64.b64encode(buffer.getvalue()).decode('ascii')}"

    def _estimate(self, conversation: Conversation, body: dict[str, Any]) -> int:
        """Tokens to reserve under ``tpm`` before the server reports the real count."""
        tokens = body[self.settings.token_limit_field]
        for turn in conversation:
            for part in turn["content"]:
                if part["type"] == "image":  # already resized by judge_prompt
                    tokens += image_token_estimate(*part["image"].size)
                else:
                    tokens += len(part["text"]) // 4 + 1
        return tokens

    def _base_extra(self, request: JudgeRequest) -> dict[str, Any]:
        return {
            "prompt_version": request.prompt.version,
            "prompt_format_version": PROMPT_FORMAT_VERSION,
            "mode": self.settings.mode,
            "model": self.model,
        }


def _answer_text(answer: dict[str, Any]) -> tuple[str, str | None]:
    """The first choice's text, and the refusal text if the server marked the answer as one."""
    choices = answer.get("choices") or [{}]
    choice = choices[0] if isinstance(choices[0], dict) else {}
    message = choice.get("message") or {}
    text = message.get("content") or ""
    if not isinstance(text, str):  # some servers answer with a list of content parts
        text = "".join(p.get("text", "") for p in text if isinstance(p, dict))
    refusal = message.get("refusal")
    if refusal:
        return text, str(refusal)
    if choice.get("finish_reason") == "content_filter":
        return text, text or "(answer withheld by the server's content filter)"
    return text, None


def _top_logprobs(answer: dict[str, Any]) -> list[tuple[str, float]] | None:
    """``choices[0].logprobs.content[0].top_logprobs`` as (token, logprob) pairs, or None."""
    try:
        first = answer["choices"][0]["logprobs"]["content"][0]
        top = [(str(t["token"]), float(t["logprob"])) for t in first["top_logprobs"]]
    except (KeyError, IndexError, TypeError, ValueError):
        return None
    return top or None


def _failure(criterion: str, outcome: Outcome, code: str, message: str, raw: str | None, extra: dict[str, Any]) -> CriterionScore:
    return CriterionScore(criterion=criterion, outcome=outcome, raw_output=raw, error_code=code, error=message, extra=dict(extra))


def _failed(criterion: str, code: str, message: str) -> CriterionScore:
    return CriterionScore(criterion=criterion, outcome=Outcome.FAILED, error_code=code, error=message)


__all__ = ["BudgetExhausted", "JudgeBatch", "OpenAIJudge", "OpenAIJudgeSettings", "ServerCheckError"]
