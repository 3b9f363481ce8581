"""The click commands, as a user types them (the lead registers them on `editbench`)."""

import json

from click.testing import CliRunner

from editbench.cli.report import compare_command, export_command, report_command
from tests.report.conftest import PQ, SC


def _runs(ledger):
    bench = ledger.benchmark({"physics": {}}, {"physics": ["p1", "p2", "p3"]})
    a = ledger.run(bench, {"p1": {SC: 5, PQ: 6}, "p2": {SC: 7, PQ: 7}, "p3": {SC: "failed", PQ: 5}}, name="base")
    b = ledger.run(bench, {"p1": {SC: 6, PQ: 6}, "p2": {SC: 8, PQ: 7}, "p3": {SC: 4, PQ: 5}}, name="cand")
    return a, b


def test_report_compare_export(ledger, tmp_path, monkeypatch):
    monkeypatch.setenv("EDITBENCH_DATABASE_URL", ledger.url)
    monkeypatch.setenv("EDITBENCH_HOME", str(tmp_path / "home"))
    a, b = _runs(ledger)
    runner = CliRunner()

    result = runner.invoke(report_command, [str(a)])
    assert result.exit_code == 0, result.output
    out = tmp_path / "home" / "reports" / f"run-{a}"
    assert {p.name for p in out.iterdir()} >= {"summary.json", "report.md", "report.html", "run_card.json", "thumbs"}
    assert "2/3 samples scored" in result.output

    result = runner.invoke(report_command, ["cand", "--out", str(tmp_path / "by-name")])  # a run name works too
    assert result.exit_code == 0, result.output
    assert json.loads((tmp_path / "by-name" / "summary.json").read_text())["run"]["id"] == b

    result = runner.invoke(compare_command, [str(a), str(b), "--out", str(tmp_path / "cmp")])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "cmp" / "compare.html").is_file()
    assert f"run {a} vs run {b} (repeat)" in result.output

    result = runner.invoke(export_command, [str(a), str(tmp_path / "gedit"), "--layout", "gedit"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "gedit" / "base" / "fullset" / "physics" / "en" / "p1.png").is_file()


def test_unknown_run_is_a_clear_error(ledger, tmp_path, monkeypatch):
    monkeypatch.setenv("EDITBENCH_DATABASE_URL", ledger.url)
    from editbench.cli import main

    result = CliRunner().invoke(main, ["report", "999", "--out", str(tmp_path / "x")], catch_exceptions=False)
    assert result.exit_code == 2
    assert result.stderr.strip() == "error: no run '999' (editbench runs lists them)"
    result = CliRunner().invoke(main, ["compare", "1"], catch_exceptions=False)
    assert result.exit_code == 2


def test_help_texts():
    for command in (report_command, compare_command, export_command):
        result = CliRunner().invoke(command, ["--help"])
        assert result.exit_code == 0
    assert "macro mean" in CliRunner().invoke(report_command, ["--help"]).output
