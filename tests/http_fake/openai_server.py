"""A real HTTP server on 127.0.0.1 that speaks OpenAI's Chat Completions and Images edits.

Wire format as the public API reference describes it: ``POST /v1/chat/completions`` (JSON in,
``chat.completion`` object out, ``usage``, ``choices[0].message.content``/``refusal``,
``choices[0].logprobs.content[0].top_logprobs`` when ``logprobs`` is requested) and
``POST /v1/images/edits`` (multipart/form-data in, ``{"created", "data": [{"b64_json"}],
"usage"}`` out); errors as ``{"error": {"message", "type", "code"}}`` with their status.
``Authorization: Bearer <key>`` is checked (401 otherwise).

Tests script it: :meth:`FakeOpenAIServer.script` queues actions consumed one per request
(:class:`Reply`, :class:`Status` e.g. 429 + ``Retry-After``, :class:`Malformed`, :class:`ImageReply`;
each may be delayed past the client's timeout); ``responder`` picks an action from the request
when the queue is empty; otherwise the default answer is valid: for generate requests a JSON
object scoring every criterion named in the prompt's answer format, for logprobs requests a
fixed digit distribution, for image edits the inverted source. Every request is recorded
(``received``). ``latency_s`` delays every answer (the benchmark's simulated model time).

Run standalone (the benchmark does, to keep the server off the client's CPU):
``python -m tests.http_fake.openai_server --latency-ms 50`` prints ``PORT <n>`` and serves.
"""

from __future__ import annotations

import argparse
import base64
import email.parser
import email.policy
import io
import json
import math
import re
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self

from PIL import Image, ImageOps

DEFAULT_KEY = "sk-test-0123456789abcdef"
# Default logprobs answer: P(7)=0.6, P(8)=0.3, P(6)=0.1 (plus a non-digit that must be ignored).
DEFAULT_TOP_LOGPROBS = [("7", math.log(0.6)), ("8", math.log(0.3)), ("6", math.log(0.1)), ("The", math.log(1e-4))]
_SCORE_SLOTS = re.compile(r'\{"scores": \{(.*?)\}, "reasoning"')
_SCORE_NAME = re.compile(r'"([^"]+)": <score>')


@dataclass
class Reply:
    """A 200 chat completion. ``top_logprobs``: (token, logprob) pairs for the first token."""

    content: str | None = None
    refusal: str | None = None
    finish_reason: str = "stop"
    top_logprobs: list[tuple[str, float]] | None = None
    prompt_tokens: int = 120
    completion_tokens: int = 30
    delay_s: float = 0.0


@dataclass
class Status:
    """An error status with an OpenAI-style error body (``code`` goes in ``error.code``)."""

    status: int
    message: str = "error"
    code: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0


@dataclass
class Malformed:
    """A 200 whose body is not JSON."""

    body: bytes = b'{"id": "chatcmpl-broken", "choices": [{'
    delay_s: float = 0.0


@dataclass
class ImageReply:
    """A 200 images answer: ``b64`` image bytes (default: inverted source) or a ``url``."""

    image: Image.Image | None = None
    url: str | None = None
    delay_s: float = 0.0


Action = Reply | Status | Malformed | ImageReply


@dataclass
class Received:
    """One request as the server saw it."""

    path: str
    headers: dict[str, str]
    body: Any  # the JSON object, or for multipart {"fields": {...}, "files": [(name, bytes)]}
    at: float

    def text(self) -> str:
        """Every text part of every message (chat requests)."""
        parts = []
        for message in self.body.get("messages", []):
            content = message.get("content")
            if isinstance(content, str):
                parts.append(content)
            else:
                parts += [p.get("text", "") for p in content if p.get("type") == "text"]
        return "\n".join(parts)


