"""Convert published edit benchmarks into editbench's native benchmark folder.

One module per source layout (``gedit``, ``kris``, ``rise``, ``imgedit``); each reads its source,
keeps the original ids in every item's ``source`` field and writes through
:class:`~editbench.importers.native_writer.NativeBenchmarkWriter`. Malformed records are skipped,
each reported once as ``(record id, reason)`` in the returned :class:`ImportReport` and in the
folder's ``import-report.json``.

    >>> from editbench.importers import run_import
    >>> report = run_import("kris", "KRIS_Bench", "benchmarks/kris")  # doctest: +SKIP
    >>> report.written, report.skipped[:1]  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from editbench.importers.gedit import import_gedit
from editbench.importers.imgedit import import_imgedit
from editbench.importers.kris import import_kris
from editbench.importers.records import ImporterError, ImportReport, SkipCallback
from editbench.importers.rise import import_rise

Importer = Callable[..., ImportReport]

IMPORTERS: dict[str, Importer] = {
    "gedit": import_gedit,
    "imgedit": import_imgedit,
    "kris": import_kris,
    "rise": import_rise,
}

__all__ = [
    "IMPORTERS",
    "ImportReport",
    "ImporterError",
    "import_gedit",
    "import_imgedit",
    "import_kris",
    "import_rise",
    "run_import",
]


def run_import(
    kind: str,
    src: str | Path,
    dest: str | Path,
    *,
    limit: int | None = None,
    overwrite: bool = False,
    on_skip: SkipCallback | None = None,
    image_root: str | Path | None = None,
) -> ImportReport:
    """Import the ``kind`` benchmark found at ``src`` into a native folder at ``dest``."""
    try:
        importer = IMPORTERS[kind]
    except KeyError:
        raise ImporterError(f"unknown benchmark kind {kind!r}; known: {', '.join(sorted(IMPORTERS))}") from None
    if limit is not None and limit < 1:
        raise ImporterError("limit must be at least 1")
    src_path, dest_path = Path(src), Path(dest)
    if not src_path.exists():
        raise ImporterError(f"{src_path} does not exist")
    source, target = src_path.resolve(), dest_path.resolve()
    if source == target or source.is_relative_to(target) or target.is_relative_to(source):
        # --overwrite would delete the source, and writing inside it would re-import our own output.
        raise ImporterError(f"{dest_path} must lie outside {src_path}")
    try:
        return importer(
            src_path,
            dest_path,
            limit=limit,
            overwrite=overwrite,
            on_skip=on_skip,
            image_root=Path(image_root) if image_root is not None else None,
        )
    except OSError as exc:
        # Unreadable records are skipped one by one; this is the disk or folder itself failing.
        raise ImporterError(f"import failed: {exc}") from exc
