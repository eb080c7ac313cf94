"""Apply the Alembic migrations that live in ``layers/migrations``."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, create_engine
from sqlalchemy.pool import NullPool

from layers.privileges import secure_database

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def alembic_config(url: str) -> Config:
    """Return an Alembic config for the database at ``url``."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str, revision: str = "head", *, app_role: str | None = None) -> None:
    """Migrate the database at ``url`` (as its owner) to ``revision``.

    With ``app_role`` that role then gets what the application needs, and only that
    (``layers.privileges``): run it whenever the application logs in as another role.
    """
    command.upgrade(alembic_config(url), revision)
    if app_role is None:
        return
    engine = create_engine(url, poolclass=NullPool)
    with engine.begin() as conn:
        secure_database(conn, app_role)
    engine.dispose()


def is_current(connection: Connection) -> bool:
    """Return whether the database on ``connection`` is at the latest migration."""
    heads = ScriptDirectory(str(MIGRATIONS_DIR)).get_heads()
    return set(MigrationContext.configure(connection).get_current_heads()) == set(heads)
