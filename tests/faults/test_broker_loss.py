"""Scenario 2: Redis dies mid-run and comes back empty (queues, unacknowledged messages, chord
counters and cached edited images all lost). The ledger alone brings the run to completion:
first through ``editbench resume RUN`` (the real CLI, as an operator would run it), then, for a
second run and a second crash, through the periodic sweeper alone (a real ``celery beat``).

Uses a private Redis server (see ``PrivateRedis``) so killing it harms nobody; every broker
client here is a subprocess or a probe app bound to it, never the test session's global app.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

import pytest

from editbench.schema.models import Status
from tests.conftest import Workers
from tests.faults.harness import (
    PrivateRedis,
    assert_run_complete,
    cli,
    edits,
    wait_for,
    wait_run_done,
    wait_workers,
)
from tests.integration.harness import ingest_example

pytestmark = pytest.mark.integration

# ~1 s of denoising per edit, so the crash finds edits queued, running and done.
EDITOR_PARAMS = ["--param", "steps=100", "--param", "working_area=256*256", "--param", "true_cfg_scale=1.0"]


@pytest.fixture
def private_redis():
    server = PrivateRedis(Path(tempfile.mkdtemp(prefix="eb-redis-"))).start()
    yield server
    server.close()


def _submit(env, benchmark, tiny_models, categories) -> int:
    args = [
        "run",
        "--benchmark",
        benchmark,
        "--editor",
        f"qwen-image-edit:{tiny_models.editor}",
        *EDITOR_PARAMS,
        "--judge",
        f"qwen3-vl:{tiny_models.judge}",
        "--judge-param",
        "mode=logits",
    ]
    for category in categories:
        args += ["--category", category]
    result = cli(args, env)
    assert result.returncode == 0, result.stderr
    return int(result.stdout.split("run ", 1)[1].split()[0])


def _crash_and_restart(server: PrivateRedis, run_id: int, workers: Workers) -> None:
    wait_for(lambda: any(e.status == Status.DONE for e in edits(run_id).values()), 120, "a first edit", poll_s=0.02, logs=workers.logs)
    # There is something to lose: queued messages and the chords' state.
    assert server.client().llen("editbench.gpu") + server.client().hlen("unacked") > 0
    server.kill()
    time.sleep(0.5)
    server.start()  # no persistence: it comes back empty


def test_redis_lost_mid_run_resume_then_sweeper_finish_from_the_ledger(sqlite_db, private_redis, tiny_models, tmp_path) -> None:
    env = {
        **os.environ,
        "EDITBENCH_BROKER_URL": private_redis.url,
        "EDITBENCH_LEASE_SECONDS": "3",
        "OMP_NUM_THREADS": "1",
        "EDITBENCH_CELERY_SWEEP_INTERVAL": "1",
    }
    (tmp_path / "logs").mkdir()
    workers = Workers(env, tmp_path / "logs", {})
    benchmark = ingest_example(tmp_path, per_category=3)
    try:
        workers.start(0)
        workers.start(1)
        wait_workers(private_redis.url, 2, logs=workers.logs)

        # Crash 1, recovered by `editbench resume`.
        run_1 = _submit(env, benchmark, tiny_models, ["physics", "social"])
        _crash_and_restart(private_redis, run_1, workers)
        wait_workers(private_redis.url, 2, logs=workers.logs)  # the workers reconnected on their own
        resume = cli(["resume", str(run_1)], env)
        assert resume.returncode == 0, resume.stderr
        assert "re-enqueued" in resume.stdout
        wait_run_done(run_1, logs=workers.logs)
        assert_run_complete(run_1)
        assert {e.status for e in edits(run_1).values()} == {Status.DONE}

        # Crash 2, recovered by the periodic sweeper alone (beat survives the crash too).
        from editbench.cluster.processes import spawn

        beat = spawn(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "editbench.queue.app:app",
                "beat",
                "-s",
                str(tmp_path / "beat-schedule"),
                "--loglevel",
                "INFO",
            ],
            env=env,
            log=tmp_path / "logs" / "beat.log",
        )
        workers.processes["beat"] = beat
        run_2 = _submit(env, benchmark, tiny_models, ["causal", "referential"])
        _crash_and_restart(private_redis, run_2, workers)
        wait_run_done(run_2, timeout_s=90, logs=workers.logs)
        assert_run_complete(run_2)
        assert {e.status for e in edits(run_2).values()} == {Status.DONE}
        assert "editbench.sweep" in (tmp_path / "logs" / "beat.log").read_text()
    finally:
        workers.stop_all()
