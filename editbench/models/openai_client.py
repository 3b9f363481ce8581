"""A small HTTP client for OpenAI-compatible servers (OpenAI, vLLM, SGLang, ...), shared by the
``openai`` judge and the ``openai-images`` editor.

Why our own and not the ``openai`` package: the adapters need exactly three things that package
does not give in one place — limits that hold across all threads of a worker (in-flight requests,
requests per minute, tokens per minute), retries we can count and test (exponential backoff with
jitter on 429/5xx/timeouts/connection errors, ``Retry-After`` honoured and shared, so a 429
pauses every thread rather than one), and usage counters (tokens, requests, retries, cost) that
the caller can persist.

Transport: each thread sends over its own keep-alive connection (an ``httpcore`` pool of one,
the layer ``httpx`` is built on); ``httpx`` only encodes multipart bodies and downloads result
URLs. Measured side by side on the two-core development machine at 64 requests in flight
(``bench/openai_judge.py --compare-transports``), a shared ``httpx.Client`` cost ~2.4 ms of client
CPU per request (pool bookkeeping, URL merging, cookies, auth hooks) against ~0.7 ms this way, and
capped throughput at 0.27 of ideal against 0.71 (docs/BENCHMARKS.md, section 8).
"""

from __future__ import annotations

import email.utils
import json
import logging
import math
import os
import random
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Any, Protocol, TypeVar
from urllib.parse import urlsplit

import httpcore
import httpx

from editbench.models.params import ParamError, build_params

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

    class ServedSettings(DataclassInstance, Protocol):
        """What :func:`served_endpoint` reads from an adapter's settings dataclass."""

        @property
        def model(self) -> str | None: ...
        @property
        def base_url(self) -> str | None: ...
        @property
        def api_key_env(self) -> str | None: ...


S = TypeVar("S", bound="ServedSettings")

log = logging.getLogger("editbench.models.openai")
# httpx logs every request URL at INFO (httpcore at DEBUG): a worker at --loglevel INFO would
# write the base URL into its log. Their own level wins over the root logger's.
for _name in ("httpx", "httpcore"):
    logging.getLogger(_name).setLevel(logging.WARNING)

BASE_URL_ENV = ("EDITBENCH_OPENAI_BASE_URL", "OPENAI_BASE_URL")
API_KEY_ENV = ("EDITBENCH_OPENAI_API_KEY", "OPENAI_API_KEY")
DEFAULT_BASE_URL = "https://api.openai.com/v1"
RETRY_STATUSES = frozenset({408, 409, 429, 500, 502, 503, 504})
# Error codes OpenAI (and Azure OpenAI) give a request its safety system rejected.
CONTENT_POLICY_CODES = frozenset({"content_policy_violation", "moderation_blocked", "content_filter"})


class EndpointError(ValueError):
    """No usable base URL or API key (one line, safe to show: names sources, not values)."""


class APIError(Exception):
    """A request that failed for good (after retries where retrying made sense).

    ``code`` is the per-sample reason code the adapters record: ``timeout``, ``connection``,
    ``rate_limited``, ``server_error``, ``bad_response``, ``auth``, ``bad_request`` or
    ``content_policy``. Messages never contain the key or the base URL.
    """

    def __init__(self, code: str, message: str, *, status: int | None = None, attempts: int = 1) -> None:
        super().__init__(message)
        self.code = code
        self.status = status
        self.attempts = attempts


class ContentPolicyError(APIError):
    """The server's safety system rejected the request: a refusal, not a crash."""


@dataclass(frozen=True)
class Endpoint:
    """Where requests go and with which key; ``repr`` shows only where each came from."""

    base_url: str = field(repr=False)
    api_key: str = field(repr=False)
    base_url_source: str = "default"
    api_key_source: str = ""

    def scrub(self, text: str) -> str:
        """``text`` with the key and base URL (and its host) masked, for error messages."""
        for secret in (self.api_key, self.base_url.rstrip("/"), urlsplit(self.base_url).netloc):
            if secret:
                text = text.replace(secret, "***")
        return text


