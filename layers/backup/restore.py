"""Restore a backup: verify it, restore it into a fresh database, check it, then switch."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.pool import NullPool

from layers.accounts.scope import Actor
from layers.audit.service import record_audit, verify_audit_chain
from layers.backup.manifest import DUMP_FILE, BackupError, Manifest, ManifestSigner, read_manifest
from layers.backup.postgres import client_binary, count_rows, refused, run_client, server_major
from layers.backup.switch import other_sessions, quote, switch_databases
from layers.crypto.keys import KeyRing, bind_key_ring
from layers.database import make_sessionmaker, transaction
from layers.migrate import MIGRATIONS_DIR, is_current, upgrade

_NAME_BYTES = 63  # PostgreSQL's longest identifier


@dataclass(frozen=True)
class RestoreReport:
    """Where a backup went and where the database it replaced is kept."""

    database: str
    kept_as: str | None
    manifest: Manifest
    migrated: bool


def _known_revision(revision: str) -> None:
    """Refuse a schema revision this code does not know: it comes from newer code."""
    known = {script.revision for script in ScriptDirectory(str(MIGRATIONS_DIR)).walk_revisions()}
    if revision not in known:
        raise BackupError(
            f"the backup's schema revision {revision!r} is newer than this code's (or not "
            "ours); restore it with the warroom version that made it"
        )


def _named(base: str, suffix: str) -> str:
    """Return ``base + suffix`` cut to PostgreSQL's identifier length (cutting ``base``)."""
    while len((base + suffix).encode()) > _NAME_BYTES:
        base = base[:-1]
    return base + suffix


def _target(url: URL) -> str:
    name = url.database or os.environ.get("PGDATABASE")
    if not name:
        raise BackupError("the database URL names no database to restore into; name it")
    return name


def _create(conn: Connection, name: str, manifest: Manifest, owner: str | None) -> None:
    """Create an empty database ``name`` with the backup's encoding and locale."""
    owned = f" OWNER {quote(conn, owner)}" if owner else ""
    statement = text(
        f"CREATE DATABASE {quote(conn, name)}{owned} TEMPLATE template0 "
        "ENCODING :encoding LC_COLLATE :collate LC_CTYPE :ctype"
    )
    params = {"encoding": manifest.encoding, "collate": manifest.collate, "ctype": manifest.ctype}
    with refused(f"create database {name}"):
        conn.execute(statement, params)


def _check(engine: Engine, manifest: Manifest, key_ring: KeyRing) -> bool:
    """Check the restored database against the manifest; return whether it needs migrating."""
    with engine.connect() as conn:
        counts = count_rows(conn)
        current = is_current(conn)
    if counts != manifest.row_counts:
        differ = sorted(set(counts) ^ set(manifest.row_counts)) + sorted(
            name for name in set(counts) & set(manifest.row_counts)
            if counts[name] != manifest.row_counts[name]
        )  # fmt: skip
        shown = ", ".join(
            f"{name} {counts.get(name, 'none')} (backup: {manifest.row_counts.get(name, 'none')})"
            for name in differ[:5]
        )
        raise BackupError(f"the restored row counts differ from the manifest's: {shown}")
    with bind_key_ring(make_sessionmaker(engine), key_ring)() as session:
        broken_at = verify_audit_chain(session)
    if broken_at is not None:
        raise BackupError(f"the restored audit chain is broken at record {broken_at}")
    return not current


def _restore_into(
    server: Engine, url: URL, manifest: Manifest, directory: Path, key_ring: KeyRing,
    app_role: str | None,
) -> bool:  # fmt: skip
    """Restore the dump into the fresh database of ``url``, check it, migrate it if older."""
    rendered = url.render_as_string(hide_password=False)
    with server.connect() as conn:
        pg_restore = client_binary("pg_restore", server_major(conn))
    run_client(pg_restore, url, "--exit-on-error", str(directory / DUMP_FILE))
    engine = create_engine(rendered, poolclass=NullPool)
    try:
        migrate = _check(engine, manifest, key_ring)
    finally:
        engine.dispose()
    if migrate:
        upgrade(rendered, app_role=app_role)
    return migrate


def _audit(
    url: URL, actor: Actor, directory: Path, report: RestoreReport, key_ring: KeyRing
) -> None:
    engine = create_engine(url.render_as_string(hide_password=False), poolclass=NullPool)
    try:
        with transaction(bind_key_ring(make_sessionmaker(engine), key_ring)) as session:
            record_audit(
                session, actor=actor, action="database.restore", target_type="database",
                target_id=report.database, detail=f"restored from {directory}"[:500],
                after={"directory": str(directory), "created_at": report.manifest.created_at,
                       "source_database": report.manifest.database,
                       "dump_sm3": report.manifest.dump_sm3,
                       "manifest_sm3": report.manifest.manifest_sm3,
                       "kept_as": report.kept_as, "migrated": report.migrated},
            )  # fmt: skip
    finally:
        engine.dispose()


def restore_database(
    url: str,
    directory: Path,
    *,
    actor: Actor,
    key_ring: KeyRing,
    app_role: str | None = None,
    force: bool = False,
    verifier: ManifestSigner | None = None,
) -> RestoreReport:
    """Restore the backup in ``directory`` as the database of ``url``, keeping the old one aside.

    Nothing is touched unless the manifest and dump match their digests and the schema
    revision is known. The dump goes into a new database, whose row counts and audit
    chain (checked with ``key_ring``) must match; only then is the old database renamed
    aside and the new one given its name. Other sessions on the database are refused, or
    closed with ``force``. A backup of an older schema is migrated, and ``app_role`` given
    its grants (``layers.privileges``). ``url`` names a role that may create the database
    with PostGIS in it: on the local cluster its superuser.
    """
    manifest = read_manifest(directory, verifier)
    _known_revision(manifest.schema_revision)
    target_url = make_url(url)
    target = _target(target_url)
    stamp = datetime.now(UTC).strftime("%Y%m%d%H%M%S")
    fresh, aside = _named(target, f"_restore_{stamp}"), _named(target, f"_before_restore_{stamp}")
    server = create_engine(target_url.set(database="postgres"), poolclass=NullPool)
    try:
        with server.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            owner = conn.scalar(
                text("SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = :name"),
                {"name": target},
            )
            if owner is not None and not force:
                other_sessions(conn, target, force=False)
            _create(conn, fresh, manifest, owner)
        try:
            migrated = _restore_into(server, target_url.set(database=fresh), manifest, directory,
                                     key_ring, app_role)  # fmt: skip
            switch_databases(server, target, fresh, aside if owner else None, force=force)
        except BaseException:
            with server.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text(f"DROP DATABASE IF EXISTS {quote(conn, fresh)} WITH (FORCE)"))
            raise
    finally:
        server.dispose()
    report = RestoreReport(target, aside if owner else None, manifest, migrated)
    _audit(target_url.set(database=target), actor, directory, report, key_ring)
    return report
