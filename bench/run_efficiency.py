"""Run efficiency through the real CLI (issue 15): `editbench up` + `editbench run --wait`.

Each invocation starts `editbench up` (one worker per visible GPU, or --cpu-workers), waits for its
workers, submits ``--runs`` runs of the example benchmark one after the other with `editbench run
--wait`, stops the cluster, and reads the ledger and the worker logs:

- wall of each run from submit to done (the ledger's run record; the `run --wait` command's own
  wall, start-up included, beside it) and, with ``--model-only-s``, efficiency = pairs ×
  model-only s ÷ GPUs ÷ wall;
- time to first edit, from the `up` command's start and from the run's submit (the first run of an
  invocation pays worker start, model build and compile: call the script twice on one machine with
  the same --home to see what the compile cache in EDITBENCH_HOME saves the second `up`);
- per edit: the worker's phase times (claim, source, edit, store, record: the log line
  ``workers/edit.py`` writes), Celery's own "succeeded in", the idle gap between one edit's end and
  the next one's start on the same worker;
- judging: when the first judgment started relative to the last edit (overlap) and the tail after it.

    python bench/run_efficiency.py --home out/eff --cpu-workers 1 --tiny --runs 2          # CPU plumbing
    python bench/run_efficiency.py --home out/eff --runs 2 --model-only-s 3.19 --json first.json   # GPU
    python bench/run_efficiency.py --home out/eff --runs 1 --model-only-s 3.19 --json second.json  # again

By default the models are capacity-mode (random weights built on the GPU; the folders supply only
tokenizer and processor). ``--editor-path``/``--judge-path`` name folders with weights on disk
(``bench/weights_on_disk.py`` writes random ones): they load through ``from_pretrained``, without
``capacity=``, the other params unchanged, to measure the real loading path. The report records
the models and params used and every worker's model loads of this `up` (seconds and the parts
the worker logs: imports, build, to_device, setup, ...).

    python bench/weights_on_disk.py --size full --out /root/w
    python bench/run_efficiency.py --home out/disk --runs 1 --editor-path /root/w/editor --judge-path /root/w/judge
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

GPU_EDITOR = ["capacity=full", "steps=8", "true_cfg_scale=1", "compile=true", "rope=real", "fuse_gelu=true"]
GPU_JUDGE = ["capacity=full", "mode=logits"]
TINY_EDITOR = ["steps=2", "working_area=64*64", "true_cfg_scale=1"]
TINY_JUDGE = ["mode=logits"]

_PHASES = re.compile(r"edit \S+ of run (\d+) done: (.*)$")
_STORE = re.compile(r"PNG level \d+ encode (\d+) ms, store total (\d+) ms")
_LOAD = re.compile(r"model load: (\S+) (\S+) from (\S+) in ([0-9.]+)s \(load #(\d+)[^)]*\); parts: ([^;]*)")
_SUCCEEDED = re.compile(r"Task editbench\.(edit_sample|judge_batch)\[[^\]]+\] succeeded in ([0-9.]+)s")


def cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "editbench.cli", *args]


def prepare(home: Path, per_category: int) -> Path:
    """Example benchmark ingested and the tiny tokenizer/processor folders (once per home)."""
    models = home / "tiny"
    if not (home / "editbench.db").exists():
        subprocess.run(cli("example", str(home / "bench"), "--per-category", str(per_category)), check=True)
        subprocess.run(cli("ingest", str(home / "bench")), check=True)
    subprocess.run(cli("models", "tiny", str(models)), check=True, stdout=subprocess.DEVNULL)
    return models


def log_sizes(log_dir: Path) -> dict[Path, int]:
    """Where each worker log ends now: a second `up` on one home appends to the same files."""
    return {p: p.stat().st_size for p in log_dir.glob("worker-*.log")}


def wait_for_workers(log_dir: Path, count: int, offsets: dict[Path, int], timeout_s: float = 600) -> float:
    """When ``count`` workers have logged " ready." past ``offsets`` (this `up`'s lines only)."""
    deadline = time.time() + timeout_s
    while time.time() < deadline:
        ready = 0
        for p in log_dir.glob("worker-*.log"):
            with p.open("rb") as f:
                f.seek(offsets.get(p, 0))
                ready += b" ready." in f.read()
        if ready >= count:
            return time.time()
        time.sleep(0.2)
    raise TimeoutError(f"{count} workers not ready after {timeout_s}s; see {log_dir}")


def cache_files(home: Path) -> int:
    root = home / "compile-cache"
    return sum(1 for p in root.rglob("*") if p.is_file()) if root.exists() else 0


def _ts(value: datetime) -> float:
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).timestamp()


