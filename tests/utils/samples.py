"""Valid properties and geometry for a new feature of any layer."""

from __future__ import annotations

from typing import Any

from shapely import Geometry
from shapely.geometry import MultiLineString, MultiPolygon, Point, box

from layers.features.registry import LayerSpec

SAMPLE_PROPERTIES: dict[str, dict[str, Any]] = {
    "units": {"name": "测试单位", "category": "school", "risk_level": 3, "is_key_unit": True,
              "address": "东城区测试路1号", "contact_phone": "13800000000"},
    "parks": {"name": "测试公园", "kind": "park", "capacity": 5000, "grade": "4A"},
    "rail_stations": {"name": "测试站", "code": "9901", "lines": ["99号线"]},
    "bus_stations": {"name": "测试公交站", "lines": "1路,2路"},
    "construction_sites": {"name": "测试工地", "is_rail": True, "starts_on": "2026-11-01"},
    "key_station_areas": {"name": "测试站区", "station": "测试站", "level": 2},
    "incidents": {"name": "测试警情", "category": "theft", "level": 2, "status": "open",
                  "occurred_at": "2026-11-24T08:00:00+08:00"},
    "vehicles": {"name": "京A·T0001", "plate": "京A·T0001", "kind": "taxi"},
    "districts": {"name": "测试分局", "code": "T-D-1"},
    "precincts": {"name": "测试派出所", "code": "T-P-1"},
    "water": {"name": "测试湖", "kind": "lake"},
    "rail_lines": {"name": "测试线", "code": "99", "colour": "#C23A30"},
    "roads": {"name": "测试路", "kind": "arterial"},
}  # fmt: skip


def sample_geometry(spec: LayerSpec, lon: float, lat: float) -> Geometry:
    """Return a geometry of the layer's type at (or around) ``lon, lat``."""
    if spec.geometry_type == "Point":
        return Point(lon, lat)
    if spec.geometry_type == "MultiLineString":
        return MultiLineString([[(lon - 0.001, lat), (lon + 0.001, lat + 0.0005)]])
    return MultiPolygon([box(lon - 0.001, lat - 0.001, lon + 0.001, lat + 0.001)])
