"""``warroom backup`` and ``warroom restore``: a verified dump of the database and its return."""

from __future__ import annotations

import getpass
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape

from api.cli.checks import database_problems, fail, load_settings
from api.cli.keys import cli_key_ring
from layers.accounts.roles import Role
from layers.accounts.scope import Actor
from layers.backup import BackupError, backup_database, restore_database
from layers.cluster import LocalCluster, database_url, owner_database_url
from layers.crypto.sm2 import SM2Signer, signer_from_files
from layers.database import application_role, explained
from layers.errors import KeySourceError
from layers.settings import Settings

console = Console()


def _operator() -> Actor:
    """Return the actor the audit log names for a command run by this OS user."""
    return Actor(user_id=None, username=f"cli:{getpass.getuser()}", role=Role.ADMIN, client="cli")


def _restore_url(settings: Settings) -> str:
    """Return who restores: a role that may create a database with PostGIS in it.

    On the local cluster its superuser; otherwise the owner (WARROOM_DATABASE_OWNER_URL,
    else the one URL), which then needs that right (docs/operations.md).
    """
    if settings.database.url is None:
        return LocalCluster(settings.cluster).superuser_url()
    return owner_database_url(settings)


@contextmanager
def _one_line() -> Iterator[None]:
    """Exit with one line when the backup, its keys or the database refuse."""
    try:
        yield
    except (BackupError, KeySourceError) as exc:
        fail(exc.message)


def _signer(settings: Settings) -> SM2Signer | None:
    """Return the SM2 signer of the configured key files (None: manifests go unsigned)."""
    crypto = settings.crypto
    return signer_from_files(crypto.signing_key_file, crypto.verify_key_file)


def backup(
    directory: Path = typer.Argument(..., file_okay=False, help="New directory for the backup."),
) -> None:
    """Dump the database into DIRECTORY with a manifest of row counts and SM3 digests."""
    settings = load_settings()
    with _one_line(), database_problems(), explained(settings):
        signer = _signer(settings)
        manifest = backup_database(database_url(settings), directory, actor=_operator(),
                                   key_ring=cli_key_ring(settings), signer=signer)  # fmt: skip
    rows = sum(manifest.row_counts.values())
    console.print(
        f"backup of {escape(manifest.database)} (schema {manifest.schema_revision}, {rows:,} rows "
        f"in {len(manifest.row_counts)} tables) written to {escape(str(directory))}",
        soft_wrap=True, highlight=False,
    )  # fmt: skip


def restore(
    directory: Path = typer.Argument(..., exists=True, file_okay=False, help="Backup directory."),
    force: bool = typer.Option(
        False, "--force", help="Close other sessions on the database instead of refusing."
    ),
) -> None:
    """Verify the backup in DIRECTORY, restore it into a new database, check it, switch to it."""
    settings = load_settings()
    with _one_line(), database_problems(), explained(settings):
        report = restore_database(
            _restore_url(settings), directory, actor=_operator(), key_ring=cli_key_ring(settings),
            app_role=application_role(settings), force=force, verifier=_signer(settings),
        )  # fmt: skip
    name = escape(report.database)
    console.print(
        f"restored {escape(str(directory))} (backup of {escape(report.manifest.database)} taken "
        f"{report.manifest.created_at}) as database {name}"
        + (", then migrated to this code's schema" if report.migrated else ""),
        soft_wrap=True, highlight=False,
    )  # fmt: skip
    if report.kept_as is not None:
        kept = escape(report.kept_as)
        console.print(
            f"the database it replaced is kept as {kept}; once satisfied, drop it: "
            f'psql -d postgres -c \'DROP DATABASE "{kept}"\'',
            soft_wrap=True, highlight=False,
        )  # fmt: skip
    console.print("restart the app: its caches still hold the data from before", highlight=False)
