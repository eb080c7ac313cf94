"""Schemas of map selections (ids, box, lasso, radius) and of the actions taken on them."""

from __future__ import annotations

import math

from pydantic import BaseModel, ConfigDict, Field, model_validator
from shapely.geometry import Point, box
from shapely.geometry.base import BaseGeometry

from api.schemas.actions import NoticeTemplateIn, TaskTemplateIn
from api.schemas.features import GeoJSONGeometry
from layers.features.selection import MAX_IDS, Selection
from layers.features.spatial import Region
from layers.perimeters.rings import RingKind

Coordinate = tuple[float, float]


class MapSelectionIn(BaseModel):
    """What was picked on the map: ``ids`` per layer (clicks), or everything in a ``box``
    ``[minx, miny, maxx, maxy]``, a ``lasso`` polygon or within ``radius_m`` of a ``point``;
    over ``layers``, narrowed by attribute ``filters`` per layer."""

    model_config = ConfigDict(extra="forbid")

    layers: list[str] = Field(min_length=1, max_length=20)
    ids: dict[str, list[int]] | None = Field(default=None, max_length=20)
    box: tuple[float, float, float, float] | None = None
    lasso: GeoJSONGeometry | None = None
    point: Coordinate | None = None
    radius_m: float | None = Field(default=None, gt=0)
    filters: dict[str, dict[str, str]] = Field(
        default_factory=dict, max_length=20,
        description='Per layer, as a feature listing\'s: {"units": {"risk_level": "3..4"}}.',
    )  # fmt: skip

    @model_validator(mode="after")
    def _one_way(self) -> MapSelectionIn:
        given = [self.ids is not None, self.box is not None, self.lasso is not None,
                 self.point is not None]  # fmt: skip
        if sum(given) != 1:
            raise ValueError("select by one of ids, box, lasso or point (+radius_m)")
        if (self.point is None) != (self.radius_m is None):
            raise ValueError("point and radius_m go together")
        if self.lasso is not None and self.lasso.type not in ("Polygon", "MultiPolygon"):
            raise ValueError(f"a lasso is a Polygon, got {self.lasso.type}")
        if self.box is not None:
            minx, miny, maxx, maxy = self.box
            if not all(map(math.isfinite, self.box)) or minx >= maxx or miny >= maxy:
                raise ValueError("box must be finite [minx, miny, maxx, maxy], min below max")
        if any(len(ids) > MAX_IDS for ids in (self.ids or {}).values()):
            raise ValueError(f"at most {MAX_IDS:,} ids a layer")
        return self

    def shape(self) -> tuple[BaseGeometry, float | None] | None:
        """Return the region's shape and its radius in metres (None: a selection by ids)."""
        if self.box is not None:
            return box(*self.box), None
        if self.lasso is not None:
            return self.lasso.to_shape(), None
        if self.point is not None:
            return Point(self.point), self.radius_m
        return None

    def to_domain(self, region: Region | None) -> Selection:
        """Return the domain's selection over ``region`` (built from ``shape()``)."""
        return Selection(layers=tuple(self.layers), region=region, ids=self.ids or {},
                         filters=self.filters)  # fmt: skip


class SelectionQuery(MapSelectionIn):
    """A selection to resolve: per layer the count and up to ``limit`` ids."""

    limit: int = Field(default=5_000, ge=0, le=10_000)


class SelectedLayer(BaseModel):
    """One layer of a selection: the exact count and the ids (smallest first)."""

    count: int
    ids: list[int]
    truncated: bool


class SelectionPublic(BaseModel):
    """A resolved selection: per layer, and how many features in all."""

    layers: dict[str, SelectedLayer]
    count: int


class SelectionTasks(BaseModel):
    """Tasks about every feature of a selection."""

    model_config = ConfigDict(extra="forbid")

    selection: MapSelectionIn
    task: TaskTemplateIn


class SelectionNotice(BaseModel):
    """A notice to every unit of a selection."""

    model_config = ConfigDict(extra="forbid")

    selection: MapSelectionIn
    notice: NoticeTemplateIn


class SelectionExport(BaseModel):
    """The features of a selection, to download."""

    model_config = ConfigDict(extra="forbid")

    selection: MapSelectionIn


class SelectionRing(BaseModel):
    """A box, lasso or radius selection's shape, added to a perimeter as its ring ``kind``."""

    model_config = ConfigDict(extra="forbid")

    selection: MapSelectionIn
    perimeter_id: int = Field(ge=1)
    kind: RingKind
