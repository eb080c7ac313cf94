"""SM2 signatures (GB/T 32918.2, SM3 with the default ID 1234567812345678) of backups and exports.

Which library, and why. ``cryptography`` has SM3, HMAC-SM3 and SM4 but no SM2 (its
OpenSSL has SM2, the Python API does not expose the curve). The candidates on PyPI:

- ``gmssl`` 3.2.2 (duanhongyi/gmssl, pure Python, last release 2023-02, the most used):
  its arithmetic matches the standard's example (the known-answer test in
  tests/layers/test_crypto_sm2.py), but ``sign_with_sm3`` draws the nonce ``k`` with
  ``random.choice`` (Mersenne Twister, ``gmssl/func.py: random_hex``), which is
  predictable: two signatures with guessable ``k`` give away the private key. It also
  does not check that ``r`` and ``s`` lie in [1, n-1] when verifying, and is not
  constant-time. Its constructor strips a "04" prefix with ``str.lstrip``, which mangles
  any public key whose hex begins with "04": we set the key on the object instead.
- ``gmssl-python`` (the GmSSL project's binding, maintained) needs the GmSSL C library,
  which Debian does not ship; ``gmalg`` and ``easy-gmssl`` are young one-author projects.

So we use ``gmssl`` for the curve arithmetic only, and around it: ``k`` from
``secrets.randbelow`` (the OS CSPRNG) in [1, n-1], drawn again when the standard says
so (r = 0, r + k = n, s = 0); ``r`` and ``s`` range-checked before verifying; keys and
signatures checked for shape. Signing runs offline (a backup, an export), where a timing
channel is not reachable by a remote caller. Should the bureau's HSM sign instead, it
implements ``layers.backup.ManifestSigner`` (``sign``/``verify``) and replaces this class.

Keys: the private key is 64 hex digits in a file only its owner may read
(``WARROOM_CRYPTO_SIGNING_KEY_FILE``); the public key is 128 hex digits (x || y) in a
file anyone may read (``WARROOM_CRYPTO_VERIFY_KEY_FILE``). ``warroom keys sm2-keygen``
writes a pair. A signature is 128 hex digits, r || s.
"""

from __future__ import annotations

import binascii
import re
import secrets
import stat
from dataclasses import dataclass, field
from pathlib import Path

from gmssl import sm2

from layers.errors import KeySourceError

__all__ = ["SM2Signer", "generate_key_pair", "signer_from_files"]

_CURVE = sm2.default_ecc_table
N = int(_CURVE["n"], 16)
_PRIVATE = re.compile(r"^[0-9a-fA-F]{64}$")
_PUBLIC = re.compile(r"^[0-9a-fA-F]{128}$")
_SIGNATURE = re.compile(r"^[0-9a-f]{128}$")


def _public_of(private_hex: str) -> str:
    point = sm2.CryptSM2(private_key=private_hex, public_key="")._kg(
        int(private_hex, 16), _CURVE["g"]
    )
    return str(point)


def generate_key_pair() -> tuple[str, str]:
    """Return a fresh (private, public) key pair in hex; the private key from the CSPRNG."""
    private = f"{secrets.randbelow(N - 2) + 1:064x}"  # [1, n-2]: d + 1 must be invertible
    return private, _public_of(private)


@dataclass(frozen=True)
class SM2Signer:
    """Signs with a private key (if given) and verifies with the public key."""

    public_key: str
    private_key: str | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if not _PUBLIC.match(self.public_key):
            raise KeySourceError("an SM2 public key is 128 hex digits (x || y, no 04 prefix)")
        if self.private_key is not None:
            if not _PRIVATE.match(self.private_key) or not 0 < int(self.private_key, 16) < N - 1:
                raise KeySourceError("an SM2 private key is 64 hex digits, in [1, n-2]")
            if _public_of(self.private_key).lower() != self.public_key.lower():
                raise KeySourceError("the SM2 private key does not belong to the public key")

    def _curve(self) -> sm2.CryptSM2:
        curve = sm2.CryptSM2(private_key=self.private_key or "", public_key="")
        # Set after construction: gmssl's constructor ``lstrip("04")``s the key, which eats
        # the leading digits of a key that begins with 0 or 4 after a "04" (1 key in 256).
        curve.public_key = self.public_key
        return curve

    def sign(self, content: bytes) -> str:
        """Return the signature of ``content`` (128 hex digits, r || s)."""
        if self.private_key is None:
            raise KeySourceError(
                "no SM2 signing key is configured (WARROOM_CRYPTO_SIGNING_KEY_FILE)"
            )
        curve = self._curve()
        digest = binascii.a2b_hex(curve._sm3_z(content).encode())
        while True:  # the standard's rule: draw k again when r = 0, r + k = n or s = 0
            signature = curve.sign(digest, f"{secrets.randbelow(N - 1) + 1:064x}")
            if signature is not None:
                return str(signature)

    def verify(self, content: bytes, signature: str) -> bool:
        """Return whether ``signature`` is this key's signature of ``content``."""
        if not _SIGNATURE.match(signature):
            return False
        r, s = int(signature[:64], 16), int(signature[64:], 16)
        if not (0 < r < N and 0 < s < N):
            return False
        return bool(self._curve().verify_with_sm3(signature, content))


def _read_private(path: Path) -> str:
    mode = path.stat().st_mode
    if mode & 0o077:
        raise KeySourceError(
            f"SM2 signing key {path} has mode {stat.S_IMODE(mode):04o}: group or others may "
            f"use it; refused. Run: chmod 600 {path}"
        )
    return path.read_text().strip()


def signer_from_files(private_path: Path | None, public_path: Path | None) -> SM2Signer | None:
    """Return the signer of the configured key files (None if no public key is configured)."""
    try:
        if public_path is None:
            if private_path is not None:
                raise KeySourceError("an SM2 signing key needs its public key file too")
            return None
        private = _read_private(private_path) if private_path is not None else None
        return SM2Signer(public_path.read_text().strip(), private)
    except OSError as exc:
        raise KeySourceError(f"cannot read an SM2 key file: {exc}") from None
