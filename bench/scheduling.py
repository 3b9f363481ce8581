#!/usr/bin/env python3
"""Schedule efficiency (issue 7, part 4): makespan ÷ ideal of editbench's schedule vs the
original design's, on real Redis and real worker processes whose edits sleep log-normal times.

Everything is real except the models: a SQLite ledger (PostgreSQL with ``--database``), the local Redis (its own database
number; or an embedded one), N ``editbench worker --cpu --slot K`` processes, the real
``editbench.edit_sample`` / ``score_category`` / ``judge_batch`` tasks. The models are the
``simulated`` adapters (``editbench/models/simulated.py``): an edit sleeps
``median_s · exp(sigma · z)`` seconds, z drawn from a seed and the sample id, so both schedules
of a repetition do exactly the same work; the judge sleeps ``per_image_s`` per image.

Time is scaled down: a 50-step 1024² edit takes ~40 s on an H100 (docs/FACTS §3); here the
median edit takes ``--median-s`` (default 0.5 s, i.e. 1/80) and a judged image
``--judge-ratio`` × that (default 0.003: 121 ms per image for the judge at batch 16 vs ~40 s per
edit). Celery's and the ledger's fixed cost per task does not scale down with it, so it weighs
~80× more here than on GPUs; the zero-overhead model printed beside each measurement separates
what the schedule costs from what that fixed cost adds.

Schedules (270 pairs over five categories of 50/50/54/58/58, 6 workers by default):

* editbench: ``dispatch.submit_run`` — one chord per category, all sent at once to the shared
  queue (idle workers pull the next sample, so category k+1's edits start while category k's
  last ones finish); each chord body fans judge batches out on the shared queue.
* original: categories one after another; within a category, batches of N samples sent
  round-robin (sample j of a batch pinned to worker j) with a barrier after each batch
  (``group(...).apply_async().get()`` from this driver); then the category's judge batches all
  on worker 0 while the other workers wait.

ideal = (sum of edit sleeps + sum of judge sleeps) ÷ N: perfect packing, no overhead.

It also measures Celery's per-task overhead on the same workers: 10,000 tiny tasks, then 2,000
tasks of 20 ms (CPU not saturated), each batch queued first, then drained (``bench/load.py``
explains the definition), and editbench's own cost per edit from the ledger's timestamps.

    python bench/scheduling.py --json sched.json          # the full study (~6.5 min on 2 cores)
    python bench/scheduling.py --quick                    # CI: tiny sizes, < 30 s
    python bench/scheduling.py --spreads 0.1 --reps 1 --overhead-tasks 0
"""

from __future__ import annotations

import argparse
import heapq
import importlib.util
import itertools
import json
import statistics
import sys
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def _load_harness() -> Any:
    spec = importlib.util.spec_from_file_location("editbench_bench_load", Path(__file__).with_name("load.py"))
    module = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


harness = _load_harness()

CATEGORY_SIZES = (50, 50, 54, 58, 58)
# Judge seconds per image ÷ edit seconds per image, from docs/FACTS §3 (121 ms vs ~40 s).
JUDGE_TO_EDIT = 0.003
# What a scaled-down run stands for: a 50-step 1024² edit on an H100 (37-46 s, docs/FACTS §3).
FULL_SCALE_MEDIAN_S = 40.0
SCHEDULES = ("editbench", "original")
# GroupResult.get() polls the backend once before it waits on pub/sub, and sleeps ``interval``
# (default 0.5 s) in between when a result is not ready yet: 0.5 s per barrier would be an
# artifact of this driver, not of the original design, so the poll is made short.
BARRIER_POLL_S = 0.002
WARMUP_CATEGORY = "warmup"


@dataclass(frozen=True)
class Study:
    workers: int
    sizes: tuple[int, ...]
    median_s: float
    judge_per_image_s: float
    judge_batch_size: int
    spreads: tuple[float, ...]
    reps: int
    overhead_tasks: int


# --------------------------------------------------------------------------------- benchmark


