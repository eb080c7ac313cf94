"""Web-Mercator (EPSG:3857) XYZ tile maths.

Tiles are addressed ``(z, x, y)`` as in XYZ/slippy maps: ``x`` grows east
from the antimeridian, ``y`` grows south from the top of the map, and zoom
``z`` has ``2**z`` tiles on each side. Only latitudes within +-85.0511 deg
(the square Web-Mercator world) are covered.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np
import numpy.typing as npt

__all__ = [
    "MAX_LATITUDE",
    "ORIGIN_SHIFT_M",
    "is_valid_tile",
    "lonlat_to_mercator",
    "lonlat_to_tile",
    "tile_bounds_3857",
    "tile_bounds_wgs84",
    "tile_order",
    "tiles_for_bbox",
]

#: Half the width of the Web-Mercator world in metres (pi * 6378137).
ORIGIN_SHIFT_M = math.pi * 6378137.0
#: Latitude at which the Web-Mercator world is square.
MAX_LATITUDE = math.degrees(math.atan(math.sinh(math.pi)))

# Shrinks a bbox's east/south edge so an edge lying exactly on a tile border
# does not pull in the neighbouring tile it only touches.
_EDGE_EPSILON = 1e-9


def lonlat_to_mercator(
    lon: npt.ArrayLike, lat: npt.ArrayLike
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Return WGS84 degrees as Web-Mercator metres (EPSG:3857), as PostGIS ``ST_Transform`` does.

    Within a few nanometres of PROJ's results.

    Examples
    --------
    >>> x, y = lonlat_to_mercator([116.391, 0.0], [39.907, 0.0])
    >>> [round(float(v), 2) for v in (*x, *y)]
    [12956586.85, 0.0, 4852436.96, 0.0]
    """
    radius = 6378137.0
    x = radius * np.radians(np.asarray(lon, dtype=np.float64))
    y = radius * np.arctanh(np.sin(np.radians(np.asarray(lat, dtype=np.float64))))
    return x, y


def is_valid_tile(z: int, x: int, y: int, max_zoom: int = 22) -> bool:
    """Return True if ``(z, x, y)`` addresses a tile at a zoom up to ``max_zoom``.

    Examples
    --------
    >>> is_valid_tile(12, 3372, 1552), is_valid_tile(1, 2, 0), is_valid_tile(23, 0, 0)
    (True, False, False)
    """
    if not 0 <= z <= max_zoom:
        return False
    n = 1 << z
    return 0 <= x < n and 0 <= y < n


def _check_tile(z: int, x: int, y: int) -> None:
    if not is_valid_tile(z, x, y, max_zoom=30):
        raise ValueError(f"no such tile: z={z}, x={x}, y={y}")


def tile_bounds_3857(z: int, x: int, y: int) -> tuple[float, float, float, float]:
    """Return a tile's ``(minx, miny, maxx, maxy)`` in EPSG:3857 metres.

    Examples
    --------
    >>> tile_bounds_3857(0, 0, 0)
    (-20037508.342789244, -20037508.342789244, 20037508.342789244, 20037508.342789244)
    >>> tile_bounds_3857(1, 1, 0)
    (0.0, 0.0, 20037508.342789244, 20037508.342789244)
    """
    _check_tile(z, x, y)
    size = 2.0 * ORIGIN_SHIFT_M / (1 << z)
    minx = -ORIGIN_SHIFT_M + x * size
    maxy = ORIGIN_SHIFT_M - y * size
    return (minx, maxy - size, minx + size, maxy)


def _tile_lon(x: float, z: int) -> float:
    return x / (1 << z) * 360.0 - 180.0


def _tile_lat(y: float, z: int) -> float:
    return math.degrees(math.atan(math.sinh(math.pi * (1.0 - 2.0 * y / (1 << z)))))


def tile_bounds_wgs84(z: int, x: int, y: int) -> tuple[float, float, float, float]:
    """Return a tile's ``(west, south, east, north)`` in WGS84 degrees.

    Examples
    --------
    >>> [round(v, 6) for v in tile_bounds_wgs84(12, 3372, 1552)]
    [116.367188, 39.842286, 116.455078, 39.909736]
    """
    _check_tile(z, x, y)
    return (_tile_lon(x, z), _tile_lat(y + 1, z), _tile_lon(x + 1, z), _tile_lat(y, z))


