"""Whose a course, plan or notice is: the jurisdiction of its author, and who may see or edit it.

A thing belongs to its author's jurisdiction: the city (a commander's), a district or a
precinct (an officer's, with the precinct's district). Staff see what belongs to their
jurisdiction, to the district above it and to the city (the courses they may use), and
edit only what belongs within their own jurisdiction; anything else is unknown (404).
Learners (unit users) reach training only through their unit's assignments.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, or_, select, true
from sqlalchemy.orm import Session

from layers.accounts.roles import Role
from layers.accounts.scope import Actor, ScopeKind
from layers.errors import NotFound, PermissionDenied
from layers.features.models import Precinct, Unit

__all__ = [
    "STAFF",
    "Owner",
    "learner_unit",
    "may_manage",
    "owner_of",
    "read_seen",
    "require_staff",
    "seen_by",
]

STAFF = frozenset({Role.COMMANDER, Role.OFFICER})


@dataclass(frozen=True)
class Owner:
    """The jurisdiction a thing belongs to: both None for the city."""

    district_id: int | None
    precinct_id: int | None


def require_staff(actor: Actor) -> None:
    """Raise ``PermissionDenied`` unless the actor is bureau staff who manage training."""
    if actor.role not in STAFF:
        raise PermissionDenied(f"role {actor.role.value!r} may not manage training")


def owner_of(session: Session, actor: Actor) -> Owner:
    """Return the jurisdiction what the actor writes belongs to."""
    scope = actor.scope
    if scope.kind is ScopeKind.DISTRICT:
        return Owner(scope.id, None)
    if scope.kind is ScopeKind.PRECINCT:
        district = session.scalar(select(Precinct.district_id).where(Precinct.id == scope.id))
        return Owner(district, scope.id)
    return Owner(None, None)


def may_manage(actor: Actor, thing: Any) -> bool:
    """Return whether the actor may edit ``thing`` (its owner lies within their jurisdiction)."""
    scope = actor.scope
    if actor.role not in STAFF:
        return False
    if scope.kind is ScopeKind.CITY:
        return True
    if scope.kind is ScopeKind.DISTRICT:
        return bool(thing.district_id == scope.id)
    return scope.kind is ScopeKind.PRECINCT and bool(thing.precinct_id == scope.id)


def seen_by(session: Session, actor: Actor, model: Any) -> ColumnElement[bool]:
    """Return the staff's view of ``model``: their jurisdiction, the district above, the city."""
    scope = actor.scope
    city = and_(model.district_id.is_(None), model.precinct_id.is_(None))
    if scope.kind is ScopeKind.CITY:
        return true()
    if scope.kind is ScopeKind.DISTRICT:
        return or_(city, model.district_id == scope.id)
    owner = owner_of(session, actor)
    above = and_(model.district_id == owner.district_id, model.precinct_id.is_(None))
    return or_(city, above, model.precinct_id == scope.id)


def read_seen(session: Session, actor: Actor, model: Any, row_id: int, noun: str) -> Any:
    """Return the staff member's ``model`` row ``row_id`` if they see it; NotFound otherwise."""
    require_staff(actor)
    row = session.scalar(select(model).where(model.id == row_id, seen_by(session, actor, model)))
    if row is None:
        raise NotFound(f"there is no {noun} {row_id}")
    return row


def units_of(owner: Owner) -> ColumnElement[bool]:
    """Return the units inside ``owner``'s jurisdiction."""
    if owner.precinct_id is not None:
        return Unit.precinct_id == owner.precinct_id
    if owner.district_id is not None:
        return Unit.district_id == owner.district_id
    return true()


def learner_unit(actor: Actor) -> int:
    """Return the unit a learner trains for; raise ``PermissionDenied`` for anyone else."""
    if actor.scope.kind is not ScopeKind.UNIT or actor.scope.id is None:
        raise PermissionDenied("only a unit's users learn: this account belongs to no unit")
    return actor.scope.id


def found(thing: Any, what: str, thing_id: int) -> Any:
    """Return ``thing``, or raise ``NotFound`` naming the id when it is None."""
    if thing is None:
        raise NotFound(f"there is no {what} {thing_id}")
    return thing
