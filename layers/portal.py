"""The unit portal's reads (互联网子系统): a unit's organisation, its home page, its records.

A unit user works on their own unit and on what their unit operates (a chain's branches,
a transit company's stations: ``feature_operators``). Everything here reads records
*about* those features (``about_the_unit``), through the indexes on record links, so a
home page costs the same with 5,000,000 records as with 5,000.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.orm import Session

from layers.accounts.roles import Permission, Role
from layers.accounts.scope import Actor, ScopeKind
from layers.errors import NotFound, PermissionDenied
from layers.features.operators import FeatureOperator
from layers.features.registry import get_layer
from layers.records.catalog import KINDS
from layers.records.messages import Message, addressed_to
from layers.records.models import Record, RecordLink
from layers.records.reading import about_the_unit
from layers.records.service import allowed_steps

MAX_OPEN = 500  # open records a home page weighs; a unit has tens
MAX_ORGANISATION = 200
# Hazard states in which the unit still has to act (rectify, report the rectification).
_TO_FIX = frozenset({"found", "reopened", "rectifying"})


@dataclass(frozen=True)
class OrganisationFeature:
    """A feature the unit user works on: their unit, or one their unit operates."""

    layer: str
    id: int
    name: str
    own: bool


@dataclass
class PortalHome:
    """What a unit user sees first: to-dos, deadlines, notices and counts."""

    organisation: list[OrganisationFeature]
    todos: list[Record] = field(default_factory=list)
    deadlines: list[Record] = field(default_factory=list)
    notices: list[tuple[Message, Record]] = field(default_factory=list)
    open_hazards: int = 0
    overdue: int = 0
    pending_approvals: int = 0
    unread_notices: int = 0


def unit_of(actor: Actor) -> int:
    """Return the unit a portal user belongs to; refuse anyone else (403)."""
    if actor.role is not Role.UNIT or actor.scope.kind is not ScopeKind.UNIT or not actor.scope.id:
        raise PermissionDenied("the unit portal is for unit accounts")
    return actor.scope.id


def organisation(*, session: Session, actor: Actor) -> list[OrganisationFeature]:
    """Return the actor's unit, then the features it operates (by layer, then id)."""
    unit_id = unit_of(actor)
    units = get_layer("units").model
    own = session.execute(select(units.id, units.name).where(units.id == unit_id)).one()
    found = [OrganisationFeature("units", own.id, own.name, own=True)]
    operated = session.execute(
        select(FeatureOperator.layer, FeatureOperator.feature_id)
        .where(FeatureOperator.unit_id == unit_id)
        .order_by(FeatureOperator.layer, FeatureOperator.feature_id)
        .limit(MAX_ORGANISATION)
    ).all()
    for layer in dict.fromkeys(layer for layer, _ in operated):
        model = get_layer(layer).model
        ids = [i for name, i in operated if name == layer]
        rows = session.execute(
            select(model.id, model.name).where(model.id.in_(ids)).order_by(model.id)
        )
        found += [OrganisationFeature(layer, i, name, own=False) for i, name in rows]
    return found


def _open_clause(kinds: Collection[str] | None = None) -> ColumnElement[bool]:
    chosen = [KINDS[k] for k in kinds] if kinds else list(KINDS.values())
    return or_(*(and_(Record.kind == k.id, Record.state.not_in(k.workflow.closed)) for k in chosen))


def organisation_records(
    *, session: Session, actor: Actor, kinds: Collection[str] = (), open_only: bool = False,
    limit: int, before: int | None = None,
) -> list[Record]:  # fmt: skip
    """Return records about the actor's unit and what it operates, newest first."""
    actor.require(Permission.RECORDS_READ)
    for kind in kinds:
        if kind not in KINDS:
            raise NotFound(f"unknown record kind {kind!r}; known: {', '.join(KINDS)}")
    query = (
        select(Record)
        .where(Record.id.in_(about_the_unit(unit_of(actor))))
        .order_by(Record.id.desc())
        .limit(limit)
    )
    if kinds:
        query = query.where(Record.kind.in_(kinds))
    if open_only:
        query = query.where(_open_clause(kinds))
    if before is not None:
        query = query.where(Record.id < before)
    return list(session.scalars(query))


def _is_todo(record: Record, actor: Actor) -> bool:
    """Return whether the record waits for the unit: a hazard to fix, a step only it takes."""
    if record.kind == "hazard":
        return record.state in _TO_FIX
    if record.kind in ("notice", "approval"):
        return False  # unread notices and pending edits are counted apart
    # withdrawing what one reported is always open to the reporter: nothing waits for it
    steps = allowed_steps(record, KINDS[record.kind], actor)
    return any(step.action != "withdraw" for step in steps)


def portal_home(*, session: Session, actor: Actor, now: datetime, notices: int = 5) -> PortalHome:
    """Return the home page of a unit user: what waits for them, what is due, what was sent."""
    actor.require(Permission.RECORDS_READ)
    home = PortalHome(organisation(session=session, actor=actor))
    opened = organisation_records(session=session, actor=actor, open_only=True, limit=MAX_OPEN)
    for record in opened:
        if record.kind == "hazard":
            home.open_hazards += 1
        if record.kind == "approval":
            home.pending_approvals += 1
        if record.due_at is not None and record.due_at < now:
            home.overdue += 1
    home.todos = sorted((r for r in opened if _is_todo(r, actor)),
                        key=lambda r: (r.due_at is None, r.due_at or now, -r.id))[:20]  # fmt: skip
    home.deadlines = sorted((r for r in opened if r.due_at is not None),
                            key=lambda r: (r.due_at, r.id))[:10]  # fmt: skip
    to_me = and_(addressed_to(actor), Record.kind == "notice")
    home.notices = [
        (m, r) for m, r in session.execute(
            select(Message, Record).join(Record, Record.id == Message.record_id)
            .where(to_me).order_by(Message.id.desc()).limit(notices)
        )
    ]  # fmt: skip
    home.unread_notices = int(session.scalar(
        select(func.count()).select_from(Message).join(Record, Record.id == Message.record_id)
        .where(to_me, Message.read_at.is_(None))
    ) or 0)  # fmt: skip
    return home


def pending_edits(*, session: Session, actor: Actor, layer: str, feature_id: int) -> list[Record]:
    """Return the approvals still pending on a feature of the actor's organisation."""
    actor.require(Permission.RECORDS_READ)
    about = about_the_unit(unit_of(actor)).subquery()
    return list(session.scalars(
        select(Record)
        .join(RecordLink, RecordLink.record_id == Record.id)
        .where(RecordLink.layer == layer, RecordLink.feature_id == feature_id,
               Record.kind == "approval", Record.state == "pending",
               Record.id.in_(select(about.c.record_id)))
        .order_by(Record.id.desc())
    ))  # fmt: skip