def write_benchmark(folder: Path, sizes: tuple[int, ...], warmup: int) -> Path:
    """A simple-layout benchmark: one folder per category, tiny distinct PNGs."""
    from PIL import Image

    categories = [(f"cat{i + 1}", n) for i, n in enumerate(sizes)] + [(WARMUP_CATEGORY, warmup)]
    for category, count in categories:
        directory = folder / category
        directory.mkdir(parents=True, exist_ok=True)
        rows = []
        for j in range(count):
            name = f"{category}-{j:03d}"
            Image.new("RGB", (32, 32), ((j * 37) % 256, (j * 91) % 256, sum(map(ord, category)) % 256)).save(directory / f"{name}.png")
            rows.append({"image": f"{name}.png", "instruction": "make the square red", "id": name})
        (directory / "instructions.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return folder


def ingest_benchmark(folder: Path) -> str:
    from editbench.producer.ingest import ingest

    return ingest(folder).benchmark


def category_names(sizes: tuple[int, ...]) -> list[str]:
    return [f"cat{i + 1}" for i in range(len(sizes))]


# --------------------------------------------------------------------------------- runs


def create_run(
    benchmark: str,
    study: Study,
    *,
    sigma: float,
    seed: int,
    routing: str,
    categories: list[str],
    name: str,
    judge_batch_size: int | None = None,
) -> int:
    from editbench.producer.submit import ModelRef, RunRequest
    from editbench.producer.submit import create_run as _create_run

    editor = ModelRef("simulated", None, {"median_s": study.median_s, "sigma": sigma, "seed": seed})
    judge = ModelRef("simulated", None, {"per_image_s": study.judge_per_image_s, "seed": seed})
    return _create_run(
        RunRequest(
            benchmark=benchmark,
            editor=editor,
            judge=judge,
            categories=categories,
            seed=seed,
            routing=routing,
            gpus=study.workers,
            judge_batch_size=judge_batch_size or study.judge_batch_size,
            name=name,
        )
    )


def run_samples(run_id: int) -> list[tuple[int, list[tuple[int, str]]]]:
    """[(category id, [(sample id, external id), ...]), ...], both in the ledger's order."""
    from sqlalchemy import select

    from editbench.schema.db import session_scope
    from editbench.schema.models import Edit, Sample

    with session_scope() as session:
        rows = session.execute(
            select(Edit.category_id, Edit.sample_id, Sample.external_id)
            .join(Sample, Sample.id == Edit.sample_id)
            .where(Edit.run_id == run_id)
            .order_by(Edit.sample_id)
        ).all()
    by_category: dict[int, list[tuple[int, str]]] = {}
    for category_id, sample_id, external_id in rows:
        by_category.setdefault(category_id, []).append((sample_id, external_id))
    return sorted(by_category.items())


def _timestamp(value: datetime) -> float:
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).timestamp()


# A run whose work is all final but which nobody marked done (see ``wait_finished``) is taken
# as finished after this long; a real cluster's sweeper (beat, every 30 s) would mark it.
UNMARKED_GRACE_S = 2.0


def wait_finished(run_id: int, timeout_s: float) -> tuple[float, bool]:
    """Block until the run is over; return (when, whether a worker marked it done).

    Normally a worker marks the run done when it records the last judgment, and that time is
    the end. If every edit and judgment is final but the run stays open (two last batches
    committing at once can each miss the other's rows), the end is the last recorded item and
    the run is reported as not marked: there is no sweeper here to close it."""
    from sqlalchemy import func, select

    from editbench.schema.db import session_scope
    from editbench.schema.models import FINAL_STATES, Edit, Judgment, Run, RunStatus

    deadline = time.monotonic() + timeout_s
    all_final_since: float | None = None
    while time.monotonic() < deadline:
        with session_scope() as session:
            run = session.get(Run, run_id)
            if run.status == RunStatus.DONE and run.finished_at is not None:
                return _timestamp(run.finished_at), True
            open_items = sum(
                session.scalar(select(func.count()).select_from(m).where(m.run_id == run_id, m.status.not_in(FINAL_STATES))) or 0
                for m in (Edit, Judgment)
            )
            if open_items:
                all_final_since = None
            elif all_final_since is None:
                all_final_since = time.monotonic()
            elif time.monotonic() - all_final_since > UNMARKED_GRACE_S:
                last = max(session.scalar(select(func.max(m.finished_at)).where(m.run_id == run_id)) for m in (Edit, Judgment))
                return _timestamp(last), False
        time.sleep(0.05)
    from editbench.producer.progress import read_status

    raise TimeoutError(f"run {run_id} not finished within {timeout_s:.0f}s: {read_status(run_id).categories}")


