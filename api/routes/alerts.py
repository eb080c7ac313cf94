"""Geofence alerts: listed where their perimeter reaches, acknowledged by a commander."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query
from geoalchemy2.shape import to_shape

from api.access import requires
from api.deps import CurrentActor, LimitDep, SessionDep
from api.schemas.alerts import AlertPublic, AlertsPublic
from layers.accounts.roles import Permission
from layers.geofence import alerts
from layers.geofence.alerts import AlertState
from layers.geofence.models import GeofenceAlert
from layers.perimeters.rings import RING_TITLES, RingKind

PERIMETER_READERS = requires(Permission.PERIMETERS_READ)
ALERT_ACKERS = requires(Permission.ALERTS_ACK)
router = APIRouter(prefix="/api/alerts", tags=["alerts"])
AlertId = Annotated[int, Path(ge=1, le=2**63 - 1, description="id of the alert")]
Id = Annotated[int | None, Query(ge=1, le=2**63 - 1)]


def to_public(alert: GeofenceAlert) -> AlertPublic:
    """Return an alert as clients read it."""
    lon, lat = to_shape(alert.geom).coords[0]
    return AlertPublic(
        id=alert.id, kind=alert.kind, perimeter_id=alert.perimeter_id,
        perimeter_name=alert.perimeter_name, ring=alert.ring,
        ring_title=RING_TITLES[RingKind(alert.ring)], layer=alert.layer,
        feature_id=alert.feature_id, feature_name=alert.feature_name, lon=lon, lat=lat,
        at=alert.at, since=alert.since, state=AlertState(alert.state),
        acknowledged_at=alert.acknowledged_at, acknowledged_by=alert.acknowledged_by_name,
    )  # fmt: skip


@router.get("", dependencies=[Depends(PERIMETER_READERS)])
def list_alerts(
    session: SessionDep, actor: CurrentActor, limit: LimitDep, state: AlertState | None = None,
    perimeter_id: Id = None, layer: Literal["vehicles", "incidents"] | None = None,
    feature_id: Id = None,
) -> AlertsPublic:  # fmt: skip
    """Return the geofence alerts of perimeters reaching into your jurisdiction, newest first."""
    found = alerts.list_alerts(session=session, actor=actor, state=state, limit=limit,
                               perimeter_id=perimeter_id, layer=layer,
                               feature_id=feature_id)  # fmt: skip
    return AlertsPublic(data=[to_public(a) for a in found], count=len(found))


@router.post("/{alert_id}/ack", dependencies=[Depends(ALERT_ACKERS)])
def acknowledge_alert(alert_id: AlertId, session: SessionDep, actor: CurrentActor) -> AlertPublic:
    """Acknowledge an open alert (commanders); a second acknowledgement is a 409."""
    return to_public(alerts.acknowledge_alert(session=session, alert_id=alert_id, actor=actor))
