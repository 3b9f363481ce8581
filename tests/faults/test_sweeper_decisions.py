"""What ``editbench resume`` and the periodic sweeper decide from the ledger alone, checked
without a broker (the enqueue functions are recorded instead of sent).

The case that needs a ledger-level test: the broker lost a category's chord while some of its
edits were still running under live leases and none was pending. The running edits will finish
and be recorded, but their chord's counter is gone, so its body never fires. ``resume`` must send
a new body (which waits for the barrier); before the fix it sent nothing, and the category's
judgments stayed pending until a periodic sweep happened to come by.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from editbench import records
from editbench.queue import dispatch
from editbench.schema import ledger
from editbench.schema.db import session_scope
from editbench.schema.models import Edit, Status


@pytest.fixture
def sent(monkeypatch):
    calls: dict[str, list] = {"chords": [], "scoring": []}
    monkeypatch.setattr(dispatch, "enqueue_category", lambda run, cat, ids: calls["chords"].append((cat, list(ids))))
    monkeypatch.setattr(dispatch, "enqueue_scoring", lambda run, cat: calls["scoring"].append(cat))
    monkeypatch.setattr(dispatch, "queued_messages", lambda gpus: 0)
    return calls


def _run_with_three_samples() -> tuple[int, int, list[int]]:
    with session_scope() as s:
        record = records.Benchmark(
            name="sweep",
            version="1",
            description="",
            content_hash="x",
            score_min=0,
            score_max=10,
            overall="min",
            criteria=(records.Criterion("c"),),
            source_path="/nowhere",
            categories=(records.Category("cat", prompt_version="v1", criteria=("c",)),),
        )
        samples = [ledger.SampleRecord(f"s{i}", "cat", "do it", "en", f"{i:064x}", f"{i}.png") for i in range(3)]
        benchmark_id = ledger.register_benchmark(s, record, samples).benchmark_id
        run_id = ledger.create_run(s, ledger.RunSpec(benchmark_id, "identity", None, "qwen3-vl", None))
        rows = s.execute(select(Edit.sample_id, Edit.category_id).where(Edit.run_id == run_id).order_by(Edit.sample_id)).all()
    return run_id, rows[0][1], [sid for sid, _ in rows]


def _claim(run_id: int, sample_id: int, task: str, lease_s: float = 600) -> None:
    with session_scope() as s:
        assert ledger.claim_edit(s, run_id, sample_id, task_id=task, worker="w", lease_s=lease_s, max_attempts=3)


def test_resume_sends_a_new_body_for_a_category_whose_open_edits_are_all_running(db_url, sent) -> None:
    run_id, category_id, (a, b, c) = _run_with_three_samples()
    _claim(run_id, a, "ta")
    with session_scope() as s:
        ledger.record_edit(s, run_id, a, "ta", ledger.EditOutcome(Status.DONE, output_sha256="0" * 64, output_path="/a.png"))
    _claim(run_id, b, "tb")
    _claim(run_id, c, "tc")  # b and c are being edited right now; nothing is pending

    # The periodic sweeper leaves live work alone: it will look again after it finishes.
    report = dispatch.sweep_run(run_id)
    assert (sent["chords"], sent["scoring"], report.scored_categories) == ([], [], 0)
    # `editbench resume` cannot know whether the chord survived: it sends a body that waits.
    report = dispatch.sweep_run(run_id, force=True)
    assert sent["chords"] == [] and sent["scoring"] == [category_id] and report.scored_categories == 1


def test_resume_requeues_pending_and_expired_edits_in_one_chord(db_url, sent) -> None:
    run_id, category_id, (a, b, c) = _run_with_three_samples()
    _claim(run_id, a, "ta", lease_s=-1)  # its worker died: the lease has already run out
    report = dispatch.sweep_run(run_id, force=True)
    assert sent["chords"] == [(category_id, [a, b, c])] and sent["scoring"] == []
    assert (report.released_edits, report.requeued_edits) == (1, 3)