def resolve_endpoint(base_url: str | None, api_key_env: str | None, what: str) -> Endpoint:
    """Base URL: parameter, else ``EDITBENCH_OPENAI_BASE_URL``, else ``OPENAI_BASE_URL``, else
    OpenAI's. Key: the variable named by ``api_key_env``, else ``EDITBENCH_OPENAI_API_KEY``, else
    ``OPENAI_API_KEY``. A server that needs no key (a local vLLM) still needs one set: any value,
    e.g. ``EMPTY``, as with the ``openai`` package."""
    url, url_source = base_url, "base_url parameter"
    if not url:
        url_source, url = next(((name, os.environ[name]) for name in BASE_URL_ENV if os.environ.get(name)), ("default", DEFAULT_BASE_URL))
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise EndpointError(f"{what}: the base URL from {url_source} is not an http(s) URL")
    names = (api_key_env,) if api_key_env else API_KEY_ENV
    found = next(((name, os.environ[name]) for name in names if os.environ.get(name)), None)
    if found is None:
        raise EndpointError(
            f"{what}: no API key; set {' or '.join(names)} (a server without keys, e.g. a local vLLM, accepts any value such as EMPTY)"
        )
    return Endpoint(url.rstrip("/"), found[1], url_source, found[0])


def served_endpoint(
    name: str, path: str | None, params: Mapping[str, Any], settings_type: type[S], model_hint: str
) -> tuple[S, str, Endpoint]:
    """Settings, model name and endpoint of an adapter served over HTTP, or :class:`ParamError`.

    The ``openai`` judge and the ``openai-images`` editor take their parameters the same way, and
    a wording that drifts between them confuses users, so both go through here. The order is
    kept on purpose: ``api_key`` is refused before parsing (``build_params`` would only call it
    an unknown name, without saying where the key goes), and the endpoint is resolved last so a
    bad parameter is reported before a missing key. ``model_hint`` completes "name the model,
    e.g. ..." for the adapter at hand.
    """
    if "api_key" in params:
        raise ParamError(
            f"{name}: the API key is not taken as a parameter (parameters are recorded in the run "
            "card); set EDITBENCH_OPENAI_API_KEY or OPENAI_API_KEY, or name another variable with api_key_env"
        )
    settings = build_params(settings_type, params, what=name)
    model = settings.model or path
    if not model:
        raise ParamError(f"{name}: name the model, e.g. {model_hint}")
    try:
        endpoint = resolve_endpoint(settings.base_url, settings.api_key_env, name)
    except EndpointError as exc:
        raise ParamError(str(exc)) from None
    return settings, model, endpoint


@dataclass
class Usage:
    """What requests cost: counters a caller can add up across batches and persist.

    ``requests`` counts every HTTP request sent (retries included); ``retries`` those that were
    retries; ``rate_limited``/``server_errors``/``timeouts`` the transient failures seen;
    ``failed`` the requests given up on. ``cost_usd`` is None unless a price was given.
    """

    requests: int = 0
    retries: int = 0
    rate_limited: int = 0
    server_errors: int = 0
    timeouts: int = 0
    failed: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    images: int = 0
    cost_usd: float | None = None

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    def __add__(self, other: Usage) -> Usage:
        merged = {f.name: getattr(self, f.name) + getattr(other, f.name) for f in fields(self) if f.name != "cost_usd"}
        costs = [c for c in (self.cost_usd, other.cost_usd) if c is not None]
        return Usage(**merged, cost_usd=sum(costs) if costs else None)

    def __sub__(self, other: Usage) -> Usage:
        delta = {f.name: getattr(self, f.name) - getattr(other, f.name) for f in fields(self) if f.name != "cost_usd"}
        cost = None if self.cost_usd is None else self.cost_usd - (other.cost_usd or 0.0)
        return Usage(**delta, cost_usd=cost)

    def as_dict(self) -> dict[str, Any]:
        return {**{f.name: getattr(self, f.name) for f in fields(self)}, "total_tokens": self.total_tokens}


