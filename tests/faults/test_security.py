"""Security checks that need the real system: a pickle payload on a queue, credentials in URLs,
the compose file's exposure, and file paths that must stay inside their roots.

Path escapes at ingest (``..``, absolute paths, symlinks out of the benchmark folder) and the
precomputed editor's id checks are unit-tested in
tests/benchmark/test_benchmark_bad_items.py::test_path_escape_* ,
tests/benchmark/test_benchmark_simple_layout.py and
tests/models/test_baselines.py::test_precomputed_rejects_*; here the precomputed check is shown
through a real run.
"""

from __future__ import annotations

import json
import os
import pickle
import shutil
import tempfile
import uuid
from pathlib import Path

import pytest
import yaml
from sqlalchemy import MetaData, select

from editbench.schema.db import session_scope
from editbench.schema.models import Edit, Run, Sample, Status
from tests.conftest import Workers
from tests.faults.harness import (
    PrivateRedis,
    assert_run_complete,
    cli,
    edits,
    judgments,
    wait_for,
    wait_run_done,
    wait_workers,
)
from tests.integration.harness import submit_run

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def worker(module_cluster) -> Workers:
    return module_cluster(1)


# --------------------------------------------------------------------------- (a) pickle


class _CreatesFileWhenUnpickled:
    def __init__(self, path: Path) -> None:
        self.path = path

    def __reduce__(self):
        return (open, (str(self.path), "w"))


@pytest.mark.integration
def test_pickle_message_on_a_queue_is_refused_and_the_worker_keeps_working(worker, redis_url, tmp_path) -> None:
    from kombu import Connection, Exchange, Producer

    from editbench.queue.app import app
    from editbench.queue.names import SHARED_QUEUE

    assert app.conf.accept_content == ["json"] and app.conf.task_serializer == "json"
    marker = tmp_path / "PWNED"
    control = tmp_path / "control"
    pickle.loads(pickle.dumps(_CreatesFileWhenUnpickled(control)))  # the payload is live: unpickling it writes a file
    assert control.exists()
    task_id = str(uuid.uuid4())
    # A well-formed Celery (protocol 2) message for a real task, except that its body is a pickle
    # which, if anything unpickled it, would create ``marker``.
    body = pickle.dumps(((_CreatesFileWhenUnpickled(marker),), {}, {"callbacks": None, "errbacks": None, "chain": None, "chord": None}))
    headers = {"lang": "py", "task": "editbench.edit_sample", "id": task_id, "root_id": task_id, "parent_id": None,
               "group": None, "retries": 0, "eta": None, "expires": None, "argsrepr": "(...)", "kwargsrepr": "{}"}
    with Connection(redis_url) as conn:
        Producer(conn).publish(body, exchange=Exchange(SHARED_QUEUE, type="direct"), routing_key=SHARED_QUEUE,
                               content_type="application/x-python-serialize", content_encoding="binary", headers=headers,
                               declare=[], retry=True)
    log = worker.log_dir / "worker-0.log"
    wait_for(lambda: "untrusted content" in log.read_text(), 30, "the worker to refuse the message", logs=worker.logs)
    # Refused and dropped (acknowledged), never executed nor redelivered; the worker still serves.
    from editbench.queue.connection import redis_client

    assert redis_client().llen(SHARED_QUEUE) == 0
    assert app.signature("editbench.sweep").apply_async(queue="editbench.control").get(timeout=30)["runs"] >= 0
    assert not marker.exists()
    assert "application/x-python-serialize" in log.read_text()


# --------------------------------------------------------------------------- (b) credentials


@pytest.mark.parametrize(
    ("url", "secret"),
    [
        ("redis://:hunter2@redis:6379/0", "hunter2"),
        ("redis://default:hunter2@redis:6379/0", "hunter2"),
        ("redis+socket://:hunter2@/run/redis.sock", "hunter2"),
        ("postgresql+psycopg2://editbench:hunter2@postgres:5432/editbench", "hunter2"),
        ("amqp://guest:hunter2@rabbit//", "hunter2"),
        ("redis://:p@ss:w0rd@redis:6379/0", "p@ss:w0rd"),  # a raw "@" inside the password
        ("redis://redis:6379/0?password=hunter2&db=1", "hunter2"),
        ("broker=redis://:hunter2@a:1/0 db=postgresql://u:hunter2@b/c", "hunter2"),
    ],
)
def test_redact_hides_passwords(url: str, secret: str) -> None:
    from editbench.config import redact

    shown = redact(url)
    assert secret not in shown and "***" in shown
    assert "redis://redis:6379/0" in redact("redis://redis:6379/0")  # nothing to hide: unchanged


