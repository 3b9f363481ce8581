"""`editbench import`: one stderr line per skipped record, a summary, clear errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

# Importing editbench.cli loads every command module; while a sibling module is still missing
# this skips (the reason is shown by -ra) instead of stopping the whole importer suite.
import_command = pytest.importorskip("editbench.cli.importers", exc_type=ImportError).import_command


def kris_folder(root: Path, write_png) -> Path:
    category = root / "KRIS_Bench" / "color_change"
    write_png(category / "1.png", (1, 1, 1))
    write_png(category / "2.png", (2, 2, 2))
    (category / "annotation.json").write_text(
        json.dumps(
            {
                "1": {"ori_img": "1.png", "ins_en": "Make the apple green."},
                "2": {"ori_img": "2.png", "ins_en": "Make the car red."},
                "3": {"ori_img": "3.png"},
            }
        )
    )
    return root / "KRIS_Bench"


def test_import_reports_skips_and_summary(tmp_path: Path, write_png) -> None:
    src = kris_folder(tmp_path, write_png)
    dest = tmp_path / "out"

    result = CliRunner().invoke(import_command, ["kris", str(src), str(dest)])

    assert result.exit_code == 0, result.output
    assert result.stderr == "skipped color_change/3: missing field 'ins_en'\n"
    assert result.stdout == (f"wrote 2 items to {dest}; skipped 1 (listed in {dest / 'import-report.json'})\n")


def test_limit_and_existing_dest(tmp_path: Path, write_png) -> None:
    src = kris_folder(tmp_path, write_png)
    dest = tmp_path / "out"
    runner = CliRunner()

    first = runner.invoke(import_command, ["kris", str(src), str(dest), "--limit", "1"])
    assert first.exit_code == 0, first.output
    assert first.stdout == f"wrote 1 items to {dest}\n"

    again = runner.invoke(import_command, ["kris", str(src), str(dest)])
    assert again.exit_code == 1
    assert "is not empty; choose a new folder or pass --overwrite" in again.stderr

    replaced = runner.invoke(import_command, ["kris", str(src), str(dest), "--overwrite"])
    assert replaced.exit_code == 0, replaced.output
    assert replaced.stdout.startswith(f"wrote 2 items to {dest}")


def test_dest_inside_src_is_refused(tmp_path: Path, write_png) -> None:
    src = kris_folder(tmp_path, write_png)

    result = CliRunner().invoke(import_command, ["kris", str(src), str(src / "native")])

    assert result.exit_code == 1
    assert "must lie outside" in result.stderr


def test_help_has_an_example_per_kind() -> None:
    result = CliRunner().invoke(import_command, ["--help"])

    assert result.exit_code == 0
    for kind in ("gedit", "kris", "rise", "imgedit"):
        assert f"editbench import {kind} " in result.output