def ledger_counts(run_id: int) -> dict[str, int]:
    from sqlalchemy import func, select

    from editbench.schema.db import session_scope
    from editbench.schema.models import Edit, Judgment, Status

    with session_scope() as session:

        def count(model: type, *cond: Any) -> int:
            return session.scalar(select(func.count()).select_from(model).where(model.run_id == run_id, *cond)) or 0

        return {
            "edits": count(Edit),
            "edits_done": count(Edit, Edit.status == Status.DONE),
            "judgments": count(Judgment),
            "judgments_done": count(Judgment, Judgment.status == Status.DONE),
        }


def schedule_editbench(run_id: int) -> None:
    from editbench.queue import dispatch

    dispatch.submit_run(run_id)


def schedule_original(run_id: int, workers: int, timeout_s: float) -> None:
    """The original design, driven from here with Celery barriers."""
    from celery import group

    from editbench.queue.app import app
    from editbench.queue.names import pinned_queue
    from editbench.workers.score import plan_category_scoring

    for category_id, samples in run_samples(run_id):
        for start in range(0, len(samples), workers):
            batch = samples[start : start + workers]
            edits = [app.signature("editbench.edit_sample", args=(run_id, sid), queue=pinned_queue(j)) for j, (sid, _) in enumerate(batch)]
            group(edits).apply_async().get(timeout=timeout_s, interval=BARRIER_POLL_S)
        plan = plan_category_scoring(run_id, category_id)
        if plan.batches is None:
            raise RuntimeError(f"category {category_id}: edits not final after their barrier")
        judges = [app.signature("editbench.judge_batch", args=(run_id, category_id, b), queue=pinned_queue(0)) for b in plan.batches]
        if judges:
            group(judges).apply_async().get(timeout=timeout_s, interval=BARRIER_POLL_S)


# --------------------------------------------------------------------------------- model


def edit_durations(run_id: int, study: Study, sigma: float, seed: int) -> list[list[float]]:
    from editbench.models.simulated import edit_duration

    return [
        [edit_duration(external, median_s=study.median_s, sigma=sigma, seed=seed) for _, external in samples]
        for _, samples in run_samples(run_id)
    ]


def judge_batches(durations: list[list[float]], study: Study) -> list[list[float]]:
    size = study.judge_batch_size
    return [[study.judge_per_image_s * len(c[i : i + size]) for i in range(0, len(c), size)] for c in durations]


def ideal_makespan(durations: list[list[float]], study: Study) -> float:
    judge = study.judge_per_image_s * sum(len(c) for c in durations)
    return (sum(map(sum, durations)) + judge) / study.workers


def model_editbench(durations: list[list[float]], study: Study) -> float:
    """Zero-overhead editbench: edits pulled in submission order by whichever worker is free
    first; each category's judge batches join the back of the queue when its last edit ends."""
    return _model_editbench(durations, study)[0]


def _model_editbench(durations: list[list[float]], study: Study) -> tuple[float, float]:
    """(makespan, end of the last edit)."""
    free = [0.0] * study.workers
    category_done = []
    for category in durations:
        last = 0.0
        for d in category:
            end = heapq.heappop(free) + d
            heapq.heappush(free, end)
            last = max(last, end)
        category_done.append(last)
    for ready, d in sorted((category_done[c], d) for c, batches in enumerate(judge_batches(durations, study)) for d in batches):
        heapq.heappush(free, max(heapq.heappop(free), ready) + d)
    return max(free), max(category_done, default=0.0)


def model_original(durations: list[list[float]], study: Study) -> float:
    """Zero-overhead original: a batch lasts as long as its slowest edit; judging is serial."""
    return _model_original(durations, study)[0]


def _model_original(durations: list[list[float]], study: Study) -> tuple[float, float]:
    n = study.workers
    edits = sum(max(c[i : i + n]) for c in durations for i in range(0, len(c), n))
    judging = [sum(batches) for batches in judge_batches(durations, study)]
    return edits + sum(judging), edits + sum(judging[:-1])


