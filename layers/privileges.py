"""What the application's database role may do: read and append the audit log, never change it.

Two roles share a database. The *owner* runs the migrations and owns the database, the
audit log, the event log and ``alembic_version``; the *application's role* is the one
``warroom serve`` logs in as. The application's role

- may SELECT and INSERT ``audit_log`` and ``events`` (and draw their ids), never UPDATE,
  DELETE or TRUNCATE them, nor alter or drop them: PostgreSQL's grants say so;
- may SELECT ``alembic_version`` (the readiness probe reads it);
- owns every other table of the schema, because imports rebuild a layer beside itself
  and swap it in, and switch a layer's triggers off while they write (DDL that only a
  table's owner may run), and may create tables in the schema for those rebuilds.

The owner is a member of the application's role, so later migrations may still alter
the tables it owns. ``secure_database`` puts all of this right, idempotently: it runs
after every migration (``layers.migrate.upgrade``), and default privileges grant the
application's role the tables a migration creates even before it runs.
"""

from __future__ import annotations

from sqlalchemy import Connection, text

from layers.errors import DatabaseUnavailable

__all__ = ["APPEND_ONLY", "READ_ONLY", "secure_database"]

# Tables the application's role may read and append to, and nothing else.
APPEND_ONLY = ("audit_log", "events")
# Tables it may only read.
READ_ONLY = ("alembic_version",)

# Relations of the public schema that no extension (PostGIS: spatial_ref_sys) brought,
# with their owner; sequences owned by a column follow their table and are left out.
_RELATIONS = """
SELECT c.relname, c.relkind, pg_get_userbyid(c.relowner)
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
  AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass
                  AND d.objid = c.oid AND (d.deptype = 'e'
                      OR (c.relkind = 'S' AND d.deptype = 'a'
                          AND d.refclassid = 'pg_class'::regclass)))
ORDER BY c.relname
"""
_FUNCTIONS = """
SELECT p.oid::regprocedure::text, pg_get_userbyid(p.proowner)
FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
WHERE n.nspname = 'public'
  AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass
                  AND d.objid = p.oid AND d.deptype = 'e')
"""
_KIND = {"r": "TABLE", "p": "TABLE", "v": "VIEW", "m": "MATERIALIZED VIEW", "S": "SEQUENCE",
         "f": "FOREIGN TABLE"}  # fmt: skip


def _quote(conn: Connection, name: str) -> str:
    return str(conn.scalar(text("SELECT quote_ident(:n)"), {"n": name}))


def _owner_and_app(conn: Connection, app_role: str) -> tuple[str, str] | None:
    """Return the database's owner and the app role, quoted; None when they are one role."""
    owner = str(conn.scalar(text(
        "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = current_database()"
    )))  # fmt: skip
    if app_role == owner:
        return None
    if not conn.scalar(text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": app_role}):
        raise DatabaseUnavailable(f"the application's role {app_role!r} does not exist")
    member = conn.scalar(text("SELECT pg_has_role(current_user, :r, 'USAGE')"), {"r": app_role})
    if not member:
        raise DatabaseUnavailable(
            f"the owner cannot hand tables to the application's role: run GRANT {app_role} "
            f"TO {owner} (as a superuser), then `warroom migrate` again"
        )
    return _quote(conn, owner), _quote(conn, app_role)


def secure_database(conn: Connection, app_role: str) -> None:
    """Give ``app_role`` its tables and its read/append grants on the current database.

    Run by the owner (or a superuser, which also takes back what another role owns);
    nothing happens when the application logs in as the owner itself.
    """
    roles = _owner_and_app(conn, app_role)
    if roles is None:
        return
    owner, app = roles
    kept = {*APPEND_ONLY, *READ_ONLY}
    present = set()
    for name, kind, holder in conn.execute(text(_RELATIONS)).all():
        present.add(name)
        target = owner if name in kept else app
        if _quote(conn, holder) != target:
            conn.execute(text(f"ALTER {_KIND[kind]} {_quote(conn, name)} OWNER TO {target}"))
    for table in kept & present:
        conn.execute(text(f"REVOKE ALL ON {table} FROM {app}, PUBLIC"))
        if table in READ_ONLY:
            conn.execute(text(f"GRANT SELECT ON {table} TO {app}"))
            continue
        conn.execute(text(f"GRANT SELECT, INSERT ON {table} TO {app}"))
        conn.execute(text(f"REVOKE ALL ON SEQUENCE {table}_id_seq FROM {app}, PUBLIC"))
        conn.execute(text(f"GRANT USAGE, SELECT ON SEQUENCE {table}_id_seq TO {app}"))
    for signature, holder in conn.execute(text(_FUNCTIONS)).all():
        if _quote(conn, holder) != owner:  # a legacy database's, made by a superuser
            conn.execute(text(f"ALTER FUNCTION {signature} OWNER TO {owner}"))
    conn.execute(text(f"GRANT USAGE, CREATE ON SCHEMA public TO {app}"))
    # what a migration creates is the app's to use at once (and its own once this runs)
    conn.execute(text(
        f"ALTER DEFAULT PRIVILEGES FOR ROLE {owner} IN SCHEMA public "
        f"GRANT SELECT, INSERT, UPDATE, DELETE, TRUNCATE ON TABLES TO {app}"
    ))  # fmt: skip
    conn.execute(text(
        f"ALTER DEFAULT PRIVILEGES FOR ROLE {owner} IN SCHEMA public "
        f"GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO {app}"
    ))  # fmt: skip
