"""``editbench leaderboard``: two runs, numbers worked out by hand, in Markdown, CSV and LaTeX."""

import csv
import io
import re

import pytest
from click.testing import CliRunner

from editbench.cli import main as editbench_cli
from editbench.report import load_run, stats
from editbench.report.leaderboard import (
    build_leaderboard,
    latex_escape,
    render_csv,
    render_latex,
)
from editbench.schema.db import session_scope
from tests.report.conftest import PQ, SC

# Category names and a run name with the characters LaTeX treats specially.
PHYS, STYLE, COLOR = "physics_1", "style & tone", "color 100%"
SAMPLES = {PHYS: ["p1", "p2"], STYLE: ["s1", "s2"], COLOR: [f"c{i}" for i in range(8)]}
# overall = sqrt(SC * PQ)
A = {"p1": (9, 9), "p2": (4, 4), "s1": (1, 1), "s2": (4, 9)} | {f"c{i}": (5, 5) for i in range(8)}
B = {"p1": (8, 8), "p2": (2, 8), "s1": (5, 5), "s2": (6, 6)} | {f"c{i}": (7, 7) for i in range(8)}
# A: physics (9 + 4) / 2 = 6.5, style (1 + 6) / 2 = 3.5, color 5; macro 5.0, micro 60 / 12 = 5.0
# B: physics (8 + 4) / 2 = 6.0, style (5 + 6) / 2 = 5.5, color 7; macro 18.5 / 3, micro 79 / 12
# color: every pair differs by +2, exact sign-flip p = 2 / 2^8, Holm x3 = 0.023 < 0.05: B higher.
# physics/style: two pairs, p >= 0.5: no mark. All 12 items: nonzero |d| = 1, 4, 2 x 8 (sum 21,
# observed 19); |sum| >= 19 for 4 of 2^10 sign patterns, p = 0.004: micro marked B higher.


def _results(scores):
    return {k: {SC: sc, PQ: pq} for k, (sc, pq) in scores.items()}


@pytest.fixture
def runs(ledger):
    bench = ledger.benchmark({PHYS: {}, STYLE: {}, COLOR: {}}, SAMPLES)
    a = ledger.run(bench, _results(A), name="base_model")
    b = ledger.run(bench, _results(B), name="cand")
    with session_scope(ledger.url) as session:
        return [load_run(session, a), load_run(session, b)]


def test_two_runs_give_the_hand_computed_table(runs):
    board = build_leaderboard(runs)
    assert board.categories == [PHYS, STYLE, COLOR]
    base, cand = board.rows
    assert (base.label, cand.label) == ("base_model", "cand")
    assert base.macro.mean == pytest.approx(5.0) and base.micro.mean == pytest.approx(5.0)
    assert cand.macro.mean == pytest.approx(18.5 / 3) and cand.micro.mean == pytest.approx(79 / 12)
    assert [base.categories[c].mean for c in board.categories] == pytest.approx([6.5, 3.5, 5.0])
    assert [cand.categories[c].mean for c in board.categories] == pytest.approx([6.0, 5.5, 7.0])
    # two-value categories: the bootstrap interval of the mean spans the two values
    assert base.categories[PHYS].ci95 == pytest.approx((4.0, 9.0))
    assert cand.categories[STYLE].ci95 == pytest.approx((5.0, 6.0))
    assert cand.categories[COLOR].ci95 == (7.0, 7.0)
    assert cand.micro.ci95 == stats.bootstrap_ci([8, 4, 5, 6] + [7] * 8)
    assert base.micro.count == cand.micro.count == 12

    assert base.macro.mark == base.categories[COLOR].mark == "baseline"
    assert cand.categories[COLOR].mark == "higher"
    assert cand.categories[PHYS].mark == cand.categories[STYLE].mark == ""
    assert cand.micro.mark == "higher" and cand.macro.mark == ""


