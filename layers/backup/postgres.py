"""PostgreSQL's own tools and facts for backups: pg_dump/pg_restore, libpq targets, row counts."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Connection, func, select, table, text
from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError

from layers.backup.manifest import BackupError

# Debian keeps each major's client tools apart; pg_dump must be at least the server's major.
_DEBIAN_PG = Path("/usr/lib/postgresql")


def server_major(conn: Connection) -> int:
    """Return the major version of the server on ``conn``."""
    return int(conn.scalar(text("SELECT current_setting('server_version_num')::int")) or 0) // 10000


def _major_of(binary: str) -> int:
    said = subprocess.run([binary, "--version"], capture_output=True, text=True).stdout
    found = re.search(r"\)\s+(\d+)", said)
    return int(found.group(1)) if found else 0


def client_binary(name: str, major: int) -> Path:
    """Return ``pg_dump`` or ``pg_restore`` of the server's major (else the nearest newer one)."""
    installed = {
        int(path.parent.parent.name): path
        for path in _DEBIAN_PG.glob(f"*/bin/{name}")
        if path.parent.parent.name.isdigit()
    }
    usable = sorted(version for version in installed if version >= major)
    if usable:
        return installed[usable[0]]
    found = shutil.which(name)
    if found is not None and _major_of(found) >= major:
        return Path(found)
    raise BackupError(
        f"{name} of PostgreSQL {major} or newer not found (the server is {major}); install it "
        f"(Debian: apt-get install postgresql-client-{major})"
    )


def _quoted(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def libpq_target(url: URL) -> tuple[str, dict[str, str]]:
    """Return the libpq connection string of ``url`` without its password, and the child's env.

    The password travels in ``PGPASSWORD`` of the child's environment, never on a command
    line; parts the URL leaves out come from libpq's own variables and ``~/.pgpass``.
    """
    query = {key: val if isinstance(val, str) else val[-1] for key, val in url.query.items()}
    password = query.pop("password", None) or url.password
    parts = {"host": url.host, "port": url.port, "user": url.username, "dbname": url.database}
    parts.update(query)
    conninfo = " ".join(f"{key}={_quoted(str(value))}" for key, value in parts.items() if value)
    env = dict(os.environ)
    if password:
        env["PGPASSWORD"] = str(password)
    return conninfo, env


def run_client(binary: Path, url: URL, *args: str) -> None:
    """Run a PostgreSQL client tool on the database of ``url``; raise ``BackupError`` on failure."""
    conninfo, env = libpq_target(url)
    command = [str(binary), "--no-password", f"--dbname={conninfo}", *args]
    result = subprocess.run(command, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        said = " ".join(result.stderr.split())[:400] or f"exit status {result.returncode}"
        raise BackupError(f"{binary.name} failed: {said}")


def count_rows(conn: Connection) -> dict[str, int]:
    """Return the exact number of rows of every table in the public schema, by name."""
    names = conn.scalars(
        text(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') ORDER BY c.relname"
        )
    ).all()
    return {
        name: int(conn.scalar(select(func.count()).select_from(table(name, schema="public"))) or 0)
        for name in names
    }


@contextmanager
def refused(what: str) -> Iterator[None]:
    """Turn a database error into ``BackupError``: "cannot <what>: <the server's first line>"."""
    try:
        yield
    except DBAPIError as exc:
        said = str(exc.orig).strip().splitlines()[0]
        raise BackupError(f"cannot {what}: {said}") from None
