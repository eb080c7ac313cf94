"""Apply the Alembic migrations that live in ``layers/migrations``."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def alembic_config(url: str) -> Config:
    """Return an Alembic config for the database at ``url``."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str, revision: str = "head") -> None:
    """Migrate the database at ``url`` to ``revision``."""
    command.upgrade(alembic_config(url), revision)


def is_current(connection: Connection) -> bool:
    """Return whether the database on ``connection`` is at the latest migration."""
    heads = ScriptDirectory(str(MIGRATIONS_DIR)).get_heads()
    return set(MigrationContext.configure(connection).get_current_heads()) == set(heads)
