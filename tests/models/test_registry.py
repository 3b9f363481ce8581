"""The adapter registry: entry points, the built-in table it falls back on, clear errors."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from editbench.models import base
from editbench.models.builtin import BUILTIN_ADAPTERS

ROOT = Path(__file__).resolve().parents[2]


def test_pyproject_entry_points_declare_exactly_the_builtin_table() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["entry-points"]
    assert project["editbench.editors"] == BUILTIN_ADAPTERS["editor"]
    assert project["editbench.judges"] == BUILTIN_ADAPTERS["judge"]


def test_every_builtin_adapter_loads_and_is_listed_as_built_in() -> None:
    for role in base.ROLES:
        infos = {info.kind: info for info in base.adapters(role, load=True)}
        for kind in BUILTIN_ADAPTERS[role]:
            assert infos[kind].origin == "built-in" and infos[kind].error is None, infos[kind]


def test_missing_own_entry_points_fall_back_to_the_builtin_table_with_a_note(monkeypatch) -> None:
    real = base._entry_points

    def without_editbench(group: str):
        # As when editbench's installed metadata predates its entry points.
        return [ep for ep in real(group) if ep.dist is None or ep.dist.metadata["Name"] != "editbench"]

    monkeypatch.setattr(base, "_entry_points", without_editbench)
    base.refresh_registry()
    try:
        assert set(BUILTIN_ADAPTERS["editor"]) <= set(base.editor_names())
        assert set(BUILTIN_ADAPTERS["judge"]) <= set(base.judge_names())
        notes = base.registry_notes()
        assert any("not in editbench's installed entry points" in note and "qwen-image-edit" in note for note in notes)
        assert base.load_editor("identity", None).name == "identity"
    finally:
        monkeypatch.undo()
        base.refresh_registry()


def test_an_unknown_kind_is_refused_with_the_known_ones_listed() -> None:
    with pytest.raises(base.UnknownModelError) as excinfo:
        base.load_editor("no-such-editor", None)
    assert "unknown editor 'no-such-editor'" in str(excinfo.value)
    assert "qwen-image-edit" in str(excinfo.value) and "diffusers" in str(excinfo.value)


def test_register_editor_adds_a_kind_for_this_process_only() -> None:
    @base.register_editor("test-in-process")
    class InProcess:
        name = "test-in-process"

        def __init__(self, path, **params):
            self.params = params

    try:
        assert "test-in-process" in base.editor_names()
        info = {i.kind: i for i in base.adapters("editor")}["test-in-process"]
        assert info.origin == "registered in this process"
        assert base.load_editor("test-in-process", None, device="cpu").params == {"device": "cpu"}
    finally:
        base._REGISTERED["editor"].pop("test-in-process")
