"""served models: per-batch API usage, and where a run's judge batches are routed

Revision ID: 0007_apiwire
Revises: 0006_multiimage
"""
import sqlalchemy as sa
from alembic import op

revision = "0007_apiwire"
down_revision = "0006_multiimage"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("runs") as batch:
        batch.add_column(sa.Column("judge_placement", sa.String(length=16), nullable=False, server_default="gpu"))
    op.create_table(
        "api_usage",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("batch_key", sa.String(length=64), nullable=False),
        sa.Column("run_id", sa.Integer(), sa.ForeignKey("runs.id"), nullable=False),
        sa.Column("stage", sa.String(length=16), nullable=False),
        sa.Column("category_id", sa.Integer(), sa.ForeignKey("categories.id"), nullable=True),
        sa.Column("task_id", sa.String(length=64), nullable=True),
        sa.Column("worker", sa.String(length=200), nullable=True),
        sa.Column("requests", sa.Integer(), nullable=False),
        sa.Column("retries", sa.Integer(), nullable=False),
        sa.Column("rate_limited", sa.Integer(), nullable=False),
        sa.Column("server_errors", sa.Integer(), nullable=False),
        sa.Column("timeouts", sa.Integer(), nullable=False),
        sa.Column("failed", sa.Integer(), nullable=False),
        sa.Column("prompt_tokens", sa.BigInteger(), nullable=False),
        sa.Column("completion_tokens", sa.BigInteger(), nullable=False),
        sa.Column("images", sa.Integer(), nullable=False),
        sa.Column("cost_usd", sa.Float(), nullable=True),
        sa.Column("stopped", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("batch_key", name="uq_api_usage_batch_key"),
    )
    op.create_index("ix_api_usage_run_id", "api_usage", ["run_id"])


def downgrade() -> None:
    op.drop_index("ix_api_usage_run_id", table_name="api_usage")
    op.drop_table("api_usage")
    with op.batch_alter_table("runs") as batch:
        batch.drop_column("judge_placement")
