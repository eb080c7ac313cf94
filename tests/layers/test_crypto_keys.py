"""The key ring: sources, file permissions, versions and purpose-separated subkeys."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
from pydantic import SecretStr
from typer.testing import CliRunner

from api.cli.main import app
from layers.crypto.keys import FileKeySource, KeyRing, load_key_ring
from layers.errors import KeySourceError
from layers.settings import CryptoSettings


def _write(path: Path, text: str, mode: int = 0o600) -> Path:
    path.write_text(text)
    path.chmod(mode)
    return path


def test_init_creates_an_owner_only_key_file_once(tmp_path: Path) -> None:
    key_file = tmp_path / "keys" / "keys.json"
    env = {"WARROOM_CRYPTO_KEY_FILE": str(key_file)}
    first = CliRunner().invoke(app, ["keys", "init"], env=env)
    assert first.exit_code == 0, first.output
    assert "created" in first.output
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    written = key_file.read_text()
    again = CliRunner().invoke(app, ["keys", "init"], env=env)
    assert again.exit_code == 0 and "exists" in again.output
    assert key_file.read_text() == written


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o644, 0o660])
def test_a_key_file_others_may_read_is_refused(tmp_path: Path, mode: int) -> None:
    key_file = _write(tmp_path / "keys.json", KeyRing.generate().to_json(), mode)
    with pytest.raises(KeySourceError, match="chmod 600"):
        load_key_ring(CryptoSettings(key_file=key_file))
    result = CliRunner().invoke(
        app, ["keys", "init"], env={"WARROOM_CRYPTO_KEY_FILE": str(key_file)}
    )
    assert result.exit_code == 1 and "refused" in result.output


def test_a_missing_key_file_says_how_to_create_one(tmp_path: Path) -> None:
    with pytest.raises(KeySourceError, match="warroom keys init"):
        load_key_ring(CryptoSettings(key_file=tmp_path / "absent.json"))


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("not json", "not a key ring"),
        ('{"current": 1, "keys": {"1": "abcd"}}', "not a key ring"),
        ('{"current": 2, "keys": {"1": "' + "00" * 32 + '"}}', "current version 2 has no key"),
        ('{"current": 0, "keys": {"0": "' + "00" * 32 + '"}}', "versions must be"),
    ],
)
def test_a_malformed_ring_is_refused(tmp_path: Path, text: str, problem: str) -> None:
    key_file = _write(tmp_path / "keys.json", text)
    with pytest.raises(KeySourceError, match=problem):
        load_key_ring(CryptoSettings(key_file=key_file))


def test_the_environment_secret_wins_over_the_file_and_takes_base64(tmp_path: Path) -> None:
    import base64

    key = os.urandom(32)
    secret = json.dumps({"current": 7, "keys": {"7": base64.b64encode(key).decode()}})
    settings = CryptoSettings(key_file=tmp_path / "absent.json", keys=SecretStr(secret))
    ring = load_key_ring(settings)
    assert ring.current == 7 and ring.masters[7] == key


def test_subkeys_differ_by_purpose_and_version_and_never_equal_the_master() -> None:
    ring = KeyRing.generate().with_new_version()
    keys = {
        (purpose, version): ring.key_for(purpose, version)
        for purpose in ("audit", "fields", "blind_index", "totp")
        for version in ring.versions
    }
    assert len(set(keys.values())) == len(keys)
    assert all(len(key) == 32 for key in keys.values())
    assert not set(keys.values()) & set(ring.masters.values())
    assert ring.key_for("fields") == ring.key_for("fields", ring.current)


def test_adding_a_version_keeps_the_old_ones_and_the_file_private(tmp_path: Path) -> None:
    source = FileKeySource(tmp_path / "keys.json")
    source.create_if_missing()
    before = source.load()
    after = source.add_version()
    assert after.current == before.current + 1
    assert after.key_for("fields", before.current) == before.key_for("fields")
    assert source.load() == after
    assert stat.S_IMODE(source.path.stat().st_mode) == 0o600


def test_an_unknown_version_is_a_clear_error() -> None:
    with pytest.raises(KeySourceError, match="version 9 is not in the key ring"):
        KeyRing.generate().key_for("fields", 9)
