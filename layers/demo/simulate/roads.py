"""The demo city's roads as a network to drive on: positions by distance along a road.

Distances are kilometres in the flat frame of ``layers.demo.network`` (degrees scaled
at 40°N, within a few per cent across the city), where the roads were drawn.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache

import numpy as np
from shapely.geometry import LineString, Point

from layers.demo.network import KM_PER_DEG_LAT, KM_PER_DEG_LON, roads

__all__ = ["Road", "city_roads", "nearest_road", "random_spot"]


@dataclass(frozen=True)
class Road:
    """A road of the demo city in kilometres, closed when it is a ring."""

    name: str
    line_km: LineString

    @property
    def length_km(self) -> float:
        """Return the road's length."""
        return float(self.line_km.length)

    @property
    def closed(self) -> bool:
        """Return whether the road is a loop (a ring road)."""
        return bool(self.line_km.is_closed)

    def at(self, distance_km: float) -> tuple[float, float, float]:
        """Return lon, lat and the heading (degrees from north) ``distance_km`` along it."""
        d = min(max(distance_km, 0.0), self.length_km)
        back = self.line_km.interpolate(max(d - 0.01, 0.0))
        ahead = self.line_km.interpolate(min(d + 0.01, self.length_km))
        heading = math.degrees(math.atan2(ahead.x - back.x, ahead.y - back.y)) % 360.0
        point = self.line_km.interpolate(d)
        return point.x / KM_PER_DEG_LON, point.y / KM_PER_DEG_LAT, heading


@cache
def city_roads() -> tuple[Road, ...]:
    """Return the ring and radial roads of the demo city."""
    scale = np.array([KM_PER_DEG_LON, KM_PER_DEG_LAT])
    return tuple(Road(r.name, LineString(np.asarray(r.geom.coords) * scale)) for r in roads())


def nearest_road(lon: float, lat: float) -> tuple[int, float]:
    """Return the index of the road nearest a point and the distance along it of its foot."""
    point = Point(lon * KM_PER_DEG_LON, lat * KM_PER_DEG_LAT)
    all_roads = city_roads()
    index = min(range(len(all_roads)), key=lambda i: all_roads[i].line_km.distance(point))
    return index, float(all_roads[index].line_km.project(point))


def random_spot(rng: np.random.Generator) -> tuple[int, float]:
    """Return a road (drawn by length) and a distance along it, uniformly over the network."""
    all_roads = city_roads()
    lengths = np.array([r.length_km for r in all_roads])
    index = int(rng.choice(len(all_roads), p=lengths / lengths.sum()))
    return index, float(rng.uniform(0.0, lengths[index]))
