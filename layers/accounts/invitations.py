"""Accounts of units (单位账号): an officer invites a unit, the unit sets its own password.

An officer of the unit's precinct or district (or a commander) makes a one-time
invitation code. Only its SM3 digest is kept; it is good once, until it expires or is
revoked. Whoever holds it chooses a username and a password under the password policy
and gets a ``unit`` account of that unit, enabled at once (the officer vouched for it).
The supervising precinct disables or enables its units' accounts; every step is audited.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import (
    BigInteger,
    DateTime,
    ForeignKey,
    String,
    func,
    select,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from layers.accounts.integrity import is_intact, tampered_conflict
from layers.accounts.models import User
from layers.accounts.roles import Role
from layers.accounts.scope import SYSTEM, Actor
from layers.accounts.service import Jurisdiction, actor_for, create_user, revoke_sessions
from layers.audit.service import audited_denials, record_audit
from layers.base import Base
from layers.crypto.keys import key_ring_of
from layers.errors import InvalidInput, NotFound, PermissionDenied
from layers.features.registry import get_layer
from layers.features.service import get_feature
from layers.settings import SecuritySettings

# Who invites units and disables their accounts: the police who supervise them.
SUPERVISORS = frozenset({Role.OFFICER, Role.COMMANDER})
# Letters and digits a person reads without confusing them (no 0/O, 1/I/L).
_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 20  # ~98 bits
MAX_VALID_HOURS = 24 * 30
_REFUSED = (
    "this invitation code is not valid: it is wrong, used, revoked or expired; "
    "ask your precinct for a new one"
)


class UnitInvitation(Base):
    """A one-time invitation of a unit to the portal; the code itself is never stored."""

    __tablename__ = "unit_invitations"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    unit_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("units.id", ondelete="CASCADE"), index=True
    )
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_by: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("users.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    user_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("users.id", ondelete="SET NULL")
    )
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


@dataclass(frozen=True)
class NewInvitation:
    """An invitation just made and its code, shown this once."""

    invitation: UnitInvitation
    code: str


def normalise_code(code: str) -> str:
    """Return a code as it is hashed: upper case, without spaces or dashes."""
    return "".join(code.split()).replace("-", "").upper()


def hash_code(code: str) -> str:
    """Return the SM3 digest under which an invitation code is kept."""
    return hashlib.new("sm3", normalise_code(code).encode()).hexdigest()


def _new_code() -> str:
    raw = "".join(secrets.choice(_ALPHABET) for _ in range(CODE_LENGTH))
    return "-".join(raw[i : i + 4] for i in range(0, CODE_LENGTH, 4))


def _supervise(session: Session, actor: Actor, unit_id: int, action: str) -> None:
    """Raise unless ``actor`` supervises unit ``unit_id`` (404 outside their jurisdiction)."""
    with audited_denials(session, actor, action, "unit", unit_id):
        if actor.role not in SUPERVISORS:
            raise PermissionDenied(f"role {actor.role.value!r} may not manage unit accounts")
        get_feature(session=session, spec=get_layer("units"), feature_id=unit_id, actor=actor)


def create_invitation(
    *, session: Session, actor: Actor, unit_id: int, valid_hours: int
) -> NewInvitation:
    """Invite unit ``unit_id`` to the portal; return the invitation and its one-time code."""
    if not 1 <= valid_hours <= MAX_VALID_HOURS:
        raise InvalidInput(f"valid_hours must be between 1 and {MAX_VALID_HOURS}")
    _supervise(session, actor, unit_id, "unit_invitation.create")
    code = _new_code()
    now = datetime.now(UTC)
    invitation = UnitInvitation(unit_id=unit_id, code_hash=hash_code(code),
                                created_by=actor.user_id, created_at=now,
                                expires_at=now + timedelta(hours=valid_hours))  # fmt: skip
    session.add(invitation)
    session.flush()
    after = {"invitation": invitation.id, "expires_at": invitation.expires_at.isoformat()}
    record_audit(session, actor=actor, action="unit_invitation.create", target_type="unit",
                 target_id=unit_id, after=after)  # fmt: skip
    return NewInvitation(invitation, code)


def revoke_invitation(*, session: Session, actor: Actor, invitation_id: int) -> UnitInvitation:
    """Revoke an unused invitation of a unit the actor supervises."""
    invitation = session.get(UnitInvitation, invitation_id, with_for_update=True)
    if invitation is None:
        raise NotFound(f"there is no invitation {invitation_id}")
    _supervise(session, actor, invitation.unit_id, "unit_invitation.revoke")
    if invitation.used_at is None and invitation.revoked_at is None:
        invitation.revoked_at = datetime.now(UTC)
        record_audit(session, actor=actor, action="unit_invitation.revoke", target_type="unit",
                     target_id=invitation.unit_id, after={"invitation": invitation.id})  # fmt: skip
    return invitation


def redeem_invitation(
    *, session: Session, code: str, username: str, password: str, policy: SecuritySettings,
    client: str | None,
) -> User:  # fmt: skip
    """Make the unit account an invitation code promises, with the holder's own password.

    A wrong, used, revoked or expired code is refused alike (audited, then raised), so
    codes cannot be told apart by guessing.
    """
    now = datetime.now(UTC)
    invitation = session.scalar(
        select(UnitInvitation).where(UnitInvitation.code_hash == hash_code(code)).with_for_update()
    )
    if (
        invitation is None
        or invitation.used_at is not None
        or invitation.revoked_at is not None
        or invitation.expires_at <= now
    ):
        record_audit(session, actor=None, action="unit_invitation.redeem", target_type="unit",
                     target_id=invitation.unit_id if invitation else None, result="denied",
                     detail=_REFUSED, claimed=(username[:64], client))  # fmt: skip
        session.commit()
        raise NotFound(_REFUSED)
    user = create_user(
        session=session, username=username, password=password, role=Role.UNIT,
        where=Jurisdiction(unit_id=invitation.unit_id), actor=SYSTEM, policy=policy,
        must_change_password=False,
    )  # fmt: skip
    invitation.used_at, invitation.user_id = now, user.id
    record_audit(session, actor=actor_for(user, client), action="unit_invitation.redeem",
                 target_type="unit", target_id=invitation.unit_id,
                 after={"invitation": invitation.id, "user": user.id})  # fmt: skip
    return user


def unit_accounts(
    *, session: Session, actor: Actor, unit_id: int
) -> tuple[list[User], list[UnitInvitation]]:
    """Return a supervised unit's accounts and its invitations, newest first."""
    _supervise(session, actor, unit_id, "unit_accounts.read")
    users = session.scalars(select(User).where(User.unit_id == unit_id).order_by(User.id.desc()))
    invitations = session.scalars(
        select(UnitInvitation)
        .where(UnitInvitation.unit_id == unit_id)
        .order_by(UnitInvitation.id.desc())
        .limit(50)
    )
    return list(users), list(invitations)


def set_unit_account_active(*, session: Session, actor: Actor, user_id: int, active: bool) -> User:
    """Disable (ending its sessions) or enable a unit account of a unit the actor supervises."""
    user = session.get(User, user_id)
    if user is None or user.role != Role.UNIT.value or user.unit_id is None:
        raise NotFound(f"there is no unit account {user_id}")
    action = "unit_account.enable" if active else "unit_account.disable"
    _supervise(session, actor, user.unit_id, action)
    if not is_intact(key_ring_of(session), user):
        raise tampered_conflict(user.id, user.username)
    if user.is_active != active:
        user.is_active = active
        session.flush()
        if not active:
            revoke_sessions(session, user_id=user.id, now=datetime.now(UTC))
        record_audit(session, actor=actor, action=action, target_type="user", target_id=user.id,
                     before={"active": not active}, after={"active": active})  # fmt: skip
    return user
