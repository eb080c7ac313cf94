"""Notices (通知管理): sent to named units and officers, or to every unit a selection finds.

A notice reaches each recipient's inbox as a message; the messages' read times are its
read receipts. The units it went to are linked to it, so it shows on each unit's card.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from pydantic import BaseModel, ConfigDict, Field
from shapely.geometry.base import BaseGeometry
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from layers.accounts.models import User
from layers.accounts.roles import Role
from layers.accounts.scope import Actor
from layers.errors import InvalidInput, NotFound
from layers.features.filters import filter_clause, parse_filters
from layers.features.models import Unit
from layers.features.query import literal_geometry
from layers.features.registry import get_layer
from layers.records.kinds import RecordKind
from layers.records.messages import Message, Recipient, send_messages
from layers.records.models import Record
from layers.records.refs import FeatureRef
from layers.records.service import NewRecord, check_features, create_record, require_creator
from layers.records.workflow import Party, Workflow, step

MAX_RECIPIENTS = 100_000


class NoticeDetails(BaseModel):
    """What a notice says, and to how many it went."""

    model_config = ConfigDict(extra="forbid")

    body: str = Field(min_length=1, max_length=20_000)
    recipients: int = Field(default=0, ge=0)


NOTICE = RecordKind(
    id="notice",
    title="通知",
    workflow=Workflow(
        states=("sent", "withdrawn"),
        steps=(
            step(
                "withdraw",
                "sent",
                "withdrawn",
                roles=[Role.COMMANDER],
                parties=[Party.CREATOR],
                title="撤回",
            ),
        ),
        titles={"sent": "已发送", "withdrawn": "已撤回"},
        closed=frozenset({"withdrawn"}),
    ),
    details=NoticeDetails,
    creators=frozenset({Role.COMMANDER, Role.OFFICER, Role.PLANNER}),
    needs_features=False,
)


@dataclass(frozen=True)
class UnitSelection:
    """Every unit (in the sender's jurisdiction) inside ``within``, in ``precinct_id``,
    matching the attribute ``filters`` (``category=hotel``, ``is_key_unit=true``)."""

    within: BaseGeometry | None = None
    precinct_id: int | None = None
    filters: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class NewNotice:
    """A notice and who it goes to."""

    title: str
    topic: str
    body: str
    users: Sequence[int] = ()
    units: Sequence[int] = ()
    selection: UnitSelection | None = None


def selected_units(session: Session, actor: Actor, selection: UnitSelection) -> list[int]:
    """Return the ids of the units ``selection`` finds within the actor's jurisdiction."""
    spec = get_layer("units")
    query = select(Unit.id).where(
        actor.scope.clause(Unit),
        *(filter_clause(spec, f, session) for f in parse_filters(spec, selection.filters)),
    )
    if selection.within is not None:
        query = query.where(func.ST_Intersects(Unit.geom, literal_geometry(selection.within)))
    if selection.precinct_id is not None:
        query = query.where(Unit.precinct_id == selection.precinct_id)
    ids = list(session.scalars(query.order_by(Unit.id).limit(MAX_RECIPIENTS + 1)))
    if len(ids) > MAX_RECIPIENTS:
        raise InvalidInput(f"the selection finds more than {MAX_RECIPIENTS} units; narrow it")
    return ids


def _check_users(session: Session, user_ids: Sequence[int]) -> None:
    found = set(session.scalars(
        select(User.id).where(User.id.in_(user_ids), User.is_active.is_(True))
    ))  # fmt: skip
    missing = sorted(set(user_ids) - found)
    if missing:
        raise NotFound(f"there is no active user {', '.join(map(str, missing[:10]))}")


def send_notice(*, session: Session, notice: NewNotice, actor: Actor) -> tuple[Record, int]:
    """Send a notice to its users and units; return it and how many recipients it reached."""
    require_creator(session, NOTICE, actor)
    check_features(session, [FeatureRef("units", u) for u in notice.units], actor)
    _check_users(session, notice.users)
    units = list(dict.fromkeys(notice.units))
    if notice.selection is not None:
        units = list(dict.fromkeys([*units, *selected_units(session, actor, notice.selection)]))
    if not units and not notice.users:
        raise InvalidInput("a notice needs recipients: users, units or a selection finding some")
    recipients: list[Recipient] = [("user", u) for u in notice.users]
    recipients += [("unit", u) for u in units]
    details = {"body": notice.body, "recipients": len(set(recipients))}
    first = [FeatureRef("units", u) for u in units[:1]]
    new = NewRecord(title=notice.title, topic=notice.topic, features=first, details=details)
    record = create_record(session=session, kind=NOTICE, actor=actor, new=new)
    session.execute(text(
        "INSERT INTO record_links (record_id, layer, feature_id, place) "
        "SELECT :record, 'units', id, false FROM unnest(CAST(:ids AS bigint[])) AS id "
        "ON CONFLICT DO NOTHING"
    ), {"record": record.id, "ids": units})  # fmt: skip
    sent = send_messages(session, record, recipients, "notice.sent")
    return record, sent


@dataclass(frozen=True)
class Receipts:
    """How many recipients a notice reached, and how many have read it."""

    sent: int
    read: int


def receipts_of(session: Session, record_id: int) -> Receipts:
    """Return the read receipts of a notice."""
    sent, read = session.execute(
        select(func.count(), func.count(Message.read_at)).where(Message.record_id == record_id)
    ).one()
    return Receipts(int(sent), int(read))
