"""Put a restored database in place of the current one in a single transaction of renames."""

from __future__ import annotations

from sqlalchemy import Connection, Engine, text

from layers.backup.manifest import BackupError
from layers.backup.postgres import refused


def quote(conn: Connection, name: str) -> str:
    """Return ``name`` quoted as an SQL identifier."""
    return conn.dialect.identifier_preparer.quote_identifier(name)


def other_sessions(conn: Connection, database: str, *, force: bool) -> None:
    """Refuse while other sessions use ``database``, or with ``force`` close them."""
    pids = conn.scalars(
        # Autovacuum workers are not counted: PostgreSQL stops them itself for a rename.
        text(
            "SELECT pid FROM pg_stat_activity WHERE datname = :name "
            "AND backend_type = 'client backend' AND pid <> pg_backend_pid()"
        ),
        {"name": database},
    ).all()
    if not pids:
        return
    if not force:
        raise BackupError(
            f"{len(pids)} other session(s) use database {database}: stop the app (and any "
            "psql) first, or pass --force to close them; nothing was changed"
        )
    for pid in pids:
        conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})


def _allow_connections(conn: Connection, database: str, allowed: bool) -> None:
    value = "true" if allowed else "false"
    conn.execute(text(f"ALTER DATABASE {quote(conn, database)} WITH ALLOW_CONNECTIONS {value}"))


def _rename(conn: Connection, database: str, name: str) -> None:
    conn.execute(text(f"ALTER DATABASE {quote(conn, database)} RENAME TO {quote(conn, name)}"))


def switch_databases(
    server: Engine, target: str, fresh: str, aside: str | None, *, force: bool
) -> None:
    """Rename ``target`` to ``aside`` and ``fresh`` to ``target`` at once.

    New connections to ``target`` are barred first, so none slips in between the check
    for other sessions and the renames; ``aside`` is None when there is no ``target``.
    """
    autocommit = server.connect().execution_options(isolation_level="AUTOCOMMIT")
    with autocommit as conn, refused(f"put {fresh} in place of {target}"):
        if aside is None:
            _rename(conn, fresh, target)
            return
        _allow_connections(conn, target, False)
        try:
            other_sessions(conn, target, force=force)
            conn.execute(text("BEGIN"))
            _rename(conn, target, aside)
            _allow_connections(conn, aside, True)
            _rename(conn, fresh, target)
            conn.execute(text("COMMIT"))
        except BaseException:
            conn.execute(text("ROLLBACK"))
            _allow_connections(conn, target, True)
            raise