def ledger_figures(run_id: int) -> dict:
    from sqlalchemy import select

    from editbench.schema.db import session_scope
    from editbench.schema.models import Edit, Judgment, Run

    with session_scope() as s:
        run = s.get(Run, run_id)
        assert run is not None, f"run {run_id} is not in the ledger"
        edits = s.execute(
            select(Edit.worker, Edit.started_at, Edit.finished_at, Edit.duration_s, Edit.status).where(Edit.run_id == run_id)
        ).all()
        judgments = s.execute(select(Judgment.started_at, Judgment.finished_at, Judgment.status).where(Judgment.run_id == run_id)).all()
        created, finished = _ts(run.created_at), _ts(run.finished_at) if run.finished_at else None
    done = [e for e in edits if e.finished_at is not None]
    gaps = []
    for worker in {e.worker for e in done}:
        mine = sorted((_ts(e.started_at), _ts(e.finished_at)) for e in done if e.worker == worker)
        gaps += [b[0] - a[1] for a, b in itertools.pairwise(mine)]
    last_edit = max(_ts(e.finished_at) for e in done)
    first_judgment = min(_ts(j.started_at) for j in judgments if j.started_at)
    last_judgment = max(_ts(j.finished_at) for j in judgments if j.finished_at)
    return {
        "run_id": run_id,
        "edits": len(edits),
        "edit_status": sorted({e.status.value for e in edits}),
        "judgment_status": sorted({j.status.value for j in judgments}),
        "ledger_wall_s": (finished - created) if finished else None,
        "first_edit_after_submit_s": min(_ts(e.finished_at) for e in done) - created,
        "first_edit_finished_at": min(_ts(e.finished_at) for e in done),
        "edit_duration_s_median": statistics.median(e.duration_s for e in done if e.duration_s is not None),
        "steady_edit_duration_s_median": statistics.median(sorted(e.duration_s for e in done)[: max(1, len(done) - 1)]),
        "gap_between_edits_s_median": statistics.median(gaps) if gaps else None,
        "gap_between_edits_s_max": max(gaps) if gaps else None,
        "judging_started_before_last_edit_s": last_edit - first_judgment,
        "judging_tail_after_last_edit_s": last_judgment - last_edit,
    }


def log_figures(log_dir: Path, run_id: int) -> dict:
    phases: dict[str, list[float]] = {}
    encode: list[float] = []
    store: list[float] = []
    succeeded: dict[str, list[float]] = {"edit_sample": [], "judge_batch": []}
    for log in log_dir.glob("worker-*.log"):
        for line in log.read_text(errors="replace").splitlines():
            if (m := _PHASES.search(line)) and int(m.group(1)) == run_id:
                for item in m.group(2).split():
                    name, _, ms = item.partition("=")
                    phases.setdefault(name, []).append(float(ms.removesuffix("ms")) / 1000)
            elif m := _STORE.search(line):
                encode.append(float(m.group(1)) / 1000)
                store.append(float(m.group(2)) / 1000)
            elif m := _SUCCEEDED.search(line):
                succeeded[m.group(1)].append(float(m.group(2)))

    def med(xs: list[float]) -> float | None:
        return statistics.median(xs) if xs else None

    return {
        "phase_s_median": {k: med(v) for k, v in phases.items()},
        "png_encode_s_median_all_runs": med(encode),
        "store_s_median_all_runs": med(store),
        "celery_edit_task_s_median_all_runs": med(succeeded["edit_sample"]),
        "celery_judge_task_s_median_all_runs": med(succeeded["judge_batch"]),
    }


