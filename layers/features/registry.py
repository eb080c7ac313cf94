"""The layer registry: one description of every feature layer for API, tiles and UI."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Literal

from layers.base import Feature
from layers.crypto.personal import PersonalKind
from layers.errors import NotFound
from layers.features import models

GeometryType = Literal["Point", "MultiLineString", "MultiPolygon"]


class AttrType(StrEnum):
    """Value types an attribute can hold, as the API and importers see them."""

    STRING = "string"
    INTEGER = "integer"
    BOOLEAN = "boolean"
    DATE = "date"
    DATETIME = "datetime"
    STRING_LIST = "string[]"


@dataclass(frozen=True)
class Attribute:
    """One typed attribute of a layer."""

    name: str
    type: AttrType
    title: str
    required: bool = False
    tile: bool = False
    choices: tuple[str, ...] | None = None
    minimum: int | None = None
    maximum: int | None = None
    max_length: int | None = None
    # personal information: sealed at rest, masked when read, matched by blind index
    personal: PersonalKind | None = None


@dataclass(frozen=True)
class TimeExtent:
    """When a feature is: from attribute ``start`` to ``end`` (an instant if there is no end)."""

    start: str
    end: str | None = None


@dataclass(frozen=True)
class LayerSpec:
    """What a layer is: id, Chinese title, geometry type, attributes and its ORM model."""

    id: str
    title: str
    geometry_type: GeometryType
    model: type[Feature]
    attributes: tuple[Attribute, ...]
    min_zoom: int = 0
    max_zoom: int = 22
    point_zoom: int = 0
    searchable: tuple[str, ...] = ("name",)
    time: TimeExtent | None = None  # None: a datetime filter reads the last change, updated_at
    extra: dict[str, str] = field(default_factory=dict)

    def attribute(self, name: str) -> Attribute:
        """Return the attribute called ``name`` or raise ``NotFound``."""
        for attribute in self.attributes:
            if attribute.name == name:
                return attribute
        raise NotFound(f"layer {self.id!r} has no attribute {name!r}", layer=self.id)

    @property
    def table(self) -> str:
        """Return the database table of this layer."""
        return str(self.model.__tablename__)  # type: ignore[attr-defined]


S, INT, B, D, DT, SL = (
    AttrType.STRING,
    AttrType.INTEGER,
    AttrType.BOOLEAN,
    AttrType.DATE,
    AttrType.DATETIME,
    AttrType.STRING_LIST,
)

NAME = Attribute("name", S, "名称", required=True, tile=True, max_length=200)
UNIT_CATEGORIES = (
    "company", "school", "hospital", "mall", "hotel", "gas_station",
    "bank", "government", "transit_operator", "factory",
)  # fmt: skip
INCIDENT_CATEGORIES = (
    "theft", "fight", "fraud", "traffic", "fire", "dispute", "missing_person", "other",
)  # fmt: skip
VEHICLE_KINDS = ("taxi", "rental", "bus", "tour_bus", "police")
# Roads of the base map: the demo's ring roads and expressways, or bus routes standing for
# the road network where no road data exists (bus_line_stops_2012: one line per route).
ROAD_KINDS = ("expressway", "ring_road", "arterial", "bus_route")


def _boundary(layer_id: str, title: str, model: type[Feature]) -> LayerSpec:
    return LayerSpec(
        id=layer_id,
        title=title,
        geometry_type="MultiPolygon",
        model=model,
        attributes=(
            NAME,
            Attribute("code", S, "编码", required=True, tile=True, max_length=32),
            Attribute("parent_code", S, "上级编码", max_length=32),
        ),
        searchable=("name", "code"),
    )


_SPECS: tuple[LayerSpec, ...] = (
    LayerSpec(
        "units", "单位", "Point", models.Unit,
        (
            NAME,
            Attribute("category", S, "类别", required=True, tile=True, choices=UNIT_CATEGORIES),
            Attribute("credit_code", S, "统一社会信用代码", max_length=18),
            Attribute("address", S, "地址", max_length=300),
            Attribute("risk_level", INT, "风险等级", tile=True, minimum=1, maximum=4),
            Attribute("is_key_unit", B, "重点单位", tile=True),
            Attribute("contact_name", S, "联系人", max_length=64, personal="name"),
            Attribute("contact_phone", S, "联系电话", max_length=32, personal="phone"),
        ),
        point_zoom=12, searchable=("name", "address", "credit_code"),
    ),
    LayerSpec(
        "parks", "景区/公园", "MultiPolygon", models.Park,
        (
            NAME,
            Attribute("kind", S, "类型", tile=True, choices=("park", "scenic_spot")),
            Attribute("capacity", INT, "最大承载量", tile=True, minimum=0),
            Attribute("daily_capacity", INT, "日最大承载量", minimum=0),
            Attribute("grade", S, "等级", tile=True, choices=("5A", "4A", "3A", "2A", "1A")),
            Attribute("opening_hours", S, "开放时间", max_length=64),
        ),
    ),
    LayerSpec(
        "rail_stations", "轨道交通站", "Point", models.RailStation,
        (
            NAME,
            Attribute("code", S, "站点编码", tile=True, max_length=32),
            Attribute("lines", SL, "线路", tile=True),
        ),
        searchable=("name", "code"),
    ),
    LayerSpec(
        "bus_stations", "公交站", "Point", models.BusStation,
        (
            NAME,
            Attribute("code", S, "站点编码", max_length=32),
            Attribute("lines", SL, "线路", tile=True),
        ),
        point_zoom=13, searchable=("name", "code"),
    ),
    LayerSpec(
        "construction_sites", "工地", "MultiPolygon", models.ConstructionSite,
        (
            NAME,
            Attribute("project", S, "项目", max_length=200),
            Attribute("contractor", S, "施工单位", max_length=200),
            Attribute("is_rail", B, "轨建工地", tile=True),
            Attribute("starts_on", D, "开工日期", tile=True),
            Attribute("ends_on", D, "竣工日期"),
        ),
        time=TimeExtent("starts_on", "ends_on"),
    ),
    LayerSpec(
        "key_station_areas", "重点站区", "MultiPolygon", models.KeyStationArea,
        (
            NAME,
            Attribute("station", S, "车站", max_length=200),
            Attribute("level", INT, "等级", tile=True, minimum=1, maximum=3),
        ),
    ),
    LayerSpec(
        "incidents", "警情", "Point", models.Incident,
        (
            NAME,
            Attribute("category", S, "类别", required=True, tile=True, choices=INCIDENT_CATEGORIES),
            Attribute("level", INT, "等级", tile=True, minimum=1, maximum=4),
            Attribute(
                "status", S, "状态", tile=True, choices=("open", "handling", "closed"),
            ),
            Attribute("occurred_at", DT, "发生时间", required=True, tile=True),
        ),
        point_zoom=10, time=TimeExtent("occurred_at"),
    ),
    LayerSpec(
        "vehicles", "车辆", "Point", models.Vehicle,
        (
            NAME,
            Attribute("plate", S, "车牌", required=True, tile=True, max_length=16),
            Attribute("kind", S, "类型", required=True, tile=True, choices=VEHICLE_KINDS),
            Attribute("position_at", DT, "定位时间", tile=True),
        ),
        searchable=("name", "plate"), time=TimeExtent("position_at"),
    ),
    _boundary("districts", "分局辖区", models.District),
    _boundary("precincts", "派出所辖区", models.Precinct),
    # Base-map layers (core/basemap.js draws them under the districts' names).
    LayerSpec(
        "water", "水系", "MultiPolygon", models.Water,
        (NAME, Attribute("kind", S, "类型", tile=True, choices=("lake", "reservoir", "river"))),
    ),
    LayerSpec(
        "rail_lines", "轨道交通线", "MultiLineString", models.RailLine,
        (
            NAME,
            Attribute("code", S, "线路编码", tile=True, max_length=32),
            Attribute("colour", S, "线路颜色", tile=True, max_length=7),
        ),
        searchable=("name", "code"),
    ),
    LayerSpec(
        "roads", "道路", "MultiLineString", models.Road,
        (
            NAME,
            Attribute("code", S, "编号", max_length=32),
            Attribute("kind", S, "类型", tile=True, choices=ROAD_KINDS),
        ),
    ),
)  # fmt: skip

REGISTRY: dict[str, LayerSpec] = {spec.id: spec for spec in _SPECS}


def get_layer(layer_id: str) -> LayerSpec:
    """Return the layer called ``layer_id`` or raise ``NotFound`` naming the known layers."""
    try:
        return REGISTRY[layer_id]
    except KeyError:
        known = ", ".join(REGISTRY)
        raise NotFound(f"unknown layer {layer_id!r}; known layers: {known}") from None


def all_layers() -> tuple[LayerSpec, ...]:
    """Return every layer in display order."""
    return _SPECS
