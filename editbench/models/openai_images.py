"""An image editor served over HTTP by an OpenAI-compatible Images API (``openai-images:MODEL``):
``POST /images/edits`` (multipart), as for ``gpt-image-1`` or ``dall-e-2``.

The source image goes as ``image`` (with extra images, all go as ``image[]``, source first), the
instruction as ``prompt``; ``size``, ``quality``, ``output_format`` and ``response_format`` are
sent only when set, since models differ in which they accept. The answer's ``b64_json`` is
decoded; a ``url`` answer is downloaded without the API key (it may be on another host).

Seeds: the API takes none, so ``EditRequest.seed`` cannot fix the output; ``identity()`` says
``"seeded": false`` so run cards show that re-running gives other images.

Failures: the shared :class:`OpenAIClient` retries 429/5xx/timeouts with backoff and honours
``Retry-After``; what still fails raises :class:`ImageEditError` whose ``code`` is the per-sample
reason (``timeout``, ``rate_limited``, ...). A request the server's safety system rejects raises
:class:`EditRefusedError` (``code = "content_policy"``): a refusal of this sample, not a crash.
Usage (requests, retries, tokens, images, cost with ``price_*``) is counted in ``editor.usage``.
"""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass
from importlib import metadata
from typing import Any

from PIL import Image, UnidentifiedImageError

from editbench.models.base import EditRequest, register_editor
from editbench.models.openai_client import (
    APIError,
    ClientLimits,
    ContentPolicyError,
    OpenAIClient,
    Price,
    Usage,
    served_endpoint,
)
from editbench.models.params import ParamError, settings_dict

EDITS_PATH = "images/edits"
SECRET_SETTINGS = ("base_url",)


class ImageEditError(RuntimeError):
    """An edit request that failed for good; ``code`` is the reason code to record (the edit
    worker reads ``code`` and records it instead of ``editor_error``)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class EditRefusedError(ImageEditError):
    """The server refused to edit this image on content-policy grounds (``code="content_policy"``)."""


@dataclass(frozen=True)
class OpenAIImagesSettings:
    """Every ``--param``; all but ``base_url`` are recorded by ``identity()``."""

    model: str | None = None
    base_url: str | None = None
    api_key_env: str | None = None
    # Sent only when set: e.g. size=1024x1024 or auto, quality=high/medium/low (gpt-image-1),
    # output_format=png, response_format=b64_json (dall-e-2; gpt-image-1 rejects it).
    size: str | None = None
    quality: str | None = None
    output_format: str | None = None
    response_format: str | None = None
    concurrency: int = 4
    rpm: float | None = None
    tpm: float | None = None
    max_retries: int = 5
    timeout_s: float = 300.0
    backoff_s: float = 1.0
    max_backoff_s: float = 60.0
    max_retry_after_s: float = 300.0
    price_input_per_mtok: float | None = None
    price_output_per_mtok: float | None = None
    price_per_image: float | None = None

    def __post_init__(self) -> None:
        if self.concurrency < 1 or self.max_retries < 0 or self.timeout_s <= 0:
            raise ParamError("concurrency must be >= 1, max_retries >= 0, timeout_s > 0")

    @property
    def limits(self) -> ClientLimits:
        return ClientLimits.from_settings(self)


@register_editor("openai-images")
class OpenAIImagesEditor:
    """``openai-images:MODEL`` — see the module docstring."""

    name = "openai-images"
    accepts_extra_images = True  # sent as image[] after the source
    # PATH in ``openai:PATH`` is a model name on the server, not a local folder: callers that
    # resolve paths (the producer) must pass it verbatim.
    path_is_model_name = True
    # Needs no accelerator; the producer builds it at submit (cheap) so a missing key or a bad
    # base URL is refused there.
    runs_on = "cpu"

    def __init__(self, path: str | None, *, device: str | None = None, **params: Any) -> None:
        self.settings, self.model, self.endpoint = served_endpoint(
            self.name, path, params, OpenAIImagesSettings, "openai-images:gpt-image-1"
        )
        price = Price(self.settings.price_input_per_mtok, self.settings.price_output_per_mtok, self.settings.price_per_image)
        self.client = OpenAIClient(self.endpoint, self.settings.limits, price)

    def __repr__(self) -> str:
        return f"OpenAIImagesEditor(model={self.model!r}, {self.endpoint!r})"

    @property
    def usage(self) -> Usage:
        return self.client.usage

    def identity(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "model": self.model,
            "path": None,
            "config_hash": None,
            "api": "images.edits",
            "seeded": False,
            "params": {k: v for k, v in settings_dict(self.settings).items() if k not in SECRET_SETTINGS},
            "versions": {"httpx": metadata.version("httpx"), "pillow": metadata.version("pillow")},
        }

    def edit(self, request: EditRequest) -> Image.Image:
        images = tuple(request.images)
        field_name = "image" if len(images) == 1 else "image[]"
        files = [(field_name, (f"image{i}.png", _png(image), "image/png")) for i, image in enumerate(images)]
        data = {"model": self.model, "prompt": request.instruction, "n": "1"}
        for name in ("size", "quality", "output_format", "response_format"):
            value = getattr(self.settings, name)
            if value is not None:
                data[name] = value
        try:
            body = self.client.post_multipart(EDITS_PATH, data, files).body
        except ContentPolicyError as exc:
            raise EditRefusedError("content_policy", str(exc)) from None
        except APIError as exc:
            raise ImageEditError(exc.code, str(exc)) from None
        return self._decode(body)

    def _decode(self, body: dict[str, Any]) -> Image.Image:
        items = body.get("data")
        first = items[0] if isinstance(items, list) and items and isinstance(items[0], dict) else {}
        if first.get("b64_json"):
            try:
                raw = base64.b64decode(first["b64_json"], validate=True)
            except ValueError:
                raise ImageEditError("bad_response", "b64_json is not base64") from None
        elif first.get("url"):
            try:
                raw = self.client.get_bytes(first["url"])
            except APIError as exc:
                raise ImageEditError(exc.code, str(exc)) from None
        else:
            raise ImageEditError("bad_response", "the answer holds no image (neither data[0].b64_json nor url)")
        try:
            with Image.open(io.BytesIO(raw)) as image:
                return image.convert("RGB")
        except (UnidentifiedImageError, OSError) as exc:
            raise ImageEditError("bad_response", f"the returned image cannot be decoded: {exc}") from None


def _png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.convert("RGB").save(buffer, format="PNG")
    return buffer.getvalue()
