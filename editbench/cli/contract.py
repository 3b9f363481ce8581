"""The CLI's error contract, enforced in one place: the ``editbench`` group's ``main``.

Every refused command ends the same way, whatever raised:

- one line ``error: ...`` on stderr, never a Python traceback;
- exit code 2 for bad input (an option, an argument, a run or benchmark that does not exist),
  1 for a failure (broker or ledger unreachable, a run that ended with failed samples, an
  unexpected error), 0 for success; 130 after Ctrl-C.

Commands raise :class:`~editbench.errors.EditbenchError` subclasses (or click's usage errors)
and let them through; this handler maps them to a line and a code. An unexpected exception is
a bug: it gets one line naming its type, and ``editbench --debug`` (or ``EDITBENCH_DEBUG=1``)
shows its traceback. docs/cli.md documents the contract; tests/cli checks it for every command.
"""

from __future__ import annotations

import sys
import traceback
from typing import Any, NoReturn

import click

from editbench.config import load_settings
from editbench.errors import (
    BenchmarkFormatError,
    ConfigurationError,
    EditbenchError,
    ImporterError,
    RunNotFoundError,
    UnknownModelError,
)

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_BAD_INPUT = 2
EXIT_INTERRUPTED = 130

# Errors that mean "what you asked for is wrong" (exit 2); every other EditbenchError is a
# failure of something the command needed (exit 1).
BAD_INPUT_ERRORS: tuple[type[BaseException], ...] = (
    ConfigurationError,
    RunNotFoundError,
    BenchmarkFormatError,
    ImporterError,
    UnknownModelError,
)


class CommandFailed(EditbenchError):
    """A command that ran but whose outcome is a failure (e.g. ``run --wait`` with failed
    samples): its message is printed as the error line and the exit code is 1."""

    exit_code = EXIT_FAILURE


def exit_code_for(exc: BaseException) -> int:
    if isinstance(exc, click.exceptions.UsageError):
        return EXIT_BAD_INPUT
    if isinstance(exc, BAD_INPUT_ERRORS):
        return EXIT_BAD_INPUT
    return EXIT_FAILURE


def error_line(message: str) -> str:
    """``error: <first line of message>``: one line, whatever the message held."""
    text = " ".join(part.strip() for part in str(message).strip().splitlines() if part.strip())
    return f"error: {text or 'unknown error'}"


def _debug_requested() -> bool:
    try:
        return load_settings().debug
    except (ValueError, OSError):  # a malformed setting must not hide the original error
        return False


def fail(message: str, code: int) -> NoReturn:
    click.echo(error_line(message), err=True)
    sys.exit(code)


class EditbenchGroup(click.Group):
    """``click.Group`` whose ``main`` turns every exception into the contract above."""

    def main(
        self, args: Any = None, prog_name: str | None = None, complete_var: str | None = None, standalone_mode: bool = True, **extra: Any
    ) -> Any:
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode, **extra)
        try:
            result = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except click.exceptions.UsageError as exc:
            fail(f"{exc.format_message()} (see: {_command_path(exc.ctx)} --help)", EXIT_BAD_INPUT)
        except click.exceptions.Abort:
            click.echo("aborted", err=True)
            sys.exit(EXIT_INTERRUPTED)
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            sys.exit(EXIT_INTERRUPTED)
        except click.ClickException as exc:
            fail(exc.format_message(), exc.exit_code if exc.exit_code in (EXIT_FAILURE, EXIT_BAD_INPUT) else EXIT_FAILURE)
        except EditbenchError as exc:
            fail(str(exc), getattr(exc, "exit_code", exit_code_for(exc)))
        except BrokenPipeError:  # `editbench runs | head` closed the pipe: not an error
            sys.exit(EXIT_OK)
        except Exception as exc:  # noqa: BLE001 - the contract: no traceback reaches a user
            if _debug_requested():
                traceback.print_exc()
            fail(
                f"unexpected {type(exc).__name__}: {exc} (a bug in editbench: run again with `editbench --debug ...` "
                "or EDITBENCH_DEBUG=1 to see the traceback, and report it)",
                EXIT_FAILURE,
            )
        sys.exit(result if isinstance(result, int) else EXIT_OK)


def _command_path(ctx: click.Context | None) -> str:
    """``editbench run`` whatever name the program was started under (``python -m ...``)."""
    if ctx is None:
        return "editbench"
    names = []
    while ctx is not None and ctx.parent is not None:
        names.append(ctx.info_name or "")
        ctx = ctx.parent
    return " ".join(["editbench", *reversed(names)])


def set_debug(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    """``--debug``: show tracebacks of unexpected errors (through the one setting, EDITBENCH_DEBUG)."""
    if value:
        import os

        os.environ["EDITBENCH_DEBUG"] = "1"
