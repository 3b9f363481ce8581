"""bench/openai_judge.py runs end to end (``--quick``) against its loopback server and reports a
ratio to the ideal for every concurrency asked for. Timings are not asserted (machine-dependent);
the fields, their consistency and the exit status are."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_openai_judge_bench_quick_reports_throughput_ratios(tmp_path: Path) -> None:
    out = tmp_path / "openai_judge.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("EDITBENCH_", "OPENAI_"))}
    proc = subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "openai_judge.py"),
            "--quick",
            "--concurrency",
            "1",
            "4",
            "--latency-ms",
            "20",
            "--compare-transports",
            "--json",
            str(out),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, f"{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    report = json.loads(out.read_text())
    assert report["quick"] is True and report["latency_ms"] == 20 and report["machine"]["cores"]
    assert [level["concurrency"] for level in report["levels"]] == [1, 4]
    for level in report["levels"]:
        assert level["ideal_per_s"] == level["concurrency"] / 0.020
        assert math.isclose(level["median_ratio"], level["median_per_s"] / level["ideal_per_s"])
        # A ratio above 1 would mean the simulated latency was not applied.
        assert 0 < level["median_ratio"] <= 1.05 and level["requests"] >= 2 * level["concurrency"]
    assert set(report["transports"]) == {"httpx.Client", "OpenAIClient"}
    assert all(0 < t["median_ratio"] <= 1.05 and t["concurrency"] == 4 for t in report["transports"].values())
    assert "in flight" in proc.stdout and "bare POSTs" in proc.stdout
