"""H3 hexagon cells for WGS84 longitude/latitude, as 64-bit integers.

The database stores cells as ``BIGINT``, so every cell here is a Python
``int`` (or an ``int64`` array); an H3 index never sets the top bit, so it
fits a signed 64-bit integer unchanged. H3 itself speaks (lat, lng); these
functions take and return (lon, lat) like the rest of :mod:`geo`.
"""

from __future__ import annotations

import math

import h3
import numpy as np
import numpy.typing as npt
from h3.api import basic_int
from shapely.geometry import MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry

from geo.measure import area_m2

FloatArray = npt.NDArray[np.float64]

__all__ = [
    "DEFAULT_RESOLUTION",
    "cell_of_point",
    "cell_polygon",
    "cells_of_points",
    "cells_to_multipolygon",
    "children",
    "coarser_cells",
    "cover_polygon",
    "parent",
]

#: Resolution 9 cells are about 0.1 km2 (edge ~200 m): a city block.
DEFAULT_RESOLUTION = 9

# A point this far (radians, ~60 µm) or nearer from a cell's edge is left to h3 itself:
# far above the float error of h3's own indexing and of the edge planes built here.
_EDGE_MARGIN_RAD = 1e-11
_CHUNK = 1 << 16

# Within one resolution, H3 hexagon areas stay within a factor of ~2 of the
# global average, so an area estimate this many times over the budget means
# the exact cover is certainly too big and need not be computed.
_ESTIMATE_SLACK = 3.0


def _check_resolution(resolution: int) -> None:
    if not 0 <= resolution <= 15:
        raise ValueError(f"H3 resolution must be between 0 and 15, got {resolution}")


def cell_of_point(lon: float, lat: float, resolution: int = DEFAULT_RESOLUTION) -> int:
    """Return the H3 cell containing a point.

    Examples
    --------
    >>> cell = cell_of_point(116.397, 39.908)
    >>> hex(cell)
    '0x8931aa42803ffff'
    """
    _check_resolution(resolution)
    if not (math.isfinite(lon) and math.isfinite(lat)):
        raise ValueError(f"coordinates must be finite, got ({lon}, {lat})")
    return int(basic_int.latlng_to_cell(lat, lon, resolution))


def cells_of_points(
    lons: npt.ArrayLike, lats: npt.ArrayLike, resolution: int = DEFAULT_RESOLUTION
) -> npt.NDArray[np.int64]:
    """Return the H3 cell of each point, as an ``int64`` array.

    h3-py 4 has no vectorised indexer, so this loops in Python over the
    compiled scalar function: 1,000,000 points take 0.7-0.85 s (measured on
    the 2-core development machine, h3 4.5, Python 3.11). Non-finite coordinates
    raise ``ValueError``.

    Examples
    --------
    >>> cells_of_points(np.array([116.397, 121.47]), np.array([39.908, 31.23]), 7).tolist()
    [608859666989973503, 608840912830726143]
    """
    _check_resolution(resolution)
    lon_arr, lat_arr = np.broadcast_arrays(
        np.asarray(lons, dtype=np.float64), np.asarray(lats, dtype=np.float64)
    )
    if not (np.isfinite(lon_arr).all() and np.isfinite(lat_arr).all()):
        raise ValueError("coordinates must be finite (found NaN or infinity)")
    to_cell = basic_int.latlng_to_cell
    cells = np.fromiter(
        (
            to_cell(lat, lon, resolution)
            for lon, lat in zip(lon_arr.ravel().tolist(), lat_arr.ravel().tolist(), strict=True)
        ),
        dtype=np.int64,
        count=lon_arr.size,
    )
    return cells.reshape(lon_arr.shape)


def parent(cell: int, resolution: int) -> int:
    """Return the ancestor of ``cell`` at a coarser (or equal) resolution.

    Examples
    --------
    >>> cell = cell_of_point(116.397, 39.908, 9)
    >>> parent(cell, 7) == cell_of_point(116.397, 39.908, 7)
    True
    """
    _check_resolution(resolution)
    return int(basic_int.cell_to_parent(cell, resolution))


def children(cell: int, resolution: int) -> list[int]:
    """Return the descendants of ``cell`` at a finer (or equal) resolution.

    Examples
    --------
    >>> len(children(cell_of_point(116.397, 39.908, 7), 9))
    49
    """
    _check_resolution(resolution)
    return sorted(int(c) for c in basic_int.cell_to_children(cell, resolution))


def _unit_vectors(lons: npt.NDArray[np.float64], lats: npt.NDArray[np.float64]) -> FloatArray:
    lon, lat = np.radians(lons), np.radians(lats)
    return np.stack([np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)], axis=-1)