# --------------------------------------------------------------------------------- study


def warm_up(benchmark: str, study: Study, *, sigma: float, seed: int) -> None:
    """Load the run's exact editor and judge in every worker child before anything is timed.

    A worker keeps its models for its life (a real one takes minutes to load, always before the
    benchmark's first image); here each configuration is a new model for the worker's cache, so
    a round-robin run over one sample per worker, judged one image per batch, loads it
    everywhere first."""
    from editbench.queue import dispatch

    run_id = create_run(
        benchmark,
        study,
        sigma=sigma,
        seed=seed,
        routing="round-robin",
        categories=[WARMUP_CATEGORY],
        name=f"warmup-sigma{sigma}-seed{seed}",
        judge_batch_size=1,
    )
    dispatch.submit_run(run_id)
    if not wait_finished(run_id, 120)[1]:
        print(f"  warning: warm-up run {run_id}: all work final but the run was never marked done", flush=True)


def edit_timeline(run_id: int, study: Study, sigma: float, seed: int) -> dict[str, Any]:
    """editbench's own cost per edit, from the ledger: ``in_task`` = claim to record minus the
    editor's sleep (ledger writes, image load and store); ``gap`` = a worker's record of one
    edit to its claim of the next (Celery: ack, result, next message)."""
    from sqlalchemy import select

    from editbench.models.simulated import edit_duration
    from editbench.schema.db import session_scope
    from editbench.schema.models import Edit, Sample

    with session_scope() as session:
        rows = session.execute(
            select(Edit.worker, Edit.started_at, Edit.finished_at, Sample.external_id)
            .join(Sample, Sample.id == Edit.sample_id)
            .where(Edit.run_id == run_id)
        ).all()
    by_worker: dict[str, list[tuple[float, float, str]]] = {}
    for worker, started, finished, external in rows:
        by_worker.setdefault(worker, []).append((_timestamp(started), _timestamp(finished), external))
    in_task, gap = [], []
    for edits in by_worker.values():
        edits.sort()
        for claimed, recorded, external in edits:
            in_task.append(recorded - claimed - edit_duration(external, median_s=study.median_s, sigma=sigma, seed=seed))
        gap.extend(b[0] - a[1] for a, b in itertools.pairwise(edits))
    starts = [e[0] for edits in by_worker.values() for e in edits]
    ends = [e[1] for edits in by_worker.values() for e in edits]
    return {"in_task": in_task, "gap": gap, "first_claim": min(starts), "last_record": max(ends)}


def _ms_quantiles(values: list[float]) -> dict[str, float]:
    return {"p50_ms": harness.percentile(values, 50) * 1000, "p99_ms": harness.percentile(values, 99) * 1000, "n": len(values)}


def measure(benchmark: str, study: Study, schedule: str, sigma: float, rep: int) -> dict[str, Any]:
    seed = rep
    routing = "shared" if schedule == "editbench" else "round-robin"
    run_id = create_run(
        benchmark,
        study,
        sigma=sigma,
        seed=seed,
        routing=routing,
        categories=category_names(study.sizes),
        name=f"{schedule}-sigma{sigma}-rep{rep}",
    )
    durations = edit_durations(run_id, study, sigma, seed)
    ideal = ideal_makespan(durations, study)
    model, model_last_edit = (_model_editbench if schedule == "editbench" else _model_original)(durations, study)
    timeout = 20 * ideal + 60
    started = time.time()
    if schedule == "editbench":
        schedule_editbench(run_id)
    else:
        schedule_original(run_id, study.workers, timeout)
    finished, marked_done = wait_finished(run_id, timeout)
    makespan = finished - started
    scale = FULL_SCALE_MEDIAN_S / study.median_s
    timeline = edit_timeline(run_id, study, sigma, seed)
    first_claim, last_edit = timeline["first_claim"], timeline["last_record"]
    return {
        "schedule": schedule,
        "sigma": sigma,
        "rep": rep,
        "seed": seed,
        "run_id": run_id,
        "marked_done": marked_done,
        "makespan_s": makespan,
        "ideal_s": ideal,
        "ratio": makespan / ideal,
        "model_s": model,
        "model_ratio": model / ideal,
        # Measured minus zero-overhead model: the fixed cost of tasks, barriers and ledger writes.
        "overhead_s": makespan - model,
        # Fixed costs stay fixed when edits take FULL_SCALE_MEDIAN_S instead of median_s.
        "projected_ratio": (model * scale + makespan - model) / (ideal * scale),
        # Where the fixed cost goes: before the first edit starts, during the edits, after them.
        "phases_s": {
            "to_first_claim": first_claim - started,
            "edits": last_edit - started,
            "edits_model": model_last_edit,
            "after_last_edit": finished - last_edit,
            "after_last_edit_model": model - model_last_edit,
        },
        "edit_in_task": _ms_quantiles(timeline["in_task"]),
        "edit_gap": _ms_quantiles(timeline["gap"]),
        "_timeline": timeline,
        **ledger_counts(run_id),
    }


