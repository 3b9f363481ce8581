"""The ``openai-images`` editor against a real HTTP server on 127.0.0.1 speaking the Images edits
endpoint (multipart/form-data in, ``b64_json`` or ``url`` out)."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest
from PIL import Image, ImageChops, ImageOps

from editbench.models import load_editor
from editbench.models.base import EditRequest
from editbench.models.openai_images import EditRefusedError, ImageEditError
from tests.http_fake.openai_server import (
    DEFAULT_KEY,
    FakeOpenAIServer,
    ImageReply,
    Malformed,
    Status,
)


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeOpenAIServer]:
    for name in ("OPENAI_BASE_URL", "EDITBENCH_OPENAI_BASE_URL", "EDITBENCH_OPENAI_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("OPENAI_API_KEY", DEFAULT_KEY)
    with FakeOpenAIServer() as fake:
        yield fake


def _editor(server: FakeOpenAIServer, **params: object):
    return load_editor("openai-images", "gpt-image-1", **{"base_url": server.url, "device": "cpu", "backoff_s": "0.01", **params})


def _source() -> Image.Image:
    image = Image.new("RGB", (40, 30), (10, 200, 30))
    image.putpixel((3, 4), (255, 0, 0))
    return image


def test_edit_sends_a_multipart_request_and_decodes_the_returned_image(server: FakeOpenAIServer) -> None:
    editor = _editor(server, size="64x48", quality="low", price_per_image=0.04)
    edited = editor.edit(EditRequest("s1", _source(), "Make the grass purple", seed=1))
    assert edited.size == (64, 48)  # the fake inverts the source and honours size
    assert ImageChops.difference(edited, ImageOps.invert(_source()).resize((64, 48))).getbbox() is None
    (sent,) = server.received
    assert sent.path == "/v1/images/edits" and sent.headers["authorization"] == f"Bearer {DEFAULT_KEY}"
    assert sent.body["fields"] == {"model": "gpt-image-1", "prompt": "Make the grass purple", "n": "1", "size": "64x48", "quality": "low"}
    ((name, png),) = sent.body["files"]
    assert name == "image" and png.startswith(b"\x89PNG")
    usage = editor.usage
    assert (usage.requests, usage.images, usage.prompt_tokens, usage.completion_tokens) == (1, 1, 50, 200)
    assert usage.cost_usd == pytest.approx(0.04)
    assert editor.identity()["seeded"] is False and "base_url" not in editor.identity()["params"]


def test_extra_images_go_as_an_image_array_source_first(server: FakeOpenAIServer) -> None:
    extra = Image.new("RGB", (8, 8), "white")
    _editor(server).edit(EditRequest("s1", _source(), "Put the logo on the shirt", seed=1, extra_images=(extra,)))
    files = server.received[0].body["files"]
    assert [name for name, _ in files] == ["image[]", "image[]"]
    assert Image.open(io.BytesIO(files[0][1])).size == (40, 30)


def test_a_content_policy_rejection_is_a_refusal_with_its_own_code_not_a_crash(server: FakeOpenAIServer) -> None:
    server.script(Status(400, "Your request was rejected as a result of our safety system.", code="moderation_blocked"))
    with pytest.raises(EditRefusedError) as refused:
        _editor(server).edit(EditRequest("s1", _source(), "something disallowed", seed=1))
    assert refused.value.code == "content_policy" and len(server.received) == 1  # never retried


def test_rate_limits_and_server_errors_are_retried(server: FakeOpenAIServer) -> None:
    server.script(Status(429, headers={"Retry-After": "0.1"}), Status(500), Malformed())
    editor = _editor(server)
    assert editor.edit(EditRequest("s1", _source(), "x", seed=1)).size == (40, 30)
    assert (editor.usage.requests, editor.usage.retries, editor.usage.rate_limited, editor.usage.server_errors) == (4, 3, 1, 1)


def test_persistent_failures_raise_an_edit_error_with_a_reason_code(server: FakeOpenAIServer) -> None:
    server.script(ImageReply(delay_s=1.0), ImageReply(delay_s=1.0))
    with pytest.raises(ImageEditError) as failed:
        _editor(server, timeout_s=0.2, max_retries=1).edit(EditRequest("s1", _source(), "x", seed=1))
    assert failed.value.code == "timeout"


def test_a_url_answer_is_downloaded_without_the_api_key(server: FakeOpenAIServer) -> None:
    buffer = io.BytesIO()
    Image.new("RGB", (16, 16), "blue").save(buffer, format="PNG")
    with FakeOpenAIServer(api_key="other") as host:
        host.files["/files/result.png"] = buffer.getvalue()
        server.script(ImageReply(url=f"http://127.0.0.1:{host.port}/files/result.png"))
        edited = _editor(server).edit(EditRequest("s1", _source(), "x", seed=1))
        assert edited.size == (16, 16) and edited.getpixel((0, 0)) == (0, 0, 255)
        (download,) = host.received
        assert "authorization" not in download.headers  # the result host never sees our key
        server.script(ImageReply(url=f"http://127.0.0.1:{host.port}/files/missing.png"))
        with pytest.raises(ImageEditError) as failed:
            _editor(server).edit(EditRequest("s1", _source(), "x", seed=1))
        assert failed.value.code == "bad_response"


def test_the_key_never_reaches_logs_or_errors(server: FakeOpenAIServer, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    server.script(Status(503, f"upstream {server.url} down"), Status(401, f"bad key {DEFAULT_KEY}"))
    with pytest.raises(ImageEditError) as failed:
        _editor(server).edit(EditRequest("s1", _source(), "x", seed=1))
    assert failed.value.code == "auth"
    for text in (caplog.text, str(failed.value), repr(_editor(server))):
        assert DEFAULT_KEY not in text and str(server.port) not in text
