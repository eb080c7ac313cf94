"""Schemas of tourism monitoring: counter batches, occupancy, points, relations, levels, flows."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from layers.tourism.counts import Reading
from layers.values import storable_instant, storable_text

Level = Literal["normal", "yellow", "orange", "red", "stop"]
Code = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")


class ReadingIn(BaseModel):
    """One reading of a counter: visitors in and out over the interval ending at ``at``."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    point: str = Code
    at: AwareDatetime
    entered: int = Field(alias="in", ge=0, le=2**31 - 1)
    exited: int = Field(alias="out", ge=0, le=2**31 - 1)

    def to_domain(self, index: int) -> Reading:
        """Return the domain's reading (its instant in UTC)."""
        at = storable_instant(self.at, f"readings[{index}].at")
        return Reading(self.point, at, self.entered, self.exited)


class CountBatchIn(BaseModel):
    """A counters' batch: readings of any points, in any order (resent ones are no-ops)."""

    model_config = ConfigDict(extra="forbid")

    readings: list[ReadingIn] = Field(min_length=1)

    def to_domain(self) -> list[Reading]:
        """Return the domain's readings, in the batch's order."""
        return [r.to_domain(i) for i, r in enumerate(self.readings)]


class CountsPublic(BaseModel):
    """What a batch did: readings received and newly stored (the rest were resent), the
    parks whose occupancy today changed, the alerts raised."""

    received: int
    stored: int
    parks: list[int]
    alert_ids: list[int]


class LevelsIn(BaseModel):
    """A park's thresholds in percent of capacity, rising."""

    model_config = ConfigDict(extra="forbid")

    yellow: int = Field(ge=1, le=200)
    orange: int = Field(ge=1, le=200)
    red: int = Field(ge=1, le=200)
    stop: int = Field(ge=1, le=200)


class LevelsPublic(LevelsIn):
    """A park's thresholds and their version (0: the defaults, not yet its own)."""

    version: int


class OccupancyPublic(BaseModel):
    """A park now: visitors inside against the instantaneous capacity, today's entries
    against the daily one, the levels reached, a forecast; ``deficit`` above zero flags
    exits exceeding entries (a counting error), shown beside an occupancy of zero."""

    park_id: int
    name: str
    kind: str | None
    grade: str | None
    capacity: int
    daily_capacity: int | None
    entered: int
    exited: int
    visitors: int
    deficit: int
    ratio: float | None
    daily_ratio: float | None
    level: Level
    daily_level: Level
    levels: LevelsPublic
    forecast_30: float | None = Field(description="Visitors inside in 30 minutes.")
    forecast_60: float | None = Field(description="Visitors inside in 60 minutes.")


class OccupanciesPublic(BaseModel):
    """Every park you may see, now."""

    at: datetime
    data: list[OccupancyPublic]
    count: int


class CurvePublic(BaseModel):
    """A park's day in 5-minute buckets: visitors inside at each bucket's end."""

    park_id: int
    name: str
    day: date
    capacity: int
    buckets: list[datetime]
    entered: list[int]
    exited: list[int]
    visitors: list[int]
    short: list[bool] = Field(description="Exits exceeded entries by then (a data error).")
    forecast_30: float | None
    forecast_60: float | None


class PointIn(BaseModel):
    """A monitored point of a park (WGS84)."""

    model_config = ConfigDict(extra="forbid")

    park_id: int = Field(ge=1, le=2**63 - 1)
    code: str = Code
    name: str = Field(min_length=1, max_length=200)
    kind: Literal["gate", "counter", "camera", "spot"]
    counts: bool = True
    lon: float = Field(ge=-180, le=180)
    lat: float = Field(ge=-90, le=90)

    def clean_name(self) -> str:
        """Return the name if PostgreSQL can store it."""
        return storable_text(self.name, "name")


class PointPublic(BaseModel):
    """A point as GeoJSON."""

    type: Literal["Feature"] = "Feature"
    id: int
    geometry: dict[str, Any]
    properties: dict[str, Any]


class PointsPublic(BaseModel):
    """Points as a GeoJSON FeatureCollection."""

    type: Literal["FeatureCollection"] = "FeatureCollection"
    features: list[PointPublic]


class RelationIn(BaseModel):
    """A station or stop to tie to a park by hand."""

    model_config = ConfigDict(extra="forbid")

    layer: Literal["rail_stations", "bus_stations"]
    feature_id: int = Field(ge=1, le=2**63 - 1)


