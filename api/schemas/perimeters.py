"""Schemas of perimeters: rings as drawn, the perimeter written and read, its versions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from api.schemas.features import GeoJSONGeometry
from api.schemas.values import Instant
from layers.perimeters.rings import RingDraft, RingKind
from layers.perimeters.service import PerimeterDraft


class RingIn(BaseModel):
    """One ring: a drawn ``polygon``; a shape (``around``) grown by ``buffer_m`` metres; or
    the core grown by ``around_core_m`` metres. Coordinates are WGS84."""

    model_config = ConfigDict(extra="forbid")

    kind: RingKind
    polygon: GeoJSONGeometry | None = None
    around: GeoJSONGeometry | None = None
    buffer_m: float | None = None
    around_core_m: float | None = None

    @model_validator(mode="after")
    def _one_way(self) -> RingIn:
        ways = [self.polygon is not None, self.around is not None, self.around_core_m is not None]
        if sum(ways) != 1:
            raise ValueError("give one of polygon, around (+buffer_m) or around_core_m")
        if (self.around is None) != (self.buffer_m is None):
            raise ValueError("around and buffer_m go together")
        return self

    def to_domain(self) -> RingDraft:
        """Return the domain's draft of the ring."""
        if self.polygon is not None:
            return RingDraft(self.kind, self.polygon.to_shape())
        if self.around is not None:
            return RingDraft(self.kind, self.around.to_shape(), self.buffer_m)
        return RingDraft(self.kind, None, self.around_core_m)


class PerimeterIn(BaseModel):
    """A perimeter, whole: name, linked activity, time window, one to three rings."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    activity_id: int | None = Field(default=None, ge=1)
    starts_at: Instant
    ends_at: Instant
    rings: list[RingIn] = Field(min_length=1, max_length=3)

    def to_domain(self) -> PerimeterDraft:
        """Return the domain's draft of the perimeter."""
        return PerimeterDraft(
            name=self.name, starts_at=self.starts_at, ends_at=self.ends_at,
            rings=[r.to_domain() for r in self.rings], activity_id=self.activity_id,
        )  # fmt: skip


class RingPublic(BaseModel):
    """A ring as stored: how it was drawn, its shape (vertices along geodesics), its area."""

    kind: RingKind
    title: str
    drawn: dict[str, Any]
    area_m2: float
    geometry: dict[str, Any]


class PerimeterPublic(BaseModel):
    """A perimeter as clients read it (its ETag is ``version``)."""

    id: int
    name: str
    activity_id: int | None
    starts_at: datetime
    ends_at: datetime
    version: int
    created_at: datetime
    updated_at: datetime
    rings: list[RingPublic]


class PerimetersPublic(BaseModel):
    """Perimeters, newest first."""

    data: list[PerimeterPublic]
    count: int


class VersionPublic(BaseModel):
    """A kept version: who saved it when, and the perimeter as it was (``content``)."""

    version: int
    saved_at: datetime
    saved_by: str
    content: dict[str, Any] | None = None


class VersionsPublic(BaseModel):
    """Every kept version of a perimeter, oldest first (without their content)."""

    data: list[VersionPublic]
    count: int