@pytest.mark.integration
def test_credentials_never_reach_status_resume_logs_run_card_or_ledger(postgres_db, tiny_models, tmp_path) -> None:
    """A whole run with a password-protected broker (a private Redis with ``requirepass``) and a
    database URL carrying a password (the test PostgreSQL trusts local connections, so the
    password is carried everywhere but never needed). Nothing the operator can see may show it."""
    from editbench.benchmark.example import write_example_benchmark
    from editbench.producer.ingest import ingest

    broker_pw, db_pw = "brokerpw-" + uuid.uuid4().hex[:8], "dbpw-" + uuid.uuid4().hex[:8]
    server = PrivateRedis(Path(tempfile.mkdtemp(prefix="eb-redis-")), password=broker_pw).start()
    db_url = postgres_db.replace("://postgres@", f"://postgres:{db_pw}@")
    assert db_pw in db_url
    env = {**os.environ, "EDITBENCH_DATABASE_URL": db_url, "EDITBENCH_BROKER_URL": server.url, "OMP_NUM_THREADS": "1"}
    (tmp_path / "logs").mkdir()
    workers = Workers(env, tmp_path / "logs", {})
    try:
        benchmark = ingest(write_example_benchmark(tmp_path / "bench", per_category=1)).benchmark
        workers.start(0)
        wait_workers(server.url, 1, logs=workers.logs)
        outputs = []
        run = cli(["run", "--benchmark", benchmark, "--category", "physics", "--category", "social",
                   "--editor", f"qwen-image-edit:{tiny_models.editor}", "--param", "steps=2", "--param", "working_area=64*64",
                   "--judge", f"qwen3-vl:{tiny_models.judge}", "--judge-param", "mode=logits", "--wait"], env, timeout_s=120)
        assert run.returncode == 0, run.stderr
        run_id = int(run.stdout.split("run ", 1)[1].split()[0])
        outputs.append(run)
        outputs += [cli(["status", str(run_id)], env), cli(["status", str(run_id), "--json"], env), cli(["resume", str(run_id)], env)]
        # A failing command's error message must not show them either.
        outputs.append(cli(["status", "999999"], env))
        assert all(o.returncode == 0 for o in outputs[:-1]) and outputs[-1].returncode != 0
        assert_run_complete(run_id)
        logs = "".join(p.read_text(errors="replace") for p in (tmp_path / "logs").glob("*.log"))
        assert "redis+socket://:**@" in logs  # the broker URL was logged, masked (Celery's own banner)
        with session_scope() as s:
            card = json.dumps(s.get(Run, run_id).run_card)
        seen = {
            "cli output": "".join(o.stdout + o.stderr for o in outputs),
            "worker logs": logs,
            "run card": card,
            "ledger": _dump_ledger(),
            "home files": _read_tree(Path(os.environ["EDITBENCH_HOME"])),
        }
        for where, content in seen.items():
            assert broker_pw not in content and db_pw not in content, where
    finally:
        workers.stop_all()
        server.close()


def _dump_ledger() -> str:
    with session_scope() as s:
        metadata = MetaData()
        metadata.reflect(bind=s.get_bind())
        return "\n".join(repr(row) for table in metadata.sorted_tables for row in s.execute(table.select()))


def _read_tree(root: Path) -> str:
    return "".join(p.read_bytes().decode("latin-1") for p in root.rglob("*") if p.is_file() and p.stat().st_size < 5_000_000)


# --------------------------------------------------------------------------- (c) compose


def _compose() -> dict:
    return yaml.safe_load((REPO / "docker-compose.yml").read_text())


def test_compose_redis_requires_a_password_and_is_not_published() -> None:
    services = _compose()["services"]
    redis = services["redis"]
    command = redis["command"]
    assert "--requirepass" in command
    password = command[command.index("--requirepass") + 1]
    assert password.startswith("${REDIS_PASSWORD:?"), "the password must be required, never defaulted"
    assert "ports" not in redis
    assert "noeviction" in command and "--appendonly" in command
    broker = services["worker-gpu0"]["environment"]["EDITBENCH_BROKER_URL"]
    assert broker.startswith("redis://:${REDIS_PASSWORD")


