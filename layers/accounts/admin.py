"""Accounts as the operations centre sees them: users with their state, live sessions, revocation.

Listing and revoking are for roles that manage users (admin, security_admin). Logging in
and out, passwords and second factors live in ``layers.accounts.service``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import ColumnElement, ScalarSelect, Select, String, func, literal, select
from sqlalchemy.orm import InstrumentedAttribute, Session, aliased

from layers.accounts.models import AuthSession, User
from layers.accounts.roles import Permission
from layers.accounts.scope import Actor
from layers.accounts.throttle import LOGIN
from layers.audit.models import AuditRecord
from layers.audit.service import audited_denials, record_audit
from layers.errors import NotFound
from layers.features.models import District, Precinct
from layers.settings import SecuritySettings


@dataclass(frozen=True)
class UserSummary:
    """A user's account as an administrator needs to see it."""

    id: int
    username: str
    role: str
    jurisdiction: str | None  # "district 110101", "precinct 110101001", "unit 42" or None (city)
    jurisdiction_name: str | None
    is_active: bool
    locked: bool  # too many refused logins, from at least one address, within the window
    last_login_at: datetime | None
    created_at: datetime


@dataclass(frozen=True)
class LiveSession:
    """A session that still works: not revoked, not idle too long, not past its lifetime."""

    id: int
    user_id: int
    username: str
    role: str
    source: str  # the address it logged in from
    client: str  # the browser or program it said it was
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime
    token_hash: str  # to tell the caller's own session; never shown


def _source(client: InstrumentedAttribute[str | None]) -> ColumnElement[str]:
    """Return the source address at the start of an audit or session ``client``."""
    return func.split_part(func.coalesce(client, ""), " ", 1)


def _last_login() -> ScalarSelect[datetime]:
    ok = (AuditRecord.action == LOGIN) & (AuditRecord.result == "ok")
    mine = (AuditRecord.target_type == "user") & (
        AuditRecord.target_id == func.cast(User.id, String)
    )
    return select(func.max(AuditRecord.at)).where(ok, mine).scalar_subquery()


def _locked_ids(session: Session, ids: list[int], policy: SecuritySettings) -> set[int]:
    """Return which of ``ids`` are locked from some address, as ``login`` would find them."""
    since = datetime.now(UTC) - timedelta(minutes=policy.lockout_minutes)
    success = aliased(AuditRecord)
    last_success = (
        select(func.coalesce(func.max(success.id), 0))
        .where(success.action == LOGIN, success.result == "ok",
               success.target_id == AuditRecord.target_id,
               _source(success.client) == _source(AuditRecord.client))
        .scalar_subquery()
    )  # fmt: skip
    rows = session.execute(
        select(AuditRecord.target_id)
        .where(AuditRecord.action == LOGIN, AuditRecord.result == "denied",
               AuditRecord.target_type == "user", AuditRecord.at > since,
               AuditRecord.target_id.in_([str(i) for i in ids]),
               AuditRecord.id > last_success)
        .group_by(AuditRecord.target_id, _source(AuditRecord.client))
        .having(func.count() >= policy.max_failed_logins)
    )  # fmt: skip
    return {int(target) for (target,) in rows if target is not None}


def _users_query(search: str | None, role: str | None) -> Select[User]:
    query = select(User)
    if search:
        escaped = search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        query = query.where(User.username.ilike(f"%{escaped}%", escape="\\"))
    if role:
        query = query.where(User.role == role)
    return query


def list_users(
    *, session: Session, actor: Actor, policy: SecuritySettings, search: str | None = None,
    role: str | None = None, limit: int = 100, offset: int = 0,
) -> tuple[list[UserSummary], int]:  # fmt: skip
    """Return a page of users by name (and the count of all that match) with their state."""
    actor.require(Permission.USERS_READ)
    matching = _users_query(search, role)
    total = session.scalar(select(func.count()).select_from(matching.subquery())) or 0
    where = func.coalesce(
        literal("precinct ") + Precinct.code, literal("district ") + District.code,
        literal("unit ") + func.cast(User.unit_id, String),
    )  # fmt: skip
    rows = session.execute(
        matching.add_columns(where, func.coalesce(Precinct.name, District.name), _last_login())
        .outerjoin(Precinct, Precinct.id == User.precinct_id)
        .outerjoin(District, District.id == User.district_id)
        .order_by(User.username).limit(limit).offset(offset)
    ).all()  # fmt: skip
    now = datetime.now(UTC)
    locked = _locked_ids(session, [user.id for user, *_ in rows], policy)
    summaries = [
        UserSummary(
            id=user.id, username=user.username, role=user.role, jurisdiction=where_,
            jurisdiction_name=name, is_active=user.is_active,
            locked=user.id in locked or bool(user.locked_until and user.locked_until > now),
            last_login_at=last_login, created_at=user.created_at,
        )
        for user, where_, name, last_login in rows
    ]  # fmt: skip
    return summaries, total


def _live(policy: SecuritySettings, now: datetime) -> ColumnElement[bool]:
    return (
        AuthSession.revoked_at.is_(None)
        & (AuthSession.expires_at > now)
        & (AuthSession.last_seen_at > now - timedelta(minutes=policy.session_idle_minutes))
    )


def list_live_sessions(
    *, session: Session, actor: Actor, policy: SecuritySettings, user_id: int | None = None,
    limit: int = 200,
) -> list[LiveSession]:  # fmt: skip
    """Return the sessions that still work, most recently seen first."""
    actor.require(Permission.USERS_READ)
    query = (
        select(AuthSession, User.username, User.role)
        .join(User, User.id == AuthSession.user_id)
        .where(_live(policy, datetime.now(UTC)), User.is_active)
        .order_by(AuthSession.last_seen_at.desc(), AuthSession.id.desc())
        .limit(limit)
    )
    if user_id is not None:
        query = query.where(AuthSession.user_id == user_id)
    sessions = []
    for auth, username, role in session.execute(query):
        source, _, client = (auth.client or "").partition(" ")
        sessions.append(LiveSession(
            id=auth.id, user_id=auth.user_id, username=username, role=role, source=source,
            client=client, created_at=auth.created_at, last_seen_at=auth.last_seen_at,
            expires_at=auth.expires_at, token_hash=auth.token_hash,
        ))  # fmt: skip
    return sessions


def revoke_session(
    *, session: Session, actor: Actor, policy: SecuritySettings, session_id: int
) -> str:
    """End a live session at once (audited); return its token digest, to drop from caches."""
    with audited_denials(session, actor, "auth.session.revoke", "session", session_id):
        actor.require_any(Permission.USERS_MANAGE, Permission.ROLES_MANAGE)
        auth = session.scalar(
            select(AuthSession)
            .where(AuthSession.id == session_id, _live(policy, datetime.now(UTC)))
            .with_for_update()
        )
        if auth is None:
            raise NotFound(f"no live session {session_id}")
    auth.revoked_at = datetime.now(UTC)
    detail = f"session of user {auth.user_id} from {auth.client or '?'}"[:500]
    record_audit(session, actor=actor, action="auth.session.revoke", target_type="session",
                 target_id=session_id, after={"user_id": auth.user_id}, detail=detail)  # fmt: skip
    return auth.token_hash
