"""Tests for geo.tiling: Web-Mercator XYZ tile maths."""

from __future__ import annotations

import numpy as np
import pytest
from pyproj import Transformer

from geo.tiling import (
    MAX_LATITUDE,
    ORIGIN_SHIFT_M,
    is_valid_tile,
    lonlat_to_mercator,
    lonlat_to_tile,
    tile_bounds_3857,
    tile_bounds_wgs84,
    tiles_for_bbox,
)

TO_3857 = Transformer.from_crs("EPSG:4326", "EPSG:3857", always_xy=True)
BEIJING_CENTRE = (116.4074, 39.9042)


def test_zoom_0_is_the_whole_world() -> None:
    e = 20037508.342789244
    assert abs(ORIGIN_SHIFT_M - e) < 1e-9
    assert tile_bounds_3857(0, 0, 0) == pytest.approx((-e, -e, e, e), abs=1e-6)
    west, south, east, north = tile_bounds_wgs84(0, 0, 0)
    assert (west, east) == (-180.0, 180.0)
    assert north == pytest.approx(85.0511287798066, abs=1e-12)
    assert south == -north
    assert abs(MAX_LATITUDE - 85.0511287798066) < 1e-12


def test_published_mercantile_tile() -> None:
    # mercantile's documented example: tile 10/486/332 (Ireland).
    west, south, east, north = tile_bounds_wgs84(10, 486, 332)
    assert (west, east) == pytest.approx((-9.140625, -8.7890625), abs=1e-12)
    assert (south, north) == pytest.approx((53.12040528310657, 53.33087298301705), abs=1e-9)
    minx, miny, maxx, maxy = tile_bounds_3857(10, 486, 332)
    assert (minx, maxy) == pytest.approx((-1017529.7205322663, 7044436.526761846), abs=1e-6)
    assert (maxx, miny) == pytest.approx((-978393.962050256, 7005300.768279833), abs=1e-6)


@pytest.mark.parametrize(("z", "x", "y"), [(1, 1, 1), (12, 3372, 1552), (18, 215847, 99277)])
def test_both_bounds_agree_through_pyproj(z: int, x: int, y: int) -> None:
    west, south, east, north = tile_bounds_wgs84(z, x, y)
    minx, miny = TO_3857.transform(west, south)
    maxx, maxy = TO_3857.transform(east, north)
    assert tile_bounds_3857(z, x, y) == pytest.approx((minx, miny, maxx, maxy), abs=1e-6)


def test_beijing_centre_tile() -> None:
    assert lonlat_to_tile(*BEIJING_CENTRE, 12) == (3372, 1552)
    west, south, east, north = tile_bounds_wgs84(12, 3372, 1552)
    assert west < BEIJING_CENTRE[0] < east and south < BEIJING_CENTRE[1] < north
    # One zoom down, the point is in one of the four children.
    x, y = lonlat_to_tile(*BEIJING_CENTRE, 13)
    assert (x // 2, y // 2) == (3372, 1552)


def test_lonlat_to_tile_edges() -> None:
    assert lonlat_to_tile(-180.0, 85.0511287798066, 3) == (0, 0)
    assert lonlat_to_tile(180.0, -85.0511287798066, 3) == (7, 7)
    assert lonlat_to_tile(0.0, 89.9, 5) == (16, 0)  # clamped to the top row
    assert lonlat_to_tile(0.0, 0.0, 1) == (1, 1)
    with pytest.raises(ValueError, match="finite"):
        lonlat_to_tile(float("nan"), 0.0, 3)


def test_is_valid_tile() -> None:
    assert is_valid_tile(0, 0, 0)
    assert is_valid_tile(22, (1 << 22) - 1, 0)
    assert not is_valid_tile(22, 1 << 22, 0)
    assert not is_valid_tile(23, 0, 0)
    assert is_valid_tile(23, 0, 0, max_zoom=24)
    assert not is_valid_tile(-1, 0, 0)
    assert not is_valid_tile(3, -1, 0)
    with pytest.raises(ValueError, match="no such tile"):
        tile_bounds_3857(2, 4, 0)


def test_tiles_for_bbox_covers_exactly_the_bbox() -> None:
    bbox = (116.2, 39.75, 116.6, 40.05)
    tiles = list(tiles_for_bbox(bbox, 12))
    assert len(tiles) == len(set(tiles))
    west, south, east, north = bbox
    for x, y in tiles:
        t_west, t_south, t_east, t_north = tile_bounds_wgs84(12, x, y)
        assert t_west < east and t_east > west and t_south < north and t_north > south
    # Every tile intersecting the bbox in a 1-tile margin around it is listed.
    xs, ys = {x for x, _ in tiles}, {y for _, y in tiles}
    for x in range(min(xs) - 1, max(xs) + 2):
        for y in range(min(ys) - 1, max(ys) + 2):
            t_west, t_south, t_east, t_north = tile_bounds_wgs84(12, x, y)
            overlaps = t_west < east and t_east > west and t_south < north and t_north > south
            assert overlaps == ((x, y) in tiles)


def test_tiles_for_bbox_on_tile_edges_and_antimeridian() -> None:
    assert list(tiles_for_bbox(tile_bounds_wgs84(12, 3372, 1552), 12)) == [(3372, 1552)]
    assert list(tiles_for_bbox((-180.0, -85.0, 180.0, 85.0), 1)) == [(0, 0), (1, 0), (0, 1), (1, 1)]
    across = list(tiles_for_bbox((179.0, -1.0, -179.0, 1.0), 2))
    assert sorted(across) == [(0, 1), (0, 2), (3, 1), (3, 2)]
    with pytest.raises(ValueError, match="south"):
        list(tiles_for_bbox((116.0, 40.0, 117.0, 39.0), 5))


def test_mercator_metres_agree_with_proj_across_china() -> None:
    rng = np.random.default_rng(5)
    lon, lat = rng.uniform(73, 135, 5000), rng.uniform(3, 54, 5000)
    x, y = lonlat_to_mercator(lon, lat)
    px, py = TO_3857.transform(lon, lat)
    assert np.abs(x - px).max() < 1e-6 and np.abs(y - py).max() < 1e-6
