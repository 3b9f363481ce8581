"""Bring a database to the newest schema with Alembic (``editbench db upgrade`` and every
command that opens the ledger call :func:`ensure_schema`)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import inspect, make_url

from editbench.config import load_settings
from editbench.schema.db import get_engine

MIGRATIONS = Path(__file__).with_name("migrations")
_DONE: set[str] = set()


def alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


def ensure_schema(url: str | None = None) -> None:
    """Run pending migrations once per process; cheap when the schema is current."""
    engine = get_engine(url)
    key = str(engine.url)
    if key in _DONE:
        return
    cfg = alembic_config()
    with engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, "head")
    _DONE.add(key)


def forget_schema(url: str) -> None:
    """Make the next :func:`ensure_schema` for ``url`` run the migrations again (after the
    database was dropped or emptied underneath this process)."""
    _DONE.discard(url)


def has_schema(url: str | None = None) -> bool:
    """Whether the ledger holds editbench's tables. Asking never creates anything: a SQLite
    file that does not exist yet is not created (a refused command leaves no trace)."""
    target = make_url(url or load_settings().database_url)
    on_disk = target.get_backend_name() == "sqlite" and target.database not in (None, "", ":memory:")
    if on_disk and not Path(str(target.database)).exists():
        return False
    return inspect(get_engine(url)).has_table("edits")
