"""Schemas of check-ins on site."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from geoalchemy2.shape import to_shape
from pydantic import BaseModel, ConfigDict, Field
from shapely.geometry import Point

from api.schemas.values import Instant
from layers.features.registry import get_layer
from layers.fieldwork.checkins import NewCheckIn
from layers.fieldwork.models import CheckIn

Longitude = Annotated[float, Field(ge=-180, le=180, allow_inf_nan=False)]
Latitude = Annotated[float, Field(ge=-90, le=90, allow_inf_nan=False)]


class CheckInCreate(BaseModel):
    """An officer's position at a feature, from the phone (WGS84, as GPS gives it)."""

    model_config = ConfigDict(extra="forbid")

    layer: str = Field(default="units", max_length=32)
    feature_id: int = Field(ge=1, lt=2**63)
    position: tuple[Longitude, Latitude] = Field(description="lon, lat (WGS84)")
    accuracy_m: float | None = Field(default=None, ge=0, le=100_000)
    client_at: Instant | None = Field(default=None, description="When the phone made it")

    def to_domain(self) -> NewCheckIn:
        """Return the domain's new check-in (404 for an unknown layer)."""
        lon, lat = self.position
        return NewCheckIn(spec=get_layer(self.layer), feature_id=self.feature_id,
                          position=Point(lon, lat), accuracy_m=self.accuracy_m,
                          client_at=self.client_at)  # fmt: skip


class CheckInPublic(BaseModel):
    """A check-in as clients read it."""

    id: int
    layer: str
    feature_id: int
    username: str
    position: tuple[float, float]
    distance_m: float
    accuracy_m: float | None
    client_at: datetime | None
    at: datetime

    @classmethod
    def of(cls, check: CheckIn) -> CheckInPublic:
        """Return the public form of a stored check-in."""
        lon, lat = to_shape(check.geom).coords[0]
        return cls(id=check.id, layer=check.layer, feature_id=check.feature_id,
                   username=check.username, position=(lon, lat),
                   distance_m=round(check.distance_m, 1), accuracy_m=check.accuracy_m,
                   client_at=check.client_at, at=check.at)  # fmt: skip


class CheckInsPublic(BaseModel):
    """Check-ins at a feature, newest first."""

    data: list[CheckInPublic]
    count: int


class FeatureIdsPublic(BaseModel):
    """Ids of features of one layer, smallest first."""

    ids: list[int]
    count: int