def lonlat_to_tile(lon: float, lat: float, z: int) -> tuple[int, int]:
    """Return the ``(x, y)`` of the tile containing a point at zoom ``z``.

    Latitudes beyond the Web-Mercator limit are clamped to the edge rows;
    longitude 180 falls in the last column.

    Examples
    --------
    >>> lonlat_to_tile(116.4074, 39.9042, 12)  # Beijing centre
    (3372, 1552)
    """
    if not (math.isfinite(lon) and math.isfinite(lat)):
        raise ValueError(f"coordinates must be finite, got ({lon}, {lat})")
    if not 0 <= z <= 30:
        raise ValueError(f"zoom must be between 0 and 30, got {z}")
    n = 1 << z
    lat = max(-MAX_LATITUDE, min(MAX_LATITUDE, lat))
    fx = (lon + 180.0) / 360.0 * n
    fy = (1.0 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2.0 * n
    return (min(max(math.floor(fx), 0), n - 1), min(max(math.floor(fy), 0), n - 1))


def tiles_for_bbox(
    bbox_wgs84: tuple[float, float, float, float], z: int
) -> Iterator[tuple[int, int]]:
    """Yield ``(x, y)`` of every tile at zoom ``z`` intersecting a WGS84 bbox.

    ``bbox_wgs84`` is ``(west, south, east, north)``; a west greater than
    east means the box crosses the antimeridian. Tiles that only touch the
    box's east or south edge are left out. Row by row, west to east.

    Examples
    --------
    >>> list(tiles_for_bbox((116.3, 39.85, 116.5, 39.95), 12))
    [(3371, 1551), (3372, 1551), (3373, 1551), (3371, 1552), (3372, 1552), (3373, 1552)]
    """
    west, south, east, north = bbox_wgs84
    if south > north:
        raise ValueError(f"bbox south ({south}) is north of its north ({north})")
    if west > east:
        yield from tiles_for_bbox((west, south, 180.0, north), z)
        yield from tiles_for_bbox((-180.0, south, east, north), z)
        return
    min_x, min_y = lonlat_to_tile(west, north, z)
    max_x, max_y = lonlat_to_tile(
        max(west, east - _EDGE_EPSILON), min(north, south + _EDGE_EPSILON), z
    )
    for y in range(min_y, max_y + 1):
        for x in range(min_x, max_x + 1):
            yield (x, y)


def _spread_bits(v: npt.NDArray[np.uint64]) -> npt.NDArray[np.uint64]:
    """Return ``v`` (up to 32 bits) with a zero bit inserted after each of its bits."""
    v = v & np.uint64(0xFFFFFFFF)
    for shift, mask in ((16, 0x0000FFFF0000FFFF), (8, 0x00FF00FF00FF00FF),
                        (4, 0x0F0F0F0F0F0F0F0F), (2, 0x3333333333333333),
                        (1, 0x5555555555555555)):  # fmt: skip
        v = (v | (v << np.uint64(shift))) & np.uint64(mask)
    return v


def tile_order(lon: npt.ArrayLike, lat: npt.ArrayLike, z: int = 16) -> npt.NDArray[np.intp]:
    """Return the order that sorts points by the quadkey of their zoom-``z`` tile.

    Neighbours on the map end up near each other (a Z-order curve over tiles), so
    rows written in this order share disk pages with the rows a map view or a
    radius query reads together. Points without finite coordinates come last; ties
    keep their order.

    Examples
    --------
    >>> tile_order([116.50, 116.30, 116.31, float("nan")], [39.90, 39.90, 39.90, 0.0]).tolist()
    [1, 2, 0, 3]
    """
    if not 0 <= z <= 31:
        raise ValueError(f"zoom must be between 0 and 31, got {z}")
    lons, lats = np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64)
    finite = np.isfinite(lons) & np.isfinite(lats)
    n = float(1 << z)
    clamped = np.radians(np.clip(np.where(finite, lats, 0.0), -MAX_LATITUDE, MAX_LATITUDE))
    fx = (np.where(finite, lons, 0.0) + 180.0) / 360.0 * n
    fy = (1.0 - np.arcsinh(np.tan(clamped)) / math.pi) / 2.0 * n
    x = np.clip(np.floor(fx), 0, n - 1).astype(np.uint64)
    y = np.clip(np.floor(fy), 0, n - 1).astype(np.uint64)
    key = (_spread_bits(y) << np.uint64(1)) | _spread_bits(x)
    key[~finite] = np.iinfo(np.uint64).max
    return np.argsort(key, kind="stable")
