"""runs.sample_filter (--limit/--where) and runs.parent_run_id (editbench judge)

Revision ID: 0003_rejudge
Revises: 0002
"""
import sqlalchemy as sa
from alembic import op

revision = "0003_rejudge"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("runs") as batch:
        batch.add_column(sa.Column("sample_filter", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("parent_run_id", sa.Integer(), nullable=True))
        batch.create_index(batch.f("ix_runs_parent_run_id"), ["parent_run_id"], unique=False)
        batch.create_foreign_key("fk_runs_parent_run_id_runs", "runs", ["parent_run_id"], ["id"])


def downgrade() -> None:
    with op.batch_alter_table("runs") as batch:
        batch.drop_constraint("fk_runs_parent_run_id_runs", type_="foreignkey")
        batch.drop_index(batch.f("ix_runs_parent_run_id"))
        batch.drop_column("parent_run_id")
        batch.drop_column("sample_filter")
