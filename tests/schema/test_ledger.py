"""The ledger's promises, checked on SQLite and on PostgreSQL."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from editbench import records
from editbench.schema import ledger, queries
from editbench.schema.db import session_scope
from editbench.schema.models import Edit, Judgment, Run, RunStatus, Sample, Status


def _benchmark(categories=("physics", "social"), per_category=3, version="1") -> tuple[records.Benchmark, list[ledger.SampleRecord]]:
    record = records.Benchmark(
        name="toy",
        version=version,
        description="",
        content_hash="h" * 64,
        score_min=0,
        score_max=10,
        overall="geometric_mean",
        criteria=(records.Criterion("semantic_consistency"), records.Criterion("perceptual_quality")),
        source_path="/tmp/toy",
        categories=tuple(
            records.Category(
                c, "", f"prompts/{c}.v1.txt", "Rate {instruction}", "v" * 16, criteria=("semantic_consistency", "perceptual_quality")
            )
            for c in categories
        ),
    )
    samples = [
        ledger.SampleRecord(f"{c}-{i}", c, f"edit {c} {i}", "en", f"{i:064d}", f"/tmp/{c}-{i}.png")
        for c in categories
        for i in range(per_category)
    ]
    return record, samples


def _run(session, benchmark_id: int, **kw) -> int:
    return ledger.create_run(session, ledger.RunSpec(benchmark_id, "identity", None, "qwen3-vl", "/j", **kw))


def test_register_is_idempotent_and_adds_only_new(db_url: str) -> None:
    record, samples = _benchmark()
    with session_scope() as s:
        first = ledger.register_benchmark(s, record, samples)
    assert first.created and first.added_samples == {"physics": 3, "social": 3}
    with session_scope() as s:
        again = ledger.register_benchmark(s, record, samples)
    assert not again.created and again.added_total == 0 and again.added_categories == []
    grown, grown_samples = _benchmark(categories=("physics", "social", "causal"), per_category=4)
    with session_scope() as s:
        more = ledger.register_benchmark(s, grown, grown_samples)
    assert more.added_categories == ["causal"]
    assert more.added_samples == {"physics": 1, "social": 1, "causal": 4}
    with session_scope() as s:
        assert s.scalar(select(func.count()).select_from(Sample)) == 12


def test_declared_slices_are_stored_with_the_benchmark_and_read_back(db_url: str) -> None:
    from dataclasses import replace

    from editbench.schema.models import Benchmark as BenchmarkRow

    record, samples = _benchmark()
    with session_scope() as s:
        ledger.register_benchmark(s, replace(record, slices=("language", "intersection_exist")), samples)
    with session_scope() as s:
        row = s.scalars(select(BenchmarkRow)).one()
        assert queries.benchmark_record(row).slices == ("language", "intersection_exist")
    plain, _ = _benchmark(version="2")
    with session_scope() as s:
        ledger.register_benchmark(s, plain, samples)
        row = s.scalars(select(BenchmarkRow).where(BenchmarkRow.version == "2")).one()
        assert queries.benchmark_record(row).slices == ()


def test_run_creates_one_edit_per_sample_and_one_judgment_per_criterion(db_url: str) -> None:
    record, samples = _benchmark()
    with session_scope() as s:
        bid = ledger.register_benchmark(s, record, samples).benchmark_id
        run_id = _run(s, bid, categories=["physics"])
    with session_scope() as s:
        assert s.scalar(select(func.count()).select_from(Edit).where(Edit.run_id == run_id)) == 3
        assert s.scalar(select(func.count()).select_from(Judgment).where(Judgment.run_id == run_id)) == 6
        # A second pass adds nothing: the unique keys hold.
        assert ledger.add_missing_work(s, run_id) == {}


def test_duplicate_edit_row_is_impossible(db_url: str) -> None:
    record, samples = _benchmark(per_category=1)
    with session_scope() as s:
        bid = ledger.register_benchmark(s, record, samples).benchmark_id
        run_id = _run(s, bid)
        sample_id = s.scalars(select(Sample.id)).first()
        category_id = s.get(Sample, sample_id).category_id
    with pytest.raises(IntegrityError):
        with session_scope() as s:
            s.add(Edit(run_id=run_id, sample_id=sample_id, category_id=category_id, status=Status.PENDING, attempts=0))


def _one_sample_run(**kw) -> tuple[int, int]:
    record, samples = _benchmark(categories=("physics",), per_category=1)
    with session_scope() as s:
        bid = ledger.register_benchmark(s, record, samples).benchmark_id
        run_id = _run(s, bid, **kw)
        return run_id, s.scalars(select(Sample.id)).one()


def _claim(run_id: int, sample_id: int, task: str, lease_s: float = 30, max_attempts: int = 3):
    with session_scope() as s:
        return ledger.claim_edit(s, run_id, sample_id, task_id=task, worker="w", lease_s=lease_s, max_attempts=max_attempts)


def test_claims_are_exclusive_fenced_and_redeliverable(db_url: str) -> None:
    run_id, sample_id = _one_sample_run()
    assert _claim(run_id, sample_id, "task-a") == ledger.Claim(attempt=1)
    assert _claim(run_id, sample_id, "task-b") is None, "a live claim must not be taken by another task"
    assert _claim(run_id, sample_id, "task-a") == ledger.Claim(attempt=2), "a redelivered message takes over its dead attempt"
    with session_scope() as s:
        assert not ledger.record_edit(s, run_id, sample_id, "task-b", ledger.EditOutcome(Status.DONE)), "fencing: b never held it"
        assert ledger.record_edit(s, run_id, sample_id, "task-a", ledger.EditOutcome(Status.DONE, output_sha256="x"))
    assert _claim(run_id, sample_id, "task-c") is None, "a done edit is never redone"
    with session_scope() as s:
        edit = s.scalars(select(Edit)).one()
        assert (edit.status, edit.attempts, edit.output_sha256) == (Status.DONE, 2, "x")


def test_expired_lease_can_be_taken_over_and_poison_is_capped(db_url: str) -> None:
    run_id, sample_id = _one_sample_run()
    assert _claim(run_id, sample_id, "t1", lease_s=0.05, max_attempts=2) is not None
    time.sleep(0.1)
    assert _claim(run_id, sample_id, "t2", lease_s=0.05, max_attempts=2) == ledger.Claim(attempt=2)
    time.sleep(0.1)
    assert _claim(run_id, sample_id, "t3", lease_s=0.05, max_attempts=2) is None
    with session_scope() as s:
        edit = s.scalars(select(Edit)).one()
        assert (edit.status, edit.error_code) == (Status.FAILED, "attempts_exhausted")
        # The sample can never be scored: its judgments are not left pending forever.
        assert set(s.scalars(select(Judgment.status))) == {Status.MISSING}
        assert ledger.finish_run_if_complete(s, run_id)


def test_failed_edit_marks_judgments_missing_and_run_finishes(db_url: str) -> None:
    run_id, sample_id = _one_sample_run()
    _claim(run_id, sample_id, "t")
    with session_scope() as s:
        ledger.record_edit(s, run_id, sample_id, "t", ledger.EditOutcome(Status.FAILED, error_code="corrupt_image", error="bad"))
        states = set(s.scalars(select(Judgment.status).where(Judgment.run_id == run_id)))
        assert states == {Status.MISSING}
        assert ledger.finish_run_if_complete(s, run_id)
        assert s.get(Run, run_id).status == RunStatus.DONE


def test_judgments_claimed_per_sample_and_recorded_once(db_url: str) -> None:
    run_id, sample_id = _one_sample_run()
    _claim(run_id, sample_id, "edit")
    with session_scope() as s:
        ledger.record_edit(s, run_id, sample_id, "edit", ledger.EditOutcome(Status.DONE))
    with session_scope() as s:
        assert ledger.claim_judgments(s, run_id, [sample_id], task_id="j1", worker="w", lease_s=30, max_attempts=3) == [sample_id]
        assert ledger.claim_judgments(s, run_id, [sample_id], task_id="j2", worker="w", lease_s=30, max_attempts=3) == []
    outcomes = [
        ledger.JudgmentOutcome("semantic_consistency", Status.DONE, score=7.0),
        ledger.JudgmentOutcome("perceptual_quality", Status.PARSE_ERROR, raw_output="???"),
    ]
    with session_scope() as s:
        assert ledger.record_judgments(s, run_id, sample_id, "j1", outcomes) == 2
        assert ledger.record_judgments(s, run_id, sample_id, "j1", outcomes) == 0, "a second write is a no-op"
        rows = {j.criterion: (j.status, j.score) for j in s.scalars(select(Judgment))}
    assert rows == {"semantic_consistency": (Status.DONE, 7.0), "perceptual_quality": (Status.PARSE_ERROR, None)}


def test_release_stalled_returns_dead_work_to_pending(db_url: str) -> None:
    run_id, sample_id = _one_sample_run()
    _claim(run_id, sample_id, "dead", lease_s=0.05)
    time.sleep(0.1)
    with session_scope() as s:
        released, _ = ledger.release_stalled(s, run_id)
        assert [sid for _, sid in released] == [sample_id]
        # The presumed-dead worker's late write is refused.
        assert not ledger.record_edit(s, run_id, sample_id, "dead", ledger.EditOutcome(Status.DONE))
        assert queries.pending_edit_samples(s, run_id) == [sample_id]


def test_migrations_match_the_models(db_url: str) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from editbench.schema.db import get_engine
    from editbench.schema.models import Base

    with get_engine(db_url).connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []


def test_two_last_batches_finishing_at_once_close_the_run(postgres_db: str) -> None:
    """Write skew under READ COMMITTED: each finisher counted the other's rows as running and
    neither closed the run, so it stayed open forever (seen in the scheduling benchmark)."""
    import threading

    record, samples = _benchmark(categories=("physics",), per_category=2)
    with session_scope() as s:
        bid = ledger.register_benchmark(s, record, samples).benchmark_id
        run_id = _run(s, bid)
        sample_ids = list(s.scalars(select(Sample.id).order_by(Sample.id)))
    for i, sid in enumerate(sample_ids):
        _claim(run_id, sid, f"edit-{i}")
        with session_scope() as s:
            ledger.record_edit(s, run_id, sid, f"edit-{i}", ledger.EditOutcome(Status.DONE))
        with session_scope() as s:
            assert ledger.claim_judgments(s, run_id, [sid], task_id=f"judge-{i}", worker="w", lease_s=60, max_attempts=3)
    both_recorded = threading.Barrier(2)
    errors: list[BaseException] = []

    def finish(i: int, sid: int) -> None:
        try:
            with session_scope() as s:
                outcomes = [ledger.JudgmentOutcome(c, Status.DONE, score=5.0) for c in ("semantic_consistency", "perceptual_quality")]
                ledger.record_judgments(s, run_id, sid, f"judge-{i}", outcomes)
                both_recorded.wait(timeout=10)  # both transactions hold their writes, uncommitted
                ledger.finish_run_if_complete(s, run_id)
        except BaseException as exc:  # noqa: BLE001 - surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=finish, args=(i, sid)) for i, sid in enumerate(sample_ids)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert errors == []
    with session_scope() as s:
        assert s.get(Run, run_id).status == RunStatus.DONE
