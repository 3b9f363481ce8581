"""Every error editbench raises on purpose, in one hierarchy, and the failure codes it records.

Two kinds of trouble, handled differently (dramatiq's ``errors.py`` is the model):

- A refused *command* (bad option, unknown benchmark, no broker, unreadable ledger) raises an
  :class:`EditbenchError`; the CLI prints its message as one line, records nothing, exits non-zero.
- A bad *sample* never stops a run: it becomes a ledger row whose ``error_code`` is a
  :class:`FailureCode`. A :class:`SampleError` carries its code, so workers classify an exception
  by its type (``failure_code``), never by its class name.

Every class keeps the built-in base it had before (``ValueError``, ``KeyError``...), so code that
catches those still works.
"""

from __future__ import annotations

import enum
import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from editbench.benchmark.spec import ReasonCode


class FailureCode(str, enum.Enum):  # str mixin: stored and compared as plain text
    """Why an edit or a judgment ended without a score: the ``error_code`` column of the ledger.

    A ``str`` enum, like ingest's ``ReasonCode``: it is stored as its value, reports read it
    back as text, and it compares equal to that text. Values never change (they are data).
    """

    def __str__(self) -> str:
        return self.value

    # --- edits (workers.edit)
    EDITOR_ERROR = "editor_error"
    """The editor raised something unexpected for this sample."""
    OOM = "oom"
    """The model ran out of accelerator memory on this sample (also used by judges)."""
    UNSAFE_PATH = "unsafe_path"
    """The precomputed editor refused a sample id that would name a file outside its folder."""
    EMPTY_INSTRUCTION = "empty_instruction"
    """The stored instruction is empty or only whitespace."""
    MISSING_FILE = "missing_file"
    """The source image is no longer in the image store."""
    CORRUPT_IMAGE = "corrupt_image"
    """The source image cannot be decoded."""
    UNSUPPORTED_INPUT = "unsupported_input"
    """The sample has extra input images (a multi-image item) and this editor edits one image:
    recorded instead of editing the source alone, which would silently drop the others."""
    CONTENT_POLICY = "content_policy"
    """A served editor (``openai-images``) refused the request on content-policy grounds: the
    server's safety system rejected it. A refusal of this sample, not a crash."""
    # --- leases (schema.ledger.claims)
    ATTEMPTS_EXHAUSTED = "attempts_exhausted"
    """Claimed ``EDITBENCH_MAX_ATTEMPTS`` times and never finished (the worker died each time)."""
    EDIT_FAILED = "edit_failed"
    """A judgment that can never be scored because the sample's edit failed (status ``missing``)."""
    # --- judgments (workers.score, judge adapters)
    JUDGE_ERROR = "judge_error"
    """The judge raised for the whole batch."""
    IMAGE_UNREADABLE = "image_unreadable"
    """The source, edited or reference image could not be read back for judging."""
    NO_SCORE = "no_score"
    """The judge returned no score for a claimed criterion."""
    BAD_PROMPT = "bad_prompt"
    """The category's rubric template cannot be filled by this judge."""
    PARSE_ERROR = "parse_error"
    """The judge's answer is not the JSON the rubric asks for (never turned into a number)."""
    REFUSAL = "refusal"
    """The judge declined to score."""
    NOT_ASKED = "not_asked"
    """Official protocol mode: the benchmark's own evaluation does not ask this criterion for this
    item (RISEBench's consistency-free samples); never turned into a number."""
    BUDGET_EXHAUSTED = "budget_exhausted"
    """Not a final state: the judge's budget (``budget_usd``/``budget_tokens``) was reached before
    this judgment started, so it was put back to ``pending`` with this code; ``resume`` continues."""
    # --- reports (report.data)
    NOT_IN_LEDGER = "not_in_ledger"
    """The category asks for a criterion the finished run has no judgment row for."""


# --------------------------------------------------------------------------- the hierarchy


class EditbenchError(Exception):
    """Base of every error editbench raises on purpose; its message is meant for the user."""


class ConfigurationError(EditbenchError, ValueError):
    """A command's input is unusable (option, run config, model parameter, prompt template)."""


class RunConfigError(ConfigurationError):
    """A run cannot be created as asked (unknown benchmark or category, bad KIND:PATH...)."""


class ParamError(ConfigurationError):
    """A parameter name or value an adapter cannot accept."""


class PromptTemplateError(ConfigurationError):
    """The rubric template uses a field the adapter does not fill, or is malformed."""


class ExportError(ConfigurationError):
    """The export cannot start (unknown layout, bad model name)."""


class ModelCheckError(ConfigurationError, RuntimeError):
    """A model's server cannot serve the run as configured (unreachable, key rejected, unknown
    model, no logprobs...): raised by an adapter's ``check()`` at submit. One line, safe to show."""


class UnknownModelError(EditbenchError, KeyError):
    """No editor or judge is registered under that kind (the message lists the known kinds)."""

    def __str__(self) -> str:  # KeyError would print the message with quotes around it
        return str(self.args[0]) if self.args else ""


class PluginLoadError(EditbenchError, ImportError):
    """An adapter is declared (entry point) but importing it failed; names the plugin and the error."""


