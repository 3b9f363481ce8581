"""Two worker hosts that share nothing but the broker, the ledger and an object store.

Each host is a network namespace with its own EDITBENCH_HOME; Redis, PostgreSQL and the S3
server (moto) listen on the head's end of the links the test made. A multi-category run with
the simulated editor and judge must finish with every sample edited and judged exactly once and
work done on both hosts; then, in a second run, one host is cut off (its link taken down) while
it holds work: the other host takes that work over once the lease runs out, and nothing is lost
or done twice — not even when the cut host comes back.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from sqlalchemy import select

from editbench.schema.db import session_scope
from editbench.schema.models import Edit, Judgment, Status
from tests.hosts.cluster import HostCluster
from tests.integration.harness import assert_exactly_once

pytestmark = [pytest.mark.hosts, pytest.mark.integration, pytest.mark.timeout(420)]

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff", ".gif"}
IMAGE_MAGIC = (b"\x89PNG", b"\xff\xd8\xff", b"RIFF", b"GIF8", b"BM")


def _setup(cluster: HostCluster, per_category: int) -> str:
    from editbench.benchmark.example import write_example_benchmark

    folder = write_example_benchmark(cluster.workdir / "bench", per_category=per_category)
    ingested = cluster.cli("ingest", str(folder))
    assert ingested.returncode == 0, ingested.stderr + ingested.stdout
    return "editbench-example"


def _submit(cluster: HostCluster, benchmark: str, median_s: float) -> int:
    result = cluster.cli(
        "run",
        "--benchmark",
        benchmark,
        "--editor",
        "simulated:",
        "--param",
        f"median_s={median_s}",
        "--param",
        "sigma=0.1",
        "--judge",
        "simulated:",
        "--judge-param",
        "per_image_s=0.02",
        "--judge-batch-size",
        "4",
    )
    assert result.returncode == 0, result.stderr + result.stdout
    return int(result.stdout.split("run ", 1)[1].split()[0])


def _edits(run_id: int) -> list[Edit]:
    with session_scope() as s:
        return list(s.scalars(select(Edit).where(Edit.run_id == run_id)))


def _judgments(run_id: int) -> list[Judgment]:
    with session_scope() as s:
        return list(s.scalars(select(Judgment).where(Judgment.run_id == run_id)))


def _host(worker: str | None) -> str:
    return (worker or "").split("/", 1)[0]


def _run_done(run_id: int) -> bool:
    from editbench.schema.models import Run, RunStatus

    with session_scope() as s:
        return s.get(Run, run_id).status == RunStatus.DONE


def _assert_everything_once(cluster: HostCluster, run_id: int) -> None:
    """The ledger: one edit and one judgment per criterion per sample, all done; the object
    store: exactly one edited image per sample, at the location the ledger recorded."""
    assert_exactly_once(run_id)
    edits = _edits(run_id)
    assert edits and {e.status for e in edits} == {Status.DONE}
    assert {j.status for j in _judgments(run_id)} == {Status.DONE}
    prefix = f"editbench/artifacts/run-{run_id}/"
    assert cluster.s3.keys(cluster.bucket, prefix) == sorted(f"{prefix}{e.sample_id}.png" for e in edits)
    assert {e.output_path for e in edits} == {f"s3://{cluster.bucket}/{prefix}{e.sample_id}.png" for e in edits}


def _images_on_disk(folder: Path) -> list[Path]:
    found = []
    for path in folder.rglob("*"):
        if not path.is_file():
            continue
        with open(path, "rb") as handle:
            head = handle.read(4)
        if path.suffix.lower() in IMAGE_SUFFIXES or head.startswith(IMAGE_MAGIC):
            found.append(path)
    return found


def test_two_hosts_without_a_shared_folder_edit_and_judge_every_sample_exactly_once(host_cluster: HostCluster) -> None:
    cluster = host_cluster
    benchmark = _setup(cluster, per_category=4)  # 5 categories, 20 samples
    for slot, host in enumerate(cluster.hosts):
        cluster.start_worker(host, slot)
    cluster.start_beat()
    cluster.wait_workers(2)

    run_id = _submit(cluster, benchmark, median_s=0.3)
    cluster.wait(lambda: _run_done(run_id), 180, f"run {run_id} to finish")

    _assert_everything_once(cluster, run_id)
    edits = _edits(run_id)
    assert all(e.attempts == 1 for e in edits), [(e.sample_id, e.attempts) for e in edits]  # nothing redone
    assert {_host(e.worker) for e in edits} == {"eb-host-a", "eb-host-b"}, [e.worker for e in edits]
    assert {_host(j.worker) for j in _judgments(run_id)} <= {"eb-host-a", "eb-host-b"}

    # No image on either host's disk except its bounded read cache; every host's cache within its bound.
    for host in cluster.hosts:
        cache = host.home / "cache" / "objects"
        stray = [p for p in _images_on_disk(host.home) if cache not in p.parents]
        assert stray == [], stray
        assert cache.is_dir()
        assert sum(p.stat().st_size for p in cache.rglob("*") if p.is_file()) <= 0.05 * 1024**2
    # The head wrote the benchmark into the object store; nothing into its own home either.
    assert [p for p in _images_on_disk(cluster.head_home) if cluster.head_home / "cache" / "objects" not in p.parents] == []

    # The secret key reached the workers only through their environment: no log shows it.
    from tests.storage.s3server import SECRET_KEY

    assert SECRET_KEY not in cluster.read_logs()

    # A report is written locally from the object-store run (images fetched through the cache).
    report = cluster.cli("report", str(run_id), "--out", str(cluster.workdir / "report"))
    assert report.returncode == 0, report.stderr + report.stdout
    html = (cluster.workdir / "report" / "report.html").read_text()
    thumbs = list((cluster.workdir / "report" / "thumbs").glob("*.jpg"))
    assert len(thumbs) >= len(edits)  # one per distinct image (a simulated edit is its source: same hash, one thumbnail)
    assert "thumbs/" in html


def test_a_host_cut_off_mid_run_loses_its_leased_work_to_the_other_host(host_cluster: HostCluster) -> None:
    cluster = host_cluster
    benchmark = _setup(cluster, per_category=4)
    for slot, host in enumerate(cluster.hosts):
        cluster.start_worker(host, slot)
    cluster.start_beat()
    cluster.wait_workers(2)
    host_a, host_b = cluster.hosts

    run_id = _submit(cluster, benchmark, median_s=1.0)

    def a_holds_work_after_finishing_some() -> list[int] | None:
        edits = _edits(run_id)
        done_by_a = [e for e in edits if e.status == Status.DONE and _host(e.worker) == host_a.name]
        held = [e.sample_id for e in edits if e.status == Status.RUNNING and _host(e.worker) == host_a.name]
        return held if done_by_a and held else None

    held = cluster.wait(a_holds_work_after_finishing_some, 120, "host A to hold an edit after finishing one")
    cluster.cut(host_a)
    cut_at = time.time()

    cluster.wait(lambda: _run_done(run_id), 240, f"run {run_id} to finish without host A")
    took_s = time.time() - cut_at
    _assert_everything_once(cluster, run_id)
    edits = {e.sample_id: e for e in _edits(run_id)}
    for sample_id in held:
        # Taken over: redone once by host B after A's lease ran out, recorded once.
        assert _host(edits[sample_id].worker) == host_b.name and edits[sample_id].attempts == 2, edits[sample_id].worker
    assert took_s >= cluster.lease_s  # nobody took it before the lease expired
    snapshot = {(e.sample_id, e.worker, e.attempts, e.output_sha256) for e in edits.values()}
    judged = {(j.sample_id, j.criterion, j.worker, j.score) for j in _judgments(run_id)}

    # Host A comes back with its stale claims: the ledger's fencing refuses its late writes.
    cluster.reconnect(host_a)
    time.sleep(4 * cluster.lease_s)
    assert_exactly_once(run_id)
    assert {(e.sample_id, e.worker, e.attempts, e.output_sha256) for e in _edits(run_id)} == snapshot
    assert {(j.sample_id, j.criterion, j.worker, j.score) for j in _judgments(run_id)} == judged
    prefix = f"editbench/artifacts/run-{run_id}/"
    assert len(cluster.s3.keys(cluster.bucket, prefix)) == len(edits)


def test_without_root_the_host_tests_skip_and_say_why(monkeypatch: pytest.MonkeyPatch) -> None:
    import tests.hosts.cluster as cluster_module

    monkeypatch.setattr(cluster_module.os, "geteuid", lambda: 1000)
    assert "needs root" in cluster_module.unavailable_reason()
