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

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from editbench.importers import gedit, imgedit, kris, rise
from editbench.importers.gedit import import_gedit
from editbench.importers.imgedit import import_imgedit
from editbench.importers.kris import import_kris
from editbench.importers.records import (
    EDITBENCH_SCORING,
    ImporterError,
    ImportReport,
    Scoring,
    SkipCallback,
)
from editbench.importers.rise import import_rise
from editbench.records import Benchmark

Importer = Callable[..., ImportReport]

IMPORTERS: dict[str, Importer] = {
    "gedit": import_gedit,
    "imgedit": import_imgedit,
    "kris": import_kris,
    "rise": import_rise,
}
MANIFESTS: dict[str, Benchmark] = {
    "gedit": gedit.MANIFEST,
    "imgedit": imgedit.MANIFEST,
    "kris": kris.MANIFEST,
    "rise": rise.MANIFEST,
}
PROTOCOLS = ("editbench", "official")

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
    protocol: str = "editbench",
    official_repo: str | Path | None = None,
) -> ImportReport:
    """Import the ``kind`` benchmark found at ``src`` into a native folder at ``dest``.

    ``src`` is a local path or a Hugging Face hub id (``stepfun-ai/GEdit-Bench``), loaded from the
    local cache only (:mod:`editbench.importers.hub`). ``protocol="official"`` judges with the
    benchmark's own prompts, read from ``official_repo`` (a local checkout of its repository; see
    :mod:`editbench.protocols`); the default is editbench's own rubric.
    """
    try:
        importer = IMPORTERS[kind]
    except KeyError:
        raise ImporterError(f"unknown benchmark kind {kind!r}; known: {', '.join(sorted(IMPORTERS))}") from None
    if limit is not None and limit < 1:
        raise ImporterError("limit must be at least 1")
    src_path, dest_path = Path(src), Path(dest)
    if not src_path.exists():
        from editbench.importers import hub

        if not hub.is_hub_id(str(src)):
            raise ImporterError(f"{src_path} does not exist (nor is it a hub id like owner/name)")
        src_path = hub.resolve(kind, str(src))
    scoring = _scoring(kind, src_path, protocol, official_repo)
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
            scoring=scoring,
        )
    except OSError as exc:
        # Unreadable records are skipped one by one; this is the disk or folder itself failing.
        raise ImporterError(f"import failed: {exc}") from exc


def _scoring(kind: str, src: Path, protocol: str, official_repo: str | Path | None) -> Scoring:
    """editbench's own rubric, or the benchmark's official protocol read from ``official_repo``."""
    if protocol not in PROTOCOLS:
        raise ImporterError(f"unknown protocol {protocol!r}; known: {', '.join(PROTOCOLS)}")
    if protocol == "editbench":
        if official_repo is not None:
            raise ImporterError("--official-repo is only read with --protocol official")
        return EDITBENCH_SCORING
    from editbench.protocols import PROTOCOLS as OFFICIAL
    from editbench.protocols import OfficialRepoError, official_scoring

    if official_repo is None:
        repository = OFFICIAL[kind].repository
        raise ImporterError(
            f"--protocol official needs --official-repo PATH: your local checkout of {repository} "
            f"(git clone https://github.com/{repository})"
        )
    item_prompts: Callable[[], Mapping[str, Mapping[str, Any]]] | None = None
    if kind == "rise":
        from editbench.protocols.rise import item_choices

        annotation = rise.annotation_file(src)

        def item_prompts() -> Mapping[str, Mapping[str, Any]]:
            return item_choices(rise.load_samples(annotation))

    try:
        return official_scoring(kind, Path(official_repo), MANIFESTS[kind], item_prompts)
    except OfficialRepoError as exc:
        raise ImporterError(str(exc)) from exc
