"""Backups: pg_dump plus an SM3-sealed manifest, and a verified restore that switches databases."""

from layers.backup.dump import backup_database
from layers.backup.manifest import BackupError, Manifest, ManifestSigner, read_manifest
from layers.backup.restore import RestoreReport, restore_database

__all__ = [
    "BackupError",
    "Manifest",
    "ManifestSigner",
    "RestoreReport",
    "backup_database",
    "read_manifest",
    "restore_database",
]
