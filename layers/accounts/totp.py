"""The second factor: time-based one-time codes (RFC 6238) from an authenticator app.

A code is accepted for its own 30-second step or the one before or after (clock drift,
typing time), and only once: the step of the last accepted code is kept on the user, and
a code of that step or an earlier one is refused.

The secret is stored sealed with SM4-GCM under the key ring's ``totp`` subkey (never
the database's): key version (2 bytes) | nonce (12 random bytes) | ciphertext | tag,
with the user's id as associated data, so a sealed secret copied to another user or
changed by a bit does not open (``TamperedData``).
"""

from __future__ import annotations

import hmac
import os
import struct
from dataclasses import dataclass
from datetime import datetime

import pyotp
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from sqlalchemy import update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from layers.accounts.models import User
from layers.crypto.keys import KeyRing
from layers.errors import TamperedData

DRIFT_STEPS = 1
NO_CODE = "second factor: no code"
WRONG_CODE = "second factor: wrong code"
REPLAYED_CODE = "second factor: code already used"
_VERSION = struct.Struct(">H")
_NONCE_BYTES = 12
_TAG_BYTES = 16
_SM4_KEY_BYTES = 16


@dataclass(frozen=True)
class Enrolment:
    """A new TOTP secret, shown to its user once: as text and as an otpauth:// URI."""

    secret: str
    otpauth_uri: str


def new_enrolment(*, username: str, issuer: str) -> Enrolment:
    """Return a fresh random secret (160 bits) and its provisioning URI."""
    secret = pyotp.random_base32()
    uri = pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name=issuer)
    return Enrolment(secret, uri)


def _aad(user_id: int) -> bytes:
    return f"warroom|users|totp_secret|{user_id}".encode()


def seal_secret(ring: KeyRing, secret: str, user_id: int) -> bytes:
    """Return ``secret`` sealed for user ``user_id`` under the current ``totp`` key."""
    version, nonce = ring.current, os.urandom(_NONCE_BYTES)
    key = ring.key_for("totp", version)[:_SM4_KEY_BYTES]
    encryptor = Cipher(algorithms.SM4(key), modes.GCM(nonce)).encryptor()
    encryptor.authenticate_additional_data(_aad(user_id))
    body = encryptor.update(secret.encode()) + encryptor.finalize()
    return _VERSION.pack(version) + nonce + body + encryptor.tag


def open_secret(ring: KeyRing, sealed: bytes, user_id: int) -> str:
    """Return the secret sealed for user ``user_id``; ``TamperedData`` if it does not verify."""
    (version,) = _VERSION.unpack_from(sealed)
    nonce = sealed[_VERSION.size : _VERSION.size + _NONCE_BYTES]
    body, tag = sealed[_VERSION.size + _NONCE_BYTES : -_TAG_BYTES], sealed[-_TAG_BYTES:]
    key = ring.key_for("totp", version)[:_SM4_KEY_BYTES]
    decryptor = Cipher(algorithms.SM4(key), modes.GCM(nonce, tag)).decryptor()
    decryptor.authenticate_additional_data(_aad(user_id))
    try:
        return (decryptor.update(body) + decryptor.finalize()).decode()
    except InvalidTag:
        raise TamperedData(
            f"the second factor of user {user_id} does not verify under key version "
            f"{version}: it was changed or moved, or the key is not the one it was sealed with"
        ) from None


def code_step(secret: str, code: str, now: datetime) -> int | None:
    """Return the time step whose code ``code`` is, near ``now``; None if none is."""
    totp = pyotp.TOTP(secret)
    current = totp.timecode(now)
    for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def use_code(
    session: Session, *, user: User, secret: str, code: str | None, now: datetime
) -> str | None:
    """Accept ``code`` for ``user`` once and return None, or return why it is refused."""
    if not code:
        return NO_CODE
    step = code_step(secret, code, now)
    if step is None:
        return WRONG_CODE
    # One statement decides, so two requests with the same code cannot both pass.
    taken = session.execute(
        update(User)
        .where(User.id == user.id)
        .where((User.totp_last_step.is_(None)) | (User.totp_last_step < step))
        .values(totp_last_step=step)
        .execution_options(synchronize_session=False)
    )
    if taken.rowcount != 1:  # type: ignore[attr-defined]
        return REPLAYED_CODE
    set_committed_value(user, "totp_last_step", step)
    return None
