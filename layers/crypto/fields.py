"""SM4-GCM for one value in one column of one row, under a versioned key.

A sealed value is bytes::

    0x01 | key version (2 bytes, big-endian) | nonce (12 bytes) | ciphertext | tag (16 bytes)

The key is the first 16 bytes of ``ring.key_for("fields", version)``; the nonce is 12
random bytes (``os.urandom``, the CSPRNG), so the same text sealed twice differs. The
additional authenticated data names the place, ``warroom|<table>|<column>|<row id>``:
a sealed value copied to another row or column does not open there (``TamperedData``),
nor does one sealed under another key or changed by a single bit. The version in front
says which key opens it, so rows sealed before a rotation stay readable until
``warroom keys rotate`` has re-sealed them.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Sequence

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from layers.crypto.keys import KeyRing
from layers.errors import TamperedData

__all__ = ["FieldCipher", "Place", "sealed_version"]

FORMAT = 1
_HEADER = struct.Struct(">BH")
NONCE_BYTES = 12
TAG_BYTES = 16
SM4_KEY_BYTES = 16
OVERHEAD = _HEADER.size + NONCE_BYTES + TAG_BYTES

Place = tuple[str, str, int]  # (table, column, row id): what the sealed value is bound to


def _aad(place: Place) -> bytes:
    table, column, row_id = place
    return f"warroom|{table}|{column}|{row_id}".encode()


def sealed_version(sealed: bytes) -> int:
    """Return the key version a sealed value was made with."""
    if len(sealed) < OVERHEAD or sealed[0] != FORMAT:
        raise TamperedData("not a sealed value (unknown format or too short)")
    return int(_HEADER.unpack_from(sealed)[1])


class FieldCipher:
    """Seal and open values with SM4-GCM under the key ring's versioned field keys."""

    def __init__(self, ring: KeyRing) -> None:
        self._ring = ring
        self._keys: dict[int, bytes] = {}

    @property
    def current(self) -> int:
        """Return the key version new values are sealed with."""
        return self._ring.current

    def _key(self, version: int) -> bytes:
        key = self._keys.get(version)
        if key is None:
            key = self._keys[version] = self._ring.key_for("fields", version)[:SM4_KEY_BYTES]
        return key

    def seal(self, text: str, place: Place) -> bytes:
        """Return ``text`` sealed for ``place`` under the current key."""
        return self._seal(text, place, os.urandom(NONCE_BYTES))

    def seal_all(self, texts: Sequence[str], places: Sequence[Place]) -> list[bytes]:
        """Return each text sealed for its place (nonces drawn from the CSPRNG at once)."""
        nonces = os.urandom(NONCE_BYTES * len(texts))
        return [
            self._seal(text, place, nonces[i * NONCE_BYTES : (i + 1) * NONCE_BYTES])
            for i, (text, place) in enumerate(zip(texts, places, strict=True))
        ]

    def _seal(self, text: str, place: Place, nonce: bytes) -> bytes:
        version = self._ring.current
        encryptor = Cipher(algorithms.SM4(self._key(version)), modes.GCM(nonce)).encryptor()
        encryptor.authenticate_additional_data(_aad(place))
        body = encryptor.update(text.encode()) + encryptor.finalize()
        return _HEADER.pack(FORMAT, version) + nonce + body + encryptor.tag

    def open(self, sealed: bytes, place: Place) -> str:
        """Return the text sealed for ``place``; ``TamperedData`` if it does not verify."""
        version = sealed_version(sealed)
        nonce = sealed[_HEADER.size : _HEADER.size + NONCE_BYTES]
        body, tag = sealed[_HEADER.size + NONCE_BYTES : -TAG_BYTES], sealed[-TAG_BYTES:]
        decryptor = Cipher(algorithms.SM4(self._key(version)), modes.GCM(nonce, tag)).decryptor()
        decryptor.authenticate_additional_data(_aad(place))
        try:
            plain = decryptor.update(body) + decryptor.finalize()
        except InvalidTag:
            table, column, row_id = place
            raise TamperedData(
                f"{table}.{column} of row {row_id} does not verify under key version "
                f"{version}: the value was changed or moved, or the key is not the one it "
                "was sealed with"
            ) from None
        return plain.decode()

    def reseal(self, sealed: bytes, place: Place) -> bytes:
        """Return ``sealed`` sealed again under the current key (as it is if already so)."""
        if sealed_version(sealed) == self._ring.current:
            return sealed
        return self.seal(self.open(sealed, place), place)
