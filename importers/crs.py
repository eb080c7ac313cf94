"""Bring geometries to WGS84: EPSG systems via pyproj, GCJ-02/BD-09 via ``geo.crs``.

GCJ-02 and BD-09 have no EPSG code, so a file in them can only say so through
``--crs``. Coordinates that look swapped, projected or far from Beijing are reported
as warnings before anything is written.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError

from geo import crs as geo_crs
from geo.validate import CHINA_BOUNDS
from importers.offset_crs import offset_of
from importers.places import FloatArray, Places
from layers.errors import InvalidInput

WGS84 = CRS.from_epsg(4326)
# Rough box of Beijing municipality (WGS84), for the "is this really Beijing?" check.
BEIJING_BOUNDS = (115.3, 39.3, 117.6, 41.1)
_ALIASES = {"wgs84": "EPSG:4326", "cgcs2000": "EPSG:4490", "4490": "EPSG:4490"}
_MOST = 0.5


@dataclass(frozen=True)
class SourceCRS:
    """Where a file's coordinates live: a pyproj CRS or one of the Chinese offset systems."""

    crs: CRS | None = None
    offset: geo_crs.CoordSystem | None = None

    @property
    def label(self) -> str:
        """Return a short human name of the system."""
        if self.offset is not None:
            return self.offset.value
        assert self.crs is not None
        epsg = self.crs.to_epsg()
        return f"EPSG:{epsg}" if epsg else self.crs.name


def parse_crs(text: str) -> SourceCRS:
    """Return the system named by ``--crs``: gcj02, bd09, wgs84, cgcs2000 or any EPSG/WKT."""
    key = text.strip().lower()
    if key in {geo_crs.CoordSystem.GCJ02.value, geo_crs.CoordSystem.BD09.value}:
        return SourceCRS(offset=geo_crs.CoordSystem(key))
    try:
        return SourceCRS(crs=CRS.from_user_input(_ALIASES.get(key, text.strip())))
    except CRSError as exc:
        raise InvalidInput(f"unknown coordinate system {text!r}; use gcj02, bd09, wgs84, "
                           "cgcs2000 or EPSG:<code> (e.g. EPSG:4527 for CGCS2000 GK zone 39)"
                           ) from exc  # fmt: skip


def resolve_crs(declared: CRS | None, given: str | None) -> SourceCRS:
    """Return ``--crs`` if given (it overrides the file), else the declared CRS, else WGS84.

    The GCJ-02 and BD-09 labels of our exports (``importers.offset_crs``) are recognised.
    """
    if given:
        return parse_crs(given)
    offset = offset_of(declared)
    return SourceCRS(offset=offset) if offset is not None else SourceCRS(crs=declared or WGS84)


def _is_lonlat_wgs84(crs: CRS) -> bool:
    # CGCS2000 differs from WGS84 by centimetres: treated as the same datum, as everyone does.
    return crs.equals(WGS84, ignore_axis_order=True) or crs.to_epsg(min_confidence=70) in {
        4326,
        4490,
    }


def to_wgs84(places: Places, source: SourceCRS) -> Places:
    """Return ``places`` converted to WGS84 lon/lat."""
    if source.offset is not None:
        offset = source.offset

        def shift(x: FloatArray, y: FloatArray) -> tuple[FloatArray, FloatArray]:
            lon, lat = geo_crs.convert(x, y, offset, "wgs84")
            return np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64)

        return places.map_coords(shift)
    assert source.crs is not None
    if _is_lonlat_wgs84(source.crs):
        return places
    transformer = Transformer.from_crs(source.crs, WGS84, always_xy=True)

    def project(x: FloatArray, y: FloatArray) -> tuple[FloatArray, FloatArray]:
        lon, lat = transformer.transform(x, y)
        return np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64)

    return places.map_coords(project)


def representative_xy(places: Places) -> tuple[FloatArray, FloatArray]:
    """Return a point on each present place (points as they are; shapes' point on surface)."""
    if places.is_points:
        present = places.take(~places.missing())
        assert present.x is not None and present.y is not None
        return present.x, present.y
    assert places.shapes is not None
    shapes = places.shapes[~places.missing()]
    points = shapely.point_on_surface(shapes) if len(shapes) < 5000 else shapely.centroid(shapes)
    return np.asarray(shapely.get_x(points)), np.asarray(shapely.get_y(points))


def _inside(x: np.ndarray, y: np.ndarray, bounds: tuple[float, ...]) -> np.ndarray:
    return (x >= bounds[0]) & (x <= bounds[2]) & (y >= bounds[1]) & (y <= bounds[3])


def plausibility_warnings(places: Places, source: SourceCRS, file_name: str) -> list[str]:
    """Return warnings about converted coordinates that do not look like Beijing."""
    x, y = representative_xy(places)
    if len(x) == 0:
        return []
    in_china = _inside(x, y, CHINA_BOUNDS)
    warnings = []
    if np.mean(_inside(y, x, CHINA_BOUNDS) & ~in_china) > _MOST:
        warnings.append(
            "coordinates look swapped (latitude, longitude): most points fall in "
            "China only with x and y exchanged; fix the column mapping or the file"
        )
    elif np.mean((np.abs(x) > 180) | (np.abs(y) > 90)) > _MOST:
        warnings.append(
            "coordinates look projected (metres) but are read as degrees; pass "
            "--crs EPSG:<code>, e.g. EPSG:4527 for CGCS2000 3-degree GK zone 39"
        )
    elif np.mean(in_china) > _MOST and np.mean(_inside(x, y, BEIJING_BOUNDS)) < _MOST:
        warnings.append(
            "most features lie in China but outside Beijing: check the "
            f"coordinate system (read as {source.label})"
        )
    lowered = file_name.lower()
    for hint in (geo_crs.CoordSystem.GCJ02, geo_crs.CoordSystem.BD09):
        if hint.value in lowered and source.offset is not hint:
            warnings.append(
                f"the file name says {hint.value} but it is read as {source.label}: "
                f"pass --crs {hint.value} if the coordinates are {hint.value}"
            )
    return warnings
