"""``editbench models``: build the tiny offline models and list the registered adapters."""

from __future__ import annotations

import json
from pathlib import Path

import click


@click.group("models")
def models_group() -> None:
    """Model adapters: tiny offline test models and the registry."""


@models_group.command("tiny")
@click.argument("dest", type=click.Path(file_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the paths as one JSON object.")
def tiny_command(dest: Path, as_json: bool) -> None:
    """Build tiny random Qwen editor and judge models in DEST/editor and DEST/judge.

    Offline, seconds on a CPU, a few MB. Does nothing if complete copies are already there.
    """
    from editbench.models.tiny import build_tiny_models

    paths = build_tiny_models(dest)
    if as_json:
        click.echo(json.dumps({"editor": str(paths.editor), "judge": str(paths.judge)}))
    else:
        click.echo(f"editor: {paths.editor}")
        click.echo(f"judge: {paths.judge}")


@models_group.command("list")
def list_command() -> None:
    """List registered editors and judges (use as --editor KIND:PATH / --judge KIND:PATH)."""
    from editbench.models.base import editor_names, judge_names

    click.echo("editors: " + ", ".join(editor_names()))
    click.echo("judges: " + ", ".join(judge_names()))
