"""Roads and the rail network of the demo city: ring and radial roads, lines with ordered stations.

Station spacing is planned in a flat kilometre frame (degrees scaled at 40°N), which is
accurate to a few per cent across the city; that is all a plausible spacing needs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from itertools import pairwise

import numpy as np
import numpy.typing as npt
import shapely
from shapely.geometry import LineString, Point

from layers.demo.geography import (
    LANDMARKS,
    M_PER_DEG_LAT,
    M_PER_DEG_LON,
    RADIALS,
    RAIL_LINES,
    RAILWAY_STATIONS,
    RING_CENTRE,
    RINGS,
)
from layers.demo.names import unique_place_names

KM_PER_DEG_LAT = M_PER_DEG_LAT / 1000.0
KM_PER_DEG_LON = M_PER_DEG_LON / 1000.0
_MERGE_KM = 0.7  # crossings closer than this share one transfer station
_RAILWAY_REACH_KM = 0.4  # a railway station serves the lines passing this close
_LANDMARK_KM = 0.6  # a station takes a landmark's name when this close
_MAX_GAP_KM = 2.4


@dataclass(frozen=True)
class Road:
    """A named road polyline."""

    name: str
    geom: LineString


@dataclass
class Station:
    """A rail station: where it is, which lines stop there and its name."""

    lon: float
    lat: float
    lines: set[int] = field(default_factory=set)
    name: str | None = None


@dataclass(frozen=True)
class RailNetwork:
    """Stations (transfer stations once) and, per line, its station indices in travel order."""

    stations: list[Station]
    order: list[list[int]]


def roads() -> list[Road]:
    """Return the ring roads (as rounded rectangles) and the radial roads."""
    t = np.linspace(0.0, 2.0 * math.pi, 97)
    # A superellipse of power 4 looks like a ring road: straight sides, round corners.
    cos, sin = np.cos(t), np.sin(t)
    shape_x = np.sign(cos) * np.abs(cos) ** 0.5
    shape_y = np.sign(sin) * np.abs(sin) ** 0.5
    rings = [
        Road(name, LineString(np.column_stack([RING_CENTRE[0] + a * shape_x,
                                               RING_CENTRE[1] + b * shape_y])))
        for name, a, b in RINGS
    ]  # fmt: skip
    return rings + [Road(name, LineString(path)) for name, path in RADIALS]


def _line_km(line: LineString) -> LineString:
    return LineString(np.asarray(line.coords) * [KM_PER_DEG_LON, KM_PER_DEG_LAT])


def _point_km(lon: float, lat: float) -> Point:
    return Point(lon * KM_PER_DEG_LON, lat * KM_PER_DEG_LAT)


def _km(a: tuple[float, float], b: tuple[float, float]) -> float:
    return math.hypot((a[0] - b[0]) * KM_PER_DEG_LON, (a[1] - b[1]) * KM_PER_DEG_LAT)


def build_rail(rng: np.random.Generator) -> RailNetwork:
    """Return the rail network: stations 1-2 km apart, shared where lines cross."""
    geoms = [LineString((*s.path, s.path[0]) if s.loop else s.path) for s in RAIL_LINES]
    stations = _hubs(geoms)
    order: list[list[int]] = []
    for i, (spec, geom) in enumerate(zip(RAIL_LINES, geoms, strict=True)):
        line_km = _line_km(geom)
        length = line_km.length

        def add(at: float, line: int = i, on: LineString = line_km) -> tuple[float, int]:
            point = on.interpolate(at)
            stations.append(Station(point.x / KM_PER_DEG_LON, point.y / KM_PER_DEG_LAT, {line}))
            return at, len(stations) - 1

        anchors = sorted(
            (line_km.project(_point_km(s.lon, s.lat)), k)
            for k, s in enumerate(stations)
            if i in s.lines
        )
        if not spec.loop:
            # Termini, unless a transfer station already sits near the end of the line.
            if not anchors or anchors[0][0] > _MERGE_KM:
                anchors.insert(0, add(0.0))
            if length - anchors[-1][0] > _MERGE_KM:
                anchors.append(add(length))
        pairs = list(pairwise(anchors))
        if spec.loop:
            pairs.append((anchors[-1], (anchors[0][0] + length, anchors[0][1])))
        stops = list(anchors)
        for (start, _), (end, _) in pairs:
            spacing = min(spec.spacing_m / 1000.0 * rng.uniform(0.85, 1.15), _MAX_GAP_KM)
            count = max(1, math.ceil((end - start) / spacing))
            step = (end - start) / count
            for j in range(1, count):
                stops.append(add((start + step * (j + rng.uniform(-0.08, 0.08))) % length))
        order.append([k for _, k in sorted(stops)])
    _name(stations, rng)
    return RailNetwork(stations=stations, order=order)


def _hubs(geoms: list[LineString]) -> list[Station]:
    """Return transfer stations at line crossings and the big railway stations, merged."""
    found: list[Station] = []
    for name, lon, lat in RAILWAY_STATIONS:
        here = Point(lon, lat)
        near = {
            i for i, g in enumerate(geoms)
            if _km((lon, lat), _xy(g.interpolate(g.project(here)))) < _RAILWAY_REACH_KM
        }  # fmt: skip
        found.append(Station(lon, lat, near, name))
    for i, a in enumerate(geoms):
        for j in range(i + 1, len(geoms)):
            for part in shapely.get_parts(shapely.intersection(a, geoms[j])):
                if isinstance(part, Point):
                    found.append(Station(part.x, part.y, {i, j}))
    merged: list[Station] = []
    for hub in found:
        twin = next(
            (m for m in merged if _km((m.lon, m.lat), (hub.lon, hub.lat)) < _MERGE_KM), None
        )
        if twin is None:
            merged.append(hub)
        else:
            twin.lines |= hub.lines
    return [m for m in merged if m.lines]


def _xy(point: Point) -> tuple[float, float]:
    return (point.x, point.y)


def _name(stations: list[Station], rng: np.random.Generator) -> None:
    """Name stations after the nearest unused landmark, or a made-up place."""
    taken = {name for name, _, _ in LANDMARKS} | {s.name for s in stations if s.name}
    used: set[str] = set()
    marks = np.array([(lon, lat) for _, lon, lat in LANDMARKS])
    # Transfer stations first: they deserve the famous names.
    for station in sorted(stations, key=lambda s: -len(s.lines)):
        if station.name:
            continue
        d_km = np.hypot(
            (marks[:, 0] - station.lon) * KM_PER_DEG_LON,
            (marks[:, 1] - station.lat) * KM_PER_DEG_LAT,
        )
        for k in np.argsort(d_km):
            if d_km[k] > _LANDMARK_KM:
                break
            if LANDMARKS[k][0] not in used:
                station.name = LANDMARKS[k][0]
                used.add(station.name)
                break
        if station.name is None:
            station.name = unique_place_names(rng, 1, taken)[0]


def station_points(network: RailNetwork) -> npt.NDArray[np.object_]:
    """Return the stations as shapely points."""
    return np.asarray(shapely.points([(s.lon, s.lat) for s in network.stations]), dtype=object)
