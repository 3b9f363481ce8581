"""Fixtures for plugin tests: the checked-in plugin packages, pip-installed into a folder of their own.

``pip install --no-deps --target`` writes the package *and its .dist-info* (where the entry
points live), so putting that folder on ``sys.path``/``PYTHONPATH`` is what installing into an
environment does, without touching the shared one. ``--no-build-isolation`` builds with the
environment's setuptools, so nothing is fetched.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

PLUGINS = Path(__file__).parent


@dataclass(frozen=True)
class InstalledPlugins:
    mirror: Path  # editbench-mirror: editor "mirror", judge "brightness"
    broken: Path  # editbench-broken: editor "broken-editor", judge "broken-judge" (ImportError)


def pip_install(source: Path, target: Path) -> Path:
    # Built from a copy: pip builds a local folder in place (build/, *.egg-info), which must not
    # litter the checkout or race with another test session.
    copy = target.with_name(target.name + "-src")
    shutil.copytree(source, copy)
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation", "--target", str(target), str(copy)],
        check=True,
        capture_output=True,
        text=True,
    )
    return target


@pytest.fixture(scope="session")
def installed_plugins(tmp_path_factory: pytest.TempPathFactory) -> InstalledPlugins:
    root = tmp_path_factory.mktemp("plugins")
    return InstalledPlugins(
        mirror=pip_install(PLUGINS / "editbench-mirror", root / "mirror"),
        broken=pip_install(PLUGINS / "editbench-broken", root / "broken"),
    )


@pytest.fixture
def on_path(monkeypatch: pytest.MonkeyPatch) -> Iterator:
    """``on_path(folder, ...)``: these folders on sys.path and PYTHONPATH (for worker
    subprocesses) for one test; the registry is rediscovered before and after."""
    import os

    from editbench.models.base import refresh_registry

    def add(*folders: Path) -> None:
        for folder in folders:
            monkeypatch.syspath_prepend(str(folder))
        paths = [str(f) for f in folders] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
        monkeypatch.setenv("PYTHONPATH", os.pathsep.join(paths))
        refresh_registry()

    yield add
    monkeypatch.undo()
    refresh_registry()
