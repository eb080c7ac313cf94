"""The backup manifest's seal (digests, the signature seam) and how tools get the password."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from layers.backup.manifest import (
    DUMP_FILE,
    MANIFEST_FILE,
    BackupError,
    Manifest,
    manifest_digest,
    read_manifest,
    sm3_file,
    write_manifest,
)
from layers.backup.postgres import libpq_target


class KeyedDigest:
    """A stand-in signer (a keyed SM3, not SM2): enough to exercise the signature seam."""

    def __init__(self, key: bytes) -> None:
        self.key = key

    def sign(self, content: bytes) -> str:
        return hashlib.new("sm3", self.key + content).hexdigest()

    def verify(self, content: bytes, signature: str) -> bool:
        return self.sign(content) == signature


def _backup(directory: Path, signer: KeyedDigest | None = None) -> Path:
    dump = directory / DUMP_FILE
    dump.write_bytes(b"PGDMP pretend dump")
    manifest = Manifest(
        created_at="2026-12-03T09:00:00+00:00", database="warroom", server_version="15.20",
        schema_revision="0013", encoding="UTF8", collate="C.UTF-8", ctype="C.UTF-8",
        dump_bytes=dump.stat().st_size, dump_sm3=sm3_file(dump), row_counts={"units": 3},
    )  # fmt: skip
    write_manifest(directory, manifest, signer)
    return directory


def test_an_unsigned_backup_reads_back_whole(tmp_path: Path) -> None:
    manifest = read_manifest(_backup(tmp_path))
    assert manifest.row_counts == {"units": 3} and manifest.signature is None
    assert (tmp_path / MANIFEST_FILE).stat().st_mode & 0o777 == 0o600


def test_a_signed_backup_verifies_only_with_its_key(tmp_path: Path) -> None:
    _backup(tmp_path, KeyedDigest(b"bureau"))
    assert read_manifest(tmp_path, KeyedDigest(b"bureau")).signature is not None
    with pytest.raises(BackupError, match="signature does not verify"):
        read_manifest(tmp_path, KeyedDigest(b"someone else"))
    with pytest.raises(BackupError, match="no key to verify it"):
        read_manifest(tmp_path)


def test_an_unsigned_backup_is_refused_once_a_key_is_configured(tmp_path: Path) -> None:
    _backup(tmp_path)
    with pytest.raises(BackupError, match="not signed"):
        read_manifest(tmp_path, KeyedDigest(b"bureau"))


def test_a_resealed_digest_does_not_pass_the_signature(tmp_path: Path) -> None:
    """Anyone can recompute SM3; the signature is what stops an edited manifest."""
    _backup(tmp_path, KeyedDigest(b"bureau"))
    path = tmp_path / MANIFEST_FILE
    document = json.loads(path.read_text())
    document["row_counts"]["units"] = 4
    document["manifest_sm3"] = manifest_digest(document)
    path.write_text(json.dumps(document))
    with pytest.raises(BackupError, match="signature does not verify"):
        read_manifest(tmp_path, KeyedDigest(b"bureau"))


def test_the_password_goes_to_the_environment_never_the_command_line() -> None:
    url = make_url(
        "postgresql+psycopg2://ops:s3cr%27t%20pw@db.example:6543/warroom?sslmode=require"
    )
    conninfo, env = libpq_target(url)
    assert "s3cr" not in conninfo and env["PGPASSWORD"] == "s3cr't pw"
    assert conninfo == "host='db.example' port='6543' user='ops' dbname='warroom' sslmode='require'"


def test_a_url_without_a_password_leaves_libpq_to_find_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PGPASSWORD", raising=False)
    conninfo, env = libpq_target(make_url("postgresql+psycopg2:///warroom"))
    assert conninfo == "dbname='warroom'" and "PGPASSWORD" not in env
