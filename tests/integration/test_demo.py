"""The README's main job: `editbench demo` on embedded defaults, leaving no process behind."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import psutil
import pytest

pytestmark = pytest.mark.integration


def test_demo_runs_end_to_end_on_embedded_defaults_and_cleans_up(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EDITBENCH_")}
    env["EDITBENCH_HOME"] = str(tmp_path / "home")
    if os.environ.get("EDITBENCH_TEST_MODELS"):
        # Reuse the session's tiny models instead of building them again (same builder).
        (tmp_path / "home" / "models").mkdir(parents=True)
        os.symlink(os.environ["EDITBENCH_TEST_MODELS"], tmp_path / "home" / "models" / "tiny")
    result = subprocess.run(
        [sys.executable, "-m", "editbench.cli", "demo", "--per-category", "3"], env=env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stdout + result.stderr
    report_dir = tmp_path / "home" / "reports" / "run-1"
    summary = json.loads((report_dir / "summary.json").read_text())
    assert (report_dir / "report.html").stat().st_size > 0
    assert (report_dir / "report.md").read_text().count("physics") >= 1
    assert summary, "summary.json is empty"
    # Nothing the demo started survives it: no embedded Redis, no worker, no beat.
    assert _processes_of(tmp_path / "home") == []
    redis_conf = tmp_path / "home" / "redis" / "redis.conf"
    assert redis_conf.exists(), "the embedded Redis was used (no broker was configured)"


def _processes_of(home: Path) -> list[list[str]]:
    """Processes started for this home: by command line (Redis) or environment (workers, beat)."""
    found = []
    for process in psutil.process_iter(["cmdline"]):
        try:
            cmdline = process.info["cmdline"] or []
            environ = process.environ()
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            continue
        if any(str(home) in part for part in cmdline) or environ.get("EDITBENCH_HOME") == str(home):
            found.append(cmdline)
    return found
