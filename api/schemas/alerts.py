"""Schemas of geofence alerts."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from layers.geofence.alerts import AlertState


class AlertPublic(BaseModel):
    """A feature that entered or left a ring of a perimeter: where, when, acknowledged by whom."""

    id: int
    kind: str
    perimeter_id: int
    perimeter_name: str
    ring: str
    ring_title: str
    layer: str
    feature_id: int
    feature_name: str
    lon: float
    lat: float
    at: datetime
    since: datetime
    state: AlertState
    acknowledged_at: datetime | None
    acknowledged_by: str | None


class AlertsPublic(BaseModel):
    """Alerts, newest first."""

    data: list[AlertPublic]
    count: int