def _outlines(cells: npt.NDArray[np.int64]) -> tuple[FloatArray, npt.NDArray[np.intp]]:
    """Return each cell's vertices as unit vectors (padded with the first) and their count."""
    outlines = [basic_int.cell_to_boundary(cell) for cell in cells.tolist()]
    sizes = np.array([len(outline) for outline in outlines], dtype=np.intp).reshape(-1)
    vertices = np.zeros((len(cells), int(sizes.max(initial=0)), 3))
    for size in np.unique(sizes).tolist():
        rows = np.flatnonzero(sizes == size)
        latlng = np.array([outlines[row] for row in rows.tolist()])
        vertices[rows, :size] = _unit_vectors(latlng[..., 1], latlng[..., 0])
        vertices[rows, size:] = vertices[rows, :1]
    return vertices, sizes


def _edge_planes(cells: npt.NDArray[np.int64]) -> tuple[FloatArray, npt.NDArray[np.bool_]]:
    """Return the inward unit normals of each cell's edge planes and whether it is convex.

    Between two consecutive vertices an outline runs on one icosahedron face, straight in
    that face's gnomonic projection: a great circle. A convex outline holds exactly the
    points inside all its edge planes; the others (bent by a face edge) are left to h3.
    """
    vertices, sizes = _outlines(cells)
    planes = np.zeros_like(vertices)
    convex = np.zeros(len(cells), dtype=bool)
    for size in np.unique(sizes).tolist():
        rows = np.flatnonzero(sizes == size)
        corners = vertices[rows, :size]
        normals = np.cross(corners, np.roll(corners, -1, axis=1))
        normals /= np.linalg.norm(normals, axis=2, keepdims=True)
        normals *= np.sign(np.einsum("ukx,ux->uk", normals, corners.mean(axis=1)))[..., None]
        sides = np.einsum("ukx,uvx->ukv", normals, corners)
        convex[rows] = (sides > -_EDGE_MARGIN_RAD).all(axis=(1, 2))
        planes[rows, :size] = normals
        planes[rows, size:] = normals[:, :1]
    return planes, convex


def _inside_outline(vertices: FloatArray, points: FloatArray) -> npt.NDArray[np.bool_]:
    """Return whether points lie inside one outline, clear of its edges (any outline).

    In the gnomonic projection around the outline its great-circle edges are straight,
    so a ray's crossings count as in the plane.
    """
    centre = vertices.sum(axis=0) / np.linalg.norm(vertices.sum(axis=0))
    east = vertices[0] - (vertices[0] @ centre) * centre
    east /= np.linalg.norm(east)
    north = np.cross(centre, east)
    facing = points @ centre
    near = facing > 0.1  # the projection holds the outline: under ~84° from its centre
    x, y = (points @ east) / np.where(near, facing, 1), (points @ north) / np.where(near, facing, 1)
    vx, vy = (vertices @ east) / (vertices @ centre), (vertices @ north) / (vertices @ centre)
    inside = np.zeros(len(points), dtype=bool)
    normals = np.cross(vertices, np.roll(vertices, -1, axis=0))
    normals /= np.linalg.norm(normals, axis=1, keepdims=True)
    for i in range(len(vertices)):
        j = (i + 1) % len(vertices)
        spans = (vy[i] > y) != (vy[j] > y)
        rise = np.where(spans, vy[j] - vy[i], 1.0)
        inside ^= spans & (x < vx[i] + (y - vy[i]) * (vx[j] - vx[i]) / rise)
    return inside & near & (np.abs(points @ normals.T).min(axis=1) > _EDGE_MARGIN_RAD)


def _wholly_inside(
    cell: int, small: npt.NDArray[np.int64], corners: FloatArray
) -> npt.NDArray[np.bool_]:
    """Return whether each of the ``small`` cells (with their ``corners``) lies in ``cell``.

    For any outline: a small convex cell lies inside when its corners do and no vertex of
    the outline is within two cells of it (an edge crossing it would leave a corner out).
    """
    (vertices,), (size,) = _outlines(np.array([cell], dtype=np.int64))
    inside = _inside_outline(vertices[:size], corners.reshape(-1, 3))
    resolution = int(basic_int.get_resolution(int(small[0])))
    near = [n for v in basic_int.cell_to_boundary(cell)
            for n in basic_int.grid_disk(basic_int.latlng_to_cell(*v, resolution), 2)]  # fmt: skip
    return inside.reshape(len(small), -1).all(axis=1) & ~np.isin(small, near)


