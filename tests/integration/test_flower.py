"""`editbench up --flower` shows the workers and a run's tasks on Flower's dashboard.

Without FLOWER_BASIC_AUTH Flower is read-only and its /api is off (see
tests/faults/test_security.py for the cross-origin test), so this reads the JSON the dashboard
itself polls: /workers?json=1 and /tasks/datatable."""

from __future__ import annotations

import json
import re
import socket
import sys
import time
import urllib.request

import pytest

from editbench.cluster.processes import spawn, stop
from tests.integration.harness import ingest_example, submit_run, wait_done

pytestmark = pytest.mark.integration


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str):
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.loads(response.read())


def test_flower_lists_workers_and_run_tasks(workers, tiny_models, tmp_path) -> None:
    from editbench.producer.submit import ModelRef

    port = _free_port()
    env = {**workers.env}
    env.pop("FLOWER_BASIC_AUTH", None)
    up = spawn(
        [sys.executable, "-m", "editbench.cli", "up", "--cpu-workers", "1", "--flower", "--flower-port", str(port), "--no-beat"],
        env=env,
        log=tmp_path / "up.log",
    )
    try:
        deadline = time.monotonic() + 90
        workers_seen = {}
        while time.monotonic() < deadline:
            try:
                workers_seen = {w["hostname"]: w for w in _get(f"http://127.0.0.1:{port}/workers?json=1&refresh=1")["data"]}
                if workers_seen:
                    break
            except OSError:
                pass
            time.sleep(1)
        assert any(name.startswith("editbench-cpu0@") for name in workers_seen), (tmp_path / "up.log").read_text()
        benchmark = ingest_example(tmp_path, per_category=2)
        run_id = submit_run(benchmark, tiny_models, categories=["causal"], editor=ModelRef("identity", None, {}))
        wait_done(run_id, workers)
        time.sleep(1.0)  # events reach Flower asynchronously
        query = "draw=1&start=0&length=1000&order[0][column]=0&order[0][dir]=asc&columns[0][data]=name"
        tasks = _get(f"http://127.0.0.1:{port}/tasks/datatable?{query}")["data"]
        of_run = re.compile(rf"^[\[(]{run_id},")
        names = [t["name"] for t in tasks if of_run.match(t.get("args") or "")]
        assert names.count("editbench.edit_sample") == 2, tasks
        assert "editbench.judge_batch" in names
    finally:
        stop(up, grace_s=30)
