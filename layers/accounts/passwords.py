"""The password policy, checked on the server: length, character classes, not the
username, not one of the last few; argon2 hashing and the history it is checked against.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import VerificationError
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from layers.accounts.models import PasswordHistory, User
from layers.errors import WeakPassword
from layers.settings import SecuritySettings

_hasher = PasswordHasher()
CLASS_NAMES = ("lower-case letters", "upper-case letters", "digits", "other characters")
# Verified against when the username is unknown, so timing does not reveal which names exist.
DUMMY_HASH = _hasher.hash("warroom-dummy-password")


def hash_password(password: str) -> str:
    """Return the argon2 hash a password is stored as."""
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """Return whether ``password`` matches ``password_hash``."""
    try:
        return _hasher.verify(password_hash, password)
    except VerificationError:
        return False


def character_classes(password: str) -> int:
    """Return how many of lower-case, upper-case, digits and other characters ``password`` has."""
    kinds = {0 if c.islower() else 1 if c.isupper() else 2 if c.isdigit() else 3 for c in password}
    return len(kinds)


def check_policy(password: str, *, username: str, policy: SecuritySettings) -> None:
    """Raise ``WeakPassword`` naming the first rule ``password`` breaks (history aside)."""
    if len(password) < policy.min_password_length:
        raise WeakPassword(
            f"password must have at least {policy.min_password_length} characters",
            rule="length",
        )
    classes = character_classes(password)
    if classes < policy.password_min_classes:
        raise WeakPassword(
            f"password must mix at least {policy.password_min_classes} of "
            f"{', '.join(CLASS_NAMES)}; it has {classes}",
            rule="character_classes",
        )
    if username.casefold() in password.casefold():
        raise WeakPassword("password must not contain the username", rule="username")


def _check_not_reused(
    session: Session, *, user_id: int, password: str, policy: SecuritySettings
) -> None:
    recent = session.scalars(
        select(PasswordHistory.password_hash)
        .where(PasswordHistory.user_id == user_id)
        .order_by(PasswordHistory.id.desc())
        .limit(policy.password_history)
    )
    if any(verify_password(old, password) for old in recent):
        raise WeakPassword(
            f"password must not be one of the last {policy.password_history} passwords",
            rule="history",
        )


def set_password(
    session: Session,
    *,
    user: User,
    password: str,
    policy: SecuritySettings,
    must_change: bool,
    now: datetime,
) -> None:
    """Check ``password`` against the policy and history, then make it ``user``'s password."""
    check_policy(password, username=user.username, policy=policy)
    if user.id is not None:
        _check_not_reused(session, user_id=user.id, password=password, policy=policy)
    user.password_hash = hash_password(password)
    user.password_changed_at = now
    user.password_must_change = must_change
    session.flush()  # a new user gets its id
    session.add(PasswordHistory(user_id=user.id, password_hash=user.password_hash, set_at=now))
    session.flush()
    kept = (
        select(PasswordHistory.id)
        .where(PasswordHistory.user_id == user.id)
        .order_by(PasswordHistory.id.desc())
        .limit(policy.password_history)
    )
    session.execute(
        delete(PasswordHistory).where(
            PasswordHistory.user_id == user.id, PasswordHistory.id.not_in(kept)
        )
    )


def password_expired(user: User, policy: SecuritySettings, now: datetime) -> bool:
    """Return whether ``user``'s password is older than the policy's maximum age."""
    return now - user.password_changed_at > timedelta(days=policy.password_max_age_days)


def one_time_password(*, username: str, policy: SecuritySettings) -> str:
    """Return a random password that meets the policy, for a new or reset account."""
    while True:
        password = secrets.token_urlsafe(max(12, policy.min_password_length))
        try:
            check_policy(password, username=username, policy=policy)
        except WeakPassword:
            continue
        return password
