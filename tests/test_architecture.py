"""The layering and the one-home rules check themselves: CI fails when an import points the wrong
way, or a setting is read or left undocumented outside its one home (editbench/config.py)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "editbench"


def test_the_import_contracts_in_pyproject_hold() -> None:
    lint_imports = Path(sys.executable).with_name("lint-imports")
    if not lint_imports.exists():
        pytest.skip("import-linter is not installed (pip install -e '.[dev]')")
    env = {**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    done = subprocess.run([str(lint_imports), "--no-cache"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 broken" in done.stdout


def _python_sources() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if "migrations" not in p.parts)


def test_only_the_settings_module_reads_editbench_variables() -> None:
    # A read: environ.get(...), getenv(...), or environ[...] not being assigned to (the cluster
    # launcher *sets* variables for the processes it starts; that is not a read).
    reads = re.compile(r"""(environ\.get\(|getenv\()\s*f?["']EDITBENCH_|environ\[\s*f?["']EDITBENCH_\w*["']\s*\](?!\s*=[^=])""")
    offenders = [str(p.relative_to(ROOT)) for p in _python_sources() if p.name != "config.py" and reads.search(p.read_text())]
    assert offenders == [], f"read EDITBENCH_* through editbench.config.load_settings(), not in {offenders}"


def test_every_setting_is_documented_in_docs_settings_md() -> None:
    from editbench.config import CELERY_PREFIX, VARIABLES

    doc = (ROOT / "docs" / "settings.md").read_text()
    missing = [v.name for v in VARIABLES if f"`{v.name}`" not in doc]
    assert missing == [] and CELERY_PREFIX in doc, f"add {missing} to docs/settings.md"
