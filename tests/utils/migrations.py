"""Databases of a test's own, migrated to an earlier revision, to test a later migration."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.engine import make_url

from layers.migrate import upgrade
from tests.conftest import _admin_connection


@contextmanager
def database_at(server_url: str, revision: str) -> Iterator[str]:
    """Yield the URL of a new database migrated to ``revision``; drop it afterwards."""
    name = f"warroom_test_{uuid.uuid4().hex[:10]}"
    conn = _admin_connection(server_url)
    with conn.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{name}"')
    url = make_url(server_url).set(database=name).render_as_string(hide_password=False)
    try:
        upgrade(url, revision)
        yield url
    finally:
        with conn.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.close()