class FakeOpenAIServer:
    """Start with ``start()`` (port 0: the OS picks), stop with ``stop()``; or use as a context."""

    def __init__(self, *, api_key: str = DEFAULT_KEY, latency_s: float = 0.0, record: bool = True) -> None:
        self.api_key = api_key
        self.latency_s = latency_s
        self.record = record
        self.received: list[Received] = []
        self.responder: Callable[[Received], Action | None] | None = None
        self.score_value: float = 7
        self.in_flight = 0
        # GET <path> serves these bytes (image URLs that an Images answer points to).
        self.files: dict[str, bytes] = {}
        self.max_in_flight = 0
        self._script: deque[Action] = deque()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------------------------------

    def start(self, port: int = 0) -> FakeOpenAIServer:
        server = self

        class Handler(_Handler):
            owner = server

        httpd = ThreadingHTTPServer(("127.0.0.1", port), Handler, bind_and_activate=False)
        httpd.daemon_threads = True
        httpd.request_queue_size = 256  # 64+ clients connect at once; the default backlog is 5
        httpd.allow_reuse_address = True
        httpd.server_bind()
        httpd.server_activate()
        self._httpd = httpd
        self._thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        assert self._httpd is not None
        return self._httpd.server_address[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    # -- scripting -------------------------------------------------------------------------------

    def script(self, *actions: Action) -> None:
        with self._lock:
            self._script.extend(actions)

    def requests_to(self, path: str) -> list[Received]:
        with self._lock:
            return [r for r in self.received if r.path.endswith(path)]

    def _next_action(self, received: Received) -> Action | None:
        with self._lock:
            if self.record:
                self.received.append(received)
            if self._script:
                return self._script.popleft()
        return self.responder(received) if self.responder else None

    def _sleep(self, seconds: float) -> None:
        if seconds > 0:
            self._stopping.wait(seconds)

    # -- default answers -------------------------------------------------------------------------

    def default_chat(self, received: Received) -> Reply:
        if received.body.get("logprobs"):
            return Reply(content="7", top_logprobs=DEFAULT_TOP_LOGPROBS, completion_tokens=1)
        slots = _SCORE_SLOTS.findall(received.text())
        names = _SCORE_NAME.findall(slots[-1]) if slots else []
        answer = {"scores": {name: self.score_value for name in names}, "reasoning": "fake judge"}
        return Reply(content=json.dumps(answer))


class _Handler(BaseHTTPRequestHandler):
    owner: FakeOpenAIServer
    protocol_version = "HTTP/1.1"  # keep-alive, as real servers do
    # Headers and body go out in separate writes; with Nagle's algorithm on, the client's delayed
    # ACK would add ~40 ms to every answer.
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        headers = {k.lower(): v for k, v in self.headers.items()}
        self.owner._next_action(Received(self.path, headers, None, time.monotonic()))
        payload = self.owner.files.get(self.path)
        if payload is None:
            self._json(404, _error(f"no file {self.path}", "invalid_request_error"))
        else:
            self._send(200, payload, {"Content-Type": "image/png"})

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length)
        headers = {k.lower(): v for k, v in self.headers.items()}
        owner = self.owner
        if headers.get("authorization") != f"Bearer {owner.api_key}":
            self._json(401, _error("Incorrect API key provided.", "invalid_request_error", "invalid_api_key"))
            return
        path = self.path.split("?", 1)[0]
        if path.endswith("/chat/completions"):
            try:
                body = json.loads(raw)
            except json.JSONDecodeError:
                self._json(400, _error("We could not parse the JSON body of your request.", "invalid_request_error"))
                return
        elif path.endswith("/images/edits"):
            body = _parse_multipart(headers.get("content-type", ""), raw)
        else:
            self._json(404, _error(f"Unknown path {path}", "invalid_request_error"))
            return
        received = Received(path, headers, body, time.monotonic())
        action = owner._next_action(received)
        if action is None:
            action = owner.default_chat(received) if path.endswith("/chat/completions") else ImageReply()
        with owner._lock:
            owner.in_flight += 1
            owner.max_in_flight = max(owner.max_in_flight, owner.in_flight)
        try:
            owner._sleep(owner.latency_s + action.delay_s)
            self._answer(action, received)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (its timeout): nothing to answer
        finally:
            with owner._lock:
                owner.in_flight -= 1

    def _answer(self, action: Action, received: Received) -> None:
        if isinstance(action, Status):
            self._json(
                action.status,
                _error(action.message, "server_error" if action.status >= 500 else "invalid_request_error", action.code),
                action.headers,
            )
        elif isinstance(action, Malformed):
            self._send(200, action.body, {"Content-Type": "application/json"})
        elif isinstance(action, ImageReply):
            self._json(200, _image_answer(action, received))
        else:
            self._json(200, _chat_answer(action, received))

    def _json(self, status: int, obj: Any, headers: dict[str, str] | None = None) -> None:
        self._send(status, json.dumps(obj).encode(), {"Content-Type": "application/json", **(headers or {})})

    def _send(self, status: int, payload: bytes, headers: dict[str, str]) -> None:
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


