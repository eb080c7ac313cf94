"""Schemas of vehicle tracks: a feed's batch of positions, what it did, a track as lines."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from layers.tracks.batch import Position
from layers.values import storable_instant


class PositionIn(BaseModel):
    """One GPS position: WGS84 degrees, km/h, degrees clockwise from north (0 to below 360)."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    vehicle_id: int = Field(ge=1, le=2**63 - 1)
    at: AwareDatetime
    lon: float
    lat: float
    speed_kmh: float | None = None
    heading_deg: float | None = None

    def to_domain(self, index: int) -> Position:
        """Return the domain's position (its instant in UTC)."""
        return Position(self.vehicle_id, storable_instant(self.at, f"positions[{index}].at"),
                        self.lon, self.lat, self.speed_kmh, self.heading_deg)  # fmt: skip


class TrackBatchIn(BaseModel):
    """A feed's batch: positions of any vehicles, in any order (resent ones are no-ops)."""

    model_config = ConfigDict(extra="forbid")

    positions: list[PositionIn] = Field(min_length=1)

    def to_domain(self) -> list[Position]:
        """Return the domain's positions, in the batch's order."""
        return [p.to_domain(i) for i, p in enumerate(self.positions)]


class IngestPublic(BaseModel):
    """What a batch did: positions received and newly stored (the rest were resent), the
    vehicles it names and how many moved to a newer position, the alerts it raised."""

    received: int
    stored: int
    vehicles: int
    moved: int
    alert_ids: list[int]


class TrackProperties(BaseModel):
    """A track's vehicle, window, and a time per vertex (nested as the coordinates are)."""

    vehicle_id: int
    name: str
    plate: str
    since: datetime
    until: datetime
    positions: int = Field(description="Positions in the window.")
    thinned: bool = Field(description="Whether the line shows fewer (every k-th, ends kept).")
    times: list[datetime] | list[list[datetime]]


class TrackPublic(BaseModel):
    """A vehicle's track as a GeoJSON Feature: a LineString, a MultiLineString where the
    feed fell silent, or no geometry for a window without positions."""

    type: Literal["Feature"] = "Feature"
    id: int
    geometry: dict[str, Any] | None
    properties: TrackProperties