@dataclass(frozen=True)
class Price:
    """USD per million input/output tokens and per generated image (any may be None)."""

    input_per_mtok: float | None = None
    output_per_mtok: float | None = None
    per_image: float | None = None

    @property
    def given(self) -> bool:
        return any(v is not None for v in (self.input_per_mtok, self.output_per_mtok, self.per_image))

    def cost(self, prompt_tokens: int, completion_tokens: int, images: int = 0) -> float:
        return (
            prompt_tokens * (self.input_per_mtok or 0.0) / 1e6
            + completion_tokens * (self.output_per_mtok or 0.0) / 1e6
            + images * (self.per_image or 0.0)
        )


@dataclass(frozen=True)
class ClientLimits:
    """How hard to push the server; every field is an adapter parameter of the same name."""

    concurrency: int = 16
    rpm: float | None = None
    tpm: float | None = None
    max_retries: int = 5
    timeout_s: float = 60.0
    backoff_s: float = 0.5
    max_backoff_s: float = 30.0
    max_retry_after_s: float = 300.0

    @classmethod
    def from_settings(cls, settings: object) -> ClientLimits:
        """The limits of an adapter's settings dataclass, whose fields carry the same names."""
        return cls(**{f.name: getattr(settings, f.name) for f in fields(cls)})


class RateLimiter:
    """A token bucket holding one second's worth (at least 1), refilled at ``per_minute / 60``
    per second. A request larger than the bucket waits for a full bucket and leaves it in debt,
    so large requests are paced correctly instead of waiting forever."""

    def __init__(self, per_minute: float | None, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = per_minute / 60.0 if per_minute else None
        self.capacity = max(1.0, self.rate or 0.0)
        self.level = self.capacity
        self.clock = clock
        self.updated = clock()
        self.lock = threading.Lock()

    def acquire(self, amount: float) -> None:
        if self.rate is None:
            return
        while True:
            with self.lock:
                self._refill()
                need = min(amount, self.capacity)
                if self.level >= need:
                    self.level -= amount
                    return
                wait = (need - self.level) / self.rate
            time.sleep(wait)

    def correct(self, delta: float) -> None:
        """Charge ``delta`` more (or, negative, refund) once the real amount is known."""
        if self.rate is None:
            return
        with self.lock:
            self._refill()
            self.level = min(self.capacity, self.level - delta)

    def _refill(self) -> None:
        now = self.clock()
        self.level = min(self.capacity, self.level + (now - self.updated) * (self.rate or 0.0))
        self.updated = now


@dataclass(frozen=True)
class Response:
    """A successful (2xx) answer: its JSON body and how many attempts it took."""

    body: dict[str, Any]
    attempts: int


def retry_after_seconds(headers: Mapping[str, str], now: float | None = None) -> float | None:
    """``retry-after-ms`` (OpenAI), else ``Retry-After`` as seconds or an HTTP date; None if absent."""
    millis = headers.get("retry-after-ms")
    if millis:
        try:
            return max(0.0, float(millis) / 1000.0)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError):
        return None
    return max(0.0, when - (time.time() if now is None else now))


