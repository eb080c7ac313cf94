"""Base-map layers of the demo city: its rail lines in their colours, its roads, its water.

Lines come from the same geography as the stations and the simulator's roads
(``layers.demo.geography``, ``layers.demo.network``); water is the city's main lakes,
reservoirs and rivers at their rough real places, as simple shapes. The demo draws its own
base map on a machine with nothing but the repository.
"""

from __future__ import annotations

import numpy as np
import shapely
from shapely import affinity
from shapely.geometry import LineString, MultiLineString, MultiPolygon, Point, Polygon
from shapely.geometry.base import BaseGeometry

from layers.demo.boundaries import GRID_DEG
from layers.demo.data import LayerData
from layers.demo.geography import RAIL_LINES, RINGS
from layers.demo.names import STR
from layers.demo.network import roads

# The lines' official colours (the Beijing subway's own, as its GTFS routes.txt gives them).
RAIL_COLOURS = {
    "01": "#C23A30", "02": "#006098", "04": "#008E9C", "05": "#A6217F", "06": "#D29700",
    "08": "#009B6B", "09": "#8FC31F", "10": "#009BC0", "13": "#F9E700", "YZ": "#E40077",
    "CP": "#DE82B2", "FS": "#E46022", "AE": "#A29BBB",
}  # fmt: skip
_RING_NAMES = {name for name, _, _ in RINGS}


def rail_line_layer() -> LayerData:
    """Return one line per rail line, along the path its stations were placed on (loops closed)."""
    geoms = [
        MultiLineString([(*spec.path, spec.path[0]) if spec.loop else spec.path])
        for spec in RAIL_LINES
    ]
    return LayerData("rail_lines", np.array(geoms, dtype=object), {
        "external_id": np.array([f"L{spec.code}" for spec in RAIL_LINES], dtype=STR),
        "name": np.array([spec.name for spec in RAIL_LINES], dtype=STR),
        "code": np.array([spec.code for spec in RAIL_LINES], dtype=STR),
        "colour": np.array([RAIL_COLOURS[spec.code] for spec in RAIL_LINES], dtype=STR),
    })  # fmt: skip


def road_layer() -> LayerData:
    """Return the ring roads and the radial roads the simulator's vehicles drive along."""
    network = roads()
    kinds = [
        "ring_road" if road.name in _RING_NAMES
        else "expressway" if "高速" in road.name or "快速" in road.name
        else "arterial"
        for road in network
    ]  # fmt: skip
    geoms = np.array([MultiLineString([road.geom]) for road in network], dtype=object)
    return LayerData("roads", geoms, {
        "external_id": np.array([f"R{i + 1:03d}" for i in range(len(network))], dtype=STR),
        "name": np.array([road.name for road in network], dtype=STR),
        "code": np.array([f"{i + 1:03d}" for i in range(len(network))], dtype=STR),
        "kind": np.array(kinds, dtype=STR),
    })  # fmt: skip


# name, kind, centre (lon, lat), half-axes (lon, lat) in degrees: rough real outlines
_LAKES = (
    ("昆明湖", "lake", (116.2655, 39.9945), (0.0075, 0.0095)),
    ("玉渊潭", "lake", (116.3165, 39.9195), (0.0045, 0.0020)),
    ("什刹海", "lake", (116.3895, 39.9395), (0.0040, 0.0022)),
    ("北海", "lake", (116.3875, 39.9255), (0.0025, 0.0040)),
    ("中南海", "lake", (116.3825, 39.9105), (0.0020, 0.0055)),
    ("十三陵水库", "reservoir", (116.2550, 40.2450), (0.0200, 0.0070)),
    ("怀柔水库", "reservoir", (116.6100, 40.3200), (0.0280, 0.0110)),
    ("密云水库", "reservoir", (116.9800, 40.5200), (0.1100, 0.0550)),
)
# name, path: rough real courses, drawn ~250 m wide
_RIVERS = (
    ("永定河", ((115.78, 40.10), (115.95, 40.02), (116.10, 39.96), (116.17, 39.88),
             (116.21, 39.85), (116.25, 39.75), (116.30, 39.62), (116.38, 39.48))),
    ("潮白河", ((116.95, 40.46), (116.80, 40.30), (116.72, 40.15), (116.75, 40.00),
             (116.83, 39.85), (116.90, 39.70))),
    ("温榆河", ((116.25, 40.18), (116.40, 40.10), (116.52, 40.02), (116.62, 39.95),
             (116.70, 39.90))),
    ("北运河", ((116.70, 39.90), (116.75, 39.80), (116.85, 39.70))),
)  # fmt: skip
_RIVER_HALF_WIDTH_DEG = 0.00115  # of latitude: ~125 m
_EAST_SCALE = float(np.cos(np.radians(40.0)))  # a degree of longitude at 40°N, in latitude's


def _river(path: tuple[tuple[float, float], ...]) -> BaseGeometry:
    """Return a river's course as an area of even width (buffered in a flat frame)."""
    flat = affinity.scale(LineString(path), xfact=_EAST_SCALE, yfact=1.0, origin=(0, 0))
    area = flat.buffer(_RIVER_HALF_WIDTH_DEG, cap_style="flat")
    return affinity.scale(area, xfact=1.0 / _EAST_SCALE, yfact=1.0, origin=(0, 0))


def _multipolygon(geometry: BaseGeometry) -> MultiPolygon:
    parts = [p for p in shapely.get_parts(shapely.make_valid(geometry)) if isinstance(p, Polygon)]
    return MultiPolygon(parts)


def water_layer(outline: BaseGeometry) -> LayerData:
    """Return the lakes, reservoirs and rivers, each cut to the city's ``outline``."""
    shapes = [
        (name, kind, affinity.scale(Point(centre).buffer(1.0, 32), *axes))
        for name, kind, centre, axes in _LAKES
    ] + [(name, "river", _river(path)) for name, path in _RIVERS]
    kept = [
        (name, kind, _multipolygon(shapely.set_precision(shapely.intersection(geom, outline),
                                                         GRID_DEG)))
        for name, kind, geom in shapes
    ]  # fmt: skip
    kept = [(name, kind, geom) for name, kind, geom in kept if not geom.is_empty]
    return LayerData("water", np.array([geom for _, _, geom in kept], dtype=object), {
        "external_id": np.array([f"W{i + 1:03d}" for i in range(len(kept))], dtype=STR),
        "name": np.array([name for name, _, _ in kept], dtype=STR),
        "kind": np.array([kind for _, kind, _ in kept], dtype=STR),
    })  # fmt: skip
