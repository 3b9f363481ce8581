"""Judge prompt templates: read, check and version them at load time.

A prompt is a :meth:`str.format` template. Checking its fields when the benchmark is loaded turns
a stray ``{`` or a typo like ``{instrucion}`` into an error the author sees at once, instead of a
``KeyError`` in every judge task of a run.
"""

from __future__ import annotations

import hashlib
import string
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from editbench.errors import BenchmarkFormatError

TEMPLATE_FIELDS = frozenset(
    {"instruction", "reference", "criterion", "criterion_description", "criteria", "scale_min", "scale_max"}
)
BUILTIN_PREFIX = "builtin:"
DEFAULT_PROMPT = BUILTIN_PREFIX + "default.v1.txt"


@dataclass(frozen=True)
class PromptFile:
    path: str
    text: str
    sha256: str

    @property
    def version(self) -> str:
        """Short form of the content hash, recorded next to every judgment."""
        return self.sha256[:16]


def read_prompt(root: Path, relative: str) -> PromptFile:
    """Read a prompt from the benchmark folder (or ``builtin:<name>``) and validate it."""
    data = _read_builtin(relative) if relative.startswith(BUILTIN_PREFIX) else _read_local(root, relative)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise BenchmarkFormatError(
            f"prompt {relative}: not valid UTF-8 ({error.reason} at byte {error.start})"
        ) from None
    check_template(text, relative)
    return PromptFile(relative, text, hashlib.sha256(data).hexdigest())


def check_template(text: str, where: str) -> None:
    """Raise if ``text`` is not a str.format template over :data:`TEMPLATE_FIELDS` only."""
    if not text.strip():
        raise BenchmarkFormatError(f"prompt {where}: file is empty")
    try:
        parsed = list(string.Formatter().parse(text))
    except ValueError as error:
        raise BenchmarkFormatError(
            f"prompt {where}: not a valid template ({error}); write literal braces as {{{{ and }}}}"
        ) from None
    for _literal, field_name, _spec, _conversion in parsed:
        if field_name is not None and field_name not in TEMPLATE_FIELDS:
            raise BenchmarkFormatError(
                f"prompt {where}: unknown field {{{field_name}}}; allowed: "
                + ", ".join("{" + name + "}" for name in sorted(TEMPLATE_FIELDS))
                + " (write literal braces as {{ and }})"
            )


def _read_builtin(name: str) -> bytes:
    filename = name[len(BUILTIN_PREFIX) :]
    resource = resources.files("editbench.benchmark").joinpath("prompts", filename)
    if "/" in filename or not resource.is_file():
        raise BenchmarkFormatError(f"prompt {name}: no such built-in prompt")
    return resource.read_bytes()


def _read_local(root: Path, relative: str) -> bytes:
    if Path(relative).is_absolute() or relative.startswith("\\"):
        raise BenchmarkFormatError(f"prompt {relative}: must be a path relative to the benchmark folder")
    path = (root / relative).resolve()
    if not path.is_relative_to(root):
        raise BenchmarkFormatError(f"prompt {relative}: leads outside the benchmark folder {root}")
    if not path.is_file():
        raise BenchmarkFormatError(f"prompt {relative}: file not found in {root}")
    return path.read_bytes()
