"""``warroom keys``: the key ring that protects personal fields, the audit chain and TOTP."""

from __future__ import annotations

import os
from pathlib import Path

import typer
from rich.console import Console
from sqlalchemy.orm import Session, sessionmaker

from api.cli.checks import fail, load_settings, ready_engine
from api.cli.progress import run_with_progress
from layers.crypto.keys import FileKeySource, KeyRing, bind_key_ring, key_source, load_key_ring
from layers.crypto.sm2 import generate_key_pair
from layers.database import make_sessionmaker
from layers.errors import KeySourceError
from layers.features.rotation import reseal_layers, stale_rows
from layers.records.catalog import KINDS
from layers.records.personal import reseal_personal_records, stale_records
from layers.settings import Settings

keys_app = typer.Typer(help="Manage the key ring (layers/crypto/keys.py).", no_args_is_help=True)
console = Console()


def cli_key_ring(settings: Settings) -> KeyRing:
    """Return the configured key ring; exit with one line saying what is wrong."""
    try:
        return load_key_ring(settings.crypto)
    except KeySourceError as exc:
        fail(exc.message)


def ready_sessions(settings: Settings) -> sessionmaker[Session]:
    """Return sessions on a ready database carrying the key ring (audit records need it)."""
    return bind_key_ring(make_sessionmaker(ready_engine(settings)), cli_key_ring(settings))


@keys_app.command()
def init() -> None:
    """Create the key file (mode 0600) if it is missing; keep an existing one."""
    source = key_source(load_settings().crypto)
    if not isinstance(source, FileKeySource):
        console.print("keys come from WARROOM_CRYPTO_KEYS: no key file to create")
        return
    try:
        created = source.create_if_missing()
        ring = source.load()
    except (KeySourceError, OSError) as exc:
        fail(str(exc))
    state = "created" if created else "exists"
    console.print(f"key file {state}: {source.path} (current version {ring.current})")


@keys_app.command()
def rotate(
    batch: int = typer.Option(2_000, min=1, max=100_000, help="Rows per transaction."),
) -> None:
    """Add a key version and re-seal every personal value under it, in resumable batches.

    If an earlier rotation stopped part-way, this run finishes it under the same version
    instead of adding another. Restart the app's workers once the new version is added:
    they read rows sealed under it only when their key ring holds it.
    """
    settings = load_settings()
    engine = ready_engine(settings)
    ring = cli_key_ring(settings)
    kinds = {kind.id: kind.personal for kind in KINDS.values() if kind.personal}
    unfinished = sum(stale_rows(engine, ring).values()) + stale_records(engine, ring, kinds)
    if unfinished:
        console.print(f"continuing the rotation to key version {ring.current} "
                      f"({unfinished:,} rows left)")  # fmt: skip
    else:
        try:
            ring = key_source(settings.crypto).add_version()
        except (KeySourceError, OSError) as exc:
            fail(str(exc))
        console.print(f"key version {ring.current} added and made current")
    done = run_with_progress(
        lambda progress: reseal_layers(engine, ring, batch=batch, progress=progress), console
    )
    records = reseal_personal_records(engine, ring, kinds)
    engine.dispose()
    counts = ", ".join(f"{table} {n:,}" for table, n in {**done, "records": records}.items())
    console.print(f"{sum(done.values()) + records:,} rows re-sealed under key version "
                  f"{ring.current} ({counts})")  # fmt: skip


@keys_app.command("sm2-keygen")
def sm2_keygen(
    directory: Path = typer.Argument(..., file_okay=False, help="Where to write the key pair."),
) -> None:
    """Write a new SM2 key pair: sm2_signing.key (mode 0600) and sm2_signing.pub."""
    directory.mkdir(parents=True, exist_ok=True)
    private_path, public_path = directory / "sm2_signing.key", directory / "sm2_signing.pub"
    if private_path.exists() or public_path.exists():
        fail(f"{private_path} or {public_path} exists; keys are never overwritten")
    private, public = generate_key_pair()
    descriptor = os.open(private_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as stream:
        stream.write(private + "\n")
    public_path.write_text(public + "\n")
    console.print(f"SM2 key pair written: set WARROOM_CRYPTO_SIGNING_KEY_FILE={private_path} "
                  f"and WARROOM_CRYPTO_VERIFY_KEY_FILE={public_path}",
                  soft_wrap=True, highlight=False)  # fmt: skip