def summarize(runs: list[dict[str, Any]], study: Study) -> list[dict[str, Any]]:
    rows = []
    for sigma in study.spreads:
        for schedule in SCHEDULES:
            mine = [r for r in runs if r["sigma"] == sigma and r["schedule"] == schedule]
            if not mine:
                continue
            ratios = [r["ratio"] for r in mine]
            rows.append(
                {
                    "sigma": sigma,
                    "schedule": schedule,
                    "reps": len(mine),
                    "makespan_s": statistics.median(r["makespan_s"] for r in mine),
                    "ideal_s": statistics.median(r["ideal_s"] for r in mine),
                    "ratio": statistics.median(ratios),
                    "ratio_min": min(ratios),
                    "ratio_max": max(ratios),
                    "model_ratio": statistics.median(r["model_ratio"] for r in mine),
                    "overhead_s": statistics.median(r["overhead_s"] for r in mine),
                    "projected_ratio": statistics.median(r["projected_ratio"] for r in mine),
                    "phases_s": {k: statistics.median(r["phases_s"][k] for r in mine) for k in mine[0]["phases_s"]},
                }
            )
    return rows


def edit_costs(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Per-edit costs pooled over the editbench-schedule runs (the original's gaps are barriers)."""
    mine = [r for r in runs if r["schedule"] == "editbench"]
    return {
        "runs": len(mine),
        "in_task": _ms_quantiles([x for r in mine for x in r["_timeline"]["in_task"]]),
        "gap": _ms_quantiles([x for r in mine for x in r["_timeline"]["gap"]]),
    }


def print_report(report: dict[str, Any]) -> None:
    study = report["study"]
    m = report["machine"]
    print()
    print(f"machine: {m['cpu']}, {m['cores']} cores; {report['broker']}; {report['ledger']}; {m['date']}")
    print(
        f"{study['workers']} workers; {sum(study['sizes'])} pairs in categories {list(study['sizes'])}; "
        f"median edit {study['median_s']} s (time scaled {FULL_SCALE_MEDIAN_S / study['median_s']:.0f}x down from "
        f"{FULL_SCALE_MEDIAN_S:.0f} s), judge {study['judge_per_image_s'] * 1000:.2f} ms/image in batches of "
        f"{study['judge_batch_size']}; medians of {study['reps']} repetitions"
    )
    print(
        f"  {'spread':>6}  {'schedule':<9}  {'makespan':>9}  {'ideal':>7}  {'x ideal':>7}  {'min-max':>11}  "
        f"{'model':>6}  {'fixed cost':>10}  {'at 40 s/edit':>12}"
    )
    for row in report["summary"]:
        print(
            f"  {row['sigma'] * 100:>5.0f}%  {row['schedule']:<9}  {row['makespan_s']:>8.2f}s  {row['ideal_s']:>6.2f}s  "
            f"{row['ratio']:>7.3f}  {row['ratio_min']:>5.3f}-{row['ratio_max']:<5.3f}  {row['model_ratio']:>6.3f}  "
            f"{row['overhead_s']:>9.2f}s  {row['projected_ratio']:>12.3f}"
        )
    print("  model: the same schedule and durations with zero per-task cost; fixed cost: makespan - model;")
    print(
        f"  {'':>6}  {'':<9}  where the fixed cost goes (s, medians):  to first claim | edits done: measured - model "
        f"| after the last edit: measured - model"
    )
    for row in report["summary"]:
        ph = row["phases_s"]
        print(
            f"  {row['sigma'] * 100:>5.0f}%  {row['schedule']:<9}  {ph['to_first_claim']:>45.2f} | "
            f"{ph['edits'] - ph['edits_model']:>+27.2f} | {ph['after_last_edit'] - ph['after_last_edit_model']:>+33.2f}"
        )
    print(
        f"  at 40 s/edit: (model x {FULL_SCALE_MEDIAN_S / study['median_s']:.0f} + fixed cost) / (ideal x "
        f"{FULL_SCALE_MEDIAN_S / study['median_s']:.0f}), the fixed cost kept as measured"
    )
    costs = report.get("edit_costs")
    if costs and costs["runs"]:
        print(
            f"editbench cost per edit (ledger, {costs['runs']} runs): claim->record beyond the sleep p50 "
            f"{costs['in_task']['p50_ms']:.1f} ms p99 {costs['in_task']['p99_ms']:.1f} ms; record->next claim on the "
            f"same worker p50 {costs['gap']['p50_ms']:.1f} ms p99 {costs['gap']['p99_ms']:.1f} ms"
        )
    for name, o in (report.get("overhead") or {}).items():
        print(
            f"Celery per-task overhead, {o['tasks']} {name} tasks ({o['sleep_ms']:.0f} ms each) queued then drained by "
            f"{study['workers']} workers: p50 {o['overhead_p50_ms']:.2f} ms, p99 {o['overhead_p99_ms']:.2f} ms; "
            f"{o['throughput_per_s']:.0f} tasks/s; lost {o['lost']}, duplicated {o['duplicated']}"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", type=int, default=6)
    parser.add_argument("--sizes", default=",".join(map(str, CATEGORY_SIZES)), help="pairs per category")
    parser.add_argument("--median-s", type=float, default=0.5, help="median edit time (scaled down from ~40 s)")
    parser.add_argument("--judge-ratio", type=float, default=JUDGE_TO_EDIT, help="judge seconds per image / median edit seconds")
    parser.add_argument("--judge-batch-size", type=int, default=8)
    parser.add_argument("--spreads", default="0.02,0.10", help="log-space sigma of edit times")
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--overhead-tasks", type=int, default=10_000, help="tiny tasks for the overhead measurement (0: skip)")
    parser.add_argument("--short-tasks", type=int, default=2_000, help="20 ms tasks for the unsaturated overhead measurement (0: skip)")
    parser.add_argument("--redis", default="auto", help="auto (local 127.0.0.1:6379 db --db, else embedded) | embedded | URL")
    parser.add_argument("--db", type=int, default=12, help="database number on the local Redis (FLUSHDB'd)")
    parser.add_argument(
        "--database",
        default="sqlite",
        help="sqlite (default: a file in the temporary home) or a PostgreSQL admin URL, e.g. "
        "postgresql+psycopg2://postgres@127.0.0.1:5432/test (a fresh database is made and dropped)",
    )
    parser.add_argument("--quick", action="store_true", help="CI smoke run: 2 workers, 13 pairs, 0.05 s edits, one repetition")
    parser.add_argument("--json", type=Path, default=None, help="write the results here")
    parser.add_argument("--keep", action="store_true", help="keep the temporary home (ledger, logs)")
    parser.add_argument("--worker-slot", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--worker-loglevel", default="INFO", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker_slot is not None:
        harness.serve_worker(args.worker_slot, loglevel=args.worker_loglevel)
        return 0
    if args.quick:
        args.workers, args.sizes, args.median_s, args.reps = 2, "2,2,3,3,3", 0.05, 1
        args.spreads = "0.10"
        args.overhead_tasks, args.short_tasks = min(args.overhead_tasks, 300), min(args.short_tasks, 30)
    study = Study(
        workers=args.workers,
        sizes=tuple(int(x) for x in args.sizes.split(",")),
        median_s=args.median_s,
        judge_per_image_s=args.median_s * args.judge_ratio,
        judge_batch_size=args.judge_batch_size,
        spreads=tuple(float(x) for x in args.spreads.split(",")),
        reps=args.reps,
        overhead_tasks=args.overhead_tasks,
    )

    harness.stop_on_sigterm()
    cluster = harness.BenchCluster(
        study.workers, Path(__file__).resolve(), redis=args.redis, db_number=args.db, keep=args.keep, database=args.database
    )
    began = time.monotonic()

    def step(what: str) -> None:
        print(f"[{time.monotonic() - began:6.1f}s] {what}", flush=True)

    runs: list[dict[str, Any]] = []
    overhead: dict[str, Any] = {}
    try:
        cluster.configure()
        folder = write_benchmark(cluster.home / "bench", study.sizes, warmup=study.workers)
        benchmark = ingest_benchmark(folder)
        step(f"benchmark ingested: {sum(study.sizes)} pairs")
        cluster.start()
        step(f"{study.workers} workers up")
        harness.warm_up(study.workers)
        step("workers warm")
        for sigma in study.spreads:
            for rep in range(study.reps):
                warm_up(benchmark, study, sigma=sigma, seed=rep)
                # Alternate which schedule goes first, so slow drift of the machine cancels out.
                order = SCHEDULES if rep % 2 == 0 else SCHEDULES[::-1]
                for schedule in order:
                    run = measure(benchmark, study, schedule, sigma, rep)
                    runs.append(run)
                    print(
                        f"  sigma {sigma:.2f} rep {rep} {schedule:<9} makespan {run['makespan_s']:7.2f}s "
                        f"ideal {run['ideal_s']:6.2f}s  x{run['ratio']:.3f}  (model x{run['model_ratio']:.3f})",
                        flush=True,
                    )
        step("schedules measured")
        if study.overhead_tasks:
            overhead["tiny"] = harness.push_probes("tiny", study.overhead_tasks, workers=study.workers, queued=True)
        if args.short_tasks:
            overhead["short"] = harness.push_probes("short", args.short_tasks, workers=study.workers, queued=True, sleep_s=0.02)
        step("overhead measured")
    finally:
        cluster.stop()

    complete = all(r["edits_done"] == r["edits"] == sum(study.sizes) and r["judgments_done"] == r["judgments"] > 0 for r in runs)
    report = {
        "benchmark": "scheduling",
        "command": "python bench/scheduling.py " + " ".join(sys.argv[1:] if argv is None else argv),
        "machine": harness.machine(),
        "broker": harness.describe_broker(cluster.url),
        "ledger": cluster.describe_database,
        "study": asdict(study),
        "definitions": {
            "ideal_s": "(sum of edit sleeps + sum of judge sleeps) / workers",
            "ratio": "makespan / ideal; makespan = run marked done in the ledger - first message sent",
            "model_ratio": "the same schedule and durations simulated with zero per-task cost, / ideal",
            "overhead_s": "makespan - model: fixed costs of tasks, barriers and ledger writes",
            "projected_ratio": f"(model * k + overhead_s) / (ideal * k), k = {FULL_SCALE_MEDIAN_S} s / median_s",
            "celery_overhead": "start - max(sent, released, previous end on the same worker), tasks queued first",
        },
        "summary": summarize(runs, study),
        "edit_costs": edit_costs(runs),
        "overhead": overhead,
        "runs": [{k: v for k, v in r.items() if not k.startswith("_")} for r in runs],
        "all_work_done": complete,
        "runs_not_marked_done": [r["run_id"] for r in runs if not r["marked_done"]],
        "wall_s": time.monotonic() - began,
    }
    print_report(report)
    unmarked = [r["run_id"] for r in runs if not r["marked_done"]]
    if unmarked:
        print(
            f"warning: runs {unmarked} finished all their work but no worker marked them done (timed to their "
            "last recorded item; without a sweeper they would stay open)"
        )
    print(f"all edits and judgments done in every run: {'yes' if complete else 'NO'}; wall {report['wall_s']:.0f} s")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=2) + "\n")
    ok = complete and all(o["lost"] == 0 and o["duplicated"] == 0 for o in overhead.values())
    return 0 if ok else 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:  # Ctrl-C or SIGTERM: the workers were stopped on the way out
        sys.exit(130)
