"""The per-sample seed (63 bits, editbench/models/seeding.py) must fit the ledger's column on both
databases. Found by the PostgreSQL outage scenario: ``edits.seed`` was a 32-bit INTEGER, so on
PostgreSQL ``record_edit`` raised ``integer out of range`` for every sample (migration 0002)."""

from __future__ import annotations

from sqlalchemy import select

from editbench import records
from editbench.models.seeding import derive_seed
from editbench.schema import ledger
from editbench.schema.db import session_scope
from editbench.schema.models import Edit, Status


def _one_sample_run() -> tuple[int, int]:
    with session_scope() as s:
        record = records.Benchmark(
            name="seeds",
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
        sample = ledger.SampleRecord("s1", "cat", "do it", "en", "0" * 64, "a.png")
        benchmark_id = ledger.register_benchmark(s, record, [sample]).benchmark_id
        run_id = ledger.create_run(s, ledger.RunSpec(benchmark_id, "identity", None, "qwen3-vl", None))
        sample_id = s.scalar(select(Edit.sample_id).where(Edit.run_id == run_id))
    return run_id, sample_id


def test_a_63_bit_sample_seed_is_recorded(db_url) -> None:
    run_id, sample_id = _one_sample_run()
    seed = derive_seed(0, "physics/000")
    assert seed >= 2**31  # most derived seeds do not fit 32 bits
    with session_scope() as s:
        assert ledger.claim_edit(s, run_id, sample_id, task_id="t", worker="w", lease_s=60, max_attempts=3)
    with session_scope() as s:
        assert ledger.record_edit(
            s, run_id, sample_id, "t", ledger.EditOutcome(Status.DONE, seed=seed, output_sha256="a" * 64, output_path="/x.png")
        )
    with session_scope() as s:
        assert s.scalar(select(Edit.seed).where(Edit.run_id == run_id)) == seed
