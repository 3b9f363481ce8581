"""``editbench up``: start a one-machine cluster, keep it running until Ctrl-C or SIGTERM, and
stop everything it started (workers first, so their tasks finish or go back to the queue)."""

from __future__ import annotations

import signal
import time
from collections.abc import Callable

from editbench.cluster.launcher import Cluster, ClusterSpec, visible_gpus
from editbench.config import redact


def default_spec(*, cpu_workers: int | None, beat: bool, flower: bool, flower_port: int, flower_address: str = "127.0.0.1") -> ClusterSpec:
    """One worker per visible GPU, else one CPU worker. ``cpu_workers`` CPU workers run *beside*
    the GPU workers: they take the judge batches of judges served over HTTP (role ``api``) while
    the GPU workers take edits and local judges (role ``models``); without GPUs they take all."""
    gpus = visible_gpus()
    beside_gpus = bool(gpus and cpu_workers)
    return ClusterSpec(
        gpus=gpus,
        cpu_workers=cpu_workers if cpu_workers else (0 if gpus else 1),
        beat=beat,
        flower=flower,
        flower_port=flower_port,
        flower_address=flower_address,
        gpu_role="models" if beside_gpus else "all",
        cpu_role="api" if beside_gpus else "all",
    )


def serve(spec: ClusterSpec, say: Callable[[str], None]) -> None:
    """Run the cluster until interrupted or until one of its processes exits; ``say`` receives
    one line per event (rich markup)."""
    cluster = Cluster(spec)
    stop = {"now": False}
    signal.signal(signal.SIGTERM, lambda *_: stop.update(now=True))
    try:
        cluster.start()  # raises AlreadyRunningError (nothing started) if another `up` holds the home
    except KeyboardInterrupt:  # start() stops what it had started before re-raising
        return
    try:
        cluster.wait_for_workers(len(spec.gpus) + spec.cpu_workers)
        workers = ", ".join(
            [f"gpu{g} ({spec.gpu_role})" for g in spec.gpus] + [f"cpu{s} ({spec.cpu_role})" for s in range(spec.cpu_workers)]
        )
        broker = redact(cluster.env.get("EDITBENCH_BROKER_URL", ""))
        say(
            f"cluster up: workers {workers}; broker {broker}"
            + (f"; Flower on port {spec.flower_port}" if spec.flower else "")
            + f"; logs in {cluster.log_dir}"
        )
        while not stop["now"]:
            dead = [n for n, p in cluster.processes.items() if p.poll() is not None]
            if dead:
                say(f"[red]{', '.join(dead)} exited[/]; see {cluster.log_dir}")
                break
            time.sleep(1)
    except KeyboardInterrupt:
        pass
    finally:
        say("stopping cluster…")
        cluster.stop()
