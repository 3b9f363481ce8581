"""``editbench report``, ``compare``, ``leaderboard`` and ``export``: reading results out of the ledger.

All of them only read the ledger (and images); they can run while a run is still going, and say
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


def _read_runs(refs: tuple[str, ...] | list[str]):
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
      samples.jsonl  one row per sample x criterion: score, status, error, judge answer, seed,
      samples.parquet  image paths/hashes and the item's metadata (schema: docs/reports.md)
      images/        full-size images, linked relatively: zip the folder to share it

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
    console.print(
        f"wrote [bold]{paths.report_html}[/] (+ report.md, summary.json, run_card.json, samples.jsonl"
        + (", samples.parquet)" if paths.samples_parquet else "; samples.parquet needs pyarrow)")
    )


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
        if comp["shared_edits"] or comp["kind"] == "judges":
            click.echo(_agreement_lines(comp))
        for warning in comp["warnings"]:
            console.print(f"[yellow]note:[/] {warning}", highlight=False)
    console.print(f"wrote [bold]{paths.compare_html}[/] (+ compare.md, compare.json)")


def _agreement_lines(comp: dict) -> str:
    """Judge agreement per category, one line each: Spearman ρ, Kendall τ and the pairs behind them."""
    where = "same edited images" if comp["shared_edits"] else "same editor"
    rows = [*comp["categories"].items(), ("all items", comp["all_items"])]
    width = max(len(name) for name, _ in rows)
    lines = [f"judge agreement ({where}):"]
    lines += [f"  {name:<{width}}  ρ {_num(c['spearman']):>5}  τ {_num(c['kendall']):>5}  n={c['n_pairs']}" for name, c in rows]
    return "\n".join(lines)


@click.command("export")
@click.argument("run")
@click.argument("dest", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--layout",
    type=click.Choice(["gedit", "kris", "rise", "imgedit", "folder"]),
    default="gedit",
    show_default=True,
    help="Folder layout to write: the one that benchmark's official evaluation script reads (folder: plain image folders with labels).",
)
@click.option("--model-name", default=None, help="Folder name under DEST.  [default: the run's name, else run-<id>]")
def export_command(run: str, dest: Path, layout: str, model_name: str | None) -> None:
    """Copy RUN's edited images into DEST in another benchmark's layout.

    \b
    --layout gedit writes what GEdit-Bench's test_gedit_score.py reads:
      DEST/<model_name>/fullset/<task_type>/<instruction_language>/<key>.png         (edited)
      DEST/<model_name>/fullset/<task_type>/<instruction_language>/<key>_SRCIMG.png  (source)
    --layout kris:    DEST/<model_name>/<category>/<id>.jpg  (use the Kris_Bench checkout's results/ as DEST)
    --layout rise:    DEST/<model_name>/images/<category>/<index>.png  (gpt_eval.py --output DEST/<model_name>)
    --layout imgedit: DEST/<model_name>/<key>.png  (basic_bench.py --result_img_folder DEST/<model_name>)
    Samples that cannot be exported (failed edit, image not found) are listed on the terminal
    and in DEST/<model_name>/export_manifest.json, with the official command to run: the
    official scripts would skip them silently.

    \b
    --layout folder writes plain image folders (FiftyOne ImageDirectory-style) with labels:
      DEST/<model_name>/{edited,source,reference}/<category>/<item>.<ext>
      DEST/<model_name>/labels.json   every sample: files, status, scores, judge reasoning
    """
    from editbench.config import load_settings
    from editbench.report.export import export_layout

    settings = load_settings()
    [data] = _read_runs([run])
    result = export_layout(data, dest, layout, model_name=model_name, home=settings.home)
    for sample, reason in result.skipped:
        err_console.print(f"[yellow]skipped[/] {sample}: {reason}", highlight=False)
    console.print(
        f"exported {result.written} edited images to [bold]{result.root}[/]"
        + (f"; {len(result.skipped)} skipped (listed in {result.manifest.name})" if result.skipped and result.manifest else "")
    )
    sys.exit(1 if result.skipped and not result.written else 0)


@click.command("leaderboard")
@click.argument("runs", nargs=-1, required=True)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder to write into.  [default: EDITBENCH_HOME/reports/leaderboard-<A>-<B>...]",
)
def leaderboard_command(runs: tuple[str, ...], out_dir: Path | None) -> None:
    """Print and write a models x categories table of RUNS (ids or run names), paper-ready.

    \b
    Per run: macro mean (mean of category means), micro mean (over samples) and every
    category's mean, each with its 95% bootstrap CI. Runs after the first are marked against
    the first (the baseline): ↑/↓ where compare's paired permutation test, Holm-adjusted
    across categories, finds a significant difference (p < 0.05).

    \b
    Writes leaderboard.md, leaderboard.csv (one number per cell) and leaderboard.tex (booktabs).
    Example:  editbench leaderboard baseline qwen-50-steps 7 --out paper/tables
    """
    from editbench.config import load_settings
    from editbench.report.leaderboard import (
        build_leaderboard,
        render_markdown,
        write_leaderboard,
    )

    data = _read_runs(runs)
    out = out_dir or load_settings().home / "reports" / ("leaderboard-" + "-".join(str(d.id) for d in data))
    board = build_leaderboard(data)
    paths = write_leaderboard(board, out)
    console.print(render_markdown(board), highlight=False, markup=False)
    console.print(f"wrote [bold]{paths.markdown}[/] (+ leaderboard.csv, leaderboard.tex)")
