"""Throughput of the ``openai`` judge against a loopback OpenAI-compatible server with simulated
model latency, as a ratio to the ideal ``concurrency / latency``.

The server (tests/http_fake/openai_server.py) runs in its own process, so its CPU is not the
client's; every answer is delayed by ``--latency-ms``. For each concurrency the judge (generate
mode, one criterion, two 64×64 images per request, i.e. the whole per-request path: prompt,
PNG data URLs, JSON, HTTP, parsing) scores ``--seconds`` worth of ideal work; the best-of and
median throughput over ``--repeats`` are reported with client and server CPU per request, so a
ratio below 1 can be attributed. Only 127.0.0.1 is contacted.

    python bench/openai_judge.py                       # 1, 8, 64 in flight, 50 ms latency
    python bench/openai_judge.py --quick --json out.json
    python bench/openai_judge.py --compare-transports    # also: bare POSTs, httpx.Client vs ours

``--compare-transports`` sends the same bare Chat Completions POSTs (no judge work) at the highest
concurrency through a shared ``httpx.Client`` and through :class:`OpenAIClient`, alternating,
to show why the client does not use ``httpx.Client`` (see editbench/models/openai_client.py).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import psutil
from PIL import Image

from editbench.models import load_judge
from editbench.models.base import Criterion, JudgePrompt, JudgeRequest, Outcome
from tests.http_fake.openai_server import DEFAULT_KEY

PROMPT = JudgePrompt("Does the edited image follow '{instruction}'? Rate {criterion} from {scale_min} to {scale_max}.", "bench")


def start_server(latency_ms: float) -> tuple[subprocess.Popen, str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.http_fake.openai_server", "--latency-ms", str(latency_ms)],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    line = process.stdout.readline()
    if not line.startswith("PORT "):
        raise SystemExit(f"fake server did not start: {line!r}")
    return process, f"http://127.0.0.1:{int(line.split()[1])}/v1"


def requests_for(count: int) -> list[JudgeRequest]:
    out = []
    for i in range(count):
        # Distinct images per request, as in a real run (no encoder caching can help).
        source = Image.new("RGB", (64, 64), (i % 256, (i // 256) % 256, 40))
        edited = Image.new("RGB", (64, 64), (40, i % 256, (i // 256) % 256))
        out.append(JudgeRequest(str(i), source, edited, "make the sky green", PROMPT, (Criterion("adherence"),)))
    return out


def cpu_seconds(process: psutil.Process) -> float:
    times = process.cpu_times()
    return times.user + times.system


def measure(url: str, server: psutil.Process, concurrency: int, latency_s: float, seconds: float, repeats: int) -> dict:
    judge = load_judge("openai", "bench-vl", base_url=url, concurrency=concurrency, max_reasks=0)
    count = max(2 * concurrency, round(seconds * concurrency / latency_s))
    batch = requests_for(count)
    judge.score(batch[:concurrency])  # warm-up: threads started, connections open
    me = psutil.Process()
    rates, client_cpu, server_cpu = [], [], []
    for _ in range(repeats):
        client0, server0 = cpu_seconds(me), cpu_seconds(server)
        started = time.perf_counter()
        results = judge.score(batch)
        elapsed = time.perf_counter() - started
        if not all(s.outcome is Outcome.DONE for r in results for s in r.scores):
            raise SystemExit("some requests were not judged")
        rates.append(count / elapsed)
        client_cpu.append((cpu_seconds(me) - client0) / count * 1000)
        server_cpu.append((cpu_seconds(server) - server0) / count * 1000)
    judge.close()
    ideal = concurrency / latency_s
    return {
        "concurrency": concurrency,
        "requests": count,
        "repeats": repeats,
        "ideal_per_s": ideal,
        "median_per_s": statistics.median(rates),
        "best_per_s": max(rates),
        "median_ratio": statistics.median(rates) / ideal,
        "best_ratio": max(rates) / ideal,
        "client_cpu_ms_per_request": statistics.median(client_cpu),
        "server_cpu_ms_per_request": statistics.median(server_cpu),
        "retries": judge.usage.retries,
    }


def compare_transports(url: str, server: psutil.Process, concurrency: int, latency_s: float, seconds: float, repeats: int) -> dict:
    import httpx

    from editbench.models.openai_client import (
        ClientLimits,
        Endpoint,
        OpenAIClient,
        Price,
    )

    body = {"model": "bench-vl", "messages": [{"role": "user", "content": "x" * 20_000}]}
    count = max(2 * concurrency, round(seconds * concurrency / latency_s))
    pool = ThreadPoolExecutor(concurrency)
    shared = httpx.Client(
        base_url=url + "/",
        headers={"Authorization": f"Bearer {DEFAULT_KEY}"},
        limits=httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency),
    )
    ours = OpenAIClient(Endpoint(url, DEFAULT_KEY), ClientLimits(concurrency=concurrency), Price())
    senders = {
        "httpx.Client": lambda _: shared.post("chat/completions", json=body).json(),
        "OpenAIClient": lambda _: ours.post_json("chat/completions", body).body,
    }
    me = psutil.Process()
    samples: dict[str, dict[str, list[float]]] = {name: {"ratio": [], "client_ms": []} for name in senders}
    for send in senders.values():
        list(pool.map(send, range(concurrency)))  # warm-up
    for _ in range(repeats):
        for name, send in senders.items():  # alternating, so both see the same machine
            client0 = cpu_seconds(me)
            started = time.perf_counter()
            list(pool.map(send, range(count)))
            elapsed = time.perf_counter() - started
            samples[name]["ratio"].append(count / elapsed / (concurrency / latency_s))
            samples[name]["client_ms"].append((cpu_seconds(me) - client0) / count * 1000)
    pool.shutdown()
    shared.close()
    ours.close()
    return {
        name: {
            "concurrency": concurrency,
            "requests": count,
            "median_ratio": statistics.median(v["ratio"]),
            "client_cpu_ms_per_request": statistics.median(v["client_ms"]),
        }
        for name, v in samples.items()
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 8, 64])
    parser.add_argument("--seconds", type=float, default=3.0, help="ideal duration of one measured batch")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="CI smoke run: short batches, one repeat")
    parser.add_argument("--compare-transports", action="store_true", help="also time bare POSTs: httpx.Client vs ours")
    parser.add_argument("--json", type=Path, help="write the results here")
    args = parser.parse_args()
    if args.quick:
        args.seconds, args.repeats = 0.3, 1
    os.environ["EDITBENCH_OPENAI_API_KEY"] = DEFAULT_KEY
    for name in ("OPENAI_BASE_URL", "EDITBENCH_OPENAI_BASE_URL"):
        os.environ.pop(name, None)
    process, url = start_server(args.latency_ms)
    try:
        server = psutil.Process(process.pid)
        load_before = os.getloadavg()
        rows = [measure(url, server, c, args.latency_ms / 1000, args.seconds, args.repeats) for c in args.concurrency]
        transports = (
            compare_transports(url, server, max(args.concurrency), args.latency_ms / 1000, args.seconds, args.repeats)
            if args.compare_transports
            else None
        )
        load_after = os.getloadavg()
    finally:
        process.stdin.close()
        process.wait(timeout=10)
    report = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "quick": args.quick,
        "latency_ms": args.latency_ms,
        "machine": {
            "cores": os.cpu_count(),
            "cpu": platform.processor() or platform.machine(),
            "python": platform.python_version(),
            "loadavg_before": load_before,
            "loadavg_after": load_after,
        },
        "levels": rows,
        "transports": transports,
    }
    print(
        f"openai judge vs loopback server, {args.latency_ms:g} ms latency, {os.cpu_count()} cores, "
        f"load average {load_before[0]:.1f} -> {load_after[0]:.1f}"
    )
    print(f"{'in flight':>9} {'requests':>8} {'ideal/s':>8} {'median/s':>9} {'ratio':>6} {'best':>6} {'client ms':>9} {'server ms':>9}")
    for r in rows:
        print(
            f"{r['concurrency']:>9} {r['requests']:>8} {r['ideal_per_s']:>8.0f} {r['median_per_s']:>9.1f} "
            f"{r['median_ratio']:>6.3f} {r['best_ratio']:>6.3f} {r['client_cpu_ms_per_request']:>9.3f} "
            f"{r['server_cpu_ms_per_request']:>9.3f}"
        )
    for name, t in (transports or {}).items():
        print(
            f"bare POSTs, {t['concurrency']} in flight, {name:>12}: ratio {t['median_ratio']:.3f}, "
            f"client {t['client_cpu_ms_per_request']:.3f} ms CPU/request"
        )
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
