#!/usr/bin/env python3
"""Storage (issue 16, part 4): what the object store costs per image, and what a second host buys.

1. **Per-image overhead.** A 1024² PNG (a noisy gradient, ~1.5-3 MB, like a photo's entropy) is
   uploaded (one PUT, the way a worker publishes an edited image) and downloaded (one GET, a
   cache miss on another host) through :class:`editbench.storage.Storage` against an
   S3-compatible server (moto's standalone server, its own process) on 127.0.0.1. Beside it,
   measured the same way: the local-folder store (atomic temp-file + rename, then a read) and
   a hit in the bounded read cache (read + sha256 check). Medians over ``--reps``.

2. **Two hosts vs one.** With the ``simulated`` editor and judge, a benchmark is run on one
   worker host, then (same cluster, same benchmark, same seed) on two, each host a network
   namespace with its own EDITBENCH_HOME, sharing only Redis, a private PostgreSQL and the S3
   server (the harness of tests/hosts, ``tests.hosts.cluster``). Throughput = samples ÷
   (last judgment − first edit claim) from the ledger; the ratio's ideal is 2.0. Needs root
   (network namespaces); skipped with the reason otherwise.

    python bench/storage.py --json docs/results/storage-cpu.json     # both parts (~2 min)
    python bench/storage.py --quick                                  # CI smoke: few reps, small run
    python bench/storage.py --skip-hosts                             # part 1 only (no root needed)
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def test_image(size: int = 1024, seed: int = 0) -> bytes:
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:size, 0:size]
    base = np.stack([x * 255 // size, y * 255 // size, (x + y) * 127 // size], axis=-1).astype(np.int16)
    noisy = np.clip(base + rng.normal(0, 12, base.shape), 0, 255).astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(noisy, "RGB").save(buffer, "PNG")
    return buffer.getvalue()


def _median_ms(samples: list[float]) -> float:
    return round(statistics.median(samples) * 1000, 2)


def measure_overhead(reps: int) -> dict[str, Any]:
    from editbench.storage import ReadCache, Storage
    from editbench.storage.configured import open_storage, reset
    from editbench.storage.settings import StorageSettings
    from tests.storage.s3server import S3Server

    data = test_image()
    sha = hashlib.sha256(data).hexdigest()
    server = S3Server().start()
    tmp = Path(tempfile.mkdtemp(prefix="eb-bench-storage-"))
    try:
        bucket = f"bench-{uuid.uuid4().hex[:8]}"
        server.create_bucket(bucket)
        os.environ.update(server.env(bucket) | {"EDITBENCH_HOME": str(tmp / "home")})
        reset()
        remote = open_storage(StorageSettings.from_env())
        local = Storage.local(tmp / "local")
        cache = ReadCache(tmp / "cache", max_bytes=1 << 30)
        remote.write_bytes("warmup.png", data)  # connection set up once, as in a long-lived worker
        remote.read_bytes("warmup.png")
        timings: dict[str, list[float]] = {k: [] for k in ("s3_upload", "s3_download", "local_write", "local_read", "cache_hit")}
        cache.put(sha, data)
        for i in range(reps):
            key = f"artifacts/run-1/{i}.png"
            for name, op in (
                ("s3_upload", lambda key=key: remote.write_bytes(key, data)),
                ("s3_download", lambda key=key: remote.read_bytes(key)),
                ("local_write", lambda key=key: local.write_bytes(key, data)),
                ("local_read", lambda key=key: local.read_bytes(key)),
                ("cache_hit", lambda: cache.get(sha)),
            ):
                started = time.perf_counter()
                result = op()
                timings[name].append(time.perf_counter() - started)
                if name in ("s3_download", "local_read", "cache_hit"):
                    assert result == data
        medians = {f"{k}_ms": _median_ms(v) for k, v in timings.items()}
        return {
            "image": {"width": 1024, "height": 1024, "format": "PNG", "bytes": len(data)},
            "reps": reps,
            **medians,
            "s3_roundtrip_ms": round(medians["s3_upload_ms"] + medians["s3_download_ms"], 2),
            "local_roundtrip_ms": round(medians["local_write_ms"] + medians["local_read_ms"], 2),
            "server": "moto standalone server (separate process) on 127.0.0.1",
        }
    finally:
        server.stop()
        reset()


def _throughput(run_id: int, n_hosts: int, median_s: float) -> dict[str, Any]:
    from sqlalchemy import func, select

    from editbench.models.simulated import edit_duration
    from editbench.schema.db import session_scope
    from editbench.schema.models import Edit, Judgment, Sample, Status

    with session_scope() as s:
        first = s.scalar(select(func.min(Edit.started_at)).where(Edit.run_id == run_id))
        last = s.scalar(select(func.max(Judgment.finished_at)).where(Judgment.run_id == run_id))
        samples = s.scalar(select(func.count()).select_from(Edit).where(Edit.run_id == run_id, Edit.status == Status.DONE))
        hosts = sorted({w.split("/", 1)[0] for w in s.scalars(select(Edit.worker).where(Edit.run_id == run_id))})
        ids = s.scalars(select(Sample.external_id).join(Edit, Edit.sample_id == Sample.id).where(Edit.run_id == run_id)).all()
    makespan = (last - first).total_seconds()
    # Perfect packing of the simulated edit sleeps over the hosts, no overhead at all.
    ideal = sum(edit_duration(i, median_s=median_s, sigma=0.1) for i in ids) / n_hosts
    return {
        "samples": samples,
        "makespan_s": round(makespan, 2),
        "ideal_s": round(ideal, 2),
        "samples_per_s": round(samples / makespan, 3),
        "hosts": hosts,
    }


def measure_hosts(per_category: int, median_s: float) -> dict[str, Any]:
    from tests.hosts.cluster import HostCluster, unavailable_reason

    if reason := unavailable_reason():
        return {"skipped": reason}
    from editbench.benchmark.example import write_example_benchmark
    from editbench.storage.configured import reset

    workdir = Path(tempfile.mkdtemp(prefix="eb-bench-hosts-"))
    with HostCluster(workdir, n_hosts=2, lease_s=30, cache_mb=256) as cluster:
        os.environ["EDITBENCH_DATABASE_URL"] = cluster.database_url
        reset()
        folder = write_example_benchmark(workdir / "bench", per_category=per_category)
        assert cluster.cli("ingest", str(folder)).returncode == 0
        results = {}

        def run(*extra: str, median: float = median_s) -> int:
            submitted = cluster.cli(
                "run",
                "--benchmark",
                "editbench-example",
                "--editor",
                "simulated:",
                "--param",
                f"median_s={median}",
                "--param",
                "sigma=0.1",
                "--judge",
                "simulated:",
                "--judge-param",
                f"per_image_s={median * 0.003}",
                "--judge-batch-size",
                "8",
                "--wait",
                *extra,
                timeout_s=900,
            )
            assert submitted.returncode == 0, submitted.stderr
            return int(submitted.stdout.split("run ", 1)[1].split()[0])

        for n_hosts in (1, 2):
            cluster.start_worker(cluster.hosts[n_hosts - 1], n_hosts - 1)
            cluster.wait_workers(n_hosts)
            # Warm-up (not measured): a worker's first task imports the model registry and the
            # S3 client (seconds, once per process); round-robin reaches every worker.
            run("--routing", "round-robin", "--gpus", str(n_hosts), "--category", "physics", median=0.0)
            run_id = run()
            results[f"{n_hosts}_host"] = _throughput(run_id, n_hosts, median_s)
            print(f"{n_hosts} host(s): {results[f'{n_hosts}_host']}", flush=True)
        results["ratio_two_vs_one"] = round(results["2_host"]["samples_per_s"] / results["1_host"]["samples_per_s"], 3)
        results["load_average_1m_after"] = round(os.getloadavg()[0], 2)
        results["setup"] = {
            "per_category": per_category,
            "categories": 5,
            "editor_median_s": median_s,
            "workers_per_host": 1,
            "store": "S3 (moto) on the head's veth address",
            "ledger": "PostgreSQL (private)",
        }
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reps", type=int, default=50)
    parser.add_argument("--per-category", type=int, default=8, help="samples per category in the host runs (5 categories)")
    parser.add_argument("--median-s", type=float, default=1.0, help="simulated edit time")
    parser.add_argument("--skip-hosts", action="store_true")
    parser.add_argument("--quick", action="store_true", help="CI smoke: 5 reps, 2 samples per category")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    if args.quick:
        args.reps, args.per_category, args.median_s = 5, 2, 0.2
    report: dict[str, Any] = {
        "machine": {"cpus": os.cpu_count(), "load_average_1m_before": round(os.getloadavg()[0], 2)},
        "overhead": measure_overhead(args.reps),
    }
    print(json.dumps(report["overhead"], indent=2), flush=True)
    if not args.skip_hosts:
        report["hosts"] = measure_hosts(args.per_category, args.median_s)
        print(json.dumps(report["hosts"], indent=2))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
