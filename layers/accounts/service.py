"""Accounts: create users, log in and out, resolve a session token to an actor."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from layers.accounts.models import AuthSession, User
from layers.accounts.roles import JURISDICTION_ROLES, Permission, Role
from layers.accounts.scope import CITY, Actor, Scope, ScopeKind
from layers.accounts.throttle import LOGIN, Refusals, hold_source, recent_refusals
from layers.audit.service import record_audit
from layers.errors import Conflict, InvalidInput, NotAuthenticated
from layers.features.models import District, Precinct, Unit
from layers.settings import SecuritySettings

_hasher = PasswordHasher()
# Refresh the idle clock at most this often, so most requests do not write.
LAST_SEEN_RESOLUTION = timedelta(seconds=30)
# Verified against when the username is unknown, so timing does not reveal which names exist.
_DUMMY_HASH = _hasher.hash("warroom-dummy-password")
# The one answer to every refused login, so it tells no name, lock or throttle apart.
REFUSED = "wrong username or password, or too many failed logins: try again later"


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
) -> User:
    """Create a user after checking the actor's right, the password policy and the scope."""
    actor.require(Permission.USERS_MANAGE)
    if len(password) < policy.min_password_length:
        raise InvalidInput(f"password must have at least {policy.min_password_length} characters")
    given = sum(x is not None for x in (where.district_code, where.precinct_code, where.unit_id))
    if given > 1:
        raise InvalidInput("give at most one of --district, --precinct, --unit")
    if role in JURISDICTION_ROLES and not (where.district_code or where.precinct_code):
        raise InvalidInput(f"role {role.value!r} needs --precinct or --district")
    if (role is Role.UNIT) != (where.unit_id is not None):
        raise InvalidInput("role 'unit' and --unit go together")
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise Conflict(f"user {username!r} already exists")
    user = User(
        username=username,
        password_hash=_hasher.hash(password),
        role=role.value,
        **_resolve_jurisdiction(session, where),
    )
    session.add(user)
    session.flush()
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
) -> LoginResult:
    """Check credentials and the lockouts, then open a server-side session.

    ``source`` is the caller's address (``client`` starts with it). Every refusal -
    unknown name, wrong password, inactive, locked, throttled - is the same
    ``NotAuthenticated`` after the same password hashing, and is audited with its reason.
    """
    now = datetime.now(UTC)
    hold_source(session, source)
    user = session.scalar(select(User).where(User.username == username))
    user_id = user.id if user else None
    since = now - timedelta(minutes=policy.lockout_minutes)
    refusals = recent_refusals(session, source=source, user_id=user_id, since=since)
    verified = _safe_verify(user.password_hash if user else _DUMMY_HASH, password)
    reason = _refusal(user, verified, refusals, policy)
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
    record_audit(session, actor=actor, action=LOGIN, target_type="user", target_id=user.id)
    return LoginResult(token, policy.session_idle_minutes * 60, actor)


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


def _safe_verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except VerificationError:
        return False


def resolve_session(
    *, session: Session, token: str, policy: SecuritySettings, client: str | None = None
) -> Actor:
    """Return the actor of a live session and extend its idle window, or raise."""
    now = datetime.now(UTC)
    row = session.execute(
        select(AuthSession, User)
        .join(User, User.id == AuthSession.user_id)
        .where(AuthSession.token_hash == hash_token(token))
    ).one_or_none()
    if row is None:
        raise NotAuthenticated("not logged in or session unknown")
    auth, user = row
    idle_deadline = auth.last_seen_at + timedelta(minutes=policy.session_idle_minutes)
    if auth.revoked_at is not None or not user.is_active:
        raise NotAuthenticated("session ended; log in again")
    if now > idle_deadline or now > auth.expires_at:
        raise NotAuthenticated("session expired; log in again")
    if now - auth.last_seen_at > LAST_SEEN_RESOLUTION:
        auth.last_seen_at = now
    return actor_for(user, client)


def logout(*, session: Session, token: str, actor: Actor) -> None:
    """Revoke the session behind ``token``."""
    auth = session.scalar(select(AuthSession).where(AuthSession.token_hash == hash_token(token)))
    if auth is not None and auth.revoked_at is None:
        auth.revoked_at = datetime.now(UTC)
        record_audit(session, actor=actor, action="auth.logout", target_type="user",
                     target_id=actor.user_id)  # fmt: skip
