"""Alembic environment: runs migrations on the connection editbench hands it (see migrate.py)."""

from alembic import context

from editbench.schema.models import Base

config = context.config
connection = config.attributes["connection"]
context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
