"""The GPU and report benchmark scripts run on tiny configurations (CI has no GPU).

Timings are not asserted; that each script completes and writes the fields it promises is.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _run(args: list[str], timeout: float = 240) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EDITBENCH_")}
    proc = subprocess.run([sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc


def test_editor_and_judge_benchmarks_run_tiny(tmp_path: Path) -> None:
    _run(["bench/editor.py", "--tiny", "--json", str(tmp_path / "editor.json")])
    editor = json.loads((tmp_path / "editor.json").read_text())
    assert editor["e2e"] and editor["total_wall_s"] > 0
    _run(["bench/judge.py", "--tiny", "--json", str(tmp_path / "judge.json")])
    judge = json.loads((tmp_path / "judge.json").read_text())
    assert judge["runs"] and judge["total_wall_s"] > 0


def test_scaling_benchmark_runs_a_real_cluster_on_cpu(tmp_path: Path) -> None:
    out = tmp_path / "scaling.json"
    _run(["bench/scaling.py", "--cpu-workers", "1,2", "--capacity", "tiny", "--steps", "2", "--area", "64*64",
          "--per-worker", "2", "--json", str(out)])
    results = json.loads(out.read_text())["results"]
    assert [r["workers"] for r in results] == [1, 2]
    for r in results:
        assert r["counts"]["edits_done"] == r["samples"]
        # Every worker loaded its editor and its judge exactly once.
        assert all(len(loads) == 2 for loads in r["model_loads"].values()) and len(r["model_loads"]) == r["workers"]


def test_report_benchmark_runs_small() -> None:
    proc = _run(["bench/report_speed.py", "--samples", "50", "--repeats", "1"])
    assert "write_report, cold" in proc.stdout and "median" in proc.stdout
