"""multi-image items and official protocols: samples.extra_images, benchmarks.protocol

``samples.extra_images``: the item's ordered extra input images, ``[{"label", "sha256",
"path"}, ...]`` (NULL for a single-image item). ``benchmarks.protocol``: the official judge
protocol of a benchmark imported with ``--protocol official`` (protocol.json with its prompt
texts inlined; NULL for editbench's own rubric).

Revision ID: 0006_multiimage
Revises: 0005_worker14
"""
import sqlalchemy as sa
from alembic import op

revision = "0006_multiimage"
down_revision = "0005_worker14"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("samples") as batch:
        batch.add_column(sa.Column("extra_images", sa.JSON(), nullable=True))
    with op.batch_alter_table("benchmarks") as batch:
        batch.add_column(sa.Column("protocol", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("benchmarks") as batch:
        batch.drop_column("protocol")
    with op.batch_alter_table("samples") as batch:
        batch.drop_column("extra_images")
