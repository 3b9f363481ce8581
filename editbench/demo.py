"""``editbench demo``: the whole pipeline on one machine with tiny offline models.

Every part is the real one — the native benchmark format, the ledger, an embedded Redis, real
Celery worker processes, diffusers' QwenImageEditPipeline and transformers'
Qwen3VLForConditionalGeneration loaded with ``from_pretrained`` — only the models are tiny and
randomly initialised, so the scores are noise and the point is the plumbing and the report.
"""

from __future__ import annotations

import time
from pathlib import Path

from rich.console import Console

from editbench.config import load_settings

# Small enough for two CPU cores; the tiny editor's cost is dominated by the working area.
DEMO_EDITOR_PARAMS = {"steps": 2, "working_area": "64*64", "true_cfg_scale": 1.0, "output_size": "source"}
# Logit scoring: a random tiny judge rarely writes valid JSON, so `generate` would mostly show
# (honestly recorded) parse errors; logits always yield a score and a confidence.
DEMO_JUDGE_PARAMS = {"mode": "logits"}


def run_demo(*, workers: int = 2, per_category: int = 8, out: str | None = None, console: Console | None = None) -> Path:
    from editbench.benchmark.example import write_example_benchmark
    from editbench.cluster.home_lock import HomeLock
    from editbench.cluster.launcher import Cluster, ClusterSpec
    from editbench.models.tiny import build_tiny_models
    from editbench.producer.ingest import ingest
    from editbench.producer.progress import follow_run
    from editbench.producer.submit import ModelRef, RunRequest, submit
    from editbench.report import write_report
    from editbench.schema.db import session_scope

    console = console or Console()
    settings = load_settings()
    # Refuse before writing or ingesting anything when `up` already runs on this home (the
    # cluster below takes the lock for real); see editbench/cluster/home_lock.py.
    HomeLock(settings.home).acquire().release()
    started = time.perf_counter()
    bench_dir = write_example_benchmark(settings.home / "example-benchmark", per_category=per_category, overwrite=True)
    report = ingest(bench_dir)
    console.print(f"[bold]1/5[/] benchmark {report.benchmark} ingested ({report.added_total} new samples)")
    models = build_tiny_models(settings.models_dir / "tiny")
    console.print(f"[bold]2/5[/] tiny models at {models.root}")
    with Cluster(ClusterSpec(cpu_workers=workers, beat=True, sweep_interval_s=10.0)) as cluster:
        cluster.wait_for_workers(workers)
        console.print(f"[bold]3/5[/] embedded cluster up: {workers} CPU workers (logs: {cluster.log_dir})")
        run_id = submit(
            RunRequest(
                benchmark=report.benchmark,
                editor=ModelRef("qwen-image-edit", str(models.editor), dict(DEMO_EDITOR_PARAMS)),
                judge=ModelRef("qwen3-vl", str(models.judge), dict(DEMO_JUDGE_PARAMS)),
                gpus=workers,
                name="demo (tiny random models)",
            )
        )
        console.print(f"[bold]4/5[/] run {run_id}: editing and judging through Celery")
        follow_run(run_id, console=console, timeout_s=600)
    out_dir = Path(out) if out else settings.home / "reports" / f"run-{run_id}"
    with session_scope() as session:
        paths = write_report(session, run_id, out_dir)
    console.print(f"[bold]5/5[/] report written in {time.perf_counter() - started:.0f}s:")
    for label, path in paths.__dict__.items():
        console.print(f"    {label:<10} {path}")
    return out_dir