def test_compose_postgres_requires_a_password_and_is_not_published() -> None:
    postgres = _compose()["services"]["postgres"]
    assert "ports" not in postgres
    env = postgres["environment"]
    assert env["POSTGRES_PASSWORD"].startswith("${POSTGRES_PASSWORD:?")
    assert "POSTGRES_HOST_AUTH_METHOD" not in env


def test_compose_flower_requires_basic_auth_and_only_listens_on_loopback() -> None:
    services = _compose()["services"]
    flower = services["flower"]
    env = flower["environment"]
    assert env["FLOWER_BASIC_AUTH"].startswith("${FLOWER_BASIC_AUTH:?")
    assert "FLOWER_UNAUTHENTICATED_API" not in env
    assert not any("unauthenticated" in str(part).lower() for part in flower.get("entrypoint", []) + flower.get("command", []))
    assert all(str(port).startswith("127.0.0.1:") for port in flower.get("ports", []))
    # Flower is the only service with a published port at all.
    published = sorted(name for name, svc in services.items() if svc.get("ports"))
    assert published == ["flower"]
    assert not any(svc.get("privileged") or svc.get("network_mode") == "host" for svc in services.values())


# --------------------------------------------------------------------------- (d) paths


@pytest.mark.integration
def test_precomputed_editor_never_reads_outside_its_folder_in_a_real_run(worker, tiny_models, tmp_path) -> None:
    from editbench.benchmark.example import write_example_benchmark
    from editbench.producer.ingest import ingest
    from editbench.producer.submit import ModelRef

    # The example's ids ("physics/000") contain a "/" that the precomputed editor refuses
    # outright; use a copy whose ids are plain names so one path can be a symlink out.
    folder = write_example_benchmark(tmp_path / "bench", per_category=2)
    lines = [json.loads(line) for line in (folder / "items.jsonl").read_text().splitlines()]
    for item in lines:
        item["id"] = item["id"].replace("/", "-")
    (folder / "items.jsonl").write_text("".join(json.dumps(item) + "\n" for item in lines))
    manifest = (folder / "benchmark.yaml").read_text().replace("name: editbench-example", "name: precomputed-paths", 1)
    (folder / "benchmark.yaml").write_text(manifest)
    benchmark = ingest(folder).benchmark
    assert benchmark == "precomputed-paths"

    outputs, outside = tmp_path / "edits", tmp_path / "secret"
    outputs.mkdir()
    outside.mkdir()
    secret = outside / "secret.png"
    from PIL import Image

    Image.effect_noise((48, 40), 80).convert("RGB").save(secret)  # an image of no sample
    chosen = [item for item in lines if item["category"] in ("physics", "social")]
    escaping = chosen[1]["id"]
    for item in chosen:
        target = outputs / f"{item['id']}.png"
        if item["id"] == escaping:
            target.symlink_to(secret)  # inside the folder by name, outside it in fact
        else:
            shutil.copy(folder / item["source_image"], target)

    run_id = submit_run(benchmark, tiny_models, categories=["physics", "social"], editor=ModelRef("precomputed", str(outputs), {}))
    wait_run_done(run_id, logs=worker.logs)
    assert_run_complete(run_id)
    with session_scope() as s:
        ids = dict(s.execute(select(Sample.id, Sample.external_id)).all())
    rows = {ids[sid]: e for sid, e in edits(run_id).items()}
    bad = rows[escaping]
    assert (bad.status, bad.error_code) == (Status.FAILED, "unsafe_path") and "outside" in bad.error
    assert all(e.status == Status.DONE for name, e in rows.items() if name != escaping)
    assert {j.status for j in judgments(run_id) if ids[j.sample_id] == escaping} == {Status.MISSING}
    # The secret's bytes were never copied into the run's artifacts.
    secret_bytes = secret.read_bytes()
    with session_scope() as s:
        paths = s.scalars(select(Edit.output_path).where(Edit.run_id == run_id, Edit.output_path.is_not(None))).all()
    assert all(Path(p).read_bytes() != secret_bytes for p in paths)
