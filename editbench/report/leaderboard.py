"""``editbench leaderboard``: runs × categories as the table a paper prints.

One row per run (a model, or a model under a judge), one column per category plus the macro and
micro means, each with its 95% bootstrap interval, exactly as the run's summary.json has them.
Every run after the first is marked against the first (the baseline) with the paired tests
``compare`` runs: a category is marked when its Holm-adjusted sign-flip permutation p-value is
below 0.05 (↑ higher, ↓ lower than the baseline), the micro mean by the test over all paired
items. The macro mean has no paired test, so it carries no mark.

Written three ways from one :class:`Leaderboard`: Markdown (to read and paste in a README),
CSV (one number per cell, for a spreadsheet or pandas) and LaTeX (booktabs, for the paper).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Literal

from editbench.report.compare import ALPHA, compare_pair
from editbench.report.data import RunData
from editbench.report.documents import CategoryComparison, Interval, MetricBlock, PairedDifference
from editbench.report.markdown import fmt, fmt_ci, table
from editbench.report.summary import summarize

Mark = Literal["", "higher", "lower", "baseline"]
ARROWS: Final = {"higher": "↑", "lower": "↓", "": "", "baseline": ""}
LATEX_ARROWS: Final = {"higher": "$^{\\uparrow}$", "lower": "$^{\\downarrow}$", "": "", "baseline": ""}
LATEX_SPECIAL: Final = {
    "\\": "\\textbackslash{}",
    "&": "\\&",
    "%": "\\%",
    "$": "\\$",
    "#": "\\#",
    "_": "\\_",
    "{": "\\{",
    "}": "\\}",
    "~": "\\textasciitilde{}",
    "^": "\\textasciicircum{}",
}


@dataclass(frozen=True)
class Cell:
    mean: float | None
    ci95: Interval | None
    count: int
    mark: Mark = ""
    """Against the baseline (the first run): higher / lower when significant; "baseline" on its row."""


@dataclass(frozen=True)
class Row:
    run_id: int
    label: str
    editor: str
    judge: str
    macro: Cell
    micro: Cell
    categories: dict[str, Cell]
    """Category → cell; a category the run does not have is absent."""


@dataclass(frozen=True)
class Leaderboard:
    categories: list[str]
    rows: list[Row]
    notes: list[str]


def _mark(block: PairedDifference | CategoryComparison | None) -> Mark:
    if block is None or not block.significant:
        return ""
    return "higher" if (block.diff or 0.0) > 0 else "lower"


def _cell(block: MetricBlock, mark: Mark) -> Cell:
    return Cell(block.mean, block.ci95, block.count, mark)


def build_leaderboard(runs: Sequence[RunData]) -> Leaderboard:
    """The table for ``runs``; the first is the baseline every other run is tested against."""
    if not runs:
        raise ValueError("a leaderboard needs at least one run")
    categories: list[str] = []
    for run in runs:
        categories += [c.name for c in run.categories if c.name not in categories]
    notes = [
        ("cells: mean over scored samples [95% percentile bootstrap CI]; macro = mean of category means, micro = mean over samples"),
    ]
    if len(runs) > 1:
        notes.append(
            f"↑/↓: significantly higher/lower than {runs[0].label} (paired sign-flip permutation test over "
            f"items scored in both runs, Holm-adjusted across categories, alpha {ALPHA}; micro: all paired items)"
        )
    benchmarks = {(r.benchmark.name, r.benchmark.version) for r in runs}
    if len(benchmarks) > 1:
        notes.append("runs come from different benchmarks: " + ", ".join(f"{n} v{v}" for n, v in sorted(benchmarks)))
    rows = []
    for index, run in enumerate(runs):
        summary = summarize(run)
        comparison = compare_pair(runs[0], run) if index else None
        if run.status != "done":
            notes.append(f"{run.label} is {run.status}: its numbers are partial")
        macro = summary.overall.macro_mean
        micro_block = summary.overall.samples
        baseline: Mark = "baseline" if len(runs) > 1 and not index else ""
        rows.append(
            Row(
                run_id=run.id,
                label=run.name or f"{run.editor.kind} (run {run.id})",
                editor=run.editor.kind,
                judge=run.judge.kind,
                macro=Cell(macro.value, macro.ci95, micro_block.count, baseline),
                micro=_cell(micro_block, baseline or _mark(comparison.all_items if comparison else None)),
                categories={
                    name: _cell(
                        c.overall,
                        baseline or _mark(comparison.categories.get(name) if comparison else None),
                    )
                    for name, c in summary.categories.items()
                },
            )
        )
    return Leaderboard(categories, rows, notes)


# --------------------------------------------------------------------------- Markdown


def _md_cell(cell: Cell | None) -> str:
    if cell is None:
        return ""
    return f"{fmt(cell.mean)} {fmt_ci(cell.ci95)}{ARROWS[cell.mark]}"


def render_markdown(board: Leaderboard) -> str:
    header = ["model", "run", "judge", "macro mean", "micro mean", *board.categories]
    rows = [
        [r.label, r.run_id, r.judge, _md_cell(r.macro), _md_cell(r.micro), *(_md_cell(r.categories.get(c)) for c in board.categories)]
        for r in board.rows
    ]
    lines = table(header, rows, "lll" + "r" * (len(header) - 3))
    return "\n".join([*lines, "", *(f"- {n}" for n in board.notes), ""])


# --------------------------------------------------------------------------- CSV


def _csv_number(value: float | None) -> str:
    return "" if value is None else f"{value:.10g}"


def render_csv(board: Leaderboard) -> str:
    """One row per run; per metric: mean, ci_low, ci_high, n and vs_first (higher/lower/baseline/empty)."""
    metrics = ["macro", "micro", *board.categories]
    header = ["run_id", "model", "editor", "judge"]
    for m in metrics:
        header += [m, f"{m}_ci_low", f"{m}_ci_high", f"{m}_n", f"{m}_vs_first"]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    for r in board.rows:
        line: list[object] = [r.run_id, r.label, r.editor, r.judge]
        for cell in [r.macro, r.micro, *(r.categories.get(c) for c in board.categories)]:
            if cell is None:
                line += ["", "", "", "", ""]
                continue
            low, high = cell.ci95 or (None, None)
            line += [_csv_number(cell.mean), _csv_number(low), _csv_number(high), cell.count, cell.mark]
        writer.writerow(line)
    return buffer.getvalue()


# --------------------------------------------------------------------------- LaTeX


def latex_escape(text: str) -> str:
    return "".join(LATEX_SPECIAL.get(ch, ch) for ch in text)


def _tex_cell(cell: Cell | None) -> str:
    if cell is None or cell.mean is None:
        return "--"
    ci = f" {{\\scriptsize [{cell.ci95[0]:.2f}, {cell.ci95[1]:.2f}]}}" if cell.ci95 else ""
    return f"{cell.mean:.2f}{ci}{LATEX_ARROWS[cell.mark]}"


def render_latex(board: Leaderboard) -> str:
    """A booktabs ``tabular`` (needs ``\\usepackage{booktabs}``); notes as comments above it."""
    columns = ["Model", "Macro", "Micro", *board.categories]
    out = [f"% {latex_escape(n)}" for n in board.notes]
    out.append("\\begin{tabular}{l" + "r" * (len(columns) - 1) + "}")
    out.append("\\toprule")
    out.append(" & ".join(latex_escape(c) for c in columns) + " \\\\")
    out.append("\\midrule")
    for r in board.rows:
        cells = [latex_escape(r.label), _tex_cell(r.macro), _tex_cell(r.micro)]
        cells += [_tex_cell(r.categories.get(c)) for c in board.categories]
        out.append(" & ".join(cells) + " \\\\")
    out.append("\\bottomrule")
    out.append("\\end{tabular}")
    return "\n".join(out) + "\n"


@dataclass(frozen=True)
class LeaderboardPaths:
    out_dir: Path
    markdown: Path
    csv: Path
    latex: Path


def write_leaderboard(board: Leaderboard, out_dir: Path) -> LeaderboardPaths:
    """Write leaderboard.md, leaderboard.csv and leaderboard.tex into ``out_dir``."""
    from editbench.report import write_text

    out_dir.mkdir(parents=True, exist_ok=True)
    paths = LeaderboardPaths(out_dir, out_dir / "leaderboard.md", out_dir / "leaderboard.csv", out_dir / "leaderboard.tex")
    write_text(paths.markdown, render_markdown(board))
    write_text(paths.csv, render_csv(board))
    write_text(paths.latex, render_latex(board))
    return paths
