"""Tests for geo.hexes: H3 cells as integers, in (lon, lat) order."""

from __future__ import annotations

import h3
import numpy as np
import pytest
from shapely import MultiPolygon, Point, Polygon, box
from shapely.ops import unary_union

from geo.hexes import (
    cell_of_point,
    cell_polygon,
    cells_of_points,
    cells_to_multipolygon,
    children,
    coarser_cells,
    cover_polygon,
    parent,
)
from geo.measure import buffer_m, distance_m

TIANANMEN = (116.3912, 39.9073)
# Regression pin: the res-9 cell of Tiananmen (h3 4.5, string API with
# lat/lng order). It must never change: cell ids are stored in the database.
TIANANMEN_RES9 = "8931aa428cfffff"


def test_known_cell_of_a_beijing_point_is_stable() -> None:
    cell = cell_of_point(*TIANANMEN)
    assert isinstance(cell, int)
    assert h3.int_to_str(cell) == TIANANMEN_RES9
    assert cell == int(TIANANMEN_RES9, 16)
    lon, lat = TIANANMEN
    assert cell == h3.str_to_int(h3.latlng_to_cell(lat, lon, 9))


def test_cell_is_around_the_point_not_at_swapped_coordinates() -> None:
    cell = cell_of_point(*TIANANMEN, resolution=9)
    lat, lng = h3.cell_to_latlng(h3.int_to_str(cell))
    # Centre within one res-9 edge length (~200 m) of the point.
    assert distance_m(lng, lat, *TIANANMEN) < h3.average_hexagon_edge_length(9, unit="m")
    assert cell_polygon(cell).contains(Point(TIANANMEN))


def test_cells_fit_signed_bigint() -> None:
    cells = cells_of_points(np.array([73.5, 135.0, 116.4]), np.array([3.9, 53.5, 39.9]), 15)
    assert cells.dtype == np.int64
    assert (cells > 0).all()


def test_cells_of_points_matches_scalar_and_keeps_shape() -> None:
    rng = np.random.default_rng(7)
    lons = rng.uniform(115.4, 117.6, (10, 30))
    lats = rng.uniform(39.4, 41.1, (10, 30))
    cells = cells_of_points(lons, lats, resolution=8)
    assert cells.shape == (10, 30)
    expected = [cell_of_point(x, y, 8) for x, y in zip(lons.ravel(), lats.ravel(), strict=True)]
    assert cells.ravel().tolist() == expected
    assert cells_of_points(np.array([]), np.array([])).shape == (0,)


def test_bad_input_is_rejected() -> None:
    with pytest.raises(ValueError, match="finite"):
        cells_of_points(np.array([116.4, np.nan]), np.array([39.9, 39.9]))
    with pytest.raises(ValueError, match="finite"):
        cell_of_point(np.inf, 39.9)
    with pytest.raises(ValueError, match="resolution"):
        cell_of_point(*TIANANMEN, resolution=16)


def test_parent_and_children() -> None:
    cell9 = cell_of_point(*TIANANMEN, 9)
    cell7 = parent(cell9, 7)
    assert cell7 == cell_of_point(*TIANANMEN, 7)
    assert h3.get_resolution(h3.int_to_str(cell7)) == 7
    kids = children(cell7, 9)
    assert len(kids) == 49 and cell9 in kids
    assert {parent(k, 7) for k in kids} == {cell7}
    assert parent(cell9, 9) == cell9


def test_cell_polygon_is_lon_lat() -> None:
    poly = cell_polygon(cell_of_point(*TIANANMEN))
    minx, miny, maxx, maxy = poly.bounds
    assert 116 < minx < maxx < 117 and 39 < miny < maxy < 40
    assert poly.is_valid and len(poly.exterior.coords) == 7


def test_cells_to_multipolygon_merges_neighbours() -> None:
    cell7 = cell_of_point(*TIANANMEN, 7)
    merged = cells_to_multipolygon(children(cell7, 9))
    assert len(merged.geoms) == 1
    pieces = unary_union([cell_polygon(c) for c in children(cell7, 9)])
    assert merged.symmetric_difference(pieces).area < 1e-12
    assert cells_to_multipolygon([]).is_empty


POLYGONS = {
    "square": box(116.38, 39.90, 116.40, 39.92),
    "circle": buffer_m(Point(TIANANMEN), 1500.0),
    "concave": Polygon(
        [(116.3, 39.9), (116.4, 39.9), (116.35, 39.92), (116.4, 39.95), (116.3, 39.95)]
    ),
    "with_hole": Polygon(
        box(116.30, 39.90, 116.40, 39.96).exterior.coords,
        [box(116.33, 39.92, 116.37, 39.94).exterior.coords],
    ),
    "multi": MultiPolygon([box(116.3, 39.9, 116.31, 39.91), box(116.5, 40.0, 116.52, 40.01)]),
    "tiny": box(116.3912, 39.9073, 116.3913, 39.9074),
}


