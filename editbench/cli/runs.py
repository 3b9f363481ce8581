"""``editbench run``, ``runs``, ``status``, ``resume``, ``follow`` and ``cancel``: submitting runs
and seeing them through. Every command that takes a RUN accepts its id or its name."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from editbench.cli.contract import EXIT_INTERRUPTED, CommandFailed
from editbench.errors import RunConfigError
from editbench.producer.progress import (
    RunStatusView,
    follow_run,
    format_duration,
    read_status,
)
from editbench.producer.runs import cancel_run, find_run, list_runs
from editbench.producer.submit import (
    ModelRef,
    RunRequest,
    load_run_config,
    parse_params,
    submit,
)

console = Console()
err_console = Console(stderr=True)

RUN_HELP = "RUN is a run id or a run name (the newest run with that name); `editbench runs` lists them."


@click.command("run")
@click.option("--benchmark", "benchmark", help="Registered benchmark name (see `editbench benchmarks`).")
@click.option("--benchmark-version", default=None, help="Use this registered version of the benchmark.  [default: the newest]")
@click.option("--editor", help="KIND:PATH, e.g. qwen-image-edit:/models/Qwen-Image-Edit, identity:, precomputed:/edits.")
@click.option(
    "--judge",
    help="KIND:PATH, e.g. qwen3-vl:/models/Qwen3-VL-8B-Instruct, or openai:gpt-4.1 (a model on an "
    "OpenAI-compatible server: --judge-param base_url=http://HOST:PORT/v1, key in EDITBENCH_OPENAI_API_KEY).",
)
@click.option("--category", "categories", multiple=True, help="Only these categories (repeatable). Default: all.")
@click.option("--param", "params", multiple=True, help="Editor parameter key=value (repeatable), e.g. steps=8, working_area=512*512.")
@click.option("--judge-param", "judge_params", multiple=True, help="Judge parameter key=value, e.g. mode=logits, batch_size=16.")
@click.option(
    "--seed", type=int, default=None, help="Run seed (0 to 2^63-1); each sample's seed derives from it and the sample id.  [default: 0]"
)
@click.option(
    "--routing",
    type=click.Choice(["shared", "round-robin"]),
    default=None,
    help="shared: idle GPUs pull the next sample (default, fastest); round-robin: sample i → GPU i mod N.",
)
@click.option("--gpus", type=int, default=None, help="Number of GPU queues for round-robin routing (>= 1).  [default: 1]")
@click.option("--judge-batch-size", type=int, default=None, help="Samples per judge batch (>= 1).  [default: 8]")
@click.option("--follow", is_flag=True, help="Standing run: categories and items ingested later are enqueued automatically.")
@click.option(
    "--config", "config_path", type=click.Path(dir_okay=False, path_type=Path), help="run.yaml with the same fields (see examples/)."
)
@click.option("--name", default="", help="A label for reports; other commands accept it in place of the run id.")
@click.option(
    "--limit",
    type=int,
    default=None,
    help="Only the first N items of each category (ingest order): a quick try. Recorded and shown in every report.",
)
@click.option(
    "--where",
    "where",
    multiple=True,
    metavar="KEY=VALUE",
    help="Only items whose metadata match (repeatable; keys AND, a repeated key ORs): language=en, "
    "subcategory=..., tag=..., or any key of the items' source, e.g. intersection_exist=true.",
)
@click.option("--wait", is_flag=True, help="Show progress bars, then the headline table; exit 1 if any sample failed or was not scored.")
def run_command(
    benchmark,
    benchmark_version,
    editor,
    judge,
    categories,
    params,
    judge_params,
    seed,
    routing,
    gpus,
    judge_batch_size,
    follow,
    config_path,
    name,
    limit,
    where,
    wait,
) -> None:
    """Record a run and enqueue one chord per category: edit tasks on the GPU queues, then the
    category's judging once its edits are through. Needs a running cluster (`editbench up`).

    Everything is checked before anything is recorded: the benchmark (and version), the
    categories, each model's kind, folder and every --param/--judge-param name and value (by
    the adapter's own validator), the numeric options, and that the broker answers. A refused
    run leaves no trace in the ledger.

    \b
    Example:
      editbench run --benchmark editbench-example \\
        --editor qwen-image-edit:/models/Qwen-Image-Edit --param steps=50 --param true_cfg_scale=4 \\
        --judge qwen3-vl:/models/Qwen3-VL-8B-Instruct --judge-param mode=logits --wait
      editbench run ... --limit 5 --where language=en      # a quick try on a slice
    """
    cfg = load_run_config(config_path) if config_path else {}
    request = _request(
        cfg,
        benchmark=benchmark,
        benchmark_version=benchmark_version,
        editor=editor,
        judge=judge,
        categories=categories,
        params=params,
        judge_params=judge_params,
        seed=seed,
        routing=routing,
        gpus=gpus,
        judge_batch_size=judge_batch_size,
        follow=follow,
        name=name,
        limit=limit,
        where=where,
        config_path=config_path,
    )
    run_id = submit(request)
    console.print(f"run [bold]{run_id}[/] submitted  (editbench status {run_id} · editbench report {run_id})")
    if wait:
        _wait(run_id)


def _config_where(value: object) -> list[str]:
    """run.yaml's ``where``: a list of KEY=VALUE strings, or a mapping KEY: VALUE (or a list of values)."""
    if isinstance(value, dict):
        return [f"{k}={v}" for k, values in value.items() for v in (values if isinstance(values, list) else [values])]
    if isinstance(value, list):
        return [str(v) for v in value]
    return [] if value is None else [str(value)]