def model_loads(log_dir: Path, offsets: dict[Path, int]) -> dict[str, list[dict]]:
    """Each worker's "model load:" lines past ``offsets`` (this `up`'s): role, kind, path, seconds, parts."""
    loads: dict[str, list[dict]] = {}
    for log in sorted(log_dir.glob("worker-*.log")):
        with log.open("rb") as f:
            f.seek(offsets.get(log, 0))
            text = f.read().decode(errors="replace")
        for m in _LOAD.finditer(text):
            parts = {}
            for item in m.group(6).split():
                name, _, seconds = item.partition("=")
                with contextlib.suppress(ValueError):
                    parts[name] = float(seconds.removesuffix("s"))
            loads.setdefault(log.stem, []).append(
                {
                    "role": m.group(1),
                    "kind": m.group(2),
                    "path": m.group(3),
                    "s": float(m.group(4)),
                    "load": int(m.group(5)),
                    "parts_s": parts,
                }
            )
    return loads


def evict_page_cache(*folders: Path) -> int:
    """Write back and drop the folders' files from the page cache (no root needed, unlike
    /proc/sys/vm/drop_caches), so the next load reads them from the disk. Returns their bytes."""
    total = 0
    for folder in folders:
        for path in folder.rglob("*"):
            if path.is_file():
                fd = os.open(path, os.O_RDONLY)
                try:
                    os.fsync(fd)
                    os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
                finally:
                    os.close(fd)
                total += path.stat().st_size
    return total


def model_setup(args, models: Path) -> dict:
    """Which folders and params the runs use: capacity mode unless a folder with weights is given."""
    editor, judge = (TINY_EDITOR, TINY_JUDGE) if args.tiny else (GPU_EDITOR, GPU_JUDGE)
    if args.editor_path:
        editor = [p for p in editor if not p.startswith("capacity=")]
    if args.judge_path:
        judge = [p for p in judge if not p.startswith("capacity=")]
    return {
        "editor": str(args.editor_path.resolve() if args.editor_path else models / "editor"),
        "editor_params": editor,
        "editor_weights": "disk" if args.editor_path or args.tiny else "capacity (random, built on the device)",
        "judge": str(args.judge_path.resolve() if args.judge_path else models / "judge"),
        "judge_params": judge,
        "judge_weights": "disk" if args.judge_path or args.tiny else "capacity (random, built on the device)",
    }


