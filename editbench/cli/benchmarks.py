"""``editbench example``, ``ingest`` and ``benchmarks``: getting benchmarks into the ledger."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from editbench.errors import BenchmarkFormatError
from editbench.producer.ingest import IngestReport, ingest, watch

console = Console()
err_console = Console(stderr=True)


@click.command("example")
@click.argument("dest", type=click.Path(file_okay=False, path_type=Path))
@click.option("--per-category", default=8, show_default=True, type=click.IntRange(min=1, max=1000), help="Pairs per category (1 to 1000).")
@click.option("--seed", default=0, show_default=True, help="Drawing seed (same seed, same images).")
def example_command(dest: Path, per_category: int, seed: int) -> None:
    """Write a small synthetic benchmark to DEST (five categories: physics, environment,
    social, causal, referential), in the native format, with one judge prompt per category.
    DEST must be a new or empty folder."""
    from editbench.benchmark.example import write_example_benchmark

    try:
        path = write_example_benchmark(dest, per_category=per_category, seed=seed)
    except OSError as exc:  # not empty (FileExistsError), not writable, disk full...
        err_console.print(f"[red]error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True)
        sys.exit(2)
    console.print(f"wrote example benchmark to [bold]{path}[/]  (next: editbench ingest {path})")


def _print_report(report: IngestReport) -> None:
    for r in report.rejections:
        where = f"{r.file}:{r.line}" if r.line else r.file
        err_console.print(
            f"[red]rejected[/] {escape(where)} id={escape(r.item_id or '-')} reason={r.reason_code.value}: {escape(r.reason)}",
            highlight=False,
            soft_wrap=True,
        )
    verb = "registered" if report.created else "updated"
    added = ", ".join(f"{name} +{n}" for name, n in sorted(report.added_samples.items())) or "nothing new"
    console.print(
        f"{verb} [bold]{report.benchmark}[/] v{report.version}: {added}"
        + (f"; {len(report.rejections)} item(s) rejected" if report.rejections else "")
    )
    sys.stdout.flush()  # with --watch into a log file, each batch shows up as it happens


@click.command("ingest")
@click.argument("path", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--watch", "watch_mode", is_flag=True, help="Keep running; ingest new category folders and items as they appear.")
@click.option("--interval", default=2.0, show_default=True, help="Seconds between polls with --watch.")
@click.option(
    "--max-pixels",
    type=click.IntRange(min=1),
    default=None,
    help="Refuse images above this many pixels (decompression-bomb guard; default 40M).",
)
def ingest_command(path: Path, watch_mode: bool, interval: float, max_pixels: int | None) -> None:
    """Validate the benchmark folder PATH and register it in the ledger.

    Images are copied into a content-addressed store, so later changes to PATH cannot change a
    registered benchmark. Re-ingesting adds only new categories and items. Every bad item gets
    one line (file, id, reason) and is skipped; the exit code is 1 if anything was rejected.
    Standing runs (`editbench run --follow`) pick up what is added.
    """
    try:
        if watch_mode:
            console.print(f"watching {path} every {interval:g}s (Ctrl-C to stop)")
            try:
                for report in watch(path, interval_s=interval, max_pixels=max_pixels):
                    _print_report(report)
            except KeyboardInterrupt:
                return
            return
        report = ingest(path, max_pixels=max_pixels)
    except BenchmarkFormatError as exc:
        err_console.print(f"[red]error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True)
        sys.exit(2)
    _print_report(report)
    sys.exit(1 if report.rejections else 0)


@click.command("benchmarks")
def benchmarks_command() -> None:
    """List registered benchmarks with per-category sample counts."""
    from editbench.producer.ingest import registered_benchmarks

    rows = registered_benchmarks()
    if not rows:
        console.print("no benchmarks yet: `editbench example DIR && editbench ingest DIR`")
        return
    table = Table(title="registered benchmarks")
    for column in ("benchmark", "version", "category", "samples"):
        table.add_column(column, justify="right" if column == "samples" else "left")
    for row in rows:
        table.add_row(row.benchmark, row.version, row.category, str(row.samples))
    console.print(table)
