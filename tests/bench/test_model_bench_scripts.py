"""The GPU and report benchmark scripts run on tiny configurations (CI has no GPU).

Timings are not asserted; that each script completes and writes the fields it promises is.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


def _run(args: list[str], timeout: float = 240) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EDITBENCH_")}
    proc = subprocess.run([sys.executable, *args], check=False, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc


def test_editor_and_judge_benchmarks_run_tiny(tmp_path: Path) -> None:
    _run(["bench/editor.py", "--tiny", "--json", str(tmp_path / "editor.json")])
    editor = json.loads((tmp_path / "editor.json").read_text())
    assert editor["e2e"] and editor["total_wall_s"] > 0
    # Timed through the adapter: its identity is recorded and its phase hook split the edit.
    assert editor["builds"][0]["identity"]["name"] == "qwen-image-edit"
    assert editor["builds"][0]["identity"]["capacity"] == "tiny"
    (entry,) = editor["e2e"]
    assert set(entry["stages_s"][0]) >= {"conditioning", "text_encoder", "latents", "denoise", "vae_decode"}
    assert entry["forward_cond_median_s"] > 0 and entry["forward_uncond_median_s"] > 0  # --tiny: true CFG
    assert entry["editor_settings"]["steps"] == 2 and entry["seconds_per_image_median"] > 0
    _run(["bench/judge.py", "--tiny", "--json", str(tmp_path / "judge.json")])
    judge = json.loads((tmp_path / "judge.json").read_text())
    assert judge["runs"] and judge["total_wall_s"] > 0
    # The model and its scoring step are the qwen3-vl adapter's.
    assert judge["identity"]["name"] == "qwen3-vl" and judge["identity"]["capacity"] == "tiny"
    assert all("error" not in run and run["images_per_s"] > 0 for run in judge["runs"])


def test_judge_batch_benchmark_times_the_adapters_score_call_both_ways(tmp_path: Path) -> None:
    _run(["bench/judge_batch.py", "--tiny", "--variants", "full,shared", "--pairs", "4", "--json", str(tmp_path / "jb.json")])
    runs = json.loads((tmp_path / "jb.json").read_text())["runs"]
    by = {(r["variant"], r["criteria"]): r for r in runs}
    assert set(by) == {("full", 2), ("full", 3), ("shared", 2), ("shared", 3)}
    # Full prefill: one row per request x criterion; shared prefix: one per request.
    assert by["full", 3]["prefill_rows"] == [12] and by["shared", 3]["prefill_rows"] == [4]
    assert all(r["s_per_batch"] > 0 and r["pairs_per_s"] > 0 for r in runs)


def test_scaling_benchmark_runs_a_real_cluster_on_cpu(tmp_path: Path) -> None:
    out = tmp_path / "scaling.json"
    _run(
        [
            "bench/scaling.py",
            "--cpu-workers",
            "1,2",
            "--capacity",
            "tiny",
            "--steps",
            "2",
            "--area",
            "64*64",
            "--per-worker",
            "2",
            "--json",
            str(out),
        ]
    )
    results = json.loads(out.read_text())["results"]
    assert [r["workers"] for r in results] == [1, 2]
    for r in results:
        assert r["counts"]["edits_done"] == r["samples"]
        # Every worker loaded its editor and its judge exactly once.
        assert all(len(loads) == 2 for loads in r["model_loads"].values()) and len(r["model_loads"]) == r["workers"]


def test_report_benchmark_runs_small() -> None:
    proc = _run(["bench/report_speed.py", "--samples", "50", "--repeats", "1"])
    assert "write_report, cold" in proc.stdout and "median" in proc.stdout


def _load_bench_editor(monkeypatch) -> Any:
    spec = importlib.util.spec_from_file_location("bench_editor_under_test", ROOT / "bench" / "editor.py")
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, spec.name, module)  # its dataclasses look themselves up there
    spec.loader.exec_module(module)
    return module


def test_judge_benchmark_scores_through_the_adapters_logits_step() -> None:
    source = (ROOT / "bench" / "judge.py").read_text()
    assert "judge.digit_probabilities(inputs)" in source and "Qwen3VLJudge(" in source
    assert "log_softmax" not in source and "index_select" not in source  # no copy of the scoring


def test_editor_benchmark_drives_the_real_adapter_with_its_flags_as_settings(monkeypatch) -> None:
    """bench/editor.py times QwenImageEditor.edit, not a copy of the edit loop or the rewrites."""
    from editbench.models import qwen_speedups
    from editbench.models.qwen_image_edit import QwenImageEditor

    bench = _load_bench_editor(monkeypatch)
    assert bench.QwenImageEditor is QwenImageEditor
    for name in ("RealRopeQwenAttnProcessor", "RealRopePosEmbed", "linear_gelu_tanh", "convert_blocks_to_fp8"):
        assert getattr(bench, name) is getattr(qwen_speedups, name)
    source = (ROOT / "bench" / "editor.py").read_text()
    for copied in ("scheduler.step", "encode_prompt", "vae.decode", "class Fp8Linear", "custom_op("):
        assert copied not in source
    args = bench.parse_args(["--steps", "8", "--no-cfg", "--compile", "--rope", "real", "--gelu-epilogue", "--fp8", "--attention", "cudnn"])
    (item,) = args.items
    assert (item.steps, item.cfg) == (8, False)
    assert item.variant.editor_params() == {
        "compile": True,
        "rope": "real",
        "fuse_gelu": True,
        "fp8": True,
        "attention_backend": "_native_cudnn",
    }
    plan = bench.parse_plan("e2e:compile-real-gelu:50:cfg:2,prof:eager", 8, False)
    assert [(i.kind, i.variant.name, i.steps, i.cfg, i.repeats) for i in plan] == [
        ("e2e", "compile-real-gelu", 50, True, 2),
        ("prof", "eager", 8, False, 1),
    ]