class RelatedPublic(BaseModel):
    """A feature related to a park: ``source`` is gate, computed or manual."""

    layer: str
    feature_id: int
    name: str
    distance_m: float | None
    source: str
    lon: float
    lat: float


class RelationsPublic(BaseModel):
    """A park's gates, then its stations and stops by distance."""

    park_id: int
    data: list[RelatedPublic]
    count: int


class AlertPublic(BaseModel):
    """A park's crossing into another level."""

    id: int
    park_id: int
    park_name: str
    basis: Literal["instant", "daily"]
    level: Level
    previous: Level
    visitors: int
    capacity: int
    ratio: float
    at: datetime


class AlertsPublic(BaseModel):
    """Alerts of parks you may see, newest first."""

    data: list[AlertPublic]
    count: int


class FlowIn(BaseModel):
    """Visitors from an origin to a park in the hour starting at ``at``: the origin is a park
    id, an H3 cell, a district code or a rail station id."""

    model_config = ConfigDict(extra="forbid")

    origin_kind: Literal["park", "h3", "district", "rail_station"]
    origin: str = Field(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9_-]+$")
    park_id: int = Field(ge=1, le=2**63 - 1)
    at: AwareDatetime
    volume: int = Field(ge=0, le=10_000_000)


class FlowBatchIn(BaseModel):
    """OD rows; a resent row (same origin, park and hour) replaces its volume."""

    model_config = ConfigDict(extra="forbid")

    flows: list[FlowIn] = Field(min_length=1)


class StationExitIn(BaseModel):
    """People who left a rail station in the hour starting at ``at`` (the hour it falls in)."""

    model_config = ConfigDict(extra="forbid")

    station_id: int = Field(ge=1, le=2**63 - 1)
    at: AwareDatetime
    exits: int = Field(ge=0, le=10_000_000)


class StationExitBatchIn(BaseModel):
    """Stations' hourly exits; a resent hour replaces its count."""

    model_config = ConfigDict(extra="forbid")

    exits: list[StationExitIn] = Field(min_length=1)


class ArcPublic(BaseModel):
    """An arc from an origin to a park (a GeoJSON LineString Feature, origin first); its
    ``source`` says whether a feed posted it or it was derived (tour buses, station exits)."""

    type: Literal["Feature"] = "Feature"
    geometry: dict[str, Any]
    properties: dict[str, Any]


class ArcsPublic(BaseModel):
    """The window's arcs, largest volume first."""

    type: Literal["FeatureCollection"] = "FeatureCollection"
    since: datetime
    until: datetime
    features: list[ArcPublic]


class ParkVehiclePublic(BaseModel):
    """A vehicle tied to a park (registered or inferred) at its last position; its route of
    the last hours is ``GET /api/vehicles/{vehicle_id}/track``."""

    vehicle_id: int
    name: str
    plate: str
    kind: str
    source: Literal["registered", "inferred"]
    since: datetime
    position_at: datetime | None
    lon: float
    lat: float


class ParkVehiclesPublic(BaseModel):
    """A park's vehicles, last seen first."""

    park_id: int
    data: list[ParkVehiclePublic]
    count: int


class VehicleIn(BaseModel):
    """A vehicle to tie to a park by hand."""

    model_config = ConfigDict(extra="forbid")

    vehicle_id: int = Field(ge=1, le=2**63 - 1)


class ActivityIn(BaseModel):
    """A special activity at a park (festival, holiday) and the attendance expected."""

    model_config = ConfigDict(extra="forbid")

    park_id: int = Field(ge=1, le=2**63 - 1)
    name: str = Field(min_length=1, max_length=200)
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    expected: int = Field(ge=0, le=10_000_000)


class ActivityPublic(BaseModel):
    """An activity with its park, and the attendance expected against the daily capacity."""

    id: int
    park_id: int
    park_name: str
    name: str
    starts_at: datetime
    ends_at: datetime
    expected: int
    expected_ratio: float | None
    version: int


class ActivitiesPublic(BaseModel):
    """Activities at parks you may see, by start."""

    data: list[ActivityPublic]
    count: int


class TopicMapIn(BaseModel):
    """A named map configuration: ``{"layers": [...], "filters": {layer: {...}},
    "view": {"center": [lon, lat], "zoom": z}}``."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    config: dict[str, Any]
    shared: bool = True


class TopicMapPublic(TopicMapIn):
    """A saved topic map with its owner and version."""

    id: int
    owner_id: int | None
    version: int
    updated_at: datetime


class TopicMapsPublic(BaseModel):
    """The shared topic maps and your own, by name."""

    data: list[TopicMapPublic]
    count: int
