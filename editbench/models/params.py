"""Turn adapter keyword arguments (often strings from ``--param key=value``) into typed settings.

Each adapter declares its settings as a frozen dataclass with defaults; :func:`build_params`
coerces strings to the annotated types, rejects unknown names (a typo must not silently run a
50-step benchmark with the default), and lets a field carry its own parser in its metadata for
values such as ``512*512`` or ``768x512``.
"""

from __future__ import annotations

import dataclasses
import difflib
import re
import types
import typing
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from editbench.errors import ParamError

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

P = TypeVar("P", bound="DataclassInstance")

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}
_NONE = {"none", "null"}
_PRODUCT = re.compile(r"^\s*(\d+)\s*[*xX×]\s*(\d+)\s*$")


def parse_area(value: Any) -> int:
    """Pixels: ``262144``, ``512*512`` or ``512x512``."""
    if isinstance(value, bool):
        raise ParamError(f"not an area: {value!r}")
    if isinstance(value, int):
        area = value
    else:
        text = str(value).strip()
        match = _PRODUCT.match(text)
        area = int(match.group(1)) * int(match.group(2)) if match else int(text)
    if area <= 0:
        raise ParamError(f"area must be positive, got {value!r}")
    return area


def parse_size(value: Any) -> tuple[int, int]:
    """``WxH`` (or ``W*H``) as a (width, height) pair of positive integers."""
    match = _PRODUCT.match(str(value))
    if not match or int(match.group(1)) <= 0 or int(match.group(2)) <= 0:
        raise ParamError(f"expected WIDTHxHEIGHT, got {value!r}")
    return int(match.group(1)), int(match.group(2))


def unknown_names_message(unknown: list[str], accepted: Iterable[str]) -> str:
    """ "unknown parameter stepz (did you mean steps?); accepted: ..." — a typo gets the name it
    was probably meant to be, so the user does not have to read the whole list."""
    accepted = sorted(accepted)
    parts = []
    for name in unknown:
        close = difflib.get_close_matches(name, accepted, n=1, cutoff=0.6)
        parts.append(f"{name} (did you mean {close[0]}?)" if close else name)
    noun = "parameter" if len(unknown) == 1 else "parameters"
    return f"unknown {noun} {', '.join(parts)}; accepted: {', '.join(accepted) or 'none'}"


def build_params(cls: type[P], values: Mapping[str, Any], *, what: str) -> P:
    """Instantiate the settings dataclass ``cls`` from ``values``, coercing each to its type."""
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}
    unknown = sorted(set(values) - set(fields))
    if unknown:
        raise ParamError(f"{what}: {unknown_names_message(unknown, fields)}")
    hints = typing.get_type_hints(cls)
    kwargs = {}
    for name, raw in values.items():
        parser: Callable[[Any], Any] | None = fields[name].metadata.get("parse")
        try:
            kwargs[name] = _coerce(raw, hints[name], parser)
        except (TypeError, ValueError) as exc:
            raise ParamError(f"{what}: bad value for {name}: {raw!r} ({exc})") from None
    return cls(**kwargs)


def _coerce(raw: Any, annotation: Any, parser: Callable[[Any], Any] | None) -> Any:
    allowed = _union_members(annotation)
    if type(None) in allowed and _means_none(raw, text_allowed=str in allowed):
        return None
    if parser is not None:
        return parser(raw)
    kinds = [kind for kind in allowed if kind is not type(None)]
    if len(kinds) != 1:
        return raw
    kind = kinds[0]
    if kind is bool:
        return _to_bool(raw)
    if kind is int:
        if isinstance(raw, bool) or (isinstance(raw, float) and not raw.is_integer()):
            raise ValueError("expected an integer")
        return int(raw)
    if kind is float:
        if isinstance(raw, bool):
            raise ValueError("expected a number")
        return float(raw)
    if kind is str:
        return str(raw)
    return raw


def _means_none(raw: Any, *, text_allowed: bool) -> bool:
    # An empty string is a real value for text settings (an empty negative prompt), not None.
    if raw is None:
        return True
    if not isinstance(raw, str):
        return False
    text = raw.strip().lower()
    return text in _NONE or (text == "" and not text_allowed)


def _to_bool(raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    text = str(raw).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError("expected true/false")


def _union_members(annotation: Any) -> tuple[Any, ...]:
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        return typing.get_args(annotation)
    return (annotation,)


def settings_dict(settings: Any) -> dict[str, Any]:
    """The dataclass as a JSON-friendly dict (tuples become lists), for ``identity()``."""
    return {name: (list(value) if isinstance(value, tuple) else value) for name, value in dataclasses.asdict(settings).items()}
