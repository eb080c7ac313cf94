"""SM2 signatures: the standard's example, a CSPRNG nonce, strict verification, key files."""

from __future__ import annotations

import binascii
from pathlib import Path

import pytest
from typer.testing import CliRunner

from api.cli.main import app
from layers.crypto.sm2 import N, SM2Signer, _public_of, generate_key_pair, signer_from_files
from layers.errors import KeySourceError

# GB/T 32918.2 (GM/T 0003.2) example on the recommended curve: key, message, nonce, (r, s).
PRIVATE = "3945208F7B2144B13F36E38AC6D39F95889393692860B51A42FB81EF4DF7C5B8"
PUBLIC = (
    "09F9DF311E5421A150DD7D161E4BC5C672179FAD1833FC076BB08FF356F35020"
    "CCEA490CE26775A52DC6EA718CC1AA600AED05FBF35E084A6632F6072DA9AD13"
)
NONCE = "59276E27D506861A16680F3AD9C02DCCEF3CC1FA3CDBE4CE6D54B80DEAC1BC21"
R = "F5A03B0648D2C4630EEAC513E1BB81A15944DA3827D5B74143AC7EACEEE720B3"
S = "B1B6AA29DF212FD8763182BC0D421CA1BB9038FD1F7F42D4840B69C485BBC1AA"


def test_the_arithmetic_gives_the_standards_example() -> None:
    signer = SM2Signer(PUBLIC, PRIVATE)
    curve = signer._curve()
    digest = binascii.a2b_hex(curve._sm3_z(b"message digest").encode())
    assert curve.sign(digest, NONCE).upper() == R + S
    assert signer.verify(b"message digest", (R + S).lower())


def test_signatures_verify_and_never_repeat_a_nonce() -> None:
    private, public = generate_key_pair()
    signer = SM2Signer(public, private)
    signatures = {signer.sign(b"manifest") for _ in range(5)}
    assert len(signatures) == 5  # r differs: k is fresh from the CSPRNG each time
    assert all(signer.verify(b"manifest", s) for s in signatures)
    assert all(SM2Signer(public).verify(b"manifest", s) for s in signatures)


def test_verification_refuses_other_content_keys_and_malformed_signatures() -> None:
    private, public = generate_key_pair()
    signature = SM2Signer(public, private).sign(b"manifest")
    other = SM2Signer(generate_key_pair()[1])
    assert not SM2Signer(public).verify(b"manifesT", signature)
    assert not other.verify(b"manifest", signature)
    for bad in ["", signature[:-2], "0" * 128, f"{N:064x}" + signature[64:], signature.upper()]:
        assert not SM2Signer(public).verify(b"manifest", bad)


def test_a_public_key_beginning_with_04_signs_and_verifies() -> None:
    private = f"{11:064x}"  # its public key's hex begins with "04", like 1 key in 256
    signer = SM2Signer(_public_of(private), private)
    assert signer.public_key.startswith("04")
    signature = signer.sign(b"manifest")
    assert SM2Signer(signer.public_key).verify(b"manifest", signature)
    assert not SM2Signer(signer.public_key).verify(b"manifesT", signature)


def test_keys_are_checked_and_the_private_file_must_be_private(tmp_path: Path) -> None:
    private, public = generate_key_pair()
    with pytest.raises(KeySourceError, match="does not belong"):
        SM2Signer(generate_key_pair()[1], private)
    with pytest.raises(KeySourceError, match="128 hex digits"):
        SM2Signer("04" + public)
    result = CliRunner().invoke(app, ["keys", "sm2-keygen", str(tmp_path / "sm2")])
    assert result.exit_code == 0, result.output
    key, pub = tmp_path / "sm2" / "sm2_signing.key", tmp_path / "sm2" / "sm2_signing.pub"
    assert key.stat().st_mode & 0o777 == 0o600
    signer = signer_from_files(key, pub)
    assert signer is not None and signer.verify(b"x", signer.sign(b"x"))
    key.chmod(0o644)
    with pytest.raises(KeySourceError, match="chmod 600"):
        signer_from_files(key, pub)
    again = CliRunner().invoke(app, ["keys", "sm2-keygen", str(tmp_path / "sm2")])
    assert again.exit_code == 1 and "never overwritten" in again.output
    assert signer_from_files(None, None) is None
