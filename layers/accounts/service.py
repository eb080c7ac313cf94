"""Accounts: create users, log in and out, resolve a session token to an actor."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from layers.accounts.integrity import TAMPERED, is_intact, refuse_if_tampered
from layers.accounts.models import AuthSession, User
from layers.accounts.passwords import DUMMY_HASH, password_expired, set_password, verify_password
from layers.accounts.roles import JURISDICTION_ROLES, Permission, Role
from layers.accounts.scope import CITY, Actor, Scope, ScopeKind
from layers.accounts.throttle import LOGIN, Refusals, hold_source, recent_refusals
from layers.accounts.totp import open_secret, use_code
from layers.audit.service import record_audit
from layers.crypto.keys import key_ring_of
from layers.errors import Conflict, InvalidInput, NotAuthenticated
from layers.features.models import District, Precinct, Unit
from layers.settings import SecuritySettings

# Refresh the idle clock at most this often, so most requests do not write.
LAST_SEEN_RESOLUTION = timedelta(seconds=30)
# The one answer to every refused login, so it tells no name, lock, code or throttle apart.
REFUSED = "wrong username, password or one-time code, or too many failed logins: try again later"


class Required(StrEnum):
    """What a session must do before it may do anything else."""

    CHANGE_PASSWORD = "change_password"  # an initial, reset or expired password
    ENROL_TOTP = "enrol_totp"  # a role that needs a second factor without one


@dataclass(frozen=True)
class Jurisdiction:
    """Where a new user is limited to: at most one of these is set."""

    district_code: str | None = None
    precinct_code: str | None = None
    unit_id: int | None = None


@dataclass(frozen=True)
class LoginResult:
    """A fresh session: the token is shown to the client once and stored only hashed."""

    token: str
    expires_in: int
    actor: Actor
    required: Required | None


@dataclass(frozen=True)
class LiveSession:
    """A resolved session: its actor, what it must do first, and when it ends if unused."""

    actor: Actor
    required: Required | None
    ends_at: datetime


def hash_token(token: str) -> str:
    """Return the SM3 digest under which a session token is stored."""
    return hashlib.new("sm3", token.encode()).hexdigest()


def actor_for(user: User, client: str | None = None) -> Actor:
    """Return the domain actor of ``user`` with its scope."""
    if user.unit_id is not None:
        scope = Scope(ScopeKind.UNIT, user.unit_id)
    elif user.precinct_id is not None:
        scope = Scope(ScopeKind.PRECINCT, user.precinct_id)
    elif user.district_id is not None:
        scope = Scope(ScopeKind.DISTRICT, user.district_id)
    else:
        scope = CITY
    return Actor(user.id, user.username, Role(user.role), scope, client)


def required_step(user: User, policy: SecuritySettings, now: datetime) -> Required | None:
    """Return what a session of ``user`` must do first, or None when it may do its work."""
    if user.password_must_change or password_expired(user, policy, now):
        return Required.CHANGE_PASSWORD
    if Role(user.role) in policy.second_factor_roles and user.totp_confirmed_at is None:
        return Required.ENROL_TOTP
    return None


def _resolve_jurisdiction(session: Session, where: Jurisdiction) -> dict[str, int | None]:
    ids: dict[str, int | None] = {"district_id": None, "precinct_id": None, "unit_id": None}
    if where.precinct_code:
        ids["precinct_id"] = session.scalar(
            select(Precinct.id).where(Precinct.code == where.precinct_code)
        )
        if ids["precinct_id"] is None:
            raise InvalidInput(f"no precinct with code {where.precinct_code!r}")
    elif where.district_code:
        ids["district_id"] = session.scalar(
            select(District.id).where(District.code == where.district_code)
        )
        if ids["district_id"] is None:
            raise InvalidInput(f"no district with code {where.district_code!r}")
    elif where.unit_id is not None:
        if session.get(Unit, where.unit_id) is None:
            raise InvalidInput(f"no unit with id {where.unit_id}")
        ids["unit_id"] = where.unit_id
    return ids


def create_user(
    *,
    session: Session,
    username: str,
    password: str,
    role: Role,
    where: Jurisdiction,
    actor: Actor,
    policy: SecuritySettings,
    must_change_password: bool = True,
) -> User:
    """Create a user after checking the actor's right, the password policy and the scope.

    The password is an initial one, to be changed at the first login, unless
    ``must_change_password`` is False (for code that makes users, such as tests).
    """
    actor.require(Permission.USERS_MANAGE)
    given = sum(x is not None for x in (where.district_code, where.precinct_code, where.unit_id))
    if given > 1:
        raise InvalidInput("give at most one of --district, --precinct, --unit")
    if role in JURISDICTION_ROLES and not (where.district_code or where.precinct_code):
        raise InvalidInput(f"role {role.value!r} needs --precinct or --district")
    if (role is Role.UNIT) != (where.unit_id is not None):
        raise InvalidInput("role 'unit' and --unit go together")
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise Conflict(f"user {username!r} already exists")
    user = User(username=username, role=role.value, is_active=True,
                **_resolve_jurisdiction(session, where))  # fmt: skip
    session.add(user)
    set_password(session, user=user, password=password, policy=policy,
                 must_change=must_change_password, now=datetime.now(UTC))  # fmt: skip
    record_audit(
        session,
        actor=actor,
        action="user.create",
        target_type="user",
        target_id=user.id,
        after={"username": username, "role": role.value, "scope": actor_for(user).scope.kind},
    )
    return user


def login(
    *,
    session: Session,
    username: str,
    password: str,
    policy: SecuritySettings,
    source: str,
    client: str | None = None,
    totp_code: str | None = None,
) -> LoginResult:
    """Check credentials, the second factor and the lockouts, then open a server-side session.

    ``source`` is the caller's address (``client`` starts with it). A user with a
    confirmed TOTP secret sends its current code in the same request. Every refusal -
    unknown name, wrong password or code, inactive, locked, throttled - is the same
    ``NotAuthenticated`` after the same password hashing, and is audited with its reason.
    """
    now = datetime.now(UTC)
    hold_source(session, source)
    user = session.scalar(select(User).where(User.username == username))
    user_id = user.id if user else None
    since = now - timedelta(minutes=policy.lockout_minutes)
    refusals = recent_refusals(session, source=source, user_id=user_id, since=since)
    verified = verify_password(user.password_hash if user else DUMMY_HASH, password)
    reason = _refusal(user, verified, refusals, policy)
    if reason is None and user is not None and not is_intact(key_ring_of(session), user):
        reason = f"{TAMPERED}: role, jurisdiction or state does not match its seal"
    if reason is None and user is not None and user.totp_confirmed_at and user.totp_secret_sealed:
        secret = open_secret(key_ring_of(session), user.totp_secret_sealed, user.id)
        reason = use_code(session, user=user, secret=secret, code=totp_code, now=now)
    if reason is not None:
        record_audit(
            session, actor=actor_for(user, client) if user else None, action=LOGIN,
            target_type="user", target_id=user_id, result="denied", detail=reason,
            claimed=(username, client),
        )  # fmt: skip
        # The refusal must count even though the caller sees an error.
        session.commit()
        raise NotAuthenticated(REFUSED)
    assert user is not None  # no refusal: the name is known
    token = secrets.token_urlsafe(32)
    session.add(
        AuthSession(
            token_hash=hash_token(token),
            user_id=user.id,
            created_at=now,
            last_seen_at=now,
            expires_at=now + timedelta(hours=policy.session_max_hours),
            client=client,
        )
    )
    actor = actor_for(user, client)
    required = required_step(user, policy, now)
    record_audit(session, actor=actor, action=LOGIN, target_type="user", target_id=user.id,
                 detail=f"must {required.value}" if required else None)  # fmt: skip
    return LoginResult(token, policy.session_idle_minutes * 60, actor, required)


def _refusal(
    user: User | None, verified: bool, refusals: Refusals, policy: SecuritySettings
) -> str | None:
    """Return why a login is refused (for the audit log only), or None to let it in."""
    if refusals.source >= policy.max_failed_logins_per_source:
        return "throttled: too many refused logins from this address"
    if refusals.account >= policy.max_failed_logins:
        return "locked: too many refused logins of this account from this address"
    if user is None:
        return "unknown username"
    if not user.is_active:
        return "account disabled"
    return None if verified else "wrong password"


def resolve_session(
    *, session: Session, token: str, policy: SecuritySettings, client: str | None = None
) -> LiveSession:
    """Return the live session behind ``token`` and extend its idle window, or raise."""
    now = datetime.now(UTC)
    row = session.execute(
        select(AuthSession, User)
        .join(User, User.id == AuthSession.user_id)
        .where(AuthSession.token_hash == hash_token(token))
    ).one_or_none()
    if row is None:
        raise NotAuthenticated("not logged in or session unknown")
    auth, user = row
    refuse_if_tampered(session, user, client)
    idle_deadline = auth.last_seen_at + timedelta(minutes=policy.session_idle_minutes)
    if auth.revoked_at is not None or not user.is_active:
        raise NotAuthenticated("session ended; log in again")
    if now > idle_deadline or now > auth.expires_at:
        raise NotAuthenticated("session expired; log in again")
    if now - auth.last_seen_at > LAST_SEEN_RESOLUTION:
        auth.last_seen_at = now
    ends_at = min(auth.last_seen_at + timedelta(minutes=policy.session_idle_minutes),
                  auth.expires_at)  # fmt: skip
    return LiveSession(actor_for(user, client), required_step(user, policy, now), ends_at)


def logout(*, session: Session, token: str, actor: Actor) -> None:
    """Revoke the session behind ``token``."""
    auth = session.scalar(select(AuthSession).where(AuthSession.token_hash == hash_token(token)))
    if auth is not None and auth.revoked_at is None:
        auth.revoked_at = datetime.now(UTC)
        record_audit(session, actor=actor, action="auth.logout", target_type="user",
                     target_id=actor.user_id)  # fmt: skip


def revoke_sessions(
    session: Session, *, user_id: int, now: datetime, keep_token_hash: str | None = None
) -> None:
    """End every live session of ``user_id`` but the one stored as ``keep_token_hash``."""
    session.execute(
        update(AuthSession)
        .where(AuthSession.user_id == user_id, AuthSession.revoked_at.is_(None))
        .where(AuthSession.token_hash != (keep_token_hash or ""))
        .values(revoked_at=now)
        .execution_options(synchronize_session=False)
    )
