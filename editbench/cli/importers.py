"""``editbench import KIND SRC DEST``: convert a published benchmark into a native folder."""

from __future__ import annotations

from pathlib import Path

import click

from editbench.importers import IMPORTERS, PROTOCOLS, ImporterError, run_import

HELP = """\
Convert a published edit benchmark at SRC into a native benchmark folder at DEST.

KIND is the source layout. SRC is a local path, or a Hugging Face hub id (owner/name) read
from the local cache only (nothing is downloaded). Original ids are kept in each item's `source` field. A malformed
record (missing field, missing image, undecodable bytes) is skipped with one line on stderr
naming the record and the reason; every skip is also listed in DEST/import-report.json.
DEST is written atomically: it appears only when the import succeeds.

\b
Examples, one per KIND:
  # GEdit-Bench: a Parquet/Arrow file, or a folder of them (a hub snapshot); needs pyarrow
  editbench import gedit ~/hf/GEdit-Bench benchmarks/gedit
  # KRIS-Bench: the KRIS_Bench folder with <category>/annotation.json
  editbench import kris ~/data/KRIS_Bench benchmarks/kris
  # RISEBench: data/data_total.json (images in <category>_images/ beside it)
  editbench import rise ~/src/RISEBench/data/data_total.json benchmarks/rise
  # ImgEdit Basic-Edit-Suite: basic_edit.json, images under --image-root
  editbench import imgedit Benchmark/Basic/basic_edit.json benchmarks/imgedit \\
      --image-root ~/data/ImgEdit/singleturn
  # Try a format quickly: stop after 5 items
  editbench import kris ~/data/KRIS_Bench /tmp/kris-sample --limit 5
  # By hub id, from the local Hugging Face cache only (never downloads)
  editbench import gedit stepfun-ai/GEdit-Bench benchmarks/gedit
  # Judge with the benchmark's own prompts, read from your checkout of its repository
  editbench import gedit stepfun-ai/GEdit-Bench benchmarks/gedit-official \\
      --protocol official --official-repo ~/src/Step1X-Edit
"""


@click.command("import", help=HELP)
@click.argument("kind", type=click.Choice(sorted(IMPORTERS)))
@click.argument("src", type=str)
@click.argument("dest", type=click.Path(path_type=Path))
@click.option(
    "--limit",
    type=click.IntRange(min=1),
    default=None,
    metavar="N",
    help="Stop after writing N items (skipped records do not count).",
)
@click.option(
    "--image-root",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=None,
    help="Folder that image paths in the annotation are relative to (default: the annotation file's folder; kris ignores it).",
)
@click.option("--overwrite", is_flag=True, help="Replace DEST if it already holds a benchmark folder.")
@click.option(
    "--protocol",
    type=click.Choice(PROTOCOLS),
    default="editbench",
    show_default=True,
    help="Judge prompts and criteria: editbench's own rubric, or the benchmark's official evaluation (read from --official-repo).",
)
@click.option(
    "--official-repo",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=None,
    help="Your local checkout of the benchmark's repository (with --protocol official).",
)
def import_command(
    kind: str,
    src: str,
    dest: Path,
    limit: int | None,
    image_root: Path | None,
    overwrite: bool,
    protocol: str,
    official_repo: Path | None,
) -> None:
    def echo_skip(record_id: str, reason: str) -> None:
        click.echo(f"skipped {record_id}: {reason}", err=True)

    try:
        report = run_import(
            kind,
            src,
            dest,
            limit=limit,
            overwrite=overwrite,
            on_skip=echo_skip,
            image_root=image_root,
            protocol=protocol,
            official_repo=official_repo,
        )
    except ImporterError as exc:
        raise click.ClickException(str(exc)) from exc
    summary = f"wrote {report.written} items to {report.dest}"
    if report.skipped:
        summary += f"; skipped {len(report.skipped)} (listed in {report.dest / 'import-report.json'})"
    click.echo(summary)