def _contain(cells: npt.NDArray[np.int64], points: FloatArray) -> npt.NDArray[np.bool_]:
    """Return whether each point (unit vector) lies in its cell, clear of the edges."""
    distinct, which = np.unique(cells, return_inverse=True)
    if 4 * len(distinct) > len(cells):  # scattered points: asking h3 is cheaper
        return np.zeros(len(cells), dtype=bool)
    planes, convex = _edge_planes(distinct)
    inside = convex[which]
    for start in range(0, len(cells), _CHUNK):  # bounds the (points, edges, 3) temporary
        part = slice(start, start + _CHUNK)
        sides = np.einsum("nkx,nx->nk", planes[which[part]], points[part])
        inside[part] &= sides.min(axis=1) > _EDGE_MARGIN_RAD
    bent = np.flatnonzero(~convex)  # few and large: each tested as a whole
    vertices, sizes = _outlines(distinct[bent])
    for k, cell in enumerate(bent.tolist()):
        mine = np.flatnonzero(which == cell)
        inside[mine] = _inside_outline(vertices[k, : sizes[k]], points[mine])
    return inside


def _refine(
    lons: FloatArray, lats: FloatArray, points: FloatArray, finer: npt.NDArray[np.int64],
    resolution: int,
) -> npt.NDArray[np.int64]:  # fmt: skip
    """Return each point's cell at ``resolution`` given its cell one resolution finer."""
    distinct, which = np.unique(finer, return_inverse=True)
    cells = np.array([basic_int.cell_to_parent(c, resolution) for c in distinct.tolist()],
                     dtype=np.int64)[which]  # fmt: skip
    missed = np.flatnonzero(~_contain(cells, points))
    cells[missed] = [basic_int.latlng_to_cell(lat, lon, resolution)
                     for lon, lat in zip(lons[missed].tolist(), lats[missed].tolist(),
                                         strict=True)]  # fmt: skip
    return cells


def _point_by_point(
    lons: FloatArray, lats: FloatArray, points: FloatArray, finest: npt.NDArray[np.int64]
) -> npt.NDArray[np.int64]:
    """Return ``coarser_cells`` refining each point from its finer cell."""
    resolution = int(basic_int.get_resolution(int(finest[0]))) if finest.size else 0
    out = np.empty((finest.size, resolution), dtype=np.int64)
    for res in range(resolution - 1, -1, -1):
        out[:, res] = _refine(lons, lats, points, out[:, res + 1] if res + 1 < resolution
                              else finest, res)  # fmt: skip
    return out


def coarser_cells(
    lons: npt.ArrayLike, lats: npt.ArrayLike, cells: npt.ArrayLike
) -> npt.NDArray[np.int64]:
    """Return the cell containing each point at every resolution coarser than its cell.

    ``cells`` are the points' cells (``cells_of_points``), all of one resolution ``r``;
    the answer has one row per point and ``r`` columns, column ``k`` the resolution-k
    cell, each exactly what ``latlng_to_cell`` returns (H3 children are not inside their
    parent: ~6 % of points lie outside their cell's parent at each resolution).

    Cells are convex polygons whose edges are great circles, so containment is a sign
    test against edge planes. All points of a cell lying wholly inside a coarser cell
    get that cell; the others are tested against the parent of their finer cell, and
    h3 is asked only for those outside it or within ~60 µm of an edge. The demo
    city's million units in map order take 2.6 s for the nine resolutions where
    asking h3 for each point takes 4.7 s (measured on the busy 2-core development
    machine); scattered points (under 4 a cell) are asked point by point.

    Examples
    --------
    >>> lons, lats = np.array([116.397, 116.4213]), np.array([39.908, 39.9042])
    >>> fine = cells_of_points(lons, lats, 9)
    >>> coarse = coarser_cells(lons, lats, fine)
    >>> coarse.shape
    (2, 9)
    >>> [int(c) == cell_of_point(x, y, 7) for c, x, y in zip(coarse[:, 7], lons, lats)]
    [True, True]
    """
    lon_arr = np.asarray(lons, dtype=np.float64).ravel()
    lat_arr = np.asarray(lats, dtype=np.float64).ravel()
    finest = np.asarray(cells, dtype=np.int64).ravel()
    points = _unit_vectors(lon_arr, lat_arr)
    distinct, which = np.unique(finest, return_inverse=True)
    if 4 * len(distinct) >= len(finest):  # few points a cell (or none)
        return _point_by_point(lon_arr, lat_arr, points, finest)
    centres = np.array([basic_int.cell_to_latlng(cell) for cell in distinct.tolist()])
    homes = _point_by_point(centres[:, 1], centres[:, 0], _unit_vectors(centres[:, 1],
                            centres[:, 0]), distinct)  # fmt: skip
    corners, _ = _outlines(distinct)
    out = np.empty_like(homes, shape=(finest.size, homes.shape[1]))
    finer = finest
    for res in range(homes.shape[1] - 1, -1, -1):
        home, home_of = np.unique(homes[:, res], return_inverse=True)
        planes, convex = _edge_planes(home)
        sides = np.einsum("ukx,uvx->ukv", planes[home_of], corners)
        whole = convex[home_of] & (sides.min(axis=(1, 2)) > _EDGE_MARGIN_RAD)
        for bent in np.flatnonzero(~convex).tolist():
            mine = np.flatnonzero(home_of == bent)
            whole[mine] = _wholly_inside(int(home[bent]), distinct[mine], corners[mine])
        settled = whole[which]
        column = homes[which, res]
        rest = np.flatnonzero(~settled)
        column[rest] = _refine(lon_arr[rest], lat_arr[rest], points[rest], finer[rest], res)
        out[:, res] = finer = column
    return out


