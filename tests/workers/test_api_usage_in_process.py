"""Served models inside the worker functions, run in this process against the fake
OpenAI-compatible server on 127.0.0.1 and a real ledger (SQLite and PostgreSQL): each judge
batch's usage lands in ``api_usage`` and in the run card and report; a per-run budget stops
judging with the unstarted samples back in ``pending``; an images refusal is ``content_policy``.

Redis is unreachable (a closed port), so the claim check falls back to the artifact files, as in
tests/workers/test_tasks_in_process.py; the same code runs in real workers in tests/integration.
"""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest
from sqlalchemy import select

from editbench.benchmark.example import write_example_benchmark
from editbench.producer.ingest import ingest
from editbench.producer.submit import ModelRef, RunRequest, create_run
from editbench.schema import queries
from editbench.schema.db import session_scope
from editbench.schema.models import ApiUsage, Edit, Judgment, Run, RunStatus, Status
from tests.http_fake.openai_server import FakeOpenAIServer
from tests.http_fake.openai_server import Status as HTTPStatus

KEY = "sk-usage-9b1c2d"
# physics has 3 criteria; the fake server bills 120 prompt + 30 completion tokens per answer.
CRITERIA, TOKENS = 3, 150


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def server(db_url: str, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("EDITBENCH_BROKER_URL", f"redis://127.0.0.1:{_closed_port()}/0")
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "EDITBENCH_OPENAI_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("EDITBENCH_OPENAI_API_KEY", KEY)
    with FakeOpenAIServer(api_key=KEY) as fake:
        yield fake


def _run(tmp_path: Path, judge_params: dict[str, str], editor: ModelRef | None = None) -> int:
    ingest(write_example_benchmark(tmp_path / "bench", per_category=2))
    return create_run(
        RunRequest(
            benchmark="editbench-example",
            categories=["physics"],
            editor=editor or ModelRef("simulated", None, {"median_s": "0", "sigma": "0"}),
            judge=ModelRef.parse("openai:fake-vl", judge_params),
            judge_batch_size=2,
        )
    )


def _edit_all(run_id: int) -> list[int]:
    from editbench.workers.edit import edit_sample

    with session_scope() as s:
        sample_ids = sorted(s.scalars(select(Edit.sample_id).where(Edit.run_id == run_id)))
    for i, sample_id in enumerate(sample_ids):
        edit_sample(run_id, sample_id, f"edit-{i}")
    return sample_ids


def _category(run_id: int) -> int:
    with session_scope() as s:
        return s.scalar(select(Edit.category_id).where(Edit.run_id == run_id).limit(1))


def test_each_judge_batch_records_its_usage_and_the_run_card_and_report_show_the_totals(server, tmp_path: Path) -> None:
    from editbench.report import write_report
    from editbench.workers.score import judge_samples

    run_id = _run(tmp_path, {"base_url": server.url, "price_input_per_mtok": "2", "price_output_per_mtok": "8"})
    samples = _edit_all(run_id)
    judge_samples(run_id, _category(run_id), samples, "judge-1")
    with session_scope() as s:
        rows = list(s.scalars(select(ApiUsage).where(ApiUsage.run_id == run_id)))
        statuses = set(s.scalars(select(Judgment.status).where(Judgment.run_id == run_id)))
        assert s.get(Run, run_id).status == RunStatus.DONE
    assert statuses == {Status.DONE}
    [row] = rows
    assert (row.stage, row.task_id, row.requests, row.retries) == ("judge", "judge-1", 2, 0)
    assert (row.prompt_tokens, row.completion_tokens, row.stopped) == (240, 60, None)
    assert row.cost_usd == pytest.approx(240 * 2e-6 + 60 * 8e-6)

    out = tmp_path / "report"
    with session_scope() as s:
        write_report(s, run_id, out)
    card = json.loads((out / "run_card.json").read_text())
    judge = card["api_usage"]["judge"]
    assert (judge["batches"], judge["requests"], judge["total_tokens"], judge["held"]) == (1, 2, 300, 0)
    assert judge["cost_usd"] == pytest.approx(row.cost_usd)
    assert "judge API usage**: 2 requests" in (out / "report.md").read_text()


def test_a_reached_budget_stops_judging_and_leaves_the_rest_pending_for_resume(server, tmp_path: Path) -> None:
    from editbench.workers.score import judge_samples

    # One request at a time; the first answer spends the whole token budget.
    run_id = _run(tmp_path, {"base_url": server.url, "budget_tokens": str(TOKENS), "concurrency": "1"})
    first, second = _edit_all(run_id)
    category = _category(run_id)
    judge_samples(run_id, category, [first, second], "judge-1")
    assert len(server.requests_to("/chat/completions")) == 1 + 1  # the submit check, then one sample

    with session_scope() as s:
        rows = {(j.sample_id, j.status, j.error_code, j.attempts) for j in s.scalars(select(Judgment).where(Judgment.run_id == run_id))}
        totals = queries.run_api_usage(s, run_id)
        held = queries.budget_held_categories(s, run_id)
        assert s.get(Run, run_id).status == RunStatus.RUNNING
    assert {(sid, st, code) for sid, st, code, _ in rows} == {(first, Status.DONE, None), (second, Status.PENDING, "budget_exhausted")}
    assert all(attempts == 0 for sid, *_, attempts in rows if sid == second)  # the attempt was given back
    assert totals.counters["requests"] == 1 and totals.held == CRITERIA and "budget reached" in totals.stopped
    assert held == {category}  # the sweeper leaves it alone; `resume` sends it
    from editbench.producer.progress import read_status

    [note] = read_status(run_id).notes  # `editbench status` says why the run stands still
    assert "judging stopped" in note and "budget_tokens=150" in note and f"editbench resume {run_id}" in note

    # The budget is per run: a later batch (another worker, a resume) sees the run's total and
    # starts nothing.
    judge_samples(run_id, category, [second], "judge-2")
    assert len(server.requests_to("/chat/completions")) == 2
    with session_scope() as s:
        assert {j.status for j in s.scalars(select(Judgment).where(Judgment.sample_id == second))} == {Status.PENDING}


def test_an_images_content_policy_refusal_is_recorded_as_its_own_failure_code(server, tmp_path: Path) -> None:
    editor = ModelRef.parse("openai-images:gpt-image-1", {"base_url": server.url, "max_retries": "0"})
    run_id = _run(tmp_path, {"base_url": server.url}, editor=editor)
    server.script(HTTPStatus(400, "Your request was rejected by the safety system.", code="moderation_blocked"))
    _edit_all(run_id)
    with session_scope() as s:
        edits = sorted((e.status, e.error_code) for e in s.scalars(select(Edit).where(Edit.run_id == run_id)))
        usage = sorted((u.stage, u.requests, u.failed, u.images) for u in s.scalars(select(ApiUsage).where(ApiUsage.run_id == run_id)))
    assert edits == [(Status.DONE, None), (Status.FAILED, "content_policy")]
    # each edit's requests are in the ledger too: the refused one (failed, no image) and the edit
    assert usage == [("edit", 1, 0, 1), ("edit", 1, 1, 0)]
    from editbench.report.data import load_run
    from editbench.report.run_card import build_run_card

    with session_scope() as s:
        card = build_run_card(load_run(s, run_id)).to_json_dict()
    assert card["api_usage"] == {"editor": {**card["api_usage"]["editor"], "batches": 2, "requests": 2, "images": 1}}


def test_resume_with_a_raised_budget_judges_the_rest_and_records_the_change(server, tmp_path: Path) -> None:
    from editbench.errors import RunConfigError
    from editbench.producer.resume import change_judge_params
    from editbench.workers.score import judge_samples

    run_id = _run(tmp_path, {"base_url": server.url, "budget_tokens": str(TOKENS), "concurrency": "1"})
    first, second = _edit_all(run_id)
    category = _category(run_id)
    judge_samples(run_id, category, [first, second], "judge-1")
    with pytest.raises(RunConfigError, match="only takes budget_usd, budget_tokens on resume"):
        change_judge_params(run_id, {"mode": "logits"})  # would change the scores: refused
    change_judge_params(run_id, {"budget_tokens": str(10 * TOKENS)})
    judge_samples(run_id, category, [second], "judge-2")  # what `resume` sends
    with session_scope() as s:
        run = s.get(Run, run_id)
        assert run.status == RunStatus.DONE and run.judge_params["budget_tokens"] == str(10 * TOKENS)
        assert [c["params"] for c in run.run_card["judge_param_changes"]] == [{"budget_tokens": str(10 * TOKENS)}]
        assert {j.status for j in s.scalars(select(Judgment).where(Judgment.run_id == run_id))} == {Status.DONE}
        assert queries.run_api_usage(s, run_id).counters["requests"] == 2


def test_with_one_model_resident_a_served_judge_still_starts_before_all_edits_are_done(
    server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """EDITBENCH_RESIDENT=one makes local judging wait for the whole edit phase (one swap per
    card); a judge served over HTTP shares no card, so its categories are judged as they finish."""
    from editbench.workers.edit import edit_sample
    from editbench.workers.score import plan_category_scoring

    monkeypatch.setenv("EDITBENCH_RESIDENT", "one")
    ingest(write_example_benchmark(tmp_path / "bench", per_category=1))
    plans = {}
    for judge in (ModelRef.parse("openai:fake-vl", {"base_url": server.url}), ModelRef("simulated", None, {})):
        run_id = create_run(
            RunRequest(
                benchmark="editbench-example",
                categories=["physics", "social"],
                editor=ModelRef("simulated", None, {"median_s": "0", "sigma": "0"}),
                judge=judge,
            )
        )
        with session_scope() as s:
            physics = s.execute(select(Edit.sample_id, Edit.category_id).where(Edit.run_id == run_id)).all()[0]
        edit_sample(run_id, physics[0], f"edit-{run_id}")  # social's edit stays open
        plans[judge.kind] = plan_category_scoring(run_id, physics[1]).batches
    assert plans["simulated"] is None  # a local judge waits for the whole edit phase
    assert plans["openai"] is not None and len(plans["openai"]) == 1  # the served judge goes ahead
