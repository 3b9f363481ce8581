"""Third-party adapters: discovered through entry points, listed with their origin, used in a real
run through Celery workers; a broken one is reported by name and hides nothing."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image, ImageOps
from sqlalchemy import select

from editbench.schema.db import session_scope
from editbench.schema.models import Edit, Judgment, Sample, Status


def _models_list(env_paths: list[str]) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([*env_paths, os.environ.get("PYTHONPATH", "")])}
    return subprocess.run(
        [sys.executable, "-m", "editbench.cli", "models", "list", "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_models_list_shows_a_plugin_with_its_distribution_and_version(installed_plugins) -> None:
    result = _models_list([str(installed_plugins.mirror)])
    assert result.returncode == 0, result.stderr
    listing = json.loads(result.stdout)
    editors = {e["kind"]: e for e in listing["editors"]}
    judges = {j["kind"]: j for j in listing["judges"]}
    assert editors["mirror"]["origin"] == "editbench-mirror 0.3.0"
    assert editors["mirror"]["target"] == "editbench_mirror:MirrorEditor"
    assert editors["mirror"]["error"] is None
    assert judges["brightness"]["origin"] == "editbench-mirror 0.3.0"
    # Built-ins come through the same listing, marked as such.
    assert editors["qwen-image-edit"]["origin"] == "built-in"
    assert editors["diffusers"]["origin"] == "built-in"


def test_a_broken_plugin_is_reported_by_name_with_its_error_and_hides_nothing(installed_plugins) -> None:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(installed_plugins.broken), str(installed_plugins.mirror), os.environ.get("PYTHONPATH", "")]),
    }
    text = subprocess.run([sys.executable, "-m", "editbench.cli", "models", "list"], env=env, capture_output=True, text=True, timeout=120)
    assert text.returncode == 0, text.stderr
    assert "broken-editor" in text.stdout and "editbench-broken 1.0.0" in text.stdout
    assert "BROKEN: ModuleNotFoundError: No module named 'editbench_missing_dependency'" in text.stdout
    assert "Traceback" not in text.stdout + text.stderr
    listing = json.loads(_models_list([str(installed_plugins.broken), str(installed_plugins.mirror)]).stdout)
    editors = {e["kind"]: e for e in listing["editors"]}
    judges = {j["kind"]: j for j in listing["judges"]}
    assert "editbench_missing_dependency" in editors["broken-editor"]["error"]
    assert "editbench_missing_dependency" in judges["broken-judge"]["error"]
    # Everything else still loads.
    assert all(e["error"] is None for kind, e in editors.items() if kind != "broken-editor")
    assert {"mirror", "identity", "qwen-image-edit", "diffusers"} <= set(editors)


def test_using_a_broken_plugin_raises_one_error_that_names_it(installed_plugins, on_path) -> None:
    from editbench.models.base import PluginLoadError, load_editor, validate_model

    on_path(installed_plugins.broken)
    with pytest.raises(PluginLoadError) as excinfo:
        load_editor("broken-editor", None)
    message = str(excinfo.value)
    assert "broken-editor" in message and "editbench-broken 1.0.0" in message
    assert "editbench_missing_dependency" in message
    with pytest.raises(PluginLoadError):
        validate_model("judge", "broken-judge", None)
    # The identity editor is unaffected.
    assert load_editor("identity", None).name == "identity"


def test_submit_refuses_a_broken_plugin_and_records_nothing(installed_plugins, on_path, sqlite_db, tmp_path) -> None:
    from editbench.producer.submit import ModelRef, RunConfigError, RunRequest, create_run
    from editbench.schema.models import Run
    from tests.integration.harness import ingest_example

    benchmark = ingest_example(tmp_path, per_category=1)
    on_path(installed_plugins.broken)
    with pytest.raises(RunConfigError, match="broken-editor.*editbench_missing_dependency"):
        create_run(RunRequest(benchmark, ModelRef("broken-editor", None), ModelRef("simulated", None)))
    with session_scope() as s:
        assert s.scalars(select(Run)).all() == []


@pytest.mark.integration
def test_a_pip_installed_plugin_edits_and_judges_a_real_run_through_workers(
    installed_plugins, on_path, sqlite_db, make_workers, tmp_path
) -> None:
    from editbench.benchmark.store import ImageStore
    from editbench.config import load_settings
    from editbench.producer.submit import ModelRef, RunRequest, submit
    from tests.integration.harness import assert_exactly_once, ingest_example, wait_done

    # On PYTHONPATH before the worker pool copies the environment: the workers discover it
    # from the installed .dist-info just as a pip-installed package in their environment.
    on_path(installed_plugins.mirror)
    workers = make_workers(sqlite_db)
    benchmark = ingest_example(tmp_path, per_category=2)
    workers.start(0)
    workers.wait_ready(1)
    run_id = submit(
        RunRequest(
            benchmark=benchmark,
            categories=["physics"],
            editor=ModelRef("mirror", None, {}),
            judge=ModelRef("brightness", None, {}),
        )
    )
    wait_done(run_id, workers)
    assert_exactly_once(run_id)
    store = ImageStore(load_settings().store_dir)
    with session_scope() as s:
        edits = s.execute(select(Edit, Sample).join(Sample, Sample.id == Edit.sample_id).where(Edit.run_id == run_id)).all()
        assert len(edits) == 2
        for edit, sample in edits:
            assert edit.status == Status.DONE, (edit.error_code, edit.error, workers.logs())
            source = store.open(sample.source_sha256).convert("RGB")
            edited = Image.open(edit.output_path).convert("RGB")
            # The plugin's code ran in the worker: the stored edit is the mirrored source.
            assert np.array_equal(np.asarray(edited), np.asarray(ImageOps.mirror(source)))
        judgments = s.execute(select(Judgment.status, Judgment.score).where(Judgment.run_id == run_id)).all()
    assert judgments and all(status == Status.DONE and 0 <= score <= 10 for status, score in judgments)
