"""Geofence alerts as people see them: listed where their perimeter reaches, acknowledged once.

An alert is seen by whoever sees its perimeter (``layers.perimeters.access``: the city,
and each district or precinct the rings reach into); one of a perimeter since deleted
only by the city. A commander acknowledges it; the acknowledgement is audited and is an
event of its own.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import UTC, datetime
from enum import StrEnum

from geoalchemy2.shape import to_shape
from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from layers.accounts.roles import Permission
from layers.accounts.scope import Actor
from layers.audit.service import append_event, audited_denials, record_audit
from layers.errors import Conflict, NotFound
from layers.geofence.follow import alert_payload
from layers.geofence.models import GeofenceAlert
from layers.perimeters.access import visible_clause
from layers.perimeters.models import Perimeter


class AlertState(StrEnum):
    """Whether an alert still waits for a commander."""

    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"


def _visible(actor: Actor) -> Select[GeofenceAlert]:
    return (
        select(GeofenceAlert)
        .outerjoin(Perimeter, Perimeter.id == GeofenceAlert.perimeter_id)
        .where(visible_clause(actor.scope))
    )


def list_alerts(
    *, session: Session, actor: Actor, state: AlertState | None = None,
    perimeter_id: int | None = None, layer: str | None = None, feature_id: int | None = None,
    limit: int = 100,
) -> list[GeofenceAlert]:  # fmt: skip
    """Return the alerts the actor sees (in ``state``, of a perimeter or feature), newest first."""
    actor.require(Permission.PERIMETERS_READ)
    query = _visible(actor)
    if state is not None:
        query = query.where(GeofenceAlert.state == state.value)
    if perimeter_id is not None:
        query = query.where(GeofenceAlert.perimeter_id == perimeter_id)
    if layer is not None:
        query = query.where(GeofenceAlert.layer == layer)
    if feature_id is not None:
        query = query.where(GeofenceAlert.feature_id == feature_id)
    return list(session.scalars(query.order_by(GeofenceAlert.id.desc()).limit(limit)))


def acknowledge_alert(*, session: Session, alert_id: int, actor: Actor) -> GeofenceAlert:
    """Mark an open alert acknowledged by the actor; audited, and announced as an event."""
    with audited_denials(session, actor, "alert.ack", "geofence_alert", alert_id):
        actor.require(Permission.ALERTS_ACK)
        alert = session.scalar(
            _visible(actor).where(GeofenceAlert.id == alert_id).with_for_update(of=GeofenceAlert)
        )
        if alert is None:
            raise NotFound(f"there is no alert {alert_id} that you may see")
    if alert.state == AlertState.ACKNOWLEDGED:
        assert alert.acknowledged_at is not None
        raise Conflict(f"alert {alert_id} was acknowledged by {alert.acknowledged_by_name} at "
                       f"{alert.acknowledged_at.isoformat()}")  # fmt: skip
    alert.state = AlertState.ACKNOWLEDGED
    alert.acknowledged_at = datetime.now(UTC)
    alert.acknowledged_by, alert.acknowledged_by_name = actor.user_id, actor.username
    session.flush()
    after = {"state": AlertState.ACKNOWLEDGED.value, **alert_payload(alert)}
    record_audit(session, actor=actor, action="alert.ack", target_type="geofence_alert",
                 target_id=alert_id, before={"state": AlertState.OPEN.value},
                 after=after)  # fmt: skip
    append_event(session, type="alert.acknowledged", actor=actor, layer=alert.layer,
                 feature_id=alert.feature_id, bounds=to_shape(alert.geom).bounds,
                 payload=alert_payload(alert))  # fmt: skip
    return alert


def alerts_by_id(session: Session, alert_ids: Collection[int]) -> dict[int, GeofenceAlert]:
    """Return the alerts of ``alert_ids`` by id (for messages already addressed to a reader)."""
    if not alert_ids:
        return {}
    found = session.scalars(select(GeofenceAlert).where(GeofenceAlert.id.in_(list(alert_ids))))
    return {alert.id: alert for alert in found}