@pytest.mark.parametrize("name", POLYGONS)
@pytest.mark.parametrize("resolution", [8, 9])
def test_cover_contains_the_polygon(name: str, resolution: int) -> None:
    geom = POLYGONS[name]
    cells = cover_polygon(geom, resolution=resolution, max_cells=5000)
    assert cells == sorted(set(cells))
    assert {h3.get_resolution(h3.int_to_str(c)) for c in cells} == {resolution}
    union = unary_union([cell_polygon(c) for c in cells])
    # Area left uncovered, allowing for floating-point slivers along shared edges.
    assert geom.difference(union).area < 1e-12 * max(geom.area, 1e-9) + 1e-14
    # No cell is wholly outside the polygon.
    assert all(cell_polygon(c).intersects(geom) for c in cells)


def test_cover_coarsens_until_it_fits() -> None:
    geom = POLYGONS["circle"]
    fine = cover_polygon(geom, resolution=9, max_cells=10_000)
    assert len(fine) > 100
    coarse = cover_polygon(geom, resolution=9, max_cells=100)
    assert len(coarse) <= 100
    res = h3.get_resolution(h3.int_to_str(coarse[0]))
    assert res < 9
    # ... and it is the finest resolution that fits.
    assert len(cover_polygon(geom, resolution=res + 1, max_cells=10_000)) > 100
    assert geom.difference(unary_union([cell_polygon(c) for c in coarse])).area < 1e-14


def test_cover_of_a_large_area_is_fast_and_bounded() -> None:
    beijing_bbox = box(115.4, 39.4, 117.5, 41.1)  # ~180 x 190 km: millions of res-9 cells
    cells = cover_polygon(beijing_bbox, resolution=9, max_cells=500)
    assert 0 < len(cells) <= 500


def test_cover_rejects_what_it_cannot_do() -> None:
    with pytest.raises(ValueError, match="Polygon or MultiPolygon"):
        cover_polygon(Point(TIANANMEN))
    with pytest.raises(ValueError, match="Polygon or MultiPolygon"):
        cover_polygon(Polygon())
    with pytest.raises(ValueError, match="even at resolution 0"):
        cover_polygon(box(73.0, 18.0, 135.0, 53.0), max_cells=2)


def _truth(lons: np.ndarray, lats: np.ndarray, resolutions: int) -> np.ndarray:
    return np.array(
        [[h3.str_to_int(h3.latlng_to_cell(y, x, r)) for r in range(resolutions)]
         for x, y in zip(lons.tolist(), lats.tolist(), strict=True)],
        dtype=np.int64,
    ).reshape(len(lons), resolutions)  # fmt: skip


def _edge_points() -> tuple[np.ndarray, np.ndarray]:
    """Return cell vertices and edge midpoints around Beijing: points on cell edges."""
    points = []
    for res in (2, 5, 7, 8):
        for cell in h3.grid_disk(h3.latlng_to_cell(39.9, 116.4, res), 2):
            ring = h3.cell_to_boundary(cell)
            points += [(lng, lat) for lat, lng in ring]
            points += [((a[1] + b[1]) / 2, (a[0] + b[0]) / 2)
                       for a, b in zip(ring, ring[1:] + ring[:1], strict=True)]  # fmt: skip
    xy = np.array(points)
    return xy[:, 0], xy[:, 1]


@pytest.mark.parametrize("where", ["beijing", "city-cluster", "world", "pentagons", "edges"])
def test_coarser_cells_are_the_cells_h3_finds(where: str) -> None:
    rng = np.random.default_rng(12)
    if where == "beijing":
        lons, lats = rng.uniform(115.4, 117.6, 20_000), rng.uniform(39.4, 41.1, 20_000)
    elif where == "city-cluster":  # many points per cell: the cell-wise path
        lons, lats = rng.normal(116.40, 0.03, 40_000), rng.normal(39.91, 0.03, 40_000)
    elif where == "world":  # cells cut by icosahedron edges, scattered points
        lons = rng.uniform(-180, 180, 20_000)
        lats = np.degrees(np.arcsin(rng.uniform(-1, 1, 20_000)))
    elif where == "pentagons":
        centres = np.array([h3.cell_to_latlng(p) for p in h3.get_pentagons(2)])
        lats = (centres[:, 0][:, None] + rng.normal(0, 2, (12, 2000))).clip(-89.9, 89.9).ravel()
        lons = (centres[:, 1][:, None] + rng.normal(0, 2, (12, 2000))).ravel()
        lons = (lons + 180) % 360 - 180
    else:
        lons, lats = _edge_points()
    cells = cells_of_points(lons, lats, 9)
    got = coarser_cells(lons, lats, cells)
    assert got.shape == (len(lons), 9)
    assert (got == _truth(lons, lats, 9)).all()


def test_coarser_cells_differ_from_ancestors_and_follow_the_given_resolution() -> None:
    rng = np.random.default_rng(3)
    lons, lats = rng.normal(116.40, 0.05, 5_000), rng.normal(39.91, 0.05, 5_000)
    fine = cells_of_points(lons, lats, 9)
    coarse = coarser_cells(lons, lats, fine)
    ancestors = np.array([[parent(int(c), r) for r in range(9)] for c in fine])
    assert 0.03 < (coarse[:, 7] != ancestors[:, 7]).mean() < 0.12  # why this exists
    at_six = coarser_cells(lons, lats, cells_of_points(lons, lats, 6))
    assert (at_six == coarse[:, :6]).all()
    assert coarser_cells(np.array([]), np.array([]), np.array([], dtype=np.int64)).shape == (0, 0)