class BenchmarkFormatError(EditbenchError, ValueError):
    """The benchmark folder as a whole cannot be loaded (bad benchmark.yaml, missing prompt...).

    The message always names the file and says what to change, because the person reading it is
    the benchmark author, not a developer. Bad *items* never raise: they become rejections.
    ``reason_code`` is set where the problem has one of the item codes (an over-long name, a NUL,
    an unsafe prompt field, a symlink out of the folder), so scripts can tell these refusals
    apart; the code is also shown in the message.
    """

    def __init__(self, message: str, reason_code: ReasonCode | None = None) -> None:
        super().__init__(f"{message} [{reason_code.value}]" if reason_code is not None else message)
        self.reason_code = reason_code


class ImporterError(EditbenchError):
    """The source cannot be imported at all; the message says what to fix."""


class BrokerError(EditbenchError, RuntimeError):
    """The broker (Redis) cannot be reached or is not configured."""


class NoBrokerError(BrokerError):
    """No broker is configured, or the embedded one recorded in EDITBENCH_HOME is not running."""


class LedgerError(EditbenchError):
    """The ledger cannot answer the question asked."""


class RunNotFoundError(LedgerError, LookupError):
    """No run with that id (or name) in the ledger."""


class LedgerUnavailableError(LedgerError):
    """The database cannot be read (not reachable, or no editbench schema in it)."""


class ModelLoadError(EditbenchError):
    """A worker could not load the run's editor or judge (missing dependency, bad path, a
    parameter the adapter refuses, no memory for the weights).

    Not a sample's fault, so no sample is failed for it: the worker stops the *run* with this
    message as its ``stop_reason`` and hands its claims back as pending, so ``editbench resume``
    retries them once the cause is fixed.
    """

    def __init__(self, role: str, kind: str, path: str | None, cause: BaseException) -> None:
        where = f" from {path}" if path else ""
        super().__init__(f"the {role} {kind!r}{where} could not be loaded: {type(cause).__name__}: {cause}")
        self.role, self.kind, self.path = role, kind, path


class BenchmarkChangedError(BenchmarkFormatError):
    """A benchmark name and version already in the ledger was ingested again with a different
    definition (prompt, rubric, scale, or the content of a known sample). Refused rather than
    overwritten, so a run card never certifies a prompt or an item that was not used."""


class UnsupportedPassRuleError(EditbenchError, ValueError):
    """A category's pass rule has a clause the report cannot evaluate."""


class SampleError(EditbenchError):
    """A problem with one sample, recorded with its :class:`FailureCode` and never retried.

    Subclasses fix their code; a plain ``SampleError`` takes it as an argument.
    """

    code: FailureCode = FailureCode.EDITOR_ERROR

    def __init__(self, message: str = "", *, code: FailureCode | None = None) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code


class MissingImageError(SampleError, FileNotFoundError):
    """An image the ledger points at is no longer in the image store.

    Raised instead of a bare ``FileNotFoundError`` so callers can record a clear failure for the
    one sample instead of crashing a worker on an unrelated-looking path.
    """

    code = FailureCode.MISSING_FILE


class EditOOMError(SampleError):
    """An editor ran out of accelerator memory on this sample (recorded as ``oom``).

    Raised by editors after the memory of the failed attempt has been freed, so the process can
    go on with the next sample.
    """

    code = FailureCode.OOM


class UnsupportedInputError(SampleError, ValueError):
    """The editor cannot take what this sample gives it (extra input images for a one-image
    editor): the sample fails as ``unsupported_input``, the run goes on."""

    code = FailureCode.UNSUPPORTED_INPUT


class UnsafeSampleIdError(SampleError, ValueError):
    """A sample id that could name a file outside the precomputed folder (a security event, so
    it has its own code rather than the generic one)."""

    code = FailureCode.UNSAFE_PATH


class RecordedFailure(EditbenchError):
    """Raised by a Celery task *after* its sample's failure is recorded in the ledger, only so
    that the task ends in Celery state ``FAILURE`` and Flower counts it. Declared in the tasks'
    ``throws`` (logged without a traceback) and never retried: the ledger already has the outcome."""


def failure_code(exc: BaseException, default: FailureCode) -> FailureCode:
    """The code to record for ``exc``: its own if it is a :class:`SampleError`, ``oom`` for
    any out-of-memory error (torch's, by type, or an allocator's message), else ``default``."""
    if isinstance(exc, SampleError):
        return exc.code
    if _is_out_of_memory(exc):
        return FailureCode.OOM
    return default


_ADAPTER_CODE = re.compile(r"[a-z][a-z0-9_]{0,63}")


def adapter_failure_code(exc: BaseException, default: FailureCode) -> str:
    """Like :func:`failure_code`, but an adapter's own reason wins: an exception carrying a
    ``code`` that is a short lower-case identifier (``content_policy``, ``timeout``,
    ``rate_limited``... from the served adapters) is recorded as that code instead of the
    generic ``default``."""
    code = getattr(exc, "code", None)
    if not isinstance(exc, SampleError) and isinstance(code, str) and _ADAPTER_CODE.fullmatch(code):
        return code
    return failure_code(exc, default).value


def _is_out_of_memory(exc: BaseException) -> bool:
    import sys

    torch = sys.modules.get("torch")  # never import torch just to classify an error
    oom_type = getattr(torch, "OutOfMemoryError", None) if torch is not None else None
    if oom_type is not None and isinstance(exc, oom_type):
        return True
    return "out of memory" in str(exc).lower()
