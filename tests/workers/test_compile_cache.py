"""Compiled graphs are cached under EDITBENCH_HOME (issue 15): a second worker process on the same
machine reuses the first one's Inductor output instead of compiling again."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from editbench.config import load_settings
from editbench.workers.boot import WorkerSpec


@pytest.mark.unit
def test_the_compile_cache_lives_in_the_home_by_default(tmp_path: Path) -> None:
    settings = load_settings({"EDITBENCH_HOME": str(tmp_path)})
    assert settings.compile_cache == tmp_path.resolve() / "compile-cache"
    env = settings.compile_cache_environment()
    assert env["TORCHINDUCTOR_CACHE_DIR"] == str(tmp_path.resolve() / "compile-cache" / "inductor")
    assert env["TRITON_CACHE_DIR"] == str(tmp_path.resolve() / "compile-cache" / "triton")
    assert env["TORCHINDUCTOR_FX_GRAPH_CACHE"] == env["TORCHINDUCTOR_AUTOGRAD_CACHE"] == "1"


@pytest.mark.unit
def test_the_compile_cache_can_move_or_be_switched_off(tmp_path: Path) -> None:
    moved = load_settings({"EDITBENCH_HOME": str(tmp_path), "EDITBENCH_COMPILE_CACHE": str(tmp_path / "shared")})
    assert moved.compile_cache_environment()["TRITON_CACHE_DIR"] == str(tmp_path.resolve() / "shared" / "triton")
    off = load_settings({"EDITBENCH_HOME": str(tmp_path), "EDITBENCH_COMPILE_CACHE": "off"})
    assert off.compile_cache is None and off.compile_cache_environment() == {}


@pytest.mark.unit
def test_a_worker_runs_under_the_cache_variables_unless_the_user_set_them(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("EDITBENCH_HOME", str(tmp_path))
    monkeypatch.delenv("EDITBENCH_COMPILE_CACHE", raising=False)
    monkeypatch.delenv("TORCHINDUCTOR_CACHE_DIR", raising=False)
    monkeypatch.setenv("TRITON_CACHE_DIR", "/elsewhere/triton")
    env = WorkerSpec(gpu=0).environment()
    assert env["TORCHINDUCTOR_CACHE_DIR"] == str(tmp_path.resolve() / "compile-cache" / "inductor")
    assert "TRITON_CACHE_DIR" not in env  # the user's own choice stays in force
    assert env["CUDA_VISIBLE_DEVICES"] == "0"


_COMPILE_ONCE = textwrap.dedent("""
    import json, os, sys, time

    # What a worker child inherits: the variables ``run_worker`` set in its parent, before
    # anything imported torch.
    from editbench.workers.boot import WorkerSpec
    os.environ.update(WorkerSpec(slot=0).environment())

    import torch
    from torch._dynamo.utils import counters

    def block(x, w):
        return torch.nn.functional.gelu(x @ w).sin() * 2 + x.mean()

    compiled = torch.compile(block, dynamic=False)
    started = time.perf_counter()
    compiled(torch.randn(8, 8), torch.randn(8, 8))
    print(json.dumps({"seconds": time.perf_counter() - started, **dict(counters["inductor"])}))
""")


def _compile_in_fresh_process(home: Path) -> dict:
    env = {**os.environ, "EDITBENCH_HOME": str(home), "OMP_NUM_THREADS": "1"}
    for name in ("EDITBENCH_COMPILE_CACHE", "TORCHINDUCTOR_CACHE_DIR", "TRITON_CACHE_DIR"):
        env.pop(name, None)
    done = subprocess.run([sys.executable, "-c", _COMPILE_ONCE], env=env, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.slow
def test_a_second_process_reuses_the_first_ones_compiled_graph(tmp_path: Path) -> None:
    first = _compile_in_fresh_process(tmp_path)
    assert first.get("fxgraph_cache_miss", 0) >= 1 and first.get("fxgraph_cache_hit", 0) == 0
    assert any((tmp_path / "compile-cache" / "inductor").rglob("*")), "the graph was written under the home"
    second = _compile_in_fresh_process(tmp_path)
    assert second.get("fxgraph_cache_hit", 0) >= 1 and second.get("fxgraph_cache_miss", 0) == 0, second
