"""benchmarks.slices: the item metadata keys a benchmark's reports group by

Revision ID: 0004_samples
Revises: 0003_rejudge
"""
import sqlalchemy as sa
from alembic import op

revision = "0004_samples"
down_revision = "0003_rejudge"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("benchmarks") as batch:
        batch.add_column(sa.Column("slices", sa.JSON(), nullable=False, server_default="[]"))


def downgrade() -> None:
    with op.batch_alter_table("benchmarks") as batch:
        batch.drop_column("slices")
