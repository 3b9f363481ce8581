"""Submit-time checks of served models against the fake OpenAI-compatible server on 127.0.0.1:
model names pass through verbatim, and a missing key, an unreachable base URL, an unknown model,
a server without logprobs in logits mode or credentials in a parameter are each refused with one
line — with nothing recorded in the ledger (SQLite and PostgreSQL)."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from sqlalchemy import func, select

from editbench.benchmark.example import write_example_benchmark
from editbench.errors import RunConfigError
from editbench.producer.ingest import ingest
from editbench.producer.submit import ModelRef, RunRequest, create_run
from editbench.schema.db import session_scope
from editbench.schema.models import Judgment, Run
from tests.http_fake.openai_server import FakeOpenAIServer, Reply, Status

KEY = "sk-model-checks-5e7a1f"


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def benchmark(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "EDITBENCH_OPENAI_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("EDITBENCH_OPENAI_API_KEY", KEY)
    return ingest(write_example_benchmark(tmp_path / "bench", per_category=1)).benchmark


@pytest.fixture
def server():
    with FakeOpenAIServer(api_key=KEY) as fake:
        yield fake


def _request(benchmark: str, judge: str, **params: str) -> RunRequest:
    return RunRequest(
        benchmark=benchmark,
        categories=["physics"],
        editor=ModelRef.parse("identity:"),
        judge=ModelRef.parse(judge, params),
    )


def _runs() -> int:
    with session_scope() as s:
        return s.scalar(select(func.count()).select_from(Run)) or 0


def _refused(request: RunRequest) -> str:
    with pytest.raises(RunConfigError) as refused:
        create_run(request)
    message = str(refused.value)
    assert "\n" not in message and KEY not in message
    assert _runs() == 0
    return message


def test_a_served_judge_model_name_is_recorded_verbatim_and_routed_to_cpu_workers(benchmark: str, server) -> None:
    run_id = create_run(_request(benchmark, "openai:gpt-4.1", base_url=server.url))
    with session_scope() as s:
        run = s.get(Run, run_id)
        assert (run.judge_kind, run.judge_path, run.judge_placement) == ("openai", "gpt-4.1", "cpu")
        assert run.run_card["judge"]["path"] == "gpt-4.1" and run.run_card["judge"]["config_hash"] is None
    probe = server.requests_to("/chat/completions")
    assert [r.body["model"] for r in probe] == ["gpt-4.1"]  # the submit-time check, once


def test_a_local_model_path_is_still_resolved_to_an_absolute_folder(
    benchmark: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "edits").mkdir()
    monkeypatch.chdir(tmp_path)
    request = _request(benchmark, "simulated:")
    request.editor = ModelRef.parse("precomputed:edits")
    run_id = create_run(request)
    with session_scope() as s:
        run = s.get(Run, run_id)
        assert run.editor_path == str(tmp_path / "edits") and run.judge_placement == "gpu"


def test_a_missing_api_key_is_refused_at_submit(benchmark: str, server, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("EDITBENCH_OPENAI_API_KEY")
    message = _refused(_request(benchmark, "openai:gpt-4.1", base_url=server.url))
    assert message.startswith("--judge openai:") and "no API key" in message
    assert server.requests_to("/chat/completions") == []


def test_an_unreachable_base_url_is_refused_at_submit(benchmark: str) -> None:
    message = _refused(
        _request(benchmark, "openai:gpt-4.1", base_url=f"http://127.0.0.1:{_closed_port()}/v1", max_retries="0", timeout_s="2")
    )
    assert "cannot reach" in message


def test_an_unknown_model_is_refused_at_submit(benchmark: str, server) -> None:
    server.script(Status(404, "The model `gpt-nope` does not exist or you do not have access to it.", code="model_not_found"))
    message = _refused(_request(benchmark, "openai:gpt-nope", base_url=server.url))
    assert "gpt-nope" in message and "404" in message


def test_a_server_without_logprobs_is_refused_in_logits_mode(benchmark: str, server) -> None:
    server.responder = lambda received: Reply(content="7")  # answers, but never with logprobs
    message = _refused(_request(benchmark, "openai:fake-vl", base_url=server.url, mode="logits"))
    assert "top_logprobs" in message and "mode=generate" in message
    # generate mode needs no logprobs: the same server is accepted
    assert create_run(_request(benchmark, "openai:fake-vl", base_url=server.url)) > 0


def test_a_base_url_with_credentials_is_refused_and_never_recorded(benchmark: str, server) -> None:
    url = f"http://alice:hunter2-secret@127.0.0.1:{server.port}/v1?api-key=sk-query-secret"
    message = _refused(_request(benchmark, "openai:gpt-4.1", base_url=url))
    assert "hunter2-secret" not in message and "sk-query-secret" not in message
    assert "EDITBENCH_OPENAI_BASE_URL" in message and "alice:***@" in message
    with session_scope() as s:
        assert s.scalar(select(func.count()).select_from(Judgment)) == 0
    assert server.requests_to("/chat/completions") == []


def test_the_key_is_never_a_parameter(benchmark: str, server) -> None:
    message = _refused(_request(benchmark, "openai:gpt-4.1", base_url=server.url, api_key="sk-in-a-param"))
    assert "sk-in-a-param" not in message and "EDITBENCH_OPENAI_API_KEY" in message
