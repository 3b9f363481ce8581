"""``editbench models``: build the tiny offline models and list the registered adapters."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

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


@models_group.command("tiny-pipelines")
@click.argument("dest", type=click.Path(file_okay=False, path_type=Path))
@click.argument("names", nargs=-1)
def tiny_pipelines_command(dest: Path, names: tuple[str, ...]) -> None:
    """Build tiny random diffusers editing pipelines in DEST/<PipelineClass> for diffusers:PATH.

    NAMES: pipeline classes (default: all that editbench can build tiny). Offline, seconds each
    on a CPU; outputs are noise. Example: editbench run --benchmark BENCH --editor
    diffusers:DEST/FluxKontextPipeline --param steps=2 --param working_area=64*64 ...
    """
    from editbench.models.tiny_pipelines import BUILDERS, build_tiny_pipeline

    unknown = sorted(set(names) - set(BUILDERS))
    if unknown:
        raise click.UsageError(f"no tiny builder for {', '.join(unknown)}; available: {', '.join(sorted(BUILDERS))}")
    for name in names or sorted(BUILDERS):
        click.echo(f"{name}: {build_tiny_pipeline(name, dest)}")


@models_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object: editors, judges, shadowed, notes.")
def list_command(as_json: bool) -> None:
    """List every editor and judge (use as --editor KIND:PATH / --judge KIND:PATH) with where it
    comes from: built-in, or the installed package (and version) that provides it.

    Each adapter is imported to check it loads; one that fails is shown as BROKEN with its error
    and the others are listed as usual. Plugins register through the entry-point groups
    editbench.editors and editbench.judges (docs/models.md).
    """
    from dataclasses import asdict

    from editbench.models.base import ROLES, adapters, registry_notes, shadowed_adapters

    listing = {f"{role}s": adapters(role, load=True) for role in ROLES}
    shadowed = shadowed_adapters()
    notes = registry_notes()
    if as_json:
        payload: dict[str, Any] = {key: [asdict(info) for info in infos] for key, infos in listing.items()}
        payload["shadowed"] = [asdict(info) for info in shadowed]
        payload["notes"] = notes
        click.echo(json.dumps(payload, indent=2))
        return
    for key, infos in listing.items():
        click.echo(f"{key}:")
        width = max((len(info.kind) for info in infos), default=0)
        for info in infos:
            line = f"  {info.kind:<{width}}  {info.origin:<24} {info.target}"
            click.echo(line)
            if info.error:
                click.echo(f"  {'':<{width}}  BROKEN: {info.error}")
    for info in shadowed:
        click.echo(f"ignored: {info.role} {info.kind!r} from {info.origin} ({info.target}): already provided by {info.shadowed_by}")
    for note in notes:
        click.echo(f"note: {note}")