class OpenAIClient:
    """Thread-safe: one per adapter, shared by all its threads. See the module docstring."""

    def __init__(self, endpoint: Endpoint, limits: ClientLimits, price: Price, *, seed: int | None = None) -> None:
        self.endpoint = endpoint
        self.limits = limits
        self.price = price
        self._headers = [(b"Authorization", f"Bearer {endpoint.api_key}".encode()), (b"Accept", b"application/json")]
        # Per request: connect/read/write each within timeout_s. Waiting for a connection is
        # bounded by our own semaphore, not by a timeout.
        self._timeouts = {"connect": limits.timeout_s, "read": limits.timeout_s, "write": limits.timeout_s, "pool": None}
        self._local = threading.local()
        self._pools: list[httpcore.ConnectionPool] = []
        self._slots = threading.BoundedSemaphore(limits.concurrency)
        self._requests = RateLimiter(limits.rpm)
        self._tokens = RateLimiter(limits.tpm)
        self._random = random.Random(seed)
        self._lock = threading.Lock()
        self._usage = Usage(cost_usd=0.0 if price.given else None)
        self._paused_until = 0.0

    def __repr__(self) -> str:
        return f"OpenAIClient({self.endpoint!r}, {self.limits!r})"

    @property
    def usage(self) -> Usage:
        """A snapshot of the counters since this client was made."""
        with self._lock:
            return Usage(**{f.name: getattr(self._usage, f.name) for f in fields(Usage)})

    def close(self) -> None:
        with self._lock:
            pools, self._pools = self._pools, []
        for pool in pools:
            pool.close()

    def post_json(self, path: str, body: dict[str, Any], *, estimated_tokens: int = 0) -> Response:
        content = json.dumps(body).encode()
        return self._send(path, [(b"Content-Type", b"application/json")], content, estimated_tokens)

    def post_multipart(
        self, path: str, data: dict[str, Any], files: list[tuple[str, tuple[str, bytes, str]]], *, estimated_tokens: int = 0
    ) -> Response:
        encoded = httpx.Request("POST", "http://multipart.invalid/", data=data, files=files)
        content = encoded.read()
        return self._send(path, [(b"Content-Type", encoded.headers["Content-Type"].encode())], content, estimated_tokens)

    def get_bytes(self, url: str) -> bytes:
        """Download a result URL (e.g. an image) *without* our Authorization header: it may be
        on another host."""
        try:
            response = httpx.get(url, timeout=self.limits.timeout_s)
        except httpx.HTTPError as exc:
            raise APIError("connection", f"downloading the result failed: {type(exc).__name__}") from None
        if response.status_code != 200:
            raise APIError("bad_response", f"downloading the result gave HTTP {response.status_code}")
        return response.content

    # -- internals -------------------------------------------------------------------------------

    def _pool(self) -> httpcore.ConnectionPool:
        pool = getattr(self._local, "pool", None)
        if pool is None:
            pool = self._local.pool = httpcore.ConnectionPool(max_connections=1, max_keepalive_connections=1)
            with self._lock:
                self._pools.append(pool)
        return pool

    def _send(self, path: str, headers: list[tuple[bytes, bytes]], content: bytes, estimated_tokens: int) -> Response:
        url = f"{self.endpoint.base_url}/{path}"
        headers = self._headers + headers
        attempt = 0
        while True:
            self._wait_for_pause()
            self._requests.acquire(1)
            self._tokens.acquire(estimated_tokens)
            self._count(requests=1, retries=1 if attempt else 0)
            failure: APIError
            retry_after: float | None = None
            with self._slots:
                try:
                    response = self._pool().request("POST", url, headers=headers, content=content, extensions={"timeout": self._timeouts})
                except httpcore.TimeoutException:
                    self._count(timeouts=1)
                    failure = APIError("timeout", f"no answer within {self.limits.timeout_s:g} s")
                    response = None
                except (httpcore.NetworkError, httpcore.ProtocolError, httpcore.ConnectionNotAvailable) as exc:
                    failure = APIError("connection", self.endpoint.scrub(f"cannot reach the server: {type(exc).__name__}: {exc}"))
                    response = None
            if response is not None:
                response_headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in response.headers}
                outcome = self._interpret(response.status, response.content, estimated_tokens)
                if isinstance(outcome, Response):
                    return Response(outcome.body, attempt + 1)
                failure = outcome
                retry_after = retry_after_seconds(response_headers)
            attempt += 1
            retryable = failure.code in ("timeout", "connection", "rate_limited", "server_error", "bad_response")
            if not retryable or attempt > self.limits.max_retries:
                self._count(failed=1)
                failure.attempts = attempt
                if retryable:
                    failure.args = (f"{failure.args[0]} (gave up after {attempt} attempts)",)
                raise failure
            wait = self._retry_wait(attempt, retry_after)
            if wait is None:
                self._count(failed=1)
                raise APIError(
                    failure.code,
                    f"{failure.args[0]}; the server asked to wait {retry_after:g} s, more than "
                    f"max_retry_after_s={self.limits.max_retry_after_s:g}",
                    status=failure.status,
                    attempts=attempt,
                )
            log.warning("%s; retry %d/%d in %.2f s", failure.args[0], attempt, self.limits.max_retries, wait)
            if failure.code == "rate_limited":
                # Every thread waits: the other requests would only collect 429s too.
                with self._lock:
                    self._paused_until = max(self._paused_until, time.monotonic() + wait)
            time.sleep(wait)

    def _interpret(self, status: int, content: bytes, estimated_tokens: int) -> Response | APIError:
        try:
            body = json.loads(content)
        except (json.JSONDecodeError, UnicodeDecodeError):
            body = None
        if 200 <= status < 300:
            if not isinstance(body, dict):
                return APIError("bad_response", f"HTTP {status} with a body that is not a JSON object", status=status)
            self._record_usage(body.get("usage"), estimated_tokens, images=len(body.get("data") or []))
            return Response(body, 1)
        error = body.get("error") if isinstance(body, dict) else None
        error = error if isinstance(error, dict) else {}
        detail = str(error.get("message") or "")[:300]
        detail = self.endpoint.scrub(f": {detail}" if detail else "")
        if status == 429:
            self._count(rate_limited=1)
            return APIError("rate_limited", f"HTTP 429 (rate limited){detail}", status=status)
        if status >= 500 or status in RETRY_STATUSES:
            self._count(server_errors=1)
            return APIError("server_error", f"HTTP {status}{detail}", status=status)
        if str(error.get("code")) in CONTENT_POLICY_CODES:
            return ContentPolicyError("content_policy", f"HTTP {status}, rejected by the server's safety system{detail}", status=status)
        if status in (401, 403):
            return APIError("auth", f"HTTP {status}: the server rejected the API key{detail}", status=status)
        return APIError("bad_request", f"HTTP {status}{detail}", status=status)

    def _record_usage(self, usage: Any, estimated_tokens: int, images: int) -> None:
        usage = usage if isinstance(usage, dict) else {}
        # Chat Completions says prompt/completion_tokens; the Images API input/output_tokens.
        prompt = int(usage.get("prompt_tokens", usage.get("input_tokens", 0)) or 0)
        completion = int(usage.get("completion_tokens", usage.get("output_tokens", 0)) or 0)
        self._tokens.correct(prompt + completion - estimated_tokens)
        cost = self.price.cost(prompt, completion, images) if self.price.given else None
        with self._lock:
            self._usage.prompt_tokens += prompt
            self._usage.completion_tokens += completion
            self._usage.images += images
            if cost is not None:
                self._usage.cost_usd = (self._usage.cost_usd or 0.0) + cost

    def _retry_wait(self, attempt: int, retry_after: float | None) -> float | None:
        if retry_after is not None:
            if retry_after > self.limits.max_retry_after_s:
                return None
            # A little jitter on top, so threads told the same instant do not return together.
            return retry_after + self._random.uniform(0.0, min(0.1 * retry_after, 1.0))
        ceiling = min(self.limits.max_backoff_s, self.limits.backoff_s * 2 ** (attempt - 1))
        return self._random.uniform(0.5 * ceiling, ceiling)

    def _wait_for_pause(self) -> None:
        while True:
            with self._lock:
                remaining = self._paused_until - time.monotonic()
            if remaining <= 0:
                return
            time.sleep(remaining)

    def _count(self, **increments: int) -> None:
        with self._lock:
            for name, value in increments.items():
                setattr(self._usage, name, getattr(self._usage, name) + value)


def image_token_estimate(width: int, height: int) -> int:
    """OpenAI's published cost of a high-detail image: 85 + 170 per 512² tile. Used only to
    pace the tokens-per-minute limit before the server reports the real count."""
    return 85 + 170 * math.ceil(width / 512) * math.ceil(height / 512)
