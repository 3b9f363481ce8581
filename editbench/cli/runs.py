"""``editbench run``, ``status`` and ``resume``: submitting runs and seeing them through."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from editbench.producer.progress import follow_run, read_status
from editbench.producer.submit import (
    ModelRef,
    RunConfigError,
    RunRequest,
    load_run_config,
    parse_params,
    submit,
)
from editbench.queue.broker import NoBrokerError

console = Console()


@click.command("run")
@click.option("--benchmark", "benchmark", help="Registered benchmark name (see `editbench benchmarks`).")
@click.option("--editor", help="KIND:PATH, e.g. qwen-image-edit:/models/Qwen-Image-Edit, identity:, precomputed:/edits.")
@click.option("--judge", help="KIND:PATH, e.g. qwen3-vl:/models/Qwen3-VL-8B-Instruct, or openai:gpt-4.1 (a model on an "
              "OpenAI-compatible server: --judge-param base_url=http://HOST:PORT/v1, key in EDITBENCH_OPENAI_API_KEY).")
@click.option("--category", "categories", multiple=True, help="Only these categories (repeatable). Default: all.")
@click.option("--param", "params", multiple=True, help="Editor parameter key=value (repeatable), e.g. steps=8, working_area=512*512.")
@click.option("--judge-param", "judge_params", multiple=True, help="Judge parameter key=value, e.g. mode=logits, batch_size=16.")
@click.option("--seed", type=int, default=None, help="Run seed; each sample's seed derives from it and the sample id.  [default: 0]")
@click.option("--routing", type=click.Choice(["shared", "round-robin"]), default=None,
              help="shared: idle GPUs pull the next sample (default, fastest); round-robin: sample i → GPU i mod N.")
@click.option("--gpus", type=int, default=None, help="Number of GPU queues for round-robin routing.  [default: 1]")
@click.option("--judge-batch-size", type=int, default=None, help="Samples per judge batch.  [default: 8]")
@click.option("--follow", is_flag=True, help="Standing run: categories and items ingested later are enqueued automatically.")
@click.option("--config", "config_path", type=click.Path(exists=True, dir_okay=False, path_type=Path), help="run.yaml with the same fields (see examples/).")
@click.option("--name", default="", help="A label for reports.")
@click.option("--wait", is_flag=True, help="Show progress bars and return when the run is done.")
def run_command(benchmark, editor, judge, categories, params, judge_params, seed, routing, gpus, judge_batch_size, follow, config_path, name, wait) -> None:
    """Record a run and enqueue one chord per category: edit tasks on the GPU queues, then the
    category's judging once its edits are through. Needs a running cluster (`editbench up`).

    \b
    Example:
      editbench run --benchmark editbench-example \\
        --editor qwen-image-edit:/models/Qwen-Image-Edit --param steps=50 --param true_cfg_scale=4 \\
        --judge qwen3-vl:/models/Qwen3-VL-8B-Instruct --judge-param mode=logits --wait
    """
    cfg = load_run_config(config_path) if config_path else {}
    try:
        editor_cfg, judge_cfg = cfg.get("editor", {}), cfg.get("judge", {})
        editor_ref = ModelRef.parse(editor or _ref(editor_cfg), {**editor_cfg.get("params", {}), **parse_params(list(params))})
        judge_ref = ModelRef.parse(judge or _ref(judge_cfg), {**judge_cfg.get("params", {}), **parse_params(list(judge_params))})
        request = RunRequest(
            benchmark=benchmark or cfg.get("benchmark") or _missing("--benchmark"),
            editor=editor_ref,
            judge=judge_ref,
            categories=list(categories) or cfg.get("categories") or None,
            seed=seed if seed is not None else int(cfg.get("seed", 0)),
            routing=routing or cfg.get("routing", "shared"),
            gpus=gpus or int(cfg.get("gpus", 1)),
            judge_batch_size=judge_batch_size or int(cfg.get("judge_batch_size", 8)),
            follow=follow or bool(cfg.get("follow", False)),
            name=name or cfg.get("name", ""),
        )
        run_id = submit(request)
    except (RunConfigError, NoBrokerError) as exc:
        raise click.ClickException(str(exc)) from exc
    console.print(f"run [bold]{run_id}[/] submitted  (editbench status {run_id} · editbench report {run_id})")
    if wait:
        follow_run(run_id, console=console)


def _ref(cfg: dict) -> str:
    if not cfg:
        return _missing("--editor/--judge")
    return f"{cfg['kind']}:{cfg.get('path') or ''}"


def _missing(option: str) -> str:
    raise RunConfigError(f"{option} is required (on the command line or in --config)")


@click.command("status")
@click.argument("run_id", type=int)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option("--watch", is_flag=True, help="Live progress bars until the run is done.")
def status_command(run_id: int, as_json: bool, watch: bool) -> None:
    """Per-category progress of RUN_ID: edited / scored / failed / open counts."""
    try:
        view = follow_run(run_id, console=console) if watch else read_status(run_id)
    except KeyError as exc:
        raise click.ClickException(str(exc)) from exc
    if as_json:
        click.echo(json.dumps(view.as_dict(), indent=2))
        return
    from editbench.config import load_settings, redact
    from editbench.queue.broker import broker_url

    where = f"ledger {redact(load_settings().database_url)} · broker {redact(broker_url(required=False) or 'none')}"
    table = Table(title=f"run {run_id} — {view.status}", caption=where)
    for column in ("category", "samples", "edited", "edit_failed", "edits_open", "scored", "judgment_failed", "judgments_open"):
        table.add_column(column, justify="left" if column == "category" else "right")
    for c in view.categories:
        table.add_row(*(str(c[k]) for k in ("category", "samples", "edited", "edit_failed", "edits_open", "scored", "judgment_failed", "judgments_open")))
    console.print(table)
    for note in view.notes:  # e.g. the judge's budget stopped judging
        console.print(f"[yellow]{note}[/]", highlight=False)


@click.command("resume")
@click.argument("run_id", type=int)
@click.option("--wait", is_flag=True, help="Show progress bars and return when the run is done.")
@click.option("--judge-param", "judge_params", multiple=True,
              help="Change a judge parameter its adapter allows on a recorded run, e.g. budget_usd=20 after the budget stopped judging.")
def resume_command(run_id: int, wait: bool, judge_params: tuple[str, ...]) -> None:
    """Finish RUN_ID from the ledger after a crash: work whose worker died goes back to the
    queue, pending work is re-enqueued, lost chord bodies are replaced. Safe to run any time:
    every task is idempotent, so nothing is done twice."""
    from editbench.producer.resume import resume_run

    try:
        report = resume_run(run_id, parse_params(list(judge_params)))
    except (NoBrokerError, RunConfigError, LookupError) as exc:
        raise click.ClickException(str(exc)) from exc
    console.print(f"run {run_id}: re-enqueued {report.requeued_edits} edit(s), {report.scored_categories} category scoring(s)"
                  + (" — run already complete" if report.finished_runs else ""))
    if wait:
        follow_run(run_id, console=console)
    sys.exit(0)


@click.command("follow")
@click.argument("run_id", type=int)
@click.option("--off", is_flag=True, help="Stop following: the run finishes once its current work is done.")
def follow_command(run_id: int, off: bool) -> None:
    """Make RUN_ID a standing run (new ingests are enqueued for it), or stop that with --off."""
    from editbench.producer.resume import set_following

    report = set_following(run_id, not off)
    state = "no longer follows" if off else "follows"
    console.print(f"run {run_id} {state} new ingests" + (" — run complete" if report.finished_runs else ""))
