"""``warroom keys``: the key ring that protects personal fields, the audit chain and TOTP."""

from __future__ import annotations

import typer
from rich.console import Console

from api.cli.checks import fail, load_settings
from layers.crypto.keys import FileKeySource, key_source
from layers.errors import KeySourceError

keys_app = typer.Typer(help="Manage the key ring (layers/crypto/keys.py).", no_args_is_help=True)
console = Console()


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
