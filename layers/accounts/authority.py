"""Who an account may be, split between two people (三权分立).

The administrator (``users:manage``) creates an account; it starts disabled, with a
one-time password and the role asked for. Only a security administrator
(``roles:manage``) makes it count: enables or disables it, sets its role and
jurisdiction. Nobody changes their own account, so neither can give themselves another
role (an auditor's, say), and taking over someone's account takes both: the
administrator resets passwords, the security administrator second factors.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from layers.accounts.integrity import is_intact, tampered_conflict
from layers.accounts.models import User
from layers.accounts.passwords import one_time_password
from layers.accounts.roles import JURISDICTION_ROLES, Permission, Role
from layers.accounts.scope import Actor
from layers.accounts.service import Jurisdiction, _resolve_jurisdiction, create_user
from layers.audit.service import audited_denials, record_audit
from layers.crypto.keys import key_ring_of
from layers.errors import InvalidInput, NotFound, PermissionDenied
from layers.settings import SecuritySettings


@dataclass(frozen=True)
class NewAccount:
    """An account just created: disabled until enabled, and its one-time password."""

    user: User
    one_time_password: str


def create_account(
    *, session: Session, actor: Actor, username: str, role: Role, where: Jurisdiction,
    policy: SecuritySettings,
) -> NewAccount:  # fmt: skip
    """Create a disabled account with a one-time password; a security administrator enables it."""
    password = one_time_password(username=username, policy=policy)
    user = create_user(session=session, username=username, password=password, role=role,
                       where=where, actor=actor, policy=policy)  # fmt: skip
    user.is_active = False
    session.flush()
    return NewAccount(user, password)


def _authority(user: User) -> dict[str, Any]:
    return {"role": user.role, "district_id": user.district_id, "precinct_id": user.precinct_id,
            "unit_id": user.unit_id, "active": user.is_active}  # fmt: skip


def _check_scope(role: Role, ids: dict[str, int | None]) -> None:
    """Refuse a role whose jurisdiction it cannot work in (as ``create_user`` does)."""
    if role in JURISDICTION_ROLES and not (ids["district_id"] or ids["precinct_id"]):
        raise InvalidInput(f"role {role.value!r} works in a precinct or district: give one")
    if (role is Role.UNIT) != (ids["unit_id"] is not None):
        raise InvalidInput("role 'unit' and a unit go together")


def set_authority(
    *, session: Session, actor: Actor, user_id: int, role: Role | None = None,
    where: Jurisdiction | None = None, active: bool | None = None,
) -> User:  # fmt: skip
    """Set an account's role, jurisdiction (``where``; all empty: the city) and enabled state.

    Audited with the state before and after; refused (and audited) for one's own account.
    """
    with audited_denials(session, actor, "user.authority", "user", user_id):
        actor.require(Permission.ROLES_MANAGE)
        user = session.get(User, user_id)
        if user is None:
            raise NotFound(f"no user {user_id}")
        if user.id == actor.user_id:
            raise PermissionDenied("nobody changes their own role, jurisdiction or state")
    if not is_intact(key_ring_of(session), user):
        raise tampered_conflict(user.id, user.username)
    before = _authority(user)
    if where is not None:
        given = (where.district_code, where.precinct_code, where.unit_id)
        if sum(part is not None for part in given) > 1:
            raise InvalidInput("give at most one of district_code, precinct_code, unit_id")
        for name, value in _resolve_jurisdiction(session, where).items():
            setattr(user, name, value)
    if role is not None:
        user.role = role.value
    ids = {"district_id": user.district_id, "precinct_id": user.precinct_id,
           "unit_id": user.unit_id}  # fmt: skip
    _check_scope(Role(user.role), ids)
    if active is not None:
        user.is_active = active
    session.flush()
    record_audit(session, actor=actor, action="user.authority", target_type="user",
                 target_id=user.id, before=before, after=_authority(user))  # fmt: skip
    return user
