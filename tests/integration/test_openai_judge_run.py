"""A whole run judged by the ``openai`` adapter inside real ``editbench worker --cpu`` processes,
against the fake OpenAI-compatible server on 127.0.0.1 (the worker reaches it over loopback)."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from editbench.producer.submit import ModelRef
from editbench.schema.db import session_scope
from editbench.schema.models import Judgment, Run, Status
from tests.http_fake.openai_server import FakeOpenAIServer
from tests.integration.harness import (
    assert_exactly_once,
    ingest_example,
    submit_run,
    wait_done,
)

pytestmark = pytest.mark.integration

KEY = "sk-integration-secret-4c1d9e"


def test_a_run_is_judged_over_http_by_cpu_workers_and_the_key_is_recorded_nowhere(workers, tiny_models, tmp_path, monkeypatch) -> None:
    benchmark = ingest_example(tmp_path, per_category=3)
    with FakeOpenAIServer(api_key=KEY) as server:
        workers.env["EDITBENCH_OPENAI_API_KEY"] = KEY
        monkeypatch.setenv("EDITBENCH_OPENAI_API_KEY", KEY)  # the producer checks the server at submit
        for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "EDITBENCH_OPENAI_BASE_URL"):
            workers.env.pop(name, None)
            monkeypatch.delenv(name, raising=False)
        workers.start(0)
        workers.wait_ready(1)
        run_id = submit_run(
            benchmark,
            tiny_models,
            categories=["physics", "social"],
            editor=ModelRef("identity", None, {}),
            judge=ModelRef("openai", "fake-vl", {"base_url": server.url, "concurrency": "8"}),
        )
        wait_done(run_id, workers)
        assert_exactly_once(run_id)
        chat = server.requests_to("/chat/completions")
    with session_scope() as s:
        judgments = s.execute(
            select(Judgment.status, Judgment.score, Judgment.raw_output, Judgment.error).where(Judgment.run_id == run_id)
        ).all()
        run = s.get(Run, run_id)
        stored = json.dumps([run.run_card, run.judge_params, [list(j) for j in judgments]], default=str)
    # physics has 3 criteria, social 2; generate mode asks for all of a sample's criteria at once.
    assert len(judgments) == 3 * 3 + 3 * 2
    assert all(status == Status.DONE and score == 7.0 for status, score, *_ in judgments)
    # one probe at submit (the producer checks the server before recording), then one per sample
    assert len(chat) == 1 + 6 and {r.body["model"] for r in chat} == {"fake-vl"}
    assert all(r.headers["authorization"] == f"Bearer {KEY}" for r in chat)
    assert KEY not in stored
    logs = workers.logs()
    assert "model load: judge openai" in logs  # the judge did run in the worker...
    assert KEY not in logs and server.url not in logs  # ...and logged neither the key nor the URL