def submit_and_wait(args, setup: dict, name: str) -> tuple[int, float]:
    editor, judge = setup["editor_params"], setup["judge_params"]
    command = cli(
        "run",
        "--benchmark",
        "editbench-example",
        "--editor",
        f"qwen-image-edit:{setup['editor']}",
        "--judge",
        f"qwen3-vl:{setup['judge']}",
        "--judge-batch-size",
        str(args.judge_batch),
        "--name",
        name,
        "--wait",
        *[a for p in editor for a in ("--param", p)],
        *[a for p in judge for a in ("--judge-param", p)],
    )
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, timeout=args.timeout, check=False)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"run failed ({done.returncode}): {done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    from sqlalchemy import func, select

    from editbench.schema.db import session_scope
    from editbench.schema.models import Run

    with session_scope() as s:
        run_id = s.scalar(select(func.max(Run.id)).where(Run.name == name))
    if run_id is None:
        raise RuntimeError(f"run {name!r} is not in the ledger")
    return run_id, wall


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--home", type=Path, required=True, help="EDITBENCH_HOME; reuse it to measure a second `up`")
    parser.add_argument("--runs", type=int, default=2, help="runs on the one cluster (first: fresh workers)")
    parser.add_argument("--per-category", type=int, default=8, help="pairs per category (5 categories)")
    parser.add_argument("--judge-batch", type=int, default=16)
    parser.add_argument("--cpu-workers", type=int, default=0, help="CPU workers instead of one per GPU")
    parser.add_argument("--tiny", action="store_true", help="tiny real models on the CPU (plumbing check)")
    parser.add_argument("--model-only-s", type=float, help="model-only seconds per edit (bench/editor.py), for efficiency")
    parser.add_argument("--editor-path", type=Path, help="editor folder with weights (loaded without capacity=)")
    parser.add_argument("--judge-path", type=Path, help="judge folder with weights (loaded without capacity=)")
    parser.add_argument(
        "--evict-page-cache", action="store_true", help="drop the --editor-path/--judge-path files from the page cache before `up`"
    )
    parser.add_argument("--label", default="up")
    parser.add_argument("--timeout", type=float, default=900)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()

    home = args.home.resolve()
    home.mkdir(parents=True, exist_ok=True)
    os.environ["EDITBENCH_HOME"] = str(home)
    for name in ("EDITBENCH_DATABASE_URL", "EDITBENCH_BROKER_URL"):
        os.environ.pop(name, None)
    for path in (args.editor_path, args.judge_path):
        if path and not path.is_dir():
            parser.error(f"{path} is not a folder")
    models = prepare(home, args.per_category)
    setup = model_setup(args, models)
    workers = args.cpu_workers or _gpu_count()
    cache_before = cache_files(home)
    log_dir = home / "logs"
    up_args = ["up", "--no-beat", *(["--cpu-workers", str(args.cpu_workers)] if args.cpu_workers else [])]
    offsets = log_sizes(log_dir) if log_dir.exists() else {}
    evicted = None
    if args.evict_page_cache:
        evicted = evict_page_cache(*[p for p in (args.editor_path, args.judge_path) if p])
    up_started = time.time()
    up = subprocess.Popen(cli(*up_args), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    results = []
    try:
        ready = wait_for_workers(log_dir, workers, offsets)
        for i in range(args.runs):
            run_id, wall = submit_and_wait(args, setup, f"{args.label}-{i}")
            figures = ledger_figures(run_id) | log_figures(log_dir, run_id)
            figures["cli_wall_s"] = wall  # `run --wait` as a user sees it, its own start-up included
            figures["first_edit_after_up_s"] = figures.pop("first_edit_finished_at") - up_started
            if args.model_only_s:
                figures["ideal_s"] = figures["edits"] * args.model_only_s / workers
                # The definition: wall from submit to done (the ledger's run record).
                figures["efficiency"] = figures["ideal_s"] / figures["ledger_wall_s"]
            results.append(figures)
            print(json.dumps(figures), flush=True)
    finally:
        os.killpg(up.pid, signal.SIGINT)
        try:
            up.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(up.pid, signal.SIGKILL)
    report = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": " ".join([Path(sys.argv[0]).name, *sys.argv[1:]]),
        "workers": workers,
        "workers_ready_after_up_s": ready - up_started,
        "models": setup,
        "page_cache_evicted_bytes": evicted,  # None: not asked; the files may be cached from an earlier read
        # Every worker's loads during this `up` (a second `up` on one home appends to the logs).
        "model_loads": model_loads(log_dir, offsets),
        "compile_cache_files_before": cache_before,
        "compile_cache_files_after": cache_files(home),
        "runs": results,
    }
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=2))
    print(json.dumps({k: v for k, v in report.items() if k != "runs"}))
    return 0


def _gpu_count() -> int:
    from editbench.cluster.launcher import visible_gpus  # the same discovery as `up`

    return len(visible_gpus())


if __name__ == "__main__":
    sys.exit(main())
