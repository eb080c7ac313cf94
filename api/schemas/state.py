"""Schemas of the city at a past instant: GeoJSON collections of records, incidents, vehicles."""

from __future__ import annotations

from datetime import datetime
from typing import Generic, Literal, TypeVar

from pydantic import BaseModel, Field

P = TypeVar("P", bound=BaseModel)


class PointGeometry(BaseModel):
    """A GeoJSON point (WGS84 longitude, latitude)."""

    type: Literal["Point"] = "Point"
    coordinates: tuple[float, float]

    @classmethod
    def at(cls, lon: float | None, lat: float | None) -> PointGeometry | None:
        """Return the point at ``lon, lat`` (None where the place is unknown)."""
        return None if lon is None or lat is None else cls(coordinates=(lon, lat))


class PointFeature(BaseModel, Generic[P]):
    """A GeoJSON feature with a point and typed properties."""

    type: Literal["Feature"] = "Feature"
    id: int
    geometry: PointGeometry | None
    properties: P


class PointCollection(BaseModel, Generic[P]):
    """A GeoJSON FeatureCollection; ``truncated``: more than ``limit`` matched."""

    type: Literal["FeatureCollection"] = "FeatureCollection"
    features: list[PointFeature[P]]
    truncated: bool


class RecordThen(BaseModel):
    """A record open at the instant: its state then (``state``) and now."""

    kind: str
    topic: str
    title: str
    priority: int
    state: str
    state_now: str
    due_at: datetime | None
    overdue: bool = Field(description="due before the instant")
    opened_at: datetime
    level: int | None = Field(
        None, description="a hazard's level, 1 minor .. 4 major; None for other kinds"
    )


class IncidentThen(BaseModel):
    """An incident as it stood at the instant."""

    name: str
    category: str
    level: int
    status: str
    occurred_at: datetime
    changed_since: bool = Field(description="written since: rebuilt from the audit log")
    district_id: int | None = Field(None, description="its district (分局), None outside all")


class VehicleThen(BaseModel):
    """A vehicle at its last reported position before the instant."""

    name: str
    plate: str
    kind: str
    position_at: datetime
    speed_kmh: float | None
    heading_deg: float | None


class StatePublic(BaseModel):
    """What was open, and where, at ``at``."""

    at: datetime
    records: PointCollection[RecordThen]
    incidents: PointCollection[IncidentThen]
    vehicles: PointCollection[VehicleThen]
