"""Which queues a worker takes (``editbench worker --serve``), where judge batches go, and what
``editbench up --cpu-workers N`` starts beside the GPU workers."""

from __future__ import annotations

import pytest

from editbench.cluster.serve import default_spec
from editbench.queue.names import (
    CONTROL_QUEUE,
    CPU_JUDGE_QUEUE,
    JUDGE_QUEUE,
    SHARED_QUEUE,
    judge_queue,
    pinned_judge_queue,
    pinned_queue,
    worker_queues,
)


def test_each_worker_role_takes_its_queues() -> None:
    # most urgent first: chord bodies, judge batches (a served judge's too, for ``all``), edits
    judges = [JUDGE_QUEUE, pinned_judge_queue(2)]
    assert worker_queues(2) == [CONTROL_QUEUE, *judges, CPU_JUDGE_QUEUE, SHARED_QUEUE, pinned_queue(2)]
    assert worker_queues(2, "models") == [CONTROL_QUEUE, *judges, SHARED_QUEUE, pinned_queue(2)]
    assert worker_queues(2, "api") == [CONTROL_QUEUE, CPU_JUDGE_QUEUE]
    with pytest.raises(ValueError, match="unknown worker role"):
        worker_queues(0, "judges")


def test_judge_batches_of_a_served_judge_go_to_the_cpu_queue_whatever_the_routing() -> None:
    assert judge_queue("cpu", "round-robin", 3, 2) == CPU_JUDGE_QUEUE
    assert judge_queue("cpu", "shared", 0, 1) == CPU_JUDGE_QUEUE
    assert judge_queue("gpu", "round-robin", 3, 2) == pinned_judge_queue(1)
    assert judge_queue("gpu", "shared", 3, 2) == JUDGE_QUEUE


def _spec(cpu_workers: int | None):
    return default_spec(cpu_workers=cpu_workers, beat=False, flower=False, flower_port=5555)


def test_up_runs_cpu_workers_beside_the_gpu_workers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "0,1")
    beside = _spec(3)
    assert (beside.gpus, beside.cpu_workers, beside.gpu_role, beside.cpu_role) == ([0, 1], 3, "models", "api")
    alone = _spec(None)
    assert (alone.gpus, alone.cpu_workers, alone.gpu_role) == ([0, 1], 0, "all")


def test_without_gpus_the_cpu_workers_take_all_work(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")
    assert (_spec(2).gpus, _spec(2).cpu_workers, _spec(2).cpu_role) == ([], 2, "all")
    assert (_spec(None).cpu_workers, _spec(None).cpu_role) == (1, "all")


def test_worker_refuses_an_unknown_role_in_one_line() -> None:
    from click.testing import CliRunner

    from editbench.cli.cluster import worker_command

    result = CliRunner().invoke(worker_command, ["--cpu", "--serve", "judges"])
    assert result.exit_code == 2 and "'judges' is not one of 'all', 'models', 'api'" in result.output
