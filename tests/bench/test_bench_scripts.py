"""The CPU benchmark scripts run end to end (``--quick``) and report what they promise.

Timings are not asserted (they depend on the machine); the fields, the exactly-once checks and
the exit status are. Each script gets a private embedded Redis, so nothing here touches a
Redis database that other tests or benchmarks use.
"""

from __future__ import annotations

import importlib.util
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _run_script(name: str, tmp_path: Path, *extra: str) -> tuple[dict, str]:
    out = tmp_path / f"{name}.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith("EDITBENCH_")}
    proc = subprocess.run(
        [sys.executable, str(ROOT / "bench" / f"{name}.py"), "--quick", "--redis", "embedded", "--json", str(out), *extra],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=150,
        check=False,
    )
    assert proc.returncode == 0, f"{name}.py exited {proc.returncode}\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return json.loads(out.read_text()), proc.stdout


def _finite(value: object) -> bool:
    return isinstance(value, int | float) and math.isfinite(value)


@pytest.mark.integration
def test_load_quick_reports_overhead_throughput_and_zero_loss(tmp_path: Path) -> None:
    report, stdout = _run_script("load", tmp_path)
    assert report["quick"] is True and report["zero_loss"] is True
    assert report["machine"]["cores"] and report["machine"]["cpu"]
    assert set(report["modes"]) == {"queued", "streaming"}
    for mode in report["modes"].values():
        assert mode["observed"] == mode["tasks"] == report["tasks"]
        assert (mode["lost"], mode["duplicated"], mode["unexpected"], mode["queued_left"]) == (0, 0, 0, 0)
        for key in ("overhead_p50_ms", "overhead_p99_ms", "queue_wait_p50_ms", "throughput_per_s"):
            assert _finite(mode[key]), key
        assert mode["workers_seen"] == report["workers"]
    assert "overhead p50 / p99" in stdout and "zero loss" in stdout


@pytest.mark.integration
def test_scheduling_quick_compares_both_schedules(tmp_path: Path) -> None:
    report, stdout = _run_script("scheduling", tmp_path)
    assert report["all_work_done"] is True
    runs = report["runs"]
    assert {r["schedule"] for r in runs} == {"editbench", "original"}
    for run in runs:
        assert run["edits_done"] == run["edits"] == sum(report["study"]["sizes"])
        assert run["judgments_done"] == run["judgments"] > 0
        # Both schedules did the same simulated work, so they share one ideal.
        assert run["ideal_s"] == pytest.approx(runs[0]["ideal_s"])
        for key in ("makespan_s", "ratio", "model_ratio", "projected_ratio"):
            assert _finite(run[key]), key
        assert run["model_ratio"] >= 1.0 - 1e-9  # no schedule beats perfect packing
        assert run["makespan_s"] > 0
    rows = {(r["sigma"], r["schedule"]) for r in report["summary"]}
    assert rows == {(s, name) for s in report["study"]["spreads"] for name in ("editbench", "original")}
    for probe in ("tiny", "short"):
        overhead = report["overhead"][probe]
        assert overhead["lost"] == overhead["duplicated"] == 0
        assert _finite(overhead["overhead_p50_ms"]) and _finite(overhead["overhead_p99_ms"])
    assert _finite(report["edit_costs"]["gap"]["p50_ms"])
    assert "x ideal" in stdout and "editbench" in stdout and "original" in stdout


def test_simulated_adapters_are_deterministic_and_honour_device() -> None:
    from PIL import Image

    from editbench.models.base import (
        Criterion,
        EditRequest,
        JudgePrompt,
        JudgeRequest,
        load_editor,
        load_judge,
    )
    from editbench.models.simulated import edit_duration

    editor = load_editor("simulated", None, device="cuda", median_s="0", sigma="0.1", seed="3")
    assert editor.identity()["simulation"] is True
    image = Image.new("RGB", (8, 8), (1, 2, 3))
    assert editor.edit(EditRequest("a", image, "x", seed=0)).tobytes() == image.tobytes()
    durations = [edit_duration(str(i), median_s=1.0, sigma=0.1, seed=3) for i in range(200)]
    assert durations == [edit_duration(str(i), median_s=1.0, sigma=0.1, seed=3) for i in range(200)]
    assert sorted(durations)[100] == pytest.approx(1.0, rel=0.05)
    assert edit_duration("a", median_s=1.0, sigma=0.1, seed=4) != edit_duration("a", median_s=1.0, sigma=0.1, seed=3)

    judge = load_judge("simulated", None, device="cpu", per_image_s="0")
    request = JudgeRequest("7", image, image, "x", JudgePrompt("t", "v"), (Criterion("a"), Criterion("b")))
    first, second = judge.score([request]), judge.score([request])
    assert [s.score for s in first[0].scores] == [s.score for s in second[0].scores]
    assert all(0 <= s.score <= 10 for s in first[0].scores)


def test_schedule_models_match_hand_computed_cases() -> None:
    spec = importlib.util.spec_from_file_location("editbench_bench_scheduling", ROOT / "bench" / "scheduling.py")
    scheduling = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = scheduling  # dataclasses look their module up there
    spec.loader.exec_module(scheduling)
    study = scheduling.Study(
        workers=2, sizes=(3,), median_s=1.0, judge_per_image_s=0.0, judge_batch_size=8, spreads=(0.1,), reps=1, overhead_tasks=0
    )
    durations = [[1.0, 2.0, 1.0]]
    # Shared queue: worker A runs 1 then 1, worker B runs 2 -> 2 s. Barriers: max(1, 2) + 1 = 3 s.
    assert scheduling.model_editbench(durations, study) == pytest.approx(2.0)
    assert scheduling.model_original(durations, study) == pytest.approx(3.0)
    assert scheduling.ideal_makespan(durations, study) == pytest.approx(2.0)
