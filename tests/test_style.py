"""Lint and type rules check themselves: CI fails when ``ruff check`` or ``mypy`` (configured in
pyproject.toml) finds anything. ``ruff format --check`` joins them once the tree is formatted
(set EDITBENCH_CHECK_FORMAT=1)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LINTED = ["editbench", "tests", "bench"]


def _tool(name: str) -> Path:
    path = Path(sys.executable).with_name(name)
    if not path.exists():
        pytest.skip(f"{name} is not installed next to {sys.executable} (pip install -e '.[dev]')")
    return path


def _run(argv: list[str | Path], timeout_s: int) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(a) for a in argv], cwd=ROOT, capture_output=True, text=True, timeout=timeout_s)


def test_ruff_finds_nothing_to_lint() -> None:
    done = _run([_tool("ruff"), "check", *LINTED], timeout_s=120)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.slow  # minutes with a cold cache: outside the fast unit tier, still in the default suite
@pytest.mark.timeout(900)
def test_mypy_finds_no_type_errors() -> None:
    # A cold cache takes minutes on two cores; .mypy_cache makes later runs take seconds.
    done = _run([_tool("mypy")], timeout_s=880)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Success: no issues found" in done.stdout


@pytest.mark.skipif(os.environ.get("EDITBENCH_CHECK_FORMAT") != "1", reason="set EDITBENCH_CHECK_FORMAT=1 once the tree is formatted")
def test_the_tree_is_formatted_as_ruff_format_would() -> None:
    done = _run([_tool("ruff"), "format", "--check", *LINTED], timeout_s=120)
    assert done.returncode == 0, done.stdout + done.stderr
