"""Engine and session factories; built from settings by whoever owns the process."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import NullPool

from layers.cluster import APP_ROLE, database_url
from layers.errors import DatabaseUnavailable
from layers.migrate import is_current
from layers.settings import Settings

# What to do when libpq cannot connect, by what its message says (the first match wins).
_CONNECT_ADVICE = (
    ("password authentication failed", "fix the password (in the URL, PGPASSWORD or ~/.pgpass)"),
    ("no password supplied", "give the password in the URL, PGPASSWORD or ~/.pgpass"),
    ('role "[^"]*" does not exist', "create that role or fix the user name"),
    ('database "[^"]*" does not exist', "create that database (createdb) or fix its name"),
    ("no pg_hba.conf entry", "allow this client in the server's pg_hba.conf"),
)
_EXTENSIONS_BY_SUPERUSER = (
    "a superuser must first run CREATE EXTENSION postgis and CREATE EXTENSION pg_trgm "
    "in this database, or the URL must name a superuser"
)


def make_engine(settings: Settings, *, url: str | None = None) -> Engine:
    """Return a pooled engine for the configured database (or ``url``)."""
    return create_engine(
        url or database_url(settings),
        pool_size=settings.database.pool_size,
        max_overflow=settings.database.max_overflow,
        pool_pre_ping=True,
        connect_args={
            "application_name": "warroom",
            # A database host that does not answer is a 503 after this, not a hang.
            "connect_timeout": settings.database.connect_timeout_s,
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


def _origin(settings: Settings) -> str:
    """Name where the database comes from, with its URL (password hidden)."""
    shown = make_url(database_url(settings)).render_as_string(hide_password=True)
    if settings.database.url:
        return f"WARROOM_DATABASE_URL ({shown})"
    return f"the local cluster ({shown})"


def _advice(error: DBAPIError, settings: Settings) -> str | None:
    """Return the failure and what to do about it, or None for an error that is no setup's."""
    message = str(error.orig)
    said = " ".join(message.splitlines()[0].replace("FATAL:", "").split())
    code = getattr(error.orig, "pgcode", None)
    if code is None and said.startswith(("connection to server", "could not translate host")):
        for pattern, advice in _CONNECT_ADVICE:
            if re.search(pattern, said):
                return f"{said}; {advice}"
        if settings.database.url:
            return f"{said}; check the host and port, and that PostgreSQL runs there"
        return f"{said}; start it with `warroom db start` (make run does)"
    if code == "42501" and "extension" in said:
        return f"{said}; {_EXTENSIONS_BY_SUPERUSER}"
    if code == "42501":
        return f"{said}; grant the role that privilege, or use the database's owner"
    if code == "0A000" and "is not available" in said:
        return f"{said}; install PostGIS 3 on the database server (Debian: postgresql-NN-postgis-3)"
    return None


@contextmanager
def explained(settings: Settings) -> Iterator[None]:
    """Turn a database that cannot be reached or set up into ``DatabaseUnavailable``."""
    try:
        yield
    except DBAPIError as error:
        advice = _advice(error, settings)
        if advice is None:
            raise
        raise DatabaseUnavailable(f"{_origin(settings)}: {advice}") from error


def check_database(engine: Engine, settings: Settings) -> None:
    """Raise ``DatabaseUnavailable`` unless the database answers, has PostGIS and is migrated."""
    with explained(settings), engine.connect() as conn:
        postgis = conn.scalar(text("SELECT extversion FROM pg_extension WHERE extname = 'postgis'"))
        current = is_current(conn)
    if postgis is None:
        raise DatabaseUnavailable(
            f"{_origin(settings)}: the database has no PostGIS; run `warroom migrate`, "
            "which creates it (as a role allowed to)"
        )
    if not current:
        raise DatabaseUnavailable(
            f"{_origin(settings)}: the database lacks this version's tables; run `warroom migrate`"
        )


def application_role(settings: Settings) -> str | None:
    """Return the role the application logs in as, when another role owns the database.

    None with one URL only (``WARROOM_DATABASE_URL`` without ``_OWNER_URL``): then the
    application is the owner, and the grants of ``layers.privileges`` do not apply.
    """
    if settings.database.url is None:
        return APP_ROLE
    if settings.database.owner_url is None:
        return None
    engine = create_engine(settings.database.url, poolclass=NullPool)
    with explained(settings), engine.connect() as conn:
        role = str(conn.scalar(text("SELECT current_user")))
    engine.dispose()
    return role
