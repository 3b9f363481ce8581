"""``editbench report``, ``compare`` and ``export``: reading results out of the ledger.

All three only read the ledger (and images); they can run while a run is still going, and say
so in what they write.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click
from rich.console import Console

console = Console()
err_console = Console(stderr=True)


def _fail(message: str, code: int = 2) -> None:
    err_console.print(f"[red]error:[/] {message}", highlight=False)
    sys.exit(code)


def _read_runs(refs: tuple[str, ...] | list[str]):  # type: ignore[no-untyped-def]
    """The runs named by ``refs`` (ids or names). An unknown run or an unreadable ledger raises
    and the CLI's error contract turns it into one line (exit 2 and 1)."""
    from editbench.producer.runs import find_run
    from editbench.report.data import read_runs

    ids = [find_run(ref) for ref in refs]
    return read_runs([str(run_id) for run_id in ids])


@click.command("report")
@click.argument("run")
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder to write into.  [default: EDITBENCH_HOME/reports/run-<id>]",
)
def report_command(run: str, out_dir: Path | None) -> None:
    """Write the report of RUN (an id, or a run name) from the ledger.

    \b
    Files written to the --out folder:
      summary.json   every number: per category, per criterion and overall; mean, std, count,
                     95% bootstrap CI, coverage, pass rate, and a count per failure status
      report.md      the same as readable tables, plus failures and the run card
      report.html    one static page: per-sample source | edited | reference thumbnails,
                     judge scores and reasoning, filters, score distributions (thumbs/ beside it)
      run_card.json  editor/judge identity and parameters, seeds, prompt versions, library
                     versions, git revision, times, GPU-seconds

    Failed, unparseable, refused and missing judgments are counted, never averaged as zero.
    The headline is the macro mean (mean of category means, GEdit's convention); the micro mean
    (over samples) is reported beside it. A report of a running run is marked partial.
    """
    from editbench.config import load_settings
    from editbench.report import write_report_for

    settings = load_settings()
    [data] = _read_runs([run])
    run_id = data.id
    paths = write_report_for(data, out_dir or settings.home / "reports" / f"run-{run_id}", home=settings.home)
    import json

    summary = json.loads(paths.summary_json.read_text())
    overall = summary["overall"]
    console.print(
        f"run {run_id}: macro mean {_num(overall['macro_mean']['value'])}, "
        f"micro mean {_num(overall['micro_mean']['value'])}, "
        f"{overall['samples']['count']}/{overall['samples']['n_total']} samples scored"
    )
    for warning in summary["warnings"]:
        console.print(f"[yellow]note:[/] {warning}", highlight=False)
    console.print(f"wrote [bold]{paths.report_html}[/] (+ report.md, summary.json, run_card.json)")


def _num(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}"


@click.command("compare")
@click.argument("runs", nargs=-1, required=True)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder to write into.  [default: EDITBENCH_HOME/reports/compare-<A>-<B>...]",
)
def compare_command(runs: tuple[str, ...], out_dir: Path | None) -> None:
    """Compare RUNS item by item; the first run is the baseline A, each other run is B.

    \b
    For every category: mean of A and B over the items scored in both, the paired difference
    B − A with a 95% bootstrap CI, a paired permutation test Holm-adjusted across categories
    (a difference is marked real when adjusted p < 0.05), and the Spearman rank correlation.
    Works for two editors under one judge, and for one editor under two judges (then the
    correlation is the judges' agreement). Items scored in only one run are counted, not paired.

    \b
    Writes compare.md, compare.html (items side by side, thumbs/ beside it) and compare.json.
    Example:  editbench compare 3 4 --out reports/qwen-vs-baseline
    """
    if len(runs) < 2:
        _fail("compare needs at least two runs")
    from editbench.config import load_settings
    from editbench.report.compare import write_comparison_for

    settings = load_settings()
    data = _read_runs(runs)
    ids = [d.id for d in data]
    out = out_dir or settings.home / "reports" / ("compare-" + "-".join(str(i) for i in ids))
    paths = write_comparison_for(data, out, home=settings.home)
    import json

    result = json.loads(paths.compare_json.read_text())
    for comp in result["comparisons"]:
        real = [name for name, c in comp["categories"].items() if c["significant"]]
        unpaired = [name for name, c in comp["categories"].items() if not c["n_pairs"]]
        verdict = f"real differences in {', '.join(real)}" if real else "no category differs significantly"
        if unpaired:
            verdict += f"; nothing scored in both runs in {', '.join(unpaired)}"
        console.print(f"run {comp['a']} vs run {comp['b']} ({comp['kind']}): {verdict}", highlight=False)
        for warning in comp["warnings"]:
            console.print(f"[yellow]note:[/] {warning}", highlight=False)
    console.print(f"wrote [bold]{paths.compare_html}[/] (+ compare.md, compare.json)")


@click.command("export")
@click.argument("run")
@click.argument("dest", type=click.Path(file_okay=False, path_type=Path))
@click.option("--layout", type=click.Choice(["gedit"]), default="gedit", show_default=True, help="Folder layout to write.")
@click.option("--model-name", default=None, help="Folder name under DEST.  [default: the run's name, else run-<id>]")
def export_command(run: str, dest: Path, layout: str, model_name: str | None) -> None:
    """Copy RUN's edited images into DEST in another benchmark's layout.

    \b
    --layout gedit writes what GEdit-Bench's test_gedit_score.py reads:
      DEST/<model_name>/fullset/<task_type>/<instruction_language>/<key>.png         (edited)
      DEST/<model_name>/fullset/<task_type>/<instruction_language>/<key>_SRCIMG.png  (source)
    Samples that cannot be exported (failed edit, image not found) are listed on the terminal
    and in DEST/<model_name>/export_manifest.json: GEdit's scorer would skip them silently.
    """
    from editbench.config import load_settings
    from editbench.report.export import export_gedit

    settings = load_settings()
    [data] = _read_runs([run])
    result = export_gedit(data, dest, model_name=model_name, home=settings.home)
    for sample, reason in result.skipped:
        err_console.print(f"[yellow]skipped[/] {sample}: {reason}", highlight=False)
    console.print(
        f"exported {result.written} edited images to [bold]{result.root}[/]"
        + (f"; {len(result.skipped)} skipped (listed in {result.manifest.name})" if result.skipped else "")
    )
    sys.exit(1 if result.skipped and not result.written else 0)
