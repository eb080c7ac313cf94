"""Geodesic distance in SQL: the exact "within" test, distances, and boxes that hold them.

Distances are on the WGS84 spheroid (``ST_Distance``/``ST_DWithin`` on geography), as
the API promises. The spheroid costs ~1 µs a feature, so around a point a point layer
first settles every feature a local flat distance puts clearly inside or outside.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import numpy.typing as npt
from shapely.geometry import Point
from shapely.geometry.base import BaseGeometry
from sqlalchemy import ColumnElement, and_, func, or_

from geo import measure
from layers.features.filters import BBox
from layers.features.query import geography, literal_geometry
from layers.features.registry import LayerSpec

FloatArray = npt.NDArray[np.float64]
# The longest degree in any direction anywhere (one of latitude at the poles): no path of
# d degrees in lon/lat, and so no geodesic between its ends, is longer than d times this.
MAX_METRES_PER_DEGREE = 111_700.0
_A = 6378137.0  # WGS84
_E2 = (1 / 298.257223563) * (2 - 1 / 298.257223563)
# A buffer's polygon has its vertices at the distance and its chords up to 0.12 % inside.
_BUFFER_SLACK = 1.01
# The flat distance with the centre's scale is off by at most tan(lat)·d/2R: 0.6 % at
# 50 km and 55° N. Only features within 1 % of the radius need the spheroid.
_FLAT_SLACK = 0.01


def metres_per_degree(lat: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Return the metres of one degree east and one degree north at latitude ``lat``.

    Over a short line measured at its mid-latitude (Gauss), distances from these are
    good to a few millimetres at 15 km.
    """
    phi = np.radians(np.asarray(lat, dtype=np.float64))
    w = np.sqrt(1 - _E2 * np.sin(phi) ** 2)
    return _A / w * np.cos(phi) * np.pi / 180, _A * (1 - _E2) / w**3 * np.pi / 180


@lru_cache(maxsize=256)  # a request asks for the same box up to three times
def reach_box(centre: BaseGeometry, distance_m: float) -> BBox:
    """Return a WGS84 box holding everything within ``distance_m`` (geodesic) of ``centre``."""
    if isinstance(centre, Point):
        return measure.bbox_around_m(centre.x, centre.y, distance_m)
    minx, miny, maxx, maxy = measure.buffer_m(centre, distance_m * _BUFFER_SLACK).bounds
    return (minx, miny, maxx, maxy)


def metres_to(spec: LayerSpec, centre: BaseGeometry) -> ColumnElement[float]:
    """Return the geodesic distance in metres from a feature to ``centre``."""
    target = geography(literal_geometry(centre))
    return func.ST_Distance(geography(spec.model.geom), target)  # type: ignore[attr-defined]


def within_m(spec: LayerSpec, centre: BaseGeometry, distance_m: float) -> ColumnElement[bool]:
    """Return the exact test "within ``distance_m`` of ``centre``" (geodesic, spheroid).

    It cannot use the GiST index of ``geom``: AND it with a box where that is wanted.
    """
    model = spec.model
    exact = func.ST_DWithin(geography(model.geom), geography(literal_geometry(centre)),  # type: ignore[attr-defined]
                            distance_m)  # fmt: skip
    if spec.geometry_type != "Point" or not isinstance(centre, Point):
        return exact
    east, north = metres_per_degree(centre.y)
    flat_m2 = (func.power((func.ST_X(model.geom) - centre.x) * float(east), 2)  # type: ignore[attr-defined]
               + func.power((func.ST_Y(model.geom) - centre.y) * float(north), 2))  # type: ignore[attr-defined]  # fmt: skip
    inside = (distance_m * (1 - _FLAT_SLACK)) ** 2
    outside = (distance_m * (1 + _FLAT_SLACK)) ** 2
    return or_(flat_m2 <= inside, and_(flat_m2 <= outside, exact))