def _error(message: str, kind: str, code: str | None = None) -> dict[str, Any]:
    return {"error": {"message": message, "type": kind, "param": None, "code": code}}


def _chat_answer(reply: Reply, received: Received) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": reply.content, "refusal": reply.refusal}
    choice: dict[str, Any] = {"index": 0, "message": message, "finish_reason": reply.finish_reason, "logprobs": None}
    if reply.top_logprobs is not None and received.body.get("logprobs"):
        wanted = int(received.body.get("top_logprobs") or 0)
        top = [{"token": t, "logprob": lp, "bytes": list(t.encode())} for t, lp in reply.top_logprobs[:wanted]]
        first = top[0] if top else {"token": reply.content or "", "logprob": 0.0, "bytes": []}
        choice["logprobs"] = {"content": [{**first, "top_logprobs": top}], "refusal": None}
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": received.body.get("model"),
        "choices": [choice],
        "usage": {
            "prompt_tokens": reply.prompt_tokens,
            "completion_tokens": reply.completion_tokens,
            "total_tokens": reply.prompt_tokens + reply.completion_tokens,
        },
    }


def _image_answer(reply: ImageReply, received: Received) -> dict[str, Any]:
    item: dict[str, Any] = {}
    if reply.url:
        item["url"] = reply.url
    else:
        image = reply.image
        if image is None:
            source = Image.open(io.BytesIO(received.body["files"][0][1])).convert("RGB")
            image = ImageOps.invert(source)
            size = received.body["fields"].get("size")
            if size and "x" in size:
                width, height = (int(v) for v in size.split("x"))
                image = image.resize((width, height))
        buffer = io.BytesIO()
        image.save(buffer, format="PNG")
        item["b64_json"] = base64.b64encode(buffer.getvalue()).decode()
    return {
        "created": int(time.time()),
        "data": [item],
        "usage": {
            "input_tokens": 50,
            "output_tokens": 200,
            "total_tokens": 250,
            "input_tokens_details": {"text_tokens": 10, "image_tokens": 40},
        },
    }


def _parse_multipart(content_type: str, raw: bytes) -> dict[str, Any]:
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(f"Content-Type: {content_type}\r\n\r\n".encode() + raw)
    fields: dict[str, str] = {}
    files: list[tuple[str, bytes]] = []
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True) or b""
        if part.get_filename() is not None:
            files.append((name, payload))
        else:
            fields[name] = payload.decode()
    return {"fields": fields, "files": files}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Fake OpenAI-compatible server on 127.0.0.1 (for tests and benchmarks).")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--latency-ms", type=float, default=0.0, help="delay every answer by this much")
    parser.add_argument("--api-key", default=DEFAULT_KEY)
    args = parser.parse_args(argv)
    server = FakeOpenAIServer(api_key=args.api_key, latency_s=args.latency_ms / 1000.0, record=False).start(args.port)
    print(f"PORT {server.port}", flush=True)
    try:
        sys.stdin.read()  # serve until the parent closes our stdin (or dies)
    finally:
        server.stop()


if __name__ == "__main__":
    main()
