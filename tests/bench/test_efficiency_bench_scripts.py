"""Issue 15's scripts run end to end on a CPU and report what they promise (timings not asserted)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _run(script: str, *args: str, timeout: float = 400) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EDITBENCH_")} | {"OMP_NUM_THREADS": "1"}
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / script), *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert done.returncode == 0, f"{script} exited {done.returncode}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done


@pytest.mark.slow
def test_store_speed_compares_encoders_and_checks_they_decode_exactly(tmp_path: Path) -> None:
    out = tmp_path / "store.json"
    _run("store_speed.py", "--side", "64", "--repeats", "1", "--threads", "1,2", "--json", str(out))
    rows = json.loads(out.read_text())["rows"]
    assert {r["encoder"] for r in rows} >= {"PIL level 6", "editbench level 1, 2 threads"}
    assert all(r["exact"] for r in rows)


@pytest.mark.integration
def test_run_efficiency_drives_up_and_run_and_reads_ledger_and_logs(tmp_path: Path) -> None:
    out = tmp_path / "eff.json"
    _run(
        "run_efficiency.py",
        "--home",
        str(tmp_path / "home"),
        "--cpu-workers",
        "1",
        "--tiny",
        "--runs",
        "1",
        "--per-category",
        "1",
        "--judge-batch",
        "2",
        "--model-only-s",
        "1",
        "--json",
        str(out),
    )
    report = json.loads(out.read_text())
    (run,) = report["runs"]
    assert run["edits"] == 5 and run["edit_status"] == ["done"] and run["judgment_status"] == ["done"]
    assert set(run["phase_s_median"]) == {"claim", "source", "edit", "store", "record"}
    assert run["efficiency"] == pytest.approx(run["ideal_s"] / run["ledger_wall_s"])
    assert 0 < run["first_edit_after_submit_s"] < run["first_edit_after_up_s"]
    # The models and params used, and each worker's model loads of this `up` (editor and judge).
    assert report["models"]["editor"] == str((tmp_path / "home" / "tiny" / "editor").resolve())
    assert report["models"]["editor_params"][0] == "steps=2" and report["models"]["judge_params"] == ["mode=logits"]
    (loads,) = report["model_loads"].values()
    assert [(x["role"], x["kind"]) for x in loads] == [("editor", "qwen-image-edit"), ("judge", "qwen3-vl")]
    assert all(x["s"] >= 0 and "build" in x["parts_s"] for x in loads)


@pytest.mark.integration
def test_run_efficiency_loads_folders_with_weights_from_disk(tmp_path: Path) -> None:
    models = tmp_path / "models"
    _run("weights_on_disk.py", "--size", "tiny", "--out", str(models))
    out = tmp_path / "eff.json"
    _run(
        "run_efficiency.py",
        *("--home", str(tmp_path / "home"), "--cpu-workers", "1", "--tiny", "--runs", "1", "--per-category", "1"),
        *("--judge-batch", "2", "--editor-path", str(models / "editor"), "--judge-path", str(models / "judge")),
        *("--evict-page-cache", "--json", str(out)),
    )
    report = json.loads(out.read_text())
    assert report["runs"][0]["edit_status"] == ["done"] and report["runs"][0]["judgment_status"] == ["done"]
    assert report["models"]["editor"] == str(models / "editor") and report["models"]["judge"] == str(models / "judge")
    assert not any(p.startswith("capacity=") for p in report["models"]["editor_params"] + report["models"]["judge_params"])
    assert report["page_cache_evicted_bytes"] > 0
    (loads,) = report["model_loads"].values()
    assert {x["path"] for x in loads} == {str(models / "editor"), str(models / "judge")}
