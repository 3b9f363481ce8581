"""The two exceptions of the benchmark package.

Bad *items* never raise: they become :class:`~editbench.benchmark.spec.Rejection` records so one
broken file cannot hide the hundreds of good ones around it. These exceptions are for problems
that make the whole benchmark (or a stored image) unusable.
"""

from __future__ import annotations


class BenchmarkFormatError(ValueError):
    """The benchmark folder as a whole cannot be loaded (bad benchmark.yaml, missing prompt...).

    The message always names the file and says what to change, because the person reading it is
    the benchmark author, not a developer.
    """


class MissingImageError(FileNotFoundError):
    """An image the ledger points at is no longer in the image store.

    Raised instead of a bare ``FileNotFoundError`` so callers can record a clear failure for the
    one sample instead of crashing a worker on an unrelated-looking path.
    """
