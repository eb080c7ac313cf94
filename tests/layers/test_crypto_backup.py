"""Backups signed with SM2: ``warroom backup`` signs the manifest, ``restore`` checks it."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool
from typer.testing import CliRunner

from api.cli.main import app
from importers.export import seal_headers
from layers.backup.manifest import MANIFEST_FILE, manifest_digest, read_manifest
from layers.crypto.sm2 import SM2Signer, generate_key_pair, signer_from_files
from layers.ops.backups import inspect_backup

runner = CliRunner()


def _keys(directory: Path) -> tuple[Path, Path]:
    result = runner.invoke(app, ["keys", "sm2-keygen", str(directory)])
    assert result.exit_code == 0, result.output
    return directory / "sm2_signing.key", directory / "sm2_signing.pub"


def _warroom(url: str, keys: tuple[Path | None, Path | None], *args: str) -> tuple[int, str]:
    env = {"WARROOM_DATABASE_URL": url}
    for name, path in zip(("SIGNING", "VERIFY"), keys, strict=True):
        env[f"WARROOM_CRYPTO_{name}_KEY_FILE"] = str(path) if path else ""
    result = runner.invoke(app, list(args), env=env)
    return result.exit_code, result.output


def _drop_restored(url: str) -> None:
    name = make_url(url).database
    admin = create_engine(make_url(url).set(database="postgres"), poolclass=NullPool,
                          isolation_level="AUTOCOMMIT")  # fmt: skip
    with admin.connect() as conn:
        for other in conn.scalars(text("SELECT datname FROM pg_database "
                                       "WHERE starts_with(datname, :n) AND datname <> :n"),
                                  {"n": name}).all():  # fmt: skip
            conn.execute(text(f'DROP DATABASE IF EXISTS "{other}" WITH (FORCE)'))
    admin.dispose()


def _resign(backup: Path, signature: str) -> None:
    """Put ``signature`` in the manifest and reseal its SM3, as a forger could."""
    path = backup / MANIFEST_FILE
    document = json.loads(path.read_text())
    document["signature"] = signature
    document["manifest_sm3"] = manifest_digest(document)
    path.write_text(json.dumps(document))


def test_a_signed_backup_restores_and_a_forged_or_foreign_one_is_refused(
    scratch_database_url: str, tmp_path: Path
) -> None:
    private, public = _keys(tmp_path / "sm2")
    backup = tmp_path / "backup"
    code, output = _warroom(scratch_database_url, (private, public), "backup", str(backup))
    assert code == 0, output
    signer = signer_from_files(None, public)
    manifest = read_manifest(backup, signer)
    assert manifest.signature is not None and len(manifest.signature) == 128
    # the operations page lists it as a restore would judge it
    assert inspect_backup(backup, signer).status == "verified"
    assert inspect_backup(backup).status == "refused"

    try:
        code, output = _warroom(scratch_database_url, (None, public), "restore", str(backup))
        assert code == 0, output
    finally:
        _drop_restored(scratch_database_url)

    other_private, other_public = _keys(tmp_path / "other")
    code, output = _warroom(scratch_database_url, (None, other_public), "restore", str(backup))
    assert code == 1 and "signature does not verify" in output
    code, output = _warroom(scratch_database_url, (None, None), "restore", str(backup))
    assert code == 1 and "no key to verify it" in output

    forged = SM2Signer(other_public.read_text().strip(), other_private.read_text().strip())
    _resign(backup, forged.sign(b"anything"))
    code, output = _warroom(scratch_database_url, (None, public), "restore", str(backup))
    assert code == 1 and "signature does not verify" in output


def test_a_private_key_others_may_read_stops_the_backup(
    scratch_database_url: str, tmp_path: Path
) -> None:
    private, public = _keys(tmp_path / "sm2")
    private.chmod(0o640)
    code, output = _warroom(scratch_database_url, (private, public), "backup", str(tmp_path / "b"))
    assert code == 1 and "chmod 600" in output
    assert not (tmp_path / "b").exists()


@pytest.mark.parametrize("signed", [True, False])
def test_an_export_seal_is_its_sm3_and_the_signature_of_it(tmp_path: Path, signed: bool) -> None:
    private, public = generate_key_pair()
    path = tmp_path / "units.csv"
    path.write_bytes("id,name\n1,单位\n".encode())
    headers = seal_headers(path, SM2Signer(public, private) if signed else None)
    assert headers["X-Export-SM3"] == hashlib.new("sm3", path.read_bytes()).hexdigest()
    if signed:
        assert SM2Signer(public).verify(headers["X-Export-SM3"].encode(),
                                        headers["X-Export-Signature"])  # fmt: skip
    else:
        assert "X-Export-Signature" not in headers
