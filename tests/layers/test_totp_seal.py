"""TOTP secrets are sealed with SM4-GCM under the key ring's totp key, bound to their user."""

from __future__ import annotations

import pytest

from layers.accounts.totp import open_secret, seal_secret
from layers.crypto.keys import KeyRing
from layers.errors import TamperedData

SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


def test_a_sealed_secret_opens_for_its_user_only() -> None:
    ring = KeyRing.generate()
    sealed = seal_secret(ring, SECRET, 7)
    assert SECRET.encode() not in sealed and sealed != seal_secret(ring, SECRET, 7)
    assert open_secret(ring, sealed, 7) == SECRET
    with pytest.raises(TamperedData):
        open_secret(ring, sealed, 8)  # copied to another user
    flipped = sealed[:-1] + bytes([sealed[-1] ^ 1])
    with pytest.raises(TamperedData):
        open_secret(ring, flipped, 7)
    with pytest.raises(TamperedData):
        open_secret(KeyRing.generate(), sealed, 7)  # another key


def test_an_old_key_version_still_opens_after_a_new_one_is_added() -> None:
    ring = KeyRing.generate()
    sealed = seal_secret(ring, SECRET, 7)
    newer = ring.with_new_version()
    assert open_secret(newer, sealed, 7) == SECRET
    assert seal_secret(newer, SECRET, 7)[:2] == newer.current.to_bytes(2, "big")
