"""Personal values: how each kind is normalised, masked for display, and blind-indexed.

A blind index is HMAC-SM3 of the normalised value under ``key_for("blind_index",
version)``, cut to 16 bytes: equal values give equal digests, so an exact search is an
index lookup, while the database, which never holds the key, cannot tell a digest from
noise nor test guesses against it. Rows carry the digest under the key version they were
sealed with; a search asks for the digests under every version the ring holds, so
searches keep working while ``warroom keys rotate`` moves rows to the new version.

Masks keep what an officer needs to recognise a value and no more::

    >>> mask("phone", "13812341234")
    '138****1234'
    >>> mask("name", "张三丰")
    '张**'
    >>> mask("id_number", "11010519491231002X")
    '1101**********002X'
"""

from __future__ import annotations

import re
import unicodedata
from typing import Literal

from layers.crypto.keys import KeyRing, hmac_sm3

__all__ = ["MASK", "BlindIndex", "PersonalKind", "looks_masked", "mask", "normalise"]

PersonalKind = Literal["name", "phone", "id_number"]
MASK = "*"
DIGEST_BYTES = 16
_PHONE_NOISE = re.compile(r"[\s\-().]")
_CHINA_PREFIX = re.compile(r"^(?:\+86|0086|86)(?=1\d{10}$)")


def normalise(kind: PersonalKind, value: str) -> str:
    """Return the form of ``value`` that equal values share (what the blind index hashes)."""
    text = unicodedata.normalize("NFKC", value).strip()
    if kind == "phone":
        return _CHINA_PREFIX.sub("", _PHONE_NOISE.sub("", text))
    if kind == "id_number":
        return text.upper()
    return "".join(text.split())


def mask(kind: PersonalKind, value: str) -> str:
    """Return ``value`` with all but its recognisable ends replaced by ``*``."""
    if kind == "name":
        return value[:1] + MASK * (len(value) - 1) if len(value) > 1 else MASK
    keep_head, keep_tail = (3, 4) if kind == "phone" else (4, 4)
    if len(value) <= keep_head + keep_tail:
        keep_head, keep_tail = 0, min(2, len(value) // 2)
    middle = value[keep_head : len(value) - keep_tail]
    hidden = re.sub(r"[^\s\-]", MASK, middle) if kind == "phone" else MASK * len(middle)
    return value[:keep_head] + hidden + value[len(value) - keep_tail :]


def looks_masked(value: str) -> bool:
    """Return whether ``value`` holds a mask character (a masked value sent back as input)."""
    return MASK in value


class BlindIndex:
    """Keyed digests of normalised personal values, one key per ring version."""

    def __init__(self, ring: KeyRing) -> None:
        self._ring = ring
        self._keys: dict[int, bytes] = {}

    def digest(self, kind: PersonalKind, value: str, version: int | None = None) -> bytes:
        """Return the 16-byte digest of ``value`` under ``version`` (default: current)."""
        version = self._ring.current if version is None else version
        key = self._keys.get(version)
        if key is None:
            key = self._keys[version] = self._ring.key_for("blind_index", version)
        return hmac_sm3(key, f"{kind}:{normalise(kind, value)}".encode())[:DIGEST_BYTES]

    def candidates(self, kind: PersonalKind, value: str) -> list[bytes]:
        """Return the digests ``value`` has under every version the ring holds."""
        return [self.digest(kind, value, version) for version in self._ring.versions]
