"""Issue 11's done-when: ``editbench run --editor diffusers:DIR --judge openai:MODEL --judge-param
base_url=http://127.0.0.1:PORT/v1`` end to end through Celery workers, with the API judging on a
CPU worker (``editbench worker --cpu --serve api``) beside a GPU-style edit worker
(``--serve models``: the queues a GPU worker takes when CPU judge workers run beside it). The
ledger says which worker did which stage."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from editbench.cli import main
from editbench.models.tiny_pipelines import build_tiny_pipeline
from editbench.schema.db import session_scope
from editbench.schema.models import ApiUsage, Edit, Judgment, Run, Status
from tests.http_fake.openai_server import FakeOpenAIServer
from tests.integration.harness import assert_exactly_once, ingest_example, wait_done

pytestmark = pytest.mark.integration

KEY = "sk-cpu-judging-71aa0c"
PIPELINE = "StableDiffusionInstructPix2PixPipeline"


@pytest.fixture(scope="module")
def pix2pix(tmp_path_factory: pytest.TempPathFactory) -> Path:
    cache = os.environ.get("EDITBENCH_TEST_MODELS")
    root = Path(cache) / "pipelines" if cache else tmp_path_factory.mktemp("pipelines")
    return build_tiny_pipeline(PIPELINE, root)


def test_api_judging_runs_on_a_cpu_worker_while_an_edit_worker_edits(
    workers, pix2pix: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    benchmark = ingest_example(tmp_path, per_category=2)
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "EDITBENCH_OPENAI_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
        workers.env.pop(name, None)
    monkeypatch.setenv("EDITBENCH_OPENAI_API_KEY", KEY)  # the producer's submit-time check
    workers.env["EDITBENCH_OPENAI_API_KEY"] = KEY
    with FakeOpenAIServer(api_key=KEY) as server:
        workers.start(0, serve="models")  # edits (and local judges): a GPU worker's queues
        workers.start(1, serve="api")  # judge batches of served judges only
        workers.wait_ready(2)
        result = CliRunner().invoke(
            main,
            [
                "run",
                "--benchmark",
                benchmark,
                "--category",
                "physics",
                "--category",
                "social",
                "--editor",
                f"diffusers:{pix2pix}",
                "--param",
                "steps=2",
                "--param",
                "working_area=48*48",
                "--judge",
                "openai:fake-vl",
                "--judge-param",
                f"base_url={server.url}",
                "--judge-param",
                "concurrency=8",
                "--judge-batch-size",
                "2",
            ],
        )
        assert result.exit_code == 0, result.output
        with session_scope() as s:
            run_id = s.scalars(select(Run.id)).one()
        wait_done(run_id, workers, timeout_s=300)
        assert_exactly_once(run_id)
        chat = server.requests_to("/chat/completions")
    with session_scope() as s:
        run = s.get(Run, run_id)
        edits = s.execute(select(Edit.status, Edit.worker).where(Edit.run_id == run_id)).all()
        judgments = s.execute(select(Judgment.status, Judgment.worker).where(Judgment.run_id == run_id)).all()
        usage = s.execute(select(ApiUsage.worker, ApiUsage.requests).where(ApiUsage.run_id == run_id)).all()
        assert (run.judge_path, run.judge_placement, run.editor_path) == ("fake-vl", "cpu", str(pix2pix))
    assert len(edits) == 4 and all(status == Status.DONE for status, _ in edits), workers.logs()
    assert all("/slot0/" in worker for _, worker in edits)  # every edit on the edit worker...
    assert len(judgments) == 2 * 3 + 2 * 2 and all(status == Status.DONE for status, _ in judgments)
    assert all("/slot1/" in worker for _, worker in judgments)  # ...every judgment on the CPU judge worker
    assert usage and all("/slot1/" in worker for worker, _ in usage)
    assert sum(n for _, n in usage) == 4 and len(chat) == 4 + 1  # one request per sample, plus the submit check
    assert {r.body["model"] for r in chat} == {"fake-vl"}
