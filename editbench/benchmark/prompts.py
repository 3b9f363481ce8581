"""Judge prompt templates: read, check and version them at load time.

A prompt is a :meth:`str.format` template. Checking its fields when the benchmark is loaded turns
a stray ``{`` or a typo like ``{instrucion}`` into an error the author sees at once, instead of a
``KeyError`` in every judge task of a run. Only plain ``{name}`` fields are allowed: a format spec
(``{instruction:>2000000000}`` builds a 2 GB string per judgment), a conversion (``!r``) or an
attribute/index (``{criteria.__class__}``, ``{criteria[0]}``) is refused, because a benchmark
folder is data from someone else and must not choose how much memory a judge task spends.
"""

from __future__ import annotations

import hashlib
import re
import string
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from editbench.benchmark.limits import NUL
from editbench.benchmark.spec import ReasonCode
from editbench.errors import BenchmarkFormatError

TEMPLATE_FIELDS = frozenset({"instruction", "reference", "criterion", "criterion_description", "criteria", "scale_min", "scale_max"})
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
        raise BenchmarkFormatError(f"prompt {relative}: not valid UTF-8 ({error.reason} at byte {error.start})") from None
    check_template(text, relative)
    return PromptFile(relative, text, hashlib.sha256(data).hexdigest())


def check_template(text: str, where: str) -> None:
    """Raise if ``text`` is not a str.format template over :data:`TEMPLATE_FIELDS` only."""
    if not text.strip():
        raise BenchmarkFormatError(f"prompt {where}: file is empty")
    try:
        parsed = list(string.Formatter().parse(text))
    except ValueError as error:
        raise BenchmarkFormatError(f"prompt {where}: not a valid template ({error}); write literal braces as {{{{ and }}}}") from None
    if NUL in text:
        raise BenchmarkFormatError(f"prompt {where}: contains a NUL character; remove it", ReasonCode.NUL_CHARACTER)
    for _literal, field_name, spec, conversion in parsed:
        if field_name is None or (field_name in TEMPLATE_FIELDS and not spec and not conversion):
            continue
        if re.split(r"[.\[]", field_name, maxsplit=1)[0] in TEMPLATE_FIELDS:
            shown = "{" + field_name + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "") + "}"
            raise BenchmarkFormatError(
                f"prompt {where}: field {shown} is not a plain {{name}} field; format specs (:...), "
                "conversions (!r) and attribute or index access (. or []) are not allowed",
                ReasonCode.UNSAFE_TEMPLATE,
            )
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
    if NUL in relative:
        raise BenchmarkFormatError(f"prompt {relative!r}: path contains a NUL character", ReasonCode.NUL_CHARACTER)
    if Path(relative).is_absolute() or relative.startswith("\\"):
        raise BenchmarkFormatError(f"prompt {relative}: must be a path relative to the benchmark folder")
    path = (root / relative).resolve()
    if not path.is_relative_to(root):
        raise BenchmarkFormatError(f"prompt {relative}: leads outside the benchmark folder {root}", ReasonCode.PATH_ESCAPE)
    if not path.is_file():
        raise BenchmarkFormatError(f"prompt {relative}: file not found in {root}")
    return path.read_bytes()
