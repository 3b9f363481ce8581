"""A worker that serves models imports its model libraries in the parent, before Celery forks the
child (``EDITBENCH_PRELOAD_MODEL_LIBRARIES``): the child's first model load finds them imported,
imports next to nothing, and its fork is clean (the parent never touched CUDA)."""

from __future__ import annotations

import re

from tests.integration.harness import ingest_example, submit_run, wait_done


def _load_lines(log: str) -> list[str]:
    return re.findall(r"model load: .*", log)


def test_a_model_worker_child_finds_the_libraries_preloaded(workers, tiny_models, tmp_path) -> None:
    workers.env["EDITBENCH_PRELOAD_MODEL_LIBRARIES"] = "1"  # the default outside the test suite
    benchmark = ingest_example(tmp_path, per_category=1)
    workers.start(0)
    workers.wait_ready(1)
    run_id = submit_run(benchmark, tiny_models)
    wait_done(run_id, workers)
    log = (workers.log_dir / "worker-0.log").read_text()

    # The parent: imported before the fork, without initialising CUDA.
    parent = re.search(r"preloaded model libraries .* in [0-9.]+s: (\d+) modules, CUDA initialised: (\w+)", log)
    assert parent, log[-3000:]
    assert int(parent.group(1)) > 1000 and parent.group(2) == "no"
    assert log.index("preloaded model libraries") < log.index(" ready.")

    # The child, at its first loads: the libraries were there and its fork is clean.
    loads = _load_lines(log)
    assert [line.split()[2:4] for line in loads] == [["editor", "qwen-image-edit"], ["judge", "qwen3-vl"]], loads
    for line in loads:
        assert "preloaded: torch diffusers transformers; fork clean" in line, line
        parts = dict(re.findall(r"(\w+)=([0-9.]+)s", line))
        assert {"adapter_import", "imports", "build", "to_device", "setup", "other"} <= set(parts), line
        imported = int(re.search(r"modules imported: (\d+)", line).group(1))
        assert imported < 200, line  # without the preload the editor's load imports ~3,300 modules


def test_without_the_preload_the_child_imports_them_at_its_first_load(workers, tiny_models, tmp_path) -> None:
    workers.env["EDITBENCH_PRELOAD_MODEL_LIBRARIES"] = "0"
    benchmark = ingest_example(tmp_path, per_category=1)
    workers.start(0)
    workers.wait_ready(1)
    wait_done(submit_run(benchmark, tiny_models), workers)
    log = (workers.log_dir / "worker-0.log").read_text()
    assert "preloaded model libraries" not in log
    editor = _load_lines(log)[0]
    assert "preloaded: none; fork clean" in editor, editor
    assert int(re.search(r"modules imported: (\d+)", editor).group(1)) > 1000, editor
