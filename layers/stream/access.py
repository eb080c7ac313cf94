"""Who sees which event: the rule of what it is about, as one SQL condition.

A feature's events follow the feature's jurisdiction as it was when written (kept on
the event, migration 0026); a record's, alert's or perimeter's follow the rule that
decides whether the actor may read that record, alert or perimeter now, so a unit's
users never hear of another unit's records. Events of another family are seen as a
feature's are: by where they happened.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import BigInteger, ColumnElement, and_, exists, false, or_, select, true

from layers.accounts.roles import Permission
from layers.accounts.scope import Actor, Scope, ScopeKind
from layers.audit.models import Event
from layers.features.operators import operated_by
from layers.geofence.models import GeofenceAlert
from layers.perimeters import access as perimeters
from layers.perimeters.models import Perimeter
from layers.records.models import Record
from layers.records.reading import visible_clause as records_visible
from layers.stream.filters import event_family


def _payload_id(key: str) -> ColumnElement[int]:
    return Event.payload[key].astext.cast(BigInteger)


def where_seen(scope: Scope) -> ColumnElement[bool]:
    """Return "the event happened inside ``scope``" by the jurisdiction kept on it."""
    if scope.kind is ScopeKind.CITY:
        return true()
    if scope.kind is ScopeKind.DISTRICT:
        return Event.district_id == scope.id
    if scope.kind is ScopeKind.PRECINCT:
        return Event.precinct_id == scope.id
    return or_(
        and_(Event.layer == "units", Event.feature_id == scope.id),
        operated_by(Event.layer, Event.feature_id, scope.id),
    )


def _records(actor: Actor) -> ColumnElement[bool]:
    if actor.scope.kind is ScopeKind.CITY:
        return true()
    one = exists().where(Record.id == _payload_id("record_id"), records_visible(actor))
    bulk = exists().where(
        Record.id.between(_payload_id("first_id"), _payload_id("last_id")),
        Record.kind == Event.payload["kind"].astext,
        records_visible(actor),
    )
    return or_(one, and_(Event.type == "record.bulk_created", bulk))


def _perimeters(actor: Actor) -> ColumnElement[bool]:
    if actor.scope.kind is ScopeKind.CITY:
        return true()
    return exists().where(
        Perimeter.id == _payload_id("perimeter_id"), perimeters.visible_clause(actor.scope)
    )


def _alerts(actor: Actor) -> ColumnElement[bool]:
    if actor.scope.kind is ScopeKind.CITY:
        return true()
    return exists(
        select(GeofenceAlert.id)
        .outerjoin(Perimeter, Perimeter.id == GeofenceAlert.perimeter_id)
        .where(GeofenceAlert.id == _payload_id("alert_id"),
               perimeters.visible_clause(actor.scope))
    )  # fmt: skip


def _operations(actor: Actor) -> ColumnElement[bool]:
    return true()


def _features(actor: Actor) -> ColumnElement[bool]:
    return where_seen(actor.scope)


Rule = tuple[Permission, Callable[[Actor], ColumnElement[bool]]]
# family -> (the permission that reads what its events are about, who of those sees one)
RULES: dict[str, Rule] = {
    "feature": (Permission.FEATURES_READ, _features),
    "record": (Permission.RECORDS_READ, _records),
    "perimeter": (Permission.PERIMETERS_READ, _perimeters),
    "geofence": (Permission.PERIMETERS_READ, _alerts),
    "alert": (Permission.PERIMETERS_READ, _alerts),
    "feedback": (Permission.OPERATIONS, _operations),
}


def may_read_events(actor: Actor) -> bool:
    """Return whether the actor may read the event log at all (features:read)."""
    return actor.can(Permission.FEATURES_READ)


def visible_events(actor: Actor) -> ColumnElement[bool]:
    """Return the condition keeping the events ``actor`` may see."""
    family = event_family()
    clauses = [
        and_(family == name, rule(actor))
        for name, (permission, rule) in RULES.items()
        if actor.can(permission)
    ]
    if actor.can(Permission.FEATURES_READ):
        clauses.append(and_(family.not_in(list(RULES)), where_seen(actor.scope)))
    return or_(false(), *clauses)
