"""Changing credentials: one's own password, a reset by an administrator, the TOTP factor.

Each change ends the sessions it should (the user's others, or all of a reset user's) in
the same transaction, and the database tells every worker when it commits.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from layers.accounts.models import User
from layers.accounts.passwords import one_time_password, set_password, verify_password
from layers.accounts.roles import Permission
from layers.accounts.scope import Actor
from layers.accounts.service import revoke_sessions
from layers.accounts.throttle import PASSWORD_CHANGE, recent_refusals
from layers.accounts.totp import Enrolment, new_enrolment, open_secret, seal_secret, use_code
from layers.audit.service import audited_denials, record_audit
from layers.crypto.keys import key_ring_of
from layers.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from layers.settings import SecuritySettings


def _user(session: Session, user_id: int | None) -> User:
    user = session.get(User, user_id) if user_id is not None else None
    if user is None:
        raise NotFound(f"no user with id {user_id}")
    return user


def change_password(
    *,
    session: Session,
    actor: Actor,
    token_hash: str,
    old_password: str,
    new_password: str,
    policy: SecuritySettings,
    source: str,
) -> None:
    """Change the actor's own password, the old one given; end the user's other sessions.

    A wrong old password is refused and audited like a refused login, and counts toward
    the same lockout of the account from the caller's address ``source``.
    """
    now = datetime.now(UTC)
    user = _user(session, actor.user_id)
    with audited_denials(session, actor, PASSWORD_CHANGE, "user", user.id):
        refusals = recent_refusals(
            session, source=source, user_id=user.id,
            since=now - timedelta(minutes=policy.lockout_minutes),
        )  # fmt: skip
        if refusals.account >= policy.max_failed_logins:
            raise PermissionDenied("too many wrong passwords from this address: try again later")
        if not verify_password(user.password_hash, old_password):
            raise PermissionDenied("the current password is wrong")
    set_password(session, user=user, password=new_password, policy=policy, must_change=False,
                 now=now)  # fmt: skip
    revoke_sessions(session, user_id=user.id, now=now, keep_token_hash=token_hash)
    record_audit(session, actor=actor, action=PASSWORD_CHANGE, target_type="user",
                 target_id=user.id, detail="other sessions ended")  # fmt: skip


def reset_password(
    *, session: Session, actor: Actor, user_id: int, policy: SecuritySettings
) -> str:
    """Give a user a one-time password to change at the next login; end all its sessions."""
    with audited_denials(session, actor, "user.password_reset", "user", user_id):
        actor.require(Permission.USERS_MANAGE)
        user = _user(session, user_id)
    now = datetime.now(UTC)
    password = one_time_password(username=user.username, policy=policy)
    set_password(session, user=user, password=password, policy=policy, must_change=True, now=now)
    revoke_sessions(session, user_id=user.id, now=now)
    record_audit(session, actor=actor, action="user.password_reset", target_type="user",
                 target_id=user.id, detail="one-time password issued; sessions ended")  # fmt: skip
    return password


def enrol_totp(*, session: Session, actor: Actor, policy: SecuritySettings) -> Enrolment:
    """Issue the actor a new TOTP secret, shown once; it counts once confirmed with a code."""
    user = _user(session, actor.user_id)
    if user.totp_confirmed_at is not None:
        raise Conflict("a second factor is already enrolled; a security_admin can reset it")
    enrolment = new_enrolment(username=user.username, issuer=policy.totp_issuer)
    user.totp_secret_sealed = seal_secret(key_ring_of(session), enrolment.secret, user.id)
    user.totp_last_step = None
    record_audit(session, actor=actor, action="auth.totp_enrol", target_type="user",
                 target_id=user.id, detail="secret issued, not confirmed")  # fmt: skip
    return enrolment


def confirm_totp(*, session: Session, actor: Actor, code: str) -> None:
    """Confirm the actor's new TOTP secret with a current code; logins then need a code."""
    user = _user(session, actor.user_id)
    if user.totp_confirmed_at is not None:
        raise Conflict("the second factor is already confirmed")
    if user.totp_secret_sealed is None:
        raise InvalidInput("no second factor is being enrolled: enrol first")
    now = datetime.now(UTC)
    secret = open_secret(key_ring_of(session), user.totp_secret_sealed, user.id)
    if use_code(session, user=user, secret=secret, code=code, now=now) is not None:
        raise InvalidInput(
            "the code does not match the new secret (or was used already): check the "
            "device's clock and send the code it shows now"
        )
    user.totp_confirmed_at = now
    record_audit(session, actor=actor, action="auth.totp_confirm", target_type="user",
                 target_id=user.id)  # fmt: skip


def reset_totp(*, session: Session, actor: Actor, user_id: int) -> None:
    """Remove a user's second factor (a lost device) and end its sessions; it enrols anew."""
    with audited_denials(session, actor, "user.totp_reset", "user", user_id):
        actor.require(Permission.ROLES_MANAGE)
        user = _user(session, user_id)
    user.totp_secret_sealed = user.totp_confirmed_at = user.totp_last_step = None
    revoke_sessions(session, user_id=user.id, now=datetime.now(UTC))
    record_audit(session, actor=actor, action="user.totp_reset", target_type="user",
                 target_id=user.id, detail="sessions ended")  # fmt: skip
