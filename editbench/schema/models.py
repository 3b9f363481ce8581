"""SQLAlchemy models: the ledger that is the single source of truth.

Celery's own state (queues, chord counters, result backend) is a cache of intentions; these rows
decide what is done. Unique constraints make a duplicate edit or judgment impossible to write:
an edit is keyed by (run, sample), a judgment by (run, sample, criterion).
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Enum,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class Base(DeclarativeBase):
    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON}


class Status(str, enum.Enum):
    """Lifecycle of an edit or a judgment.

    ``pending`` → ``running`` (claimed by a worker under a lease) → one final state.
    ``missing`` marks work that can never be done (e.g. the edit it depends on failed).
    """

    PENDING = "pending"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    PARSE_ERROR = "parse_error"
    REFUSAL = "refusal"
    MISSING = "missing"

    @property
    def is_final(self) -> bool:
        return self not in (Status.PENDING, Status.RUNNING)


FINAL_STATES = tuple(s for s in Status if s.is_final)


class RunStatus(str, enum.Enum):
    """``running`` → ``done`` when every item is final; ``stopped`` (with ``Run.stop_reason``)
    when a worker could not load a model (its samples stay pending); ``cancelled`` by
    ``editbench cancel`` (its open work stays pending and no worker takes it). ``editbench
    resume`` sets a stopped or cancelled run running again."""

    RUNNING = "running"
    DONE = "done"
    STOPPED = "stopped"
    CANCELLED = "cancelled"


def _status_column(enum_cls: type[enum.Enum], default: enum.Enum) -> Mapped[Any]:
    return mapped_column(
        Enum(enum_cls, native_enum=False, length=16, values_callable=lambda e: [m.value for m in e]),
        default=default,
        nullable=False,
        index=True,
    )


class Benchmark(Base):
    __tablename__ = "benchmarks"
    __table_args__ = (UniqueConstraint("name", "version", name="uq_benchmark_name_version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    version: Mapped[str] = mapped_column(String(64))
    description: Mapped[str] = mapped_column(Text, default="")
    content_hash: Mapped[str] = mapped_column(String(64))
    score_min: Mapped[float] = mapped_column(Float, default=0)
    score_max: Mapped[float] = mapped_column(Float, default=10)
    overall: Mapped[str] = mapped_column(String(32), default="geometric_mean")
    criteria: Mapped[list[Any]] = mapped_column(JSON, default=list)
    source_path: Mapped[str] = mapped_column(Text, default="")
    # The official judge protocol (protocol.json, prompt texts inlined); None: editbench's own rubric.
    protocol: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    slices: Mapped[list[Any]] = mapped_column(JSON, default=list)
    """Item metadata keys the reports group by (benchmark.yaml ``slices``)."""

    categories: Mapped[list[Category]] = relationship(back_populates="benchmark", order_by="Category.id")


class Category(Base):
    __tablename__ = "categories"
    __table_args__ = (UniqueConstraint("benchmark_id", "name", name="uq_category_benchmark_name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    benchmark_id: Mapped[int] = mapped_column(ForeignKey("benchmarks.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    prompt_path: Mapped[str] = mapped_column(Text, default="")
    prompt_text: Mapped[str] = mapped_column(Text, default="")
    prompt_version: Mapped[str] = mapped_column(String(64), default="")
    criteria: Mapped[list[Any]] = mapped_column(JSON, default=list)
    weights: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    pass_rule: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    benchmark: Mapped[Benchmark] = relationship(back_populates="categories")


class Sample(Base):
    __tablename__ = "samples"
    __table_args__ = (UniqueConstraint("benchmark_id", "external_id", name="uq_sample_benchmark_external"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    benchmark_id: Mapped[int] = mapped_column(ForeignKey("benchmarks.id"), index=True)
    category_id: Mapped[int] = mapped_column(ForeignKey("categories.id"), index=True)
    external_id: Mapped[str] = mapped_column(String(300))
    subcategory: Mapped[str | None] = mapped_column(String(200), nullable=True)
    instruction: Mapped[str] = mapped_column(Text)
    instruction_language: Mapped[str] = mapped_column(String(16), default="en")
    source_sha256: Mapped[str] = mapped_column(String(64))
    source_path: Mapped[str] = mapped_column(Text)
    source_width: Mapped[int | None] = mapped_column(Integer, nullable=True)
    source_height: Mapped[int | None] = mapped_column(Integer, nullable=True)
    reference_text: Mapped[str | None] = mapped_column(Text, nullable=True)
    reference_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    reference_path: Mapped[str | None] = mapped_column(Text, nullable=True)
    # Multi-image items: [{"label", "sha256", "path"}, ...] in the item's order; None for one image.
    extra_images: Mapped[list[Any] | None] = mapped_column(JSON, nullable=True)
    tags: Mapped[list[Any]] = mapped_column(JSON, default=list)
    provenance: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    category: Mapped[Category] = relationship()


class Run(Base):
    __tablename__ = "runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    benchmark_id: Mapped[int] = mapped_column(ForeignKey("benchmarks.id"), index=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    editor_kind: Mapped[str] = mapped_column(String(100))
    editor_path: Mapped[str | None] = mapped_column(Text, nullable=True)
    editor_params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    judge_kind: Mapped[str] = mapped_column(String(100))
    judge_path: Mapped[str | None] = mapped_column(Text, nullable=True)
    judge_params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    seed: Mapped[int] = mapped_column(BigInteger, default=0)
    routing: Mapped[str] = mapped_column(String(32), default="shared")
    gpus: Mapped[int] = mapped_column(Integer, default=1)
    judge_batch_size: Mapped[int] = mapped_column(Integer, default=8)
    follow: Mapped[bool] = mapped_column(Boolean, default=False)
    categories: Mapped[list[Any] | None] = mapped_column(JSON, nullable=True)
    # ``--limit``/``--where`` as ``records.SampleFilter.as_json()``; null: every item.
    sample_filter: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    # A re-judging run (``editbench judge``) reuses this run's edited images and only judges.
    parent_run_id: Mapped[int | None] = mapped_column(ForeignKey("runs.id"), nullable=True, index=True)
    status: Mapped[RunStatus] = _status_column(RunStatus, RunStatus.RUNNING)
    # Why a worker stopped the run (status ``stopped``): one message instead of every sample
    # failing with it. Cleared by ``resume``.
    stop_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    run_card: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    # Where judge batches run: "gpu" (the shared/pinned GPU queues) or "cpu" (a judge served over
    # HTTP: the CPU judge queue). Decided at submit from the judge adapter.
    judge_placement: Mapped[str] = mapped_column(String(16), default="gpu", server_default="gpu")

    benchmark: Mapped[Benchmark] = relationship()


class _WorkItem:
    """Columns shared by edits and judgments: the claim/lease/attempt bookkeeping."""

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    status: Mapped[Status] = _status_column(Status, Status.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    task_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    worker: Mapped[str | None] = mapped_column(String(200), nullable=True)
    lease_expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    duration_s: Mapped[float | None] = mapped_column(Float, nullable=True)
    error_code: Mapped[str | None] = mapped_column(String(64), nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)


class Edit(_WorkItem, Base):
    __tablename__ = "edits"
    __table_args__ = (UniqueConstraint("run_id", "sample_id", name="uq_edit_run_sample"),)

    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id"), index=True)
    sample_id: Mapped[int] = mapped_column(ForeignKey("samples.id"), index=True)
    category_id: Mapped[int] = mapped_column(ForeignKey("categories.id"), index=True)
    # Per-sample seeds are 63-bit (editbench.models.seeding): 32-bit INTEGER overflows on PostgreSQL.
    seed: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    output_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    output_path: Mapped[str | None] = mapped_column(Text, nullable=True)

    sample: Mapped[Sample] = relationship()


class Judgment(_WorkItem, Base):
    __tablename__ = "judgments"
    __table_args__ = (UniqueConstraint("run_id", "sample_id", "criterion", name="uq_judgment_run_sample_criterion"),)

    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id"), index=True)
    sample_id: Mapped[int] = mapped_column(ForeignKey("samples.id"), index=True)
    category_id: Mapped[int] = mapped_column(ForeignKey("categories.id"), index=True)
    criterion: Mapped[str] = mapped_column(String(100))
    score: Mapped[float | None] = mapped_column(Float, nullable=True)
    confidence: Mapped[float | None] = mapped_column(Float, nullable=True)
    reasoning: Mapped[str | None] = mapped_column(Text, nullable=True)
    raw_output: Mapped[str | None] = mapped_column(Text, nullable=True)
    judge_identity: Mapped[str | None] = mapped_column(String(64), nullable=True)
    prompt_version: Mapped[str | None] = mapped_column(String(64), nullable=True)

    sample: Mapped[Sample] = relationship()


class ApiUsage(Base):
    """What one judge batch (or edit) against a served model cost: requests, retries, tokens,
    images and, when a price was given, USD. One row per batch attempt that sent requests;
    ``batch_key`` (unique) makes a retried write of the same batch a no-op. Rows are written in
    the same transaction as the batch's results, so usage is never counted twice."""

    __tablename__ = "api_usage"
    __table_args__ = (UniqueConstraint("batch_key", name="uq_api_usage_batch_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    batch_key: Mapped[str] = mapped_column(String(64))
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id"), index=True)
    stage: Mapped[str] = mapped_column(String(16))  # "judge" (or "edit")
    category_id: Mapped[int | None] = mapped_column(ForeignKey("categories.id"), nullable=True)
    task_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    worker: Mapped[str | None] = mapped_column(String(200), nullable=True)
    requests: Mapped[int] = mapped_column(Integer, default=0)
    retries: Mapped[int] = mapped_column(Integer, default=0)
    rate_limited: Mapped[int] = mapped_column(Integer, default=0)
    server_errors: Mapped[int] = mapped_column(Integer, default=0)
    timeouts: Mapped[int] = mapped_column(Integer, default=0)
    failed: Mapped[int] = mapped_column(Integer, default=0)
    prompt_tokens: Mapped[int] = mapped_column(BigInteger, default=0)
    completion_tokens: Mapped[int] = mapped_column(BigInteger, default=0)
    images: Mapped[int] = mapped_column(Integer, default=0)
    cost_usd: Mapped[float | None] = mapped_column(Float, nullable=True)
    # Why the batch stopped early, e.g. "budget reached (budget_usd=1)"; null when it finished.
    stopped: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
