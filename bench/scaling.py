"""Multi-GPU scaling of a real editbench run: images per second with N workers vs N × one.

Everything is the production path: the example benchmark is ingested, `editbench up`'s cluster
(`Cluster`) starts one worker per GPU against an embedded Redis, runs are submitted with
`submit()` and finish through the chords, the judge and the ledger. The models are the
full-size Qwen-Image-Edit and Qwen3-VL-8B architectures with random weights built on each GPU
(capacity-planning mode, `capacity=full`), so the timings are real and the scores are noise.

Per worker count N:
1. warm-up run: N samples routed round-robin with judge batches of one, so every worker loads
   its editor and its judge exactly once (loads are counted from the workers' logs);
2. measured run: --per-worker × N further samples in four categories on the shared queue;
   throughput = samples ÷ the run's wall time (submit → the ledger marks it done), judging
   included.

    python bench/scaling.py --gpus 1,4 --steps 8 --json scaling.json          # on a 4-GPU host
    python bench/scaling.py --cpu-workers 1,2 --capacity tiny --steps 2       # plumbing check on a CPU
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

MEASURED_CATEGORIES = 4


def _configure_home(home: Path) -> None:
    os.environ["EDITBENCH_HOME"] = str(home)
    os.environ.pop("EDITBENCH_DATABASE_URL", None)
    os.environ.pop("EDITBENCH_BROKER_URL", None)


def _run_and_wait(
    benchmark: str,
    models,
    categories: list[str],
    *,
    routing: str,
    gpus: int,
    judge_batch: int,
    editor_params: dict,
    judge_params: dict,
    timeout_s: float,
) -> tuple[int, float]:
    from editbench.producer.progress import read_status
    from editbench.producer.submit import ModelRef, RunRequest, submit

    started = time.perf_counter()
    run_id = submit(
        RunRequest(
            benchmark=benchmark,
            editor=ModelRef("qwen-image-edit", str(models.editor), dict(editor_params)),
            judge=ModelRef("qwen3-vl", str(models.judge), dict(judge_params)),
            categories=categories,
            routing=routing,
            gpus=gpus,
            judge_batch_size=judge_batch,
            name=f"scaling N={gpus} {routing}",
        )
    )
    while not read_status(run_id).finished:
        if time.perf_counter() - started > timeout_s:
            raise TimeoutError(f"run {run_id} did not finish in {timeout_s:.0f}s")
        time.sleep(0.2)
    return run_id, time.perf_counter() - started


def _run_counts(run_id: int) -> dict[str, int]:
    from sqlalchemy import func, select

    from editbench.schema.db import session_scope
    from editbench.schema.models import Edit, Judgment

    with session_scope() as s:
        edits = dict(s.execute(select(Edit.status, func.count()).where(Edit.run_id == run_id).group_by(Edit.status)).all())
        judgments = dict(s.execute(select(Judgment.status, func.count()).where(Judgment.run_id == run_id).group_by(Judgment.status)).all())
    return {f"edits_{k.value}": v for k, v in edits.items()} | {f"judgments_{k.value}": v for k, v in judgments.items()}


def _model_loads(log_dir: Path) -> dict[str, list[str]]:
    loads = {}
    for log in sorted(log_dir.glob("worker-*.log")):
        loads[log.stem] = re.findall(r"model load: (\w+ [\w-]+)", log.read_text(errors="replace"))
    return loads


def measure(n: int, *, use_gpus: bool, benchmark: str, models, sample_ids: dict[str, list[str]], args) -> dict:
    from editbench.cluster.launcher import Cluster, ClusterSpec

    editor_params = {
        "steps": args.steps,
        "true_cfg_scale": args.cfg,
        "working_area": args.area,
        "output_size": "source",
        "capacity": args.capacity,
        **({"dtype": "bfloat16", "compile": str(args.compile).lower()} if use_gpus else {}),
    }
    judge_params = {
        "mode": "logits",
        "capacity": args.capacity,
        "batch_size": args.judge_batch,
        **({"dtype": "bfloat16"} if use_gpus else {}),
    }
    spec = ClusterSpec(gpus=list(range(n)) if use_gpus else [], cpu_workers=0 if use_gpus else n, beat=False)
    log_dir = Path(os.environ["EDITBENCH_HOME"]) / "logs"
    for old in log_dir.glob("*.log"):
        old.unlink()
    with Cluster(spec) as cluster:
        cluster.wait_for_workers(n, timeout_s=300)
        warm_run, warm_s = _run_and_wait(
            benchmark,
            models,
            [f"warm{n}"],
            routing="round-robin",
            gpus=n,
            judge_batch=1,
            editor_params=editor_params,
            judge_params=judge_params,
            timeout_s=args.timeout,
        )
        measured = [f"measure{n}-{k}" for k in range(MEASURED_CATEGORIES)]
        run_id, wall_s = _run_and_wait(
            benchmark,
            models,
            measured,
            routing="shared",
            gpus=n,
            judge_batch=args.judge_batch,
            editor_params=editor_params,
            judge_params=judge_params,
            timeout_s=args.timeout,
        )
        loads = _model_loads(log_dir)
    samples = sum(len(sample_ids[name]) for name in measured)
    return {
        "workers": n,
        "warmup_s": round(warm_s, 2),
        "samples": samples,
        "wall_s": round(wall_s, 3),
        "images_per_s": samples / wall_s,
        "counts": _run_counts(run_id) | {"warmup": _run_counts(warm_run)},
        "model_loads": loads,
    }


def write_benchmark(root: Path, counts: list[int], per_worker: int) -> tuple[Path, dict[str, list[str]]]:
    """A native-format benchmark with a warm-up and a measured category per worker count, drawn
    from the example benchmark's images and instructions."""
    import yaml

    from editbench.benchmark.example import write_example_benchmark

    example = write_example_benchmark(root / "example", per_category=8)
    items = [json.loads(line) for line in (example / "items.jsonl").read_text().splitlines()]
    manifest = yaml.safe_load((example / "benchmark.yaml").read_text())
    template = next(c for c in manifest["categories"] if c["name"] == "environment")
    categories, lines, ids = [], [], {}
    for n in counts:
        # The measured samples are split over MEASURED_CATEGORIES categories, like a real
        # benchmark: one category's judging overlaps the next category's edits.
        sizes = [(f"warm{n}", n)] + [(f"measure{n}-{k}", max(1, per_worker * n // MEASURED_CATEGORIES)) for k in range(MEASURED_CATEGORIES)]
        for name, size in sizes:
            categories.append({**template, "name": name})
            ids[name] = []
            for i in range(size):
                item = dict(items[i % len(items)])
                item.update(id=f"{name}-{i:03d}", category=name)
                lines.append(json.dumps(item))
                ids[name].append(item["id"])
    manifest.update(name="scaling", version="1", categories=categories)
    (example / "benchmark.yaml").write_text(yaml.safe_dump(manifest, sort_keys=False))
    (example / "items.jsonl").write_text("\n".join(lines) + "\n")
    return example, ids


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--gpus", help="comma-separated GPU worker counts, e.g. 1,4 (first is the baseline)")
    parser.add_argument("--cpu-workers", help="comma-separated CPU worker counts instead (plumbing check)")
    parser.add_argument("--capacity", default="full", choices=["full", "tiny"])
    parser.add_argument("--steps", type=int, default=8)
    parser.add_argument("--cfg", type=float, default=1.0, help="true CFG scale (1 = off)")
    parser.add_argument("--area", default="1024*1024")
    parser.add_argument("--compile", action="store_true")
    parser.add_argument("--judge-batch", type=int, default=4)
    parser.add_argument("--per-worker", type=int, default=8, help="measured samples per worker")
    parser.add_argument("--timeout", type=float, default=900)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    use_gpus = bool(args.gpus)
    counts = [int(x) for x in (args.gpus or args.cpu_workers or "1,2").split(",")]

    home = Path(tempfile.mkdtemp(prefix="editbench-scaling-"))
    _configure_home(home)
    from editbench.cluster.embedded_redis import EmbeddedRedis
    from editbench.models.tiny import build_tiny_models
    from editbench.producer.ingest import ingest

    folder, sample_ids = write_benchmark(home, counts, args.per_worker)
    benchmark = ingest(folder).benchmark
    models = build_tiny_models(home / "tiny")  # tokenizer + processor; weights come from capacity mode
    # One broker for every cluster size, so the producer's connections stay valid between them.
    redis = EmbeddedRedis(home / "redis").start()
    os.environ["EDITBENCH_BROKER_URL"] = redis.url
    try:
        results = [measure(n, use_gpus=use_gpus, benchmark=benchmark, models=models, sample_ids=sample_ids, args=args) for n in counts]
    finally:
        redis.stop()
    base = results[0]["images_per_s"] / results[0]["workers"]
    for r in results:
        r["efficiency_vs_n_times_single"] = r["images_per_s"] / (base * r["workers"])
    report = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": " ".join([Path(sys.argv[0]).name, *sys.argv[1:]]),
        "device": _device_name(use_gpus),
        "settings": {k: v for k, v in vars(args).items() if k != "json"} | {"json": str(args.json) if args.json else None},
        "results": results,
    }
    print(f"{'workers':>7} {'samples':>7} {'wall s':>8} {'img/s':>8} {'vs N×1':>7}  model loads per worker")
    for r in results:
        loads = {w: len(v) for w, v in r["model_loads"].items()}
        print(
            f"{r['workers']:>7} {r['samples']:>7} {r['wall_s']:>8.2f} {r['images_per_s']:>8.3f} "
            f"{r['efficiency_vs_n_times_single']:>7.3f}  {loads}"
        )
    if args.json:
        args.json.write_text(json.dumps(report, indent=2, default=str))
    return 0


def _device_name(use_gpus: bool) -> str:
    if not use_gpus:
        import platform

        return f"CPU ({platform.processor() or platform.machine()}, {os.cpu_count()} cores)"
    from editbench.cluster.launcher import gpu_description

    return gpu_description("name")


if __name__ == "__main__":
    sys.exit(main())
