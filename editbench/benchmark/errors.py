"""The two exceptions of the benchmark package.

Bad *items* never raise: they become :class:`~editbench.benchmark.spec.Rejection` records so one
broken file cannot hide the hundreds of good ones around it. These exceptions are for problems
that make the whole benchmark (or a stored image) unusable.
"""

from __future__ import annotations

from editbench.benchmark.spec import ReasonCode


class BenchmarkFormatError(ValueError):
    """The benchmark folder as a whole cannot be loaded (bad benchmark.yaml, missing prompt...).

    The message always names the file and says what to change, because the person reading it is
    the benchmark author, not a developer. ``reason_code`` is set where the problem has one of
    the item codes (an over-long name, a NUL, an unsafe prompt field, a symlink out of the
    folder), so scripts can tell these refusals apart; the code is also shown in the message.
    """

    def __init__(self, message: str, reason_code: ReasonCode | None = None) -> None:
        super().__init__(f"{message} [{reason_code.value}]" if reason_code is not None else message)
        self.reason_code = reason_code


class MissingImageError(FileNotFoundError):
    """An image the ledger points at is no longer in the image store.

    Raised instead of a bare ``FileNotFoundError`` so callers can record a clear failure for the
    one sample instead of crashing a worker on an unrelated-looking path.
    """