def test_markdown_csv_and_latex_from_the_cli(runs, ledger, tmp_path, monkeypatch):
    monkeypatch.setenv("EDITBENCH_DATABASE_URL", ledger.url)
    monkeypatch.setenv("EDITBENCH_HOME", str(tmp_path / "home"))
    out = tmp_path / "tables"
    result = CliRunner().invoke(editbench_cli, ["leaderboard", "base_model", str(runs[1].id), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "| cand | 2 | " in result.output
    assert "7.00 [7.00, 7.00]↑" in result.output and "6.58 " in result.output

    md = (out / "leaderboard.md").read_text()
    assert md.splitlines()[0] == f"| model | run | judge | macro mean | micro mean | {PHYS} | {STYLE} | {COLOR} |"
    assert f"| base_model | {runs[0].id} | qwen3-vl | 5.00 " in md

    rows = list(csv.DictReader(io.StringIO((out / "leaderboard.csv").read_text())))
    assert [r["model"] for r in rows] == ["base_model", "cand"]
    assert float(rows[1]["macro"]) == pytest.approx(18.5 / 3, abs=1e-5)
    assert (rows[1][COLOR], rows[1][f"{COLOR}_ci_low"], rows[1][f"{COLOR}_vs_first"]) == ("7", "7", "higher")
    assert (rows[0][PHYS], rows[0][f"{PHYS}_ci_low"], rows[0][f"{PHYS}_ci_high"]) == ("6.5", "4", "9")
    assert rows[1]["micro_vs_first"] == "higher" and rows[1][f"{PHYS}_vs_first"] == ""
    assert rows[0]["macro_n"] == "12"

    tex = (out / "leaderboard.tex").read_text()
    assert tex == render_latex(build_leaderboard(runs))
    _check_latex_structure(tex, n_rows=2, n_columns=3 + 3)


def _check_latex_structure(tex: str, n_rows: int, n_columns: int) -> None:
    lines = tex.splitlines()
    body = [line for line in lines if not line.startswith("%")]
    assert body[0] == "\\begin{tabular}{l" + "r" * (n_columns - 1) + "}"
    assert body[1] == "\\toprule" and body[3] == "\\midrule" and body[-2] == "\\bottomrule"
    assert body[-1] == "\\end{tabular}"
    header, rows = body[2], body[4:-2]
    assert header == "Model & Macro & Micro & physics\\_1 & style \\& tone & color 100\\% \\\\"
    assert len(rows) == n_rows
    for row in [header, *rows]:
        assert row.endswith(" \\\\")
        # column separators: every & not escaped as \&
        assert len(re.findall(r"(?<!\\)&", row)) == n_columns - 1
    assert rows[0].startswith("base\\_model & 5.00 {\\scriptsize [")
    assert rows[1].split(" & ")[-1] == "7.00 {\\scriptsize [7.00, 7.00]}$^{\\uparrow}$ \\\\"
    # no unescaped special character outside our own markup
    for row in rows:
        assert not re.search(r"(?<!\\)[%#]", row)
    for comment in (line for line in lines if line.startswith("%")):
        assert not re.search(r"(?<!\\)[%&_]", comment[1:])


def test_latex_escape_covers_every_special_character():
    assert latex_escape("a_b & 10% $x$ #1 {y} ~ ^ \\") == (
        "a\\_b \\& 10\\% \\$x\\$ \\#1 \\{y\\} \\textasciitilde{} \\textasciicircum{} \\textbackslash{}"
    )


def test_a_single_run_has_no_marks_and_an_unknown_run_is_a_clear_error(runs, ledger, monkeypatch, tmp_path):
    board = build_leaderboard(runs[:1])
    assert all(c.mark == "" for c in board.rows[0].categories.values())
    assert render_csv(board).splitlines()[1].startswith(f"{runs[0].id},base_model,")
    monkeypatch.setenv("EDITBENCH_DATABASE_URL", ledger.url)
    result = CliRunner().invoke(editbench_cli, ["leaderboard", "base_model", "nope", "--out", str(tmp_path / "x")])
    assert result.exit_code == 2 and "nope" in result.output
    assert not (tmp_path / "x").exists()