def _request(cfg: dict[str, Any], *, config_path: Path | None, **options: Any) -> RunRequest:
    """Command-line options over run.yaml fields; a malformed field is one RunConfigError."""
    try:
        benchmark = options["benchmark"] or cfg.get("benchmark") or _missing("--benchmark")
        editor_cfg, judge_cfg = _section(cfg, "editor"), _section(cfg, "judge")
        editor_ref = ModelRef.parse(
            options["editor"] or _ref(editor_cfg, "--editor"),
            {**_mapping(editor_cfg.get("params"), "editor.params"), **parse_params(list(options["params"]))},
        )
        judge_ref = ModelRef.parse(
            options["judge"] or _ref(judge_cfg, "--judge"),
            {**_mapping(judge_cfg.get("params"), "judge.params"), **parse_params(list(options["judge_params"]))},
        )
        categories = list(options["categories"]) or cfg.get("categories") or None
        if categories is not None and (not isinstance(categories, list) or not all(isinstance(c, str) for c in categories)):
            raise RunConfigError("categories must be a list of category names")
        return RunRequest(
            benchmark=str(benchmark),
            benchmark_version=options["benchmark_version"] or _optional_text(cfg.get("benchmark_version")),
            editor=editor_ref,
            judge=judge_ref,
            categories=categories,
            seed=_pick_int(options["seed"], cfg, "seed", 0),
            routing=options["routing"] or cfg.get("routing", "shared"),
            gpus=_pick_int(options["gpus"], cfg, "gpus", 1),
            judge_batch_size=_pick_int(options["judge_batch_size"], cfg, "judge_batch_size", 8),
            follow=options["follow"] or bool(cfg.get("follow", False)),
            name=options["name"] or str(cfg.get("name", "") or ""),
            limit=options["limit"] if options["limit"] is not None else cfg.get("limit"),
            where=list(options["where"]) or _config_where(cfg.get("where")),
        )
    except RunConfigError as exc:
        raise RunConfigError(f"{config_path}: {exc}" if config_path and cfg else str(exc)) from None


def _section(cfg: dict[str, Any], key: str) -> dict[str, Any]:
    return _mapping(cfg.get(key), key)


