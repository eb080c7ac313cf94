"""The backups in a directory, each verified as ``warroom restore`` would before touching it.

A verification reads the whole dump (its SM3 digest), so its outcome is remembered per
backup for as long as neither file changes (their sizes and modification times): the
operations page lists a month of nightly backups without hashing each of them again.
Signed manifests are checked with the configured SM2 public key
(``WARROOM_CRYPTO_VERIFY_KEY_FILE``); without one they are listed as refused, as a
restore would refuse them.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

from layers.accounts.roles import Permission
from layers.accounts.scope import Actor
from layers.backup.manifest import (
    DUMP_FILE,
    MANIFEST_FILE,
    BackupError,
    Manifest,
    read_manifest,
)
from layers.crypto.sm2 import SM2Signer

Stamp = tuple[tuple[int, int], ...]


@dataclass(frozen=True)
class BackupState:
    """One backup directory: whether it would be restored, and what its manifest says."""

    name: str
    status: str  # "verified", "refused" (a digest or signature fails) or "incomplete"
    detail: str | None
    manifest: Manifest | None


def _stamp(directory: Path) -> Stamp:
    """Return the size and modification time of the backup's files (0s for a missing one)."""
    stamps = []
    for name in (MANIFEST_FILE, DUMP_FILE):
        try:
            status = (directory / name).stat()
        except FileNotFoundError:
            stamps.append((0, 0))
        else:
            stamps.append((status.st_size, status.st_mtime_ns))
    return tuple(stamps)


@functools.lru_cache(maxsize=512)
def _verified(
    directory: Path, stamp: Stamp, verifier: SM2Signer | None
) -> tuple[Manifest | None, str | None]:
    """Return the manifest of a backup that verifies, or None and why not (``stamp``: its key)."""
    try:
        return read_manifest(directory, verifier), None
    except BackupError as exc:
        return None, exc.message


def inspect_backup(directory: Path, verifier: SM2Signer | None = None) -> BackupState:
    """Return the state of the backup in ``directory`` (its signature checked by ``verifier``)."""
    stamp = _stamp(directory)
    if stamp[0] == (0, 0):
        detail = "no manifest: a backup still running, or one that failed"
        return BackupState(directory.name, "incomplete", detail, None)
    manifest, problem = _verified(directory, stamp, verifier)
    if manifest is None:
        return BackupState(directory.name, "refused", problem, None)
    return BackupState(directory.name, "verified", None, manifest)


def list_backups(
    *, actor: Actor, directory: Path | None, limit: int, verifier: SM2Signer | None = None
) -> list[BackupState]:
    """Return the newest backups under ``directory`` (by modification time) with their state."""
    actor.require(Permission.OPERATIONS)
    if directory is None or not directory.is_dir():
        return []
    found = [
        path for path in directory.iterdir()
        if path.is_dir() and ((path / MANIFEST_FILE).exists() or (path / DUMP_FILE).exists())
    ]  # fmt: skip
    found.sort(key=lambda path: (path.stat().st_mtime_ns, path.name), reverse=True)
    return [inspect_backup(path, verifier) for path in found[:limit]]
