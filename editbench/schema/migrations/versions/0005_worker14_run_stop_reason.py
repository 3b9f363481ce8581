"""runs.stop_reason, and the run status ``stopped`` (a model could not be loaded)

The status column is a non-native enum (VARCHAR(16), no CHECK constraint), so ``stopped`` needs
no DDL; only the reason column is added.

Revision ID: 0005_worker14
Revises: 0004_samples
"""
import sqlalchemy as sa
from alembic import op

revision = "0005_worker14"
down_revision = "0004_samples"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("runs") as batch:
        batch.add_column(sa.Column("stop_reason", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("runs") as batch:
        batch.drop_column("stop_reason")
