"""Web-Mercator (EPSG:3857) XYZ tile maths.

Tiles are addressed ``(z, x, y)`` as in XYZ/slippy maps: ``x`` grows east
from the antimeridian, ``y`` grows south from the top of the map, and zoom
``z`` has ``2**z`` tiles on each side. Only latitudes within +-85.0511 deg
(the square Web-Mercator world) are covered.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

__all__ = [
    "MAX_LATITUDE",
    "ORIGIN_SHIFT_M",
    "is_valid_tile",
    "lonlat_to_tile",
    "tile_bounds_3857",
    "tile_bounds_wgs84",
    "tiles_for_bbox",
]

#: Half the width of the Web-Mercator world in metres (pi * 6378137).
ORIGIN_SHIFT_M = math.pi * 6378137.0
#: Latitude at which the Web-Mercator world is square.
MAX_LATITUDE = math.degrees(math.atan(math.sinh(math.pi)))

# Shrinks a bbox's east/south edge so an edge lying exactly on a tile border
# does not pull in the neighbouring tile it only touches.
_EDGE_EPSILON = 1e-9


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
