"""Engine and session factories; built from settings by whoever owns the process."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from layers.cluster import database_url
from layers.settings import Settings


def make_engine(settings: Settings, *, url: str | None = None) -> Engine:
    """Return a pooled engine for the configured database (or ``url``)."""
    return create_engine(
        url or database_url(settings),
        pool_size=settings.database.pool_size,
        max_overflow=settings.database.max_overflow,
        pool_pre_ping=True,
        connect_args={
            "application_name": "warroom",
            # JIT compilation costs ~17 ms per query and never pays off on our short queries.
            "options": f"-c statement_timeout={settings.database.statement_timeout_ms} -c jit=off",
        },
    )


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    """Return the session factory bound to ``engine``."""
    return sessionmaker(bind=engine, expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """Yield a session inside one transaction: commit on success, roll back on error."""
    with factory() as session, session.begin():
        yield session


def ensure_database(server_url: str, name: str) -> str:
    """Create database ``name`` on the server of ``server_url`` if missing; return its URL."""
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        if not conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}):
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return make_url(server_url).set(database=name).render_as_string(hide_password=False)