def cell_polygon(cell: int) -> Polygon:
    """Return the outline of a cell as a (lon, lat) Polygon.

    Examples
    --------
    >>> from shapely import Point
    >>> poly = cell_polygon(cell_of_point(116.397, 39.908))
    >>> len(poly.exterior.coords), poly.contains(Point(116.397, 39.908))
    (7, True)
    """
    boundary = basic_int.cell_to_boundary(cell)
    return Polygon([(lng, lat) for lat, lng in boundary])


def cells_to_multipolygon(cells: list[int]) -> MultiPolygon:
    """Return the union of cells as a (lon, lat) MultiPolygon.

    Examples
    --------
    >>> cells = children(cell_of_point(116.397, 39.908, 7), 8)
    >>> merged = cells_to_multipolygon(cells)
    >>> merged.geom_type, len(merged.geoms)
    ('MultiPolygon', 1)
    """
    if not cells:
        return MultiPolygon()
    shape = h3.cells_to_h3shape([h3.int_to_str(c) for c in cells])
    polygons = [
        Polygon(
            [(lng, lat) for lat, lng in poly.outer],
            [[(lng, lat) for lat, lng in hole] for hole in poly.holes],
        )
        for poly in (shape.polys if isinstance(shape, h3.LatLngMultiPoly) else [shape])
    ]
    return MultiPolygon(polygons)


def _cover(geom: BaseGeometry, resolution: int) -> list[int]:
    shape = h3.geo_to_h3shape(geom.__geo_interface__)
    cells = h3.h3shape_to_cells_experimental(shape, resolution, contain="overlap")
    return sorted(h3.str_to_int(c) for c in cells)


def cover_polygon(
    geom: BaseGeometry, *, resolution: int = DEFAULT_RESOLUTION, max_cells: int = 500
) -> list[int]:
    """Return cells that together cover a polygon, coarsening to fit ``max_cells``.

    Every cell that overlaps the (Multi)Polygon is included, so the union of
    the cells contains it. If that takes more than ``max_cells`` cells at
    ``resolution``, the next coarser resolution is tried, and so on; the
    result is at the finest resolution that fits (check it with
    ``h3.get_resolution``). Raises ``ValueError`` if even resolution 0 does
    not fit or the geometry is not polygonal or is empty.

    Uses h3's ``contain="overlap"`` mode of ``h3shape_to_cells_experimental``
    (h3 >= 4.2); the tests check that the cover really contains the polygon.
    Resolutions whose cover is certainly too big (judged from the area) are
    skipped without computing it, so huge polygons stay fast.

    Examples
    --------
    >>> from shapely import box
    >>> cells = cover_polygon(box(116.39, 39.90, 116.40, 39.91), resolution=9)
    >>> len(cells), h3.get_resolution(h3.int_to_str(cells[0]))
    (21, 9)
    >>> coarse = cover_polygon(box(116.39, 39.90, 116.40, 39.91), resolution=9, max_cells=5)
    >>> len(coarse), h3.get_resolution(h3.int_to_str(coarse[0]))
    (4, 8)
    """
    if not isinstance(geom, Polygon | MultiPolygon) or geom.is_empty:
        raise ValueError(
            f"cover_polygon needs a non-empty Polygon or MultiPolygon, got {geom.geom_type}"
        )
    _check_resolution(resolution)
    if max_cells < 1:
        raise ValueError(f"max_cells must be at least 1, got {max_cells}")
    area = area_m2(geom)
    for res in range(resolution, -1, -1):
        estimate = area / h3.average_hexagon_area(res, unit="m^2")
        if estimate > _ESTIMATE_SLACK * max_cells:
            continue
        cells = _cover(geom, res)
        if len(cells) <= max_cells:
            return cells
    raise ValueError(f"the geometry needs more than {max_cells} H3 cells even at resolution 0")