def _mapping(value: Any, what: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise RunConfigError(f"{what} must be a mapping, got {type(value).__name__}")
    return value


def _optional_text(value: Any) -> str | None:
    return None if value is None else str(value)


def _pick_int(option: int | None, cfg: dict[str, Any], key: str, default: int) -> int:
    """The option if given (0 included: it is validated, not replaced), else run.yaml's field."""
    if option is not None:
        return option
    value = cfg.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise RunConfigError(f"{key} must be a whole number, got {value!r}")
    try:
        return int(value)
    except ValueError:
        raise RunConfigError(f"{key} must be a whole number, got {value!r}") from None


def _ref(cfg: dict, option: str) -> str:
    if not cfg:
        return _missing(option)
    if "kind" not in cfg:
        raise RunConfigError(f"{option.removeprefix('--')}.kind is missing")
    return f"{cfg['kind']}:{cfg.get('path') or ''}"


def _missing(option: str) -> str:
    raise RunConfigError(f"{option} is required (on the command line or in --config)")


def _wait(run_id: int) -> None:
    """Watch the run; at the end print its headline table and exit non-zero unless every
    sample was edited and every judgment scored."""
    view = _watch(run_id)
    _print_headline(run_id)
    _raise_unless_clean(view)


def _watch(run_id: int) -> RunStatusView:
    try:
        return follow_run(run_id, console=console)
    except KeyboardInterrupt:
        err_console.print(
            f"stopped watching; run {run_id} goes on in the workers. Re-attach: editbench status {run_id} --watch "
            f"(stop it: editbench cancel {run_id})",
            highlight=False,
            soft_wrap=True,
        )
        sys.exit(EXIT_INTERRUPTED)


def _raise_unless_clean(view: RunStatusView) -> None:
    if view.complete_and_clean:
        return
    t = view.totals
    if view.status == "cancelled":
        raise CommandFailed(f"run {view.run_id} was cancelled; `editbench resume {view.run_id}` restarts it")
    reasons = ", ".join(f"{f.stage} {f.error_code} ×{f.count}" for f in view.failures[:3])
    raise CommandFailed(
        f"run {view.run_id} finished with {t['edit_failed']} failed edit(s) and {t['judgments'] - t['scored']} "
        f"unscored judgment(s) of {t['judgments']}" + (f" ({reasons})" if reasons else "") + f"; `editbench status {view.run_id}` shows why"
    )


def _print_headline(run_id: int) -> None:
    """Per-category means and the overall (macro and micro) numbers, as report.md's headline."""
    from editbench.report.data import read_runs
    from editbench.report.summary import summarize

    [data] = read_runs([str(run_id)])
    summary = summarize(data)
    table = Table(title=f"run {run_id} — {data.benchmark.name} v{data.benchmark.version}")
    for column in ("category", "samples", "scored", "mean", "95% CI"):
        table.add_column(column, justify="left" if column == "category" else "right")
    for name, cat in summary.categories.items():
        block = cat.overall
        table.add_row(name, str(cat.n_samples), str(block.count), _num(block.mean), _interval(block.ci95))
    overall = summary.overall
    table.add_section()
    table.add_row(
        "overall (macro)",
        str(overall.samples.n_total),
        str(overall.samples.count),
        _num(overall.macro_mean.value),
        _interval(overall.macro_mean.ci95),
    )
    table.add_row("overall (micro)", "", "", _num(overall.micro_mean.value), _interval(getattr(overall.micro_mean, "ci95", None)))
    console.print(table)


def _num(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}"


def _interval(ci: Any) -> str:
    if ci is None:
        return "—"
    low, high = (ci.low, ci.high) if hasattr(ci, "low") else (ci[0], ci[1])
    return "—" if low is None or high is None else f"[{low:.2f}, {high:.2f}]"


# --------------------------------------------------------------------------- runs, status


@click.command("runs")
@click.option("--json", "as_json", is_flag=True, help="One JSON list, newest run first.")
@click.option("--limit", type=click.IntRange(min=1), default=None, help="Only the newest N runs.")
def runs_command(as_json: bool, limit: int | None) -> None:
    """List runs, newest first: id, name, benchmark, editor, judge, status, progress (finished
    work items of all, edits and judgments together; failures counted), created, wall time."""
    rows = list_runs(limit)
    now = datetime.now(UTC)
    if as_json:
        from editbench.producer.json_documents import RunsDocument

        click.echo(
            RunsDocument.model_validate(
                [
                    {
                        "id": r.id,
                        "name": r.name,
                        "benchmark": r.benchmark,
                        "benchmark_version": r.benchmark_version,
                        "editor": r.editor,
                        "judge": r.judge,
                        "status": r.status,
                        "work_total": r.work_total,
                        "work_final": r.work_final,
                        "work_failed": r.work_failed,
                        "created_at": _aware(r.created_at).isoformat(),
                        "finished_at": _aware(r.finished_at).isoformat() if r.finished_at else None,
                        "wall_s": _wall_s(r.created_at, r.finished_at, now),
                    }
                    for r in rows
                ]
            ).model_dump_json(indent=2)
        )
        return
    if not rows:
        console.print("no runs yet: `editbench run --benchmark NAME --editor KIND:PATH --judge KIND:PATH`")
        return
    table = Table(title="runs")
    for column in ("id", "name", "benchmark", "editor", "judge", "status", "progress", "created", "wall time"):
        table.add_column(column, justify="right" if column in ("id", "progress", "wall time") else "left")
    for r in rows:
        progress = f"{r.work_final}/{r.work_total}" + (f" [red]({r.work_failed} failed)[/]" if r.work_failed else "")
        table.add_row(
            str(r.id),
            escape(r.name),
            escape(f"{r.benchmark} v{r.benchmark_version}"),
            escape(r.editor),
            escape(r.judge),
            _status_markup(r.status),
            progress,
            _aware(r.created_at).strftime("%Y-%m-%d %H:%M"),
            format_duration(_wall_s(r.created_at, r.finished_at, now)),
        )
    console.print(table)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _wall_s(created: datetime, finished: datetime | None, now: datetime) -> float:
    return max(0.0, ((_aware(finished) if finished else now) - _aware(created)).total_seconds())


def _status_markup(status: str) -> str:
    return {"done": "[green]done[/]", "cancelled": "[yellow]cancelled[/]"}.get(status, status)


@click.command("status", epilog=RUN_HELP)
@click.argument("run")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output (counts per category, totals, failure reasons).")
@click.option("--watch", is_flag=True, help="Live progress bars until the run is done.")
def status_command(run: str, as_json: bool, watch: bool) -> None:
    """Per-category progress of RUN (edited / scored / failed / open counts) and why any work
    failed: failure reasons grouped by stage and reason code, with a count and one example."""
    run_id = find_run(run)
    view = _watch(run_id) if watch else read_status(run_id)
    if as_json:
        from editbench.producer.json_documents import StatusDocument

        click.echo(StatusDocument.model_validate(view.as_dict()).model_dump_json(indent=2))
        return
    from editbench.config import load_settings, redact
    from editbench.queue.broker import broker_url

    where = f"ledger {redact(load_settings().database_url)} · broker {redact(broker_url(required=False) or 'none')}"
    title = f"run {run_id}" + (f" ({view.name})" if view.name else "") + f" — {view.status}"
    table = Table(title=escape(title), caption=escape(where))
    keys = ("category", "samples", "edited", "edit_failed", "edits_open", "scored", "judgment_failed", "judgments_open")
    for column in keys:
        table.add_column(column, justify="left" if column == "category" else "right")
    for c in view.categories:
        table.add_row(*(escape(str(c[k])) for k in keys))
    console.print(table)
    if view.stop_reason:
        console.print(f"[red]stopped:[/] {escape(view.stop_reason)} — fix it, then `editbench resume {run_id}`")
    if view.failures:
        reasons = Table(title="why work failed (one example each; every message: editbench report)")
        for column in ("stage", "status", "reason", "count", "example"):
            reasons.add_column(column, justify="right" if column == "count" else "left", overflow="fold")
        for f in view.failures:
            reasons.add_row(f.stage, f.status, f.error_code, str(f.count), escape(f"{f.example_sample}: {f.example_error}"))
        console.print(reasons)
    if view.status == "cancelled":
        console.print(f"run {run_id} is cancelled; `editbench resume {run_id}` restarts it", highlight=False)
    for note in view.notes:  # e.g. the judge's budget stopped judging
        console.print(f"[yellow]{note}[/]", highlight=False)


# --------------------------------------------------------------------------- resume, follow, cancel


@click.command("resume", epilog=RUN_HELP)
@click.argument("run")
@click.option("--wait", is_flag=True, help="Show progress bars and return when the run is done.")
@click.option(
    "--judge-param",
    "judge_params",
    multiple=True,
    help="Change a judge parameter its adapter allows on a recorded run, e.g. budget_usd=20 after the budget stopped judging.",
)
def resume_command(run: str, wait: bool, judge_params: tuple[str, ...]) -> None:
    """Finish RUN from the ledger after a crash, or restart a stopped or cancelled run: work
    whose worker died goes back to the queue, pending work is re-enqueued, lost chord bodies are
    replaced. Safe to run any time: every task is idempotent, so nothing is done twice."""
    from editbench.producer.resume import resume_run
    from editbench.queue.connection import require_reachable_broker

    run_id = find_run(run)
    require_reachable_broker()
    report = resume_run(run_id, parse_params(list(judge_params)))
    console.print(
        f"run {run_id}: re-enqueued {report.requeued_edits} edit(s), {report.scored_categories} category scoring(s)"
        + (" — run already complete" if report.finished_runs else "")
    )
    if wait:
        _wait(run_id)


@click.command("follow", epilog=RUN_HELP)
@click.argument("run")
@click.option("--off", is_flag=True, help="Stop following: the run finishes once its current work is done.")
def follow_command(run: str, off: bool) -> None:
    """Make RUN a standing run (new ingests are enqueued for it), or stop that with --off."""
    from editbench.producer.resume import set_following
    from editbench.queue.connection import require_reachable_broker

    run_id = find_run(run)
    require_reachable_broker()
    report = set_following(run_id, not off)
    state = "no longer follows" if off else "follows"
    console.print(f"run {run_id} {state} new ingests" + (" — run complete" if report.finished_runs else ""))


@click.command("judge")
@click.argument("run")
@click.option("--judge", "judge", required=True, help="KIND:PATH of the new judge, e.g. qwen3-vl:/models/Qwen3-VL-32B-Instruct.")
@click.option("--judge-param", "judge_params", multiple=True, help="Judge parameter key=value (repeatable), e.g. mode=generate.")
@click.option("--judge-batch-size", type=int, default=None, help="Samples per judge batch.  [default: RUN's]")
@click.option("--name", default="", help="A label for reports.")
@click.option("--wait", is_flag=True, help="Show progress bars and return when the run is done.")
def judge_command(run: str, judge: str, judge_params: tuple[str, ...], judge_batch_size: int | None, name: str, wait: bool) -> None:
    """Judge RUN's edited images again with another judge, without editing anything.

    RUN (an id or a run name) must have finished its edits. The new run reuses RUN's edited
    images as they are (by content hash; nothing is copied, no edit task is sent), only judges,
    and names RUN as its parent in its run card. If any of RUN's images was deleted or changed,
    the command lists them and records nothing. Then compare the two judges:

    \b
    Example:
      editbench judge 3 --judge qwen3-vl:/models/Qwen3-VL-32B-Instruct --name judge-32b --wait
      editbench compare 3 judge-32b      # judge agreement (Spearman, Kendall) per category
    """
    from editbench.producer.rejudge import RejudgeRequest, submit_rejudge

    request = RejudgeRequest(
        str(find_run(run)), ModelRef.parse(judge, parse_params(list(judge_params))), name=name, judge_batch_size=judge_batch_size
    )
    run_id = submit_rejudge(request)  # refusals raise EditbenchError: one `error:` line (cli.contract)
    console.print(
        f"run [bold]{run_id}[/] submitted: judging run {run} again, no edits (editbench status {run_id} · editbench compare {run} {run_id})"
    )
    if wait:
        follow_run(run_id, console=console)


@click.command("cancel", epilog=RUN_HELP)
@click.argument("run")
def cancel_command(run: str) -> None:
    """Stop RUN: its queued tasks are taken back from the broker and revoked, and any task a
    worker still picks up is skipped before it claims anything, so no more GPU time goes to it.
    Work already running finishes. The rest stays pending: `editbench resume RUN` restarts it."""
    from editbench.queue.connection import require_reachable_broker

    run_id = find_run(run)
    require_reachable_broker()
    report = cancel_run(run_id)
    if not report.cancelled:
        console.print(f"run {run_id} is already {report.status}; nothing to cancel", highlight=False)
        return
    withdrawn = report.withdrawal.removed if report.withdrawal else 0
    console.print(
        f"run {run_id} cancelled: {withdrawn} queued task(s) withdrawn, {report.pending} work item(s) left pending "
        f"(editbench resume {run_id} restarts it)",
        highlight=False,
    )
