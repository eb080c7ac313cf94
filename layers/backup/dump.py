"""Take a backup: pg_dump in custom format plus a manifest counted in the dump's own snapshot."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from layers.accounts.scope import Actor
from layers.audit.service import record_audit
from layers.backup.manifest import (
    DUMP_FILE,
    MANIFEST_FILE,
    BackupError,
    Manifest,
    ManifestSigner,
    sm3_file,
    write_manifest,
)
from layers.backup.postgres import client_binary, count_rows, run_client, server_major
from layers.crypto.keys import KeyRing, bind_key_ring
from layers.database import make_sessionmaker, transaction


def _new_dump_file(directory: Path) -> Path:
    """Create the backup's directory (0700) and an empty dump file (0600) that is new."""
    if (directory / MANIFEST_FILE).exists():
        raise BackupError(f"{directory} already holds a backup; choose a new directory")
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    dump = directory / DUMP_FILE
    try:
        os.close(os.open(dump, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        raise BackupError(f"{dump} exists (a backup cut short?); choose a new directory") from None
    return dump


def _revision(conn: Connection) -> str:
    heads = MigrationContext.configure(conn).get_current_heads()
    if len(heads) != 1:
        raise BackupError("the database has no single schema revision; run `warroom migrate`")
    return heads[0]


def _manifest(conn: Connection, dump: Path) -> Manifest:
    """Return the manifest of ``dump`` from what ``conn``'s snapshot sees."""
    facts = conn.execute(
        text(
            "SELECT current_database(), current_setting('server_version'), "
            "pg_encoding_to_char(encoding), datcollate, datctype "
            "FROM pg_database WHERE datname = current_database()"
        )
    ).one()
    return Manifest(
        created_at=datetime.now(UTC).isoformat(),
        database=facts[0],
        server_version=facts[1],
        schema_revision=_revision(conn),
        encoding=facts[2],
        collate=facts[3],
        ctype=facts[4],
        dump_bytes=dump.stat().st_size,
        dump_sm3=sm3_file(dump),
        row_counts=count_rows(conn),
    )


def _audit(
    engine: Engine, actor: Actor, directory: Path, manifest: Manifest, key_ring: KeyRing
) -> None:
    with transaction(bind_key_ring(make_sessionmaker(engine), key_ring)) as session:
        record_audit(
            session, actor=actor, action="database.backup", target_type="database",
            target_id=manifest.database, detail=f"backup written to {directory}"[:500],
            after={"directory": str(directory), "created_at": manifest.created_at,
                   "schema_revision": manifest.schema_revision, "dump_sm3": manifest.dump_sm3,
                   "manifest_sm3": manifest.manifest_sm3},
        )  # fmt: skip


def backup_database(
    url: str,
    directory: Path,
    *,
    actor: Actor,
    key_ring: KeyRing,
    signer: ManifestSigner | None = None,
) -> Manifest:
    """Dump the database at ``url`` into ``directory`` with its manifest; audit it; return it.

    The row counts and the dump come from one exported snapshot, so the manifest describes
    exactly what the dump holds, whatever is written meanwhile; the audit record of the
    backup comes after that snapshot and is not in it.
    """
    dump = _new_dump_file(directory)
    engine = create_engine(url, poolclass=NullPool)
    try:
        snapshot_reader = engine.connect().execution_options(
            isolation_level="REPEATABLE READ", postgresql_readonly=True
        )
        with snapshot_reader as conn, conn.begin():
            # The snapshot lives only while this transaction stays open during pg_dump.
            conn.execute(text("SET LOCAL idle_in_transaction_session_timeout = 0"))
            snapshot = str(conn.scalar(text("SELECT pg_export_snapshot()")))
            pg_dump = client_binary("pg_dump", server_major(conn))
            run_client(pg_dump, make_url(url), "--format=custom", f"--snapshot={snapshot}",
                       f"--file={dump}")  # fmt: skip
            manifest = write_manifest(directory, _manifest(conn, dump), signer)
        _audit(engine, actor, directory, manifest, key_ring)
    except BaseException:
        if not (directory / MANIFEST_FILE).exists():
            dump.unlink(missing_ok=True)
        raise
    finally:
        engine.dispose()
    return manifest
