"""The key ring: versioned master keys from a configured source, and subkeys per purpose.

Usage (the whole API)::

    ring = load_key_ring(settings.crypto)      # KeySourceError says what is wrong
    ring.key_for("audit")                      # 32 bytes, current version
    ring.key_for("fields", version=3)          # 32 bytes of an older version
    ring.current, ring.versions                # 3, (1, 2, 3)
    bind_key_ring(sessionmaker, ring)          # every session of it carries the ring
    key_ring_of(session)                       # ... which domain code reads from there

Master keys are 32 random bytes each, numbered by version; one version is current (new
data is protected with it, older versions stay readable until `warroom keys rotate` has
moved every row on). A consumer never sees a master key: ``key_for(purpose, version)`` is
HMAC-SM3(master[version], "warroom/" + purpose), so the audit chain, the field cipher, the
blind index and TOTP secrets use unrelated keys and a leak of one reveals none of the
others. Take from a subkey only as many bytes as the algorithm needs (SM4: the first 16).

Sources (never the repository, never the database):

- a key file, ``WARROOM_CRYPTO_KEY_FILE`` (default ``.warroom/keys.json``): JSON
  ``{"current": 2, "keys": {"1": "<hex or base64>", "2": "..."}}``; it is refused unless
  only its owner may read it (mode 0600 or 0400). ``warroom keys init`` creates it.
- an environment secret, ``WARROOM_CRYPTO_KEYS``, holding the same JSON (from a secret
  store or an orchestrator); it wins over the file.
- an HSM or KMS: implement ``KeySource``. The usual shape is envelope encryption: the
  key file holds the versioned keys wrapped by a KMS/HSM master key (SM4, under
  GM/T 0018 or a cloud KMS), and ``load()`` unwraps them at start, so the plain keys live
  only in this process's memory. ``add_version()`` asks the KMS for a new wrapped key.

The process that owns the keys (``create_app``, a CLI command, the tests) loads the ring
once and binds it to its session factory; domain functions take it from their session
with ``key_ring_of(session)``, so no function signature grows a key parameter and no
module holds a key at import time.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import secrets
import stat
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Protocol

from cryptography.hazmat.primitives import hashes, hmac
from sqlalchemy.orm import Session, sessionmaker

from layers.errors import KeySourceError
from layers.settings import CryptoSettings

__all__ = [
    "EnvKeySource",
    "FileKeySource",
    "KeyRing",
    "KeySource",
    "Purpose",
    "bind_key_ring",
    "hmac_sm3",
    "key_ring_of",
    "key_source",
    "load_key_ring",
]

KEY_BYTES = 32
MAX_VERSION = 0xFFFF  # versions travel as two bytes in ciphertexts
Purpose = Literal["audit", "fields", "blind_index", "totp", "access"]
_SESSION_INFO = "warroom.key_ring"


def hmac_sm3(key: bytes, message: bytes) -> bytes:
    """Return HMAC-SM3 of ``message`` under ``key`` (32 bytes)."""
    mac = hmac.HMAC(key, hashes.SM3())
    mac.update(message)
    return mac.finalize()


@dataclass(frozen=True)
class KeyRing:
    """Versioned master keys, one of them current; hands out subkeys per purpose."""

    masters: Mapping[int, bytes] = field(repr=False)
    current: int

    def __post_init__(self) -> None:
        if self.current not in self.masters:
            raise KeySourceError(f"key version {self.current} is current but not in the ring")

    @property
    def versions(self) -> tuple[int, ...]:
        """Return the versions held, oldest first."""
        return tuple(sorted(self.masters))

    def key_for(self, purpose: Purpose, version: int | None = None) -> bytes:
        """Return the 32-byte subkey of ``purpose`` under ``version`` (default: current)."""
        version = self.current if version is None else version
        master = self.masters.get(version)
        if master is None:
            raise KeySourceError(
                f"key version {version} is not in the key ring (it holds {self.versions}); "
                "data protected with it cannot be read until that key is restored"
            )
        return hmac_sm3(master, f"warroom/{purpose}".encode())

    def with_new_version(self) -> KeyRing:
        """Return this ring plus a fresh random key as the new current version."""
        version = max(self.masters) + 1
        if version > MAX_VERSION:
            raise KeySourceError(f"key versions are exhausted (at most {MAX_VERSION})")
        return KeyRing({**self.masters, version: secrets.token_bytes(KEY_BYTES)}, version)

    @classmethod
    def generate(cls) -> KeyRing:
        """Return a ring of one fresh random key, version 1."""
        return cls({1: secrets.token_bytes(KEY_BYTES)}, 1)

    def to_json(self) -> str:
        """Return the ring in the key-file format (keys in hex)."""
        keys = {str(version): self.masters[version].hex() for version in self.versions}
        return json.dumps({"current": self.current, "keys": keys}, indent=2) + "\n"

    @classmethod
    def from_json(cls, text: str, origin: str) -> KeyRing:
        """Parse the key-file format; ``origin`` names the source in errors."""
        example = '{"current": 1, "keys": {"1": "<64 hex digits>"}}'
        try:
            document = json.loads(text)
            keys = document["keys"]
            current = int(document["current"])
            masters = {int(version): _key_bytes(value) for version, value in keys.items()}
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise KeySourceError(f"{origin} is not a key ring ({exc}); write {example}") from None
        bad = [version for version in masters if not 1 <= version <= MAX_VERSION]
        if bad:
            raise KeySourceError(f"{origin}: key versions must be 1..{MAX_VERSION}, not {bad}")
        if current not in masters:
            raise KeySourceError(f"{origin}: current version {current} has no key")
        return cls(masters, current)


def _key_bytes(text: str) -> bytes:
    """Return a 32-byte key written in hex or base64."""
    if not isinstance(text, str):
        raise TypeError("a key must be a string of hex or base64")
    try:
        key = (
            bytes.fromhex(text)
            if len(text) == 2 * KEY_BYTES
            else base64.b64decode(text, validate=True)
        )
    except (ValueError, binascii.Error):
        raise ValueError("a key must be hex or base64") from None
    if len(key) != KEY_BYTES:
        raise ValueError(f"a key must be {KEY_BYTES} bytes, not {len(key)}")
    return key


class KeySource(Protocol):
    """Where the master keys come from: a file, the environment, or an HSM/KMS."""

    def load(self) -> KeyRing:
        """Return the key ring; raise ``KeySourceError`` saying what to fix."""
        ...

    def add_version(self) -> KeyRing:
        """Store a fresh key as the new current version; return the new ring."""
        ...


@dataclass(frozen=True)
class FileKeySource:
    """A JSON key file only its owner may read."""

    path: Path

    def load(self) -> KeyRing:
        """Return the ring in the file, refusing a file others may read."""
        try:
            mode = self.path.stat().st_mode
        except FileNotFoundError:
            raise KeySourceError(
                f"key file {self.path} does not exist; create it with `warroom keys init` "
                "(make setup does), or set WARROOM_CRYPTO_KEY_FILE / WARROOM_CRYPTO_KEYS"
            ) from None
        if not stat.S_ISREG(mode):
            raise KeySourceError(f"key file {self.path} is not a regular file")
        if mode & 0o077:
            raise KeySourceError(
                f"key file {self.path} has mode {stat.S_IMODE(mode):04o}: group or others "
                f"may use it; refused. Run: chmod 600 {self.path}"
            )
        return KeyRing.from_json(self.path.read_text(), f"key file {self.path}")

    def create_if_missing(self) -> bool:
        """Write a fresh one-key ring if there is no file; return whether it was written."""
        if self.path.exists():
            return False
        self._write(KeyRing.generate(), exclusive=True)
        return True

    def add_version(self) -> KeyRing:
        """Add a fresh key as current to the file (replaced atomically) and return the ring."""
        ring = self.load().with_new_version()
        self._write(ring, exclusive=False)
        return ring

    def _write(self, ring: KeyRing, *, exclusive: bool) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        target = self.path if exclusive else self.path.with_name(f".{self.path.name}.new")
        flags = os.O_WRONLY | os.O_CREAT | (os.O_EXCL if exclusive else os.O_TRUNC)
        # 0600 from the first byte: the key is never readable by others, not even briefly
        descriptor = os.open(target, flags, 0o600)
        with os.fdopen(descriptor, "w") as stream:
            stream.write(ring.to_json())
            stream.flush()
            os.fsync(stream.fileno())
        if target != self.path:
            os.replace(target, self.path)


@dataclass(frozen=True)
class EnvKeySource:
    """The key ring as JSON in an environment secret (``WARROOM_CRYPTO_KEYS``)."""

    secret: str = field(repr=False)

    def load(self) -> KeyRing:
        """Return the ring in the secret."""
        return KeyRing.from_json(self.secret, "WARROOM_CRYPTO_KEYS")

    def add_version(self) -> KeyRing:
        """Refuse: the secret lives outside; say how to add a version there."""
        raise KeySourceError(
            "keys come from WARROOM_CRYPTO_KEYS, which this program cannot change: add a new "
            "version there (32 random bytes in hex, e.g. python3 -c 'import secrets; "
            "print(secrets.token_hex(32))'), make it current, restart, then run "
            "`warroom keys rotate --no-new-key`"
        )


def key_source(settings: CryptoSettings) -> FileKeySource | EnvKeySource:
    """Return the configured source: the environment secret if set, else the key file."""
    if settings.keys is not None:
        return EnvKeySource(settings.keys.get_secret_value())
    return FileKeySource(settings.key_file)


def load_key_ring(settings: CryptoSettings) -> KeyRing:
    """Return the key ring from the configured source."""
    return key_source(settings).load()


def bind_key_ring(factory: sessionmaker[Session], ring: KeyRing) -> sessionmaker[Session]:
    """Make every session ``factory`` opens carry ``ring``; return the factory."""
    factory.configure(info={**factory.kw.get("info", {}), _SESSION_INFO: ring})
    return factory


def key_ring_of(session: Session) -> KeyRing:
    """Return the key ring bound to ``session``'s factory, or say how to bind one."""
    ring = session.info.get(_SESSION_INFO)
    if not isinstance(ring, KeyRing):
        raise KeySourceError(
            "this session carries no key ring: build its factory with "
            "bind_key_ring(make_sessionmaker(engine), load_key_ring(settings.crypto))"
        )
    return ring
