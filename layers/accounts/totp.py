"""The second factor: time-based one-time codes (RFC 6238) from an authenticator app.

A code is accepted for its own 30-second step or the one before or after (clock drift,
typing time), and only once: the step of the last accepted code is kept on the user, and
a code of that step or an earlier one is refused.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import datetime

import pyotp
from sqlalchemy import update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from layers.accounts.models import User

DRIFT_STEPS = 1
NO_CODE = "second factor: no code"
WRONG_CODE = "second factor: wrong code"
REPLAYED_CODE = "second factor: code already used"


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
