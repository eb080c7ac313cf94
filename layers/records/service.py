"""The one door for records: permission, scope, workflow, version, audit and events."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from geoalchemy2.shape import to_shape
from sqlalchemy import exists, insert, select
from sqlalchemy.orm import Session

from layers.accounts.roles import Permission
from layers.accounts.scope import Actor, ScopeKind
from layers.audit.service import append_event, audited_denials, record_audit
from layers.errors import (
    Conflict,
    InvalidInput,
    NotFound,
    PermissionDenied,
    PreconditionRequired,
    VersionConflict,
)
from layers.features.operators import within_reach
from layers.features.registry import get_layer
from layers.records.kinds import RecordKind
from layers.records.messages import Message, Recipient, addressed_to, send_messages
from layers.records.models import Record, RecordLink, RecordTransition
from layers.records.personal import seal_record
from layers.records.reading import about_the_unit
from layers.records.refs import FeatureRef
from layers.records.workflow import Party, Step, may_take

MAX_LINKS = 5_000


@dataclass(frozen=True)
class NewRecord:
    """What a client gives to create a record of some kind."""

    title: str
    topic: str
    features: Sequence[FeatureRef]
    details: dict[str, Any]
    priority: int = 2
    due_at: datetime | None = None
    starts_at: datetime | None = None
    ends_at: datetime | None = None


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def masked(details: dict[str, Any], personal: Collection[str]) -> dict[str, Any]:
    """Return ``details`` with the values of its ``personal`` fields hidden."""
    return {k: ("***" if k in personal and v is not None else v) for k, v in details.items()}


def snapshot(record: Record, kind: RecordKind) -> dict[str, Any]:
    """Return what the audit log keeps of a record: personal fields masked."""
    return {
        "kind": record.kind, "topic": record.topic, "state": record.state,
        "title": record.title, "priority": record.priority,
        "due_at": _iso(record.due_at), "starts_at": _iso(record.starts_at),
        "ends_at": _iso(record.ends_at), "details": masked(record.details, kind.personal),
        "version": record.version,
    }  # fmt: skip


def parties_of(record: Record, actor: Actor) -> set[Party]:
    """Return the parties ``actor`` is to ``record``: its creator, one of its assignees."""
    parties: set[Party] = set()
    if actor.user_id is not None and record.created_by == actor.user_id:
        parties.add(Party.CREATOR)
    for assignee in record.details.get("assignees", ()):
        if (assignee["type"] == "user" and assignee["id"] == actor.user_id) or (
            assignee["type"] == "unit"
            and actor.scope.kind is ScopeKind.UNIT
            and assignee["id"] == actor.scope.id
        ):
            parties.add(Party.ASSIGNEE)
    return parties


def recipients_in(
    details: dict[str, Any], created_by: int | None, parties: Collection[Party]
) -> list[Recipient]:
    """Return who ``parties`` of a record are, as message recipients."""
    found: list[Recipient] = []
    if Party.CREATOR in parties and created_by is not None:
        found.append(("user", created_by))
    if Party.ASSIGNEE in parties:
        found += [(a["type"], a["id"]) for a in details.get("assignees", ())]
    return found


def recipients_of(record: Record, parties: Collection[Party]) -> list[Recipient]:
    """Return who ``parties`` of ``record`` are, as message recipients."""
    return recipients_in(record.details, record.created_by, parties)


def _about_the_unit(session: Session, record_id: int, unit_id: int | None) -> bool:
    """Return whether the record concerns the unit or a feature the unit operates."""
    about = about_the_unit(unit_id).subquery()
    return bool(session.scalar(select(exists().where(about.c.record_id == record_id))))


def _visible(session: Session, record: Record, actor: Actor) -> bool:
    scope = actor.scope
    if scope.kind is ScopeKind.CITY or parties_of(record, actor):
        return True
    if scope.kind is ScopeKind.DISTRICT and record.district_id == scope.id:
        return True
    if scope.kind is ScopeKind.PRECINCT and record.precinct_id == scope.id:
        return True
    if scope.kind is ScopeKind.UNIT and _about_the_unit(session, record.id, scope.id):
        return True
    # whoever the record was sent to may read it
    sent = select(Message.id).where(Message.record_id == record.id, addressed_to(actor)).limit(1)
    return session.scalar(sent) is not None


def _unknown(record_id: int) -> NotFound:
    # the same answer for a record elsewhere as for none: ids cannot be enumerated
    return NotFound(f"there is no record {record_id}")


def read_record(
    *, session: Session, record_id: int, actor: Actor, kind: RecordKind | None = None
) -> Record:
    """Return one record (of ``kind``, if given) the actor may see, or raise ``NotFound``."""
    actor.require(Permission.RECORDS_READ)
    record = session.get(Record, record_id)
    if record is None or (kind and record.kind != kind.id) or not _visible(session, record, actor):
        raise _unknown(record_id)
    return record


def check_features(session: Session, features: Sequence[FeatureRef], actor: Actor) -> None:
    """Raise ``NotFound`` unless every feature exists and lies in the actor's reach.

    That is its scope and, for a transit company's users, what the company operates.
    """
    if len(features) > MAX_LINKS:
        raise InvalidInput(f"a record may concern at most {MAX_LINKS} features")
    by_layer: dict[str, set[int]] = {}
    for ref in features:
        by_layer.setdefault(ref.layer, set()).add(ref.id)
    for layer_id, ids in by_layer.items():
        spec = get_layer(layer_id)
        found = set(session.scalars(
            select(spec.model.id).where(spec.model.id.in_(ids), within_reach(spec, actor))
        ))  # fmt: skip
        missing = sorted(ids - found)
        if missing:
            shown = ", ".join(str(i) for i in missing[:10])
            raise NotFound(f"layer {layer_id!r} has no feature {shown} that you may see")


def _place(session: Session, record: Record, first: FeatureRef) -> None:
    """Put the record at its first feature's representative point, in that jurisdiction.

    That feature is the record's place (its link's ``place``): the record follows it.
    """
    spec = get_layer(first.layer)
    model = spec.model
    point = model.geom if spec.geometry_type == "Point" else model.geom.ST_PointOnSurface()  # type: ignore[attr-defined]
    row = session.execute(
        select(point, model.district_id, model.precinct_id).where(model.id == first.id)
    ).one()
    record.geom, record.district_id, record.precinct_id = row


def record_event(session: Session, record: Record, actor: Actor, type_: str) -> None:
    """Append event ``type_`` about ``record`` (where it is, its kind, state and version)."""
    bounds = to_shape(record.geom).bounds if record.geom is not None else None
    append_event(session, type=type_, actor=actor, bounds=bounds,
                 payload={"record_id": record.id, "kind": record.kind, "state": record.state,
                          "version": record.version})  # fmt: skip


def require_creator(session: Session, kind: RecordKind, actor: Actor) -> None:
    """Raise ``PermissionDenied`` (audited) unless ``actor`` may create records of ``kind``."""
    with audited_denials(session, actor, f"{kind.id}.create", kind.id, None):
        actor.require(Permission.RECORDS_WRITE)
        if actor.role not in kind.creators:
            raise PermissionDenied(f"role {actor.role.value!r} may not create {kind.id} records")


def checked_new(
    session: Session, kind: RecordKind, new: NewRecord, actor: Actor
) -> tuple[dict[str, Any], list[FeatureRef]]:
    """Return the checked details and distinct features of a new record, or raise."""
    require_creator(session, kind, actor)
    kind.check_topic(new.topic)
    if new.starts_at and new.ends_at and new.ends_at < new.starts_at:
        raise InvalidInput("ends_at is before starts_at")
    details = kind.check_details(new.details)
    features = list(dict.fromkeys(new.features))
    if kind.needs_features and not features:
        raise InvalidInput(f"a {kind.id} concerns at least one feature")
    check_features(session, features, actor)
    return details, features


def create_record(*, session: Session, kind: RecordKind, new: NewRecord, actor: Actor) -> Record:
    """Create a record of ``kind`` about ``new.features``; audited, with its first step kept."""
    details, features = checked_new(session, kind, new, actor)
    record = Record(
        kind=kind.id, topic=new.topic, state=kind.workflow.initial, title=new.title,
        priority=new.priority, due_at=new.due_at, starts_at=new.starts_at, ends_at=new.ends_at,
        details=details, created_by=actor.user_id,
    )  # fmt: skip
    if features:
        _place(session, record, features[0])
    session.add(record)
    session.flush()
    seal_record(session, record, kind)  # sealed for its row: after the insert
    if features:
        session.execute(insert(RecordLink), [
            {"record_id": record.id, "layer": f.layer, "feature_id": f.id, "place": i == 0}
            for i, f in enumerate(features)
        ])  # fmt: skip
    session.add(RecordTransition(record_id=record.id, action="create", from_state=None,
                                 to_state=record.state, actor_id=actor.user_id,
                                 actor_name=actor.username))  # fmt: skip
    if kind.after_write:
        kind.after_write(session, record, features)
    send_messages(
        session, record, recipients_of(record, kind.notify_on_create), f"{kind.id}.create"
    )
    record_audit(session, actor=actor, action=f"{kind.id}.create", target_type=kind.id,
                 target_id=record.id, after=snapshot(record, kind))  # fmt: skip
    record_event(session, record, actor, "record.created")
    return record


def allowed_steps(record: Record, kind: RecordKind, actor: Actor) -> list[Step]:
    """Return the workflow steps ``actor`` may take on ``record`` now."""
    parties = parties_of(record, actor)
    return [s for s in kind.workflow.steps_from(record.state) if may_take(s, actor.role, parties)]


def _lock(
    session: Session, kind: RecordKind, record_id: int, expected_version: int | None, actor: Actor
) -> Record:
    if expected_version is None:
        raise PreconditionRequired("writes need the version they replace (If-Match header)")
    record = session.scalar(
        select(Record).where(Record.id == record_id, Record.kind == kind.id).with_for_update()
    )
    if record is None or not _visible(session, record, actor):
        raise _unknown(record_id)
    if record.version != expected_version:
        raise VersionConflict(
            f"record {record_id} is at version {record.version}, not {expected_version}; "
            "reload it and try again",
            current_version=record.version,
        )
    return record


def check_step(record: Record, kind: RecordKind, action: str, actor: Actor) -> Step:
    """Return the step ``action`` from the record's state if ``actor`` may take it.

    Raises ``Conflict`` listing the allowed actions when there is no such step, and
    ``PermissionDenied`` when the actor may not take it.
    """
    chosen = kind.workflow.step(record.state, action)
    if chosen is None:
        allowed = [s.action for s in allowed_steps(record, kind, actor)]
        raise Conflict(
            f"a {kind.id} in state {record.state!r} cannot be {action!r}ed; "
            f"allowed now: {', '.join(allowed) or 'none'}",
            allowed=allowed,
        )
    if not may_take(chosen, actor.role, parties_of(record, actor)):
        raise PermissionDenied(f"you may not {action} this {kind.id}")
    return chosen


def filled_details(
    record: Record, kind: RecordKind, chosen: Step, given: Mapping[str, Any] | None
) -> dict[str, Any]:
    """Return the record's details with the fields ``given`` set, or raise 422.

    A step sets only the fields it ``fills`` (a case's results at disposal).
    """
    if not given:
        return record.details
    others = sorted(set(given) - chosen.fills)
    if others:
        fills = ", ".join(sorted(chosen.fills)) or "none"
        raise InvalidInput(f"{chosen.action!r} sets no {', '.join(others)} of a {kind.id}; "
                           f"it sets: {fills}")  # fmt: skip
    return {**record.details, **kind.check_fields(given)}


def transition_record(
    *,
    session: Session,
    kind: RecordKind,
    record_id: int,
    action: str,
    expected_version: int | None,
    actor: Actor,
    note: str | None = None,
    details: Mapping[str, Any] | None = None,
    approved: bool = False,
) -> Record:
    """Take workflow step ``action`` on a record; 409 lists the actions its state allows.

    ``details`` sets the fields the step fills. A step the kind wants approved is refused
    unless ``approved`` (see ``layers.records.approvals.take_step``, which asks for the
    approval instead).
    """
    with audited_denials(session, actor, f"{kind.id}.{action}", kind.id, record_id):
        actor.require(Permission.RECORDS_WRITE)
        record = _lock(session, kind, record_id, expected_version, actor)
        chosen = check_step(record, kind, action, actor)
        if not approved and kind.approval and kind.approval(record, chosen, actor):
            raise PermissionDenied(f"{action} on this {kind.id} needs an approval first")
    filled = filled_details(record, kind, chosen, details)
    before = snapshot(record, kind)
    session.add(RecordTransition(record_id=record.id, action=action, from_state=record.state,
                                 to_state=chosen.target, actor_id=actor.user_id,
                                 actor_name=actor.username, note=note))  # fmt: skip
    record.state = chosen.target
    record.details = filled
    record.version += 1
    record.updated_at = datetime.now(UTC)
    session.flush()
    if hook := kind.on_enter.get(record.state):
        hook(session, record, actor)
    if kind.after_write:
        kind.after_write(session, record, links_of(session, record.id))
    send_messages(session, record, recipients_of(record, chosen.notify), f"{kind.id}.{action}")
    record_audit(session, actor=actor, action=f"{kind.id}.{action}", target_type=kind.id,
                 target_id=record.id, before=before, after=snapshot(record, kind),
                 detail=note[:500] if note else None)  # fmt: skip
    record_event(session, record, actor, "record.updated")
    return record


def links_of(session: Session, record_id: int) -> list[FeatureRef]:
    """Return the features a record concerns."""
    rows = session.execute(
        select(RecordLink.layer, RecordLink.feature_id)
        .where(RecordLink.record_id == record_id)
        .order_by(RecordLink.layer, RecordLink.feature_id)
    )
    return [FeatureRef(layer, feature_id) for layer, feature_id in rows]
