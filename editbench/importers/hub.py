"""Benchmarks named by their Hugging Face hub id, loaded from the local cache only.

``editbench import gedit stepfun-ai/GEdit-Bench DEST`` never touches the network: the hub
libraries run with ``HF_HUB_OFFLINE``/``HF_DATASETS_OFFLINE`` set, so a dataset that was fetched
before (``hf download`` / ``load_dataset`` on a machine with network access) is found in the
cache, and a missing one is an error that gives the command to fetch it.

- GEdit-Bench (a ``datasets`` dataset): :func:`datasets.load_dataset` prepares it from the hub
  cache (a snapshot with Parquet/Arrow files) or finds it already prepared in the ``datasets``
  cache; the importer then reads the Arrow files ``datasets`` keeps for it.
- The other benchmarks are file collections: the cached snapshot folder
  (:func:`huggingface_hub.snapshot_download` with ``local_files_only``) is imported like a local
  folder.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from editbench.importers.records import ImporterError

HUB_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*/[A-Za-z0-9][A-Za-z0-9_.-]*")
# Datasets that `datasets.load_dataset` can read (a hub dataset with data files).
DATASETS_KINDS = frozenset({"gedit"})


def is_hub_id(text: str) -> bool:
    """``owner/name`` and nothing else (a path that does not exist is not a hub id by accident
    unless it has exactly this form)."""
    return bool(HUB_ID.fullmatch(text))


def fetch_command(repo_id: str) -> str:
    return f"hf download {repo_id} --repo-type dataset"


def _offline() -> None:
    """Force offline mode for this process, also when the libraries were imported earlier."""
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["HF_DATASETS_OFFLINE"] = "1"
    try:
        import huggingface_hub.constants as hub_constants

        hub_constants.HF_HUB_OFFLINE = True
    except ImportError:
        pass
    try:
        import datasets.config as datasets_config

        datasets_config.HF_HUB_OFFLINE = True
        if hasattr(datasets_config, "HF_DATASETS_OFFLINE"):
            datasets_config.HF_DATASETS_OFFLINE = True
    except ImportError:
        pass


def _missing(repo_id: str, detail: str) -> ImporterError:
    return ImporterError(
        f"dataset {repo_id} is not in the local Hugging Face cache ({detail}); editbench never "
        f"downloads. Fetch it where there is network access with:\n  {fetch_command(repo_id)}\n"
        "(the cache is HF_HOME / HF_HUB_CACHE; copy it here if this machine is offline), "
        "or pass a local folder instead of the hub id"
    )


def resolve(kind: str, repo_id: str) -> Path:
    """A local folder holding ``repo_id``'s files for the ``kind`` importer, from the cache only."""
    _offline()
    if kind in DATASETS_KINDS:
        return _prepared_dataset(repo_id)
    return _snapshot(repo_id)


def _snapshot(repo_id: str) -> Path:
    """The cached hub snapshot folder (``HF_HUB_CACHE/datasets--owner--name/snapshots/<rev>``)."""
    try:
        from huggingface_hub import snapshot_download
    except ImportError:
        raise ImporterError("loading by hub id needs huggingface_hub: pip install 'editbench[importers]'") from None
    try:
        return Path(snapshot_download(repo_id, repo_type="dataset", local_files_only=True))
    except Exception as exc:  # noqa: BLE001 - LocalEntryNotFoundError and its relatives all mean "not cached"
        raise _missing(repo_id, type(exc).__name__) from None


def _prepared_dataset(repo_id: str) -> Path:
    """The folder of Arrow files ``datasets`` keeps for ``repo_id``.

    ``load_dataset(repo_id)`` offline finds a dataset it prepared before (the ``datasets``
    cache); a dataset that is only in the hub cache (``hf download``) is loaded from its snapshot
    folder, which ``datasets`` reads like any local folder of Parquet/Arrow files.
    """
    try:
        import datasets
    except ImportError:
        raise ImporterError("loading by hub id needs the datasets library: pip install 'editbench[importers]'") from None
    try:
        loaded = datasets.load_dataset(repo_id)
    except Exception:  # noqa: BLE001 - offline, a dataset not prepared before fails in many ways
        snapshot = _snapshot(repo_id)
        try:
            loaded = datasets.load_dataset(str(snapshot))
        except Exception as exc:  # noqa: BLE001
            raise ImporterError(f"cannot load the cached snapshot {snapshot} of {repo_id}: {exc}") from None
    splits = list(loaded.values()) if isinstance(loaded, datasets.DatasetDict) else [loaded]
    files = [Path(entry["filename"]) for split in splits for entry in split.cache_files]
    if not files:
        raise ImporterError(f"dataset {repo_id} loaded, but datasets keeps no Arrow files for it")
    folders = {path.parent for path in files}
    if len(folders) != 1:
        raise ImporterError(f"dataset {repo_id}: its Arrow files lie in several folders: {sorted(map(str, folders))}")
    return folders.pop()
