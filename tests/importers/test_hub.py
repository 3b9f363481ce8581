"""Benchmarks by hub id, from the local Hugging Face cache with networking disabled, and the
RISEBench hub layout (JSON at the top, images under data/)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import datasets
import pytest

from editbench.importers import run_import
from tests.protocols.conftest import ROOT, realdata_root

REVISION = "0123456789abcdef0123456789abcdef01234567"


@pytest.fixture
def realdata() -> Path:
    root = realdata_root()
    if root is None:
        pytest.skip("shared/realdata (real-format fixtures) is not present beside this checkout")
    return root


def offline_env(cache: Path) -> dict[str, str]:
    """The hub libraries pointed at ``cache``, offline, and at a closed local port in case anything tries."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("HF_")}
    env.update(
        HF_HOME=str(cache),
        HF_HUB_CACHE=str(cache / "hub"),
        HF_DATASETS_CACHE=str(cache / "datasets"),
        HF_HUB_OFFLINE="1",
        HF_DATASETS_OFFLINE="1",
        HF_ENDPOINT="http://127.0.0.1:9",
        PYTHONPATH=str(ROOT),
    )
    return env


def editbench(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "editbench.cli", *args], env=env, capture_output=True, text=True, timeout=300, cwd=ROOT, check=False
    )


def hub_snapshot(cache: Path, repo_id: str) -> Path:
    """An empty snapshot folder in the hub cache layout, with refs/main pointing at it."""
    repo = cache / "hub" / ("datasets--" + repo_id.replace("/", "--"))
    snapshot = repo / "snapshots" / REVISION
    snapshot.mkdir(parents=True)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(REVISION)
    return snapshot


def gedit_dataset(realdata: Path) -> datasets.Dataset:
    """A small dataset built from the real-format GEdit rows: 12 of them, images as bytes."""
    rows = datasets.load_from_disk(str(realdata / "gedit" / "hub"))["train"]
    return rows.select(range(12))


def test_gedit_by_hub_id_loads_the_parquet_snapshot_in_the_hub_cache_offline(realdata, tmp_path):
    cache = tmp_path / "hf"
    snapshot = hub_snapshot(cache, "stepfun-ai/GEdit-Bench")
    (snapshot / "data").mkdir()
    gedit_dataset(realdata).to_parquet(str(snapshot / "data" / "train-00000-of-00001.parquet"))

    result = editbench(["import", "gedit", "stepfun-ai/GEdit-Bench", str(tmp_path / "bench")], offline_env(cache))
    assert result.returncode == 0, result.stderr
    assert "wrote 12 items" in result.stdout
    items = [json.loads(line) for line in (tmp_path / "bench" / "items.jsonl").read_text().splitlines()]
    assert {item["source"]["dataset"] for item in items} == {"stepfun-ai/GEdit-Bench"}
    assert all((tmp_path / "bench" / item["source_image"]).is_file() for item in items)


def test_gedit_from_a_save_to_disk_folder(realdata, tmp_path):
    folder = tmp_path / "saved"
    datasets.DatasetDict({"train": gedit_dataset(realdata)}).save_to_disk(str(folder))
    report = run_import("gedit", folder, tmp_path / "bench")
    assert report.written == 12 and not report.skipped


def test_a_dataset_missing_from_the_cache_names_the_command_that_fetches_it(tmp_path):
    result = editbench(["import", "gedit", "stepfun-ai/GEdit-Bench", str(tmp_path / "bench")], offline_env(tmp_path / "empty"))
    assert result.returncode != 0
    assert "hf download stepfun-ai/GEdit-Bench --repo-type dataset" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "bench").exists()


def test_risebench_hub_layout_imports_all_64_items_without_extra_flags(realdata, tmp_path):
    report = run_import("rise", realdata / "rise-hub", tmp_path / "bench")
    assert report.written == 64 and report.skipped == []


def test_risebench_by_hub_id_from_an_unpacked_snapshot(realdata, tmp_path):
    cache = tmp_path / "hf"
    snapshot = hub_snapshot(cache, "PhoenixZ/RISEBench")
    hub = realdata / "rise-hub"
    (snapshot / "datav2_total_w_subtask.json").write_bytes((hub / "datav2_total_w_subtask.json").read_bytes())
    for image in (hub / "data").rglob("*"):
        if image.is_file():
            target = snapshot / image.relative_to(hub)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(image.read_bytes())
    result = editbench(["import", "rise", "PhoenixZ/RISEBench", str(tmp_path / "bench")], offline_env(cache))
    assert result.returncode == 0, result.stderr
    assert "wrote 64 items" in result.stdout


def test_a_path_that_does_not_exist_and_is_no_hub_id_is_reported_as_a_path(tmp_path):
    from editbench.importers import ImporterError

    with pytest.raises(ImporterError, match="does not exist"):
        run_import("rise", tmp_path / "no" / "such" / "file.json", tmp_path / "bench")
