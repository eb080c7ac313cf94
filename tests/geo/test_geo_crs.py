"""Tests for geo.crs: WGS84 / GCJ-02 / BD-09 conversions."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from pyproj import Geod
from shapely import LineString, MultiPolygon, Point, Polygon, get_coordinates

from geo.crs import (
    CoordSystem,
    bd09_to_gcj02,
    bd09_to_wgs84,
    convert,
    gcj02_to_bd09,
    gcj02_to_wgs84,
    transform_geometry,
    wgs84_to_bd09,
    wgs84_to_gcj02,
)

GEOD = Geod(ellps="WGS84")
Convert = Callable[..., Any]


def geodesic_m(*lon1_lat1_lon2_lat2: Any) -> np.ndarray:
    return np.abs(np.asarray(GEOD.inv(*lon1_lat1_lon2_lat2)[2]))


# (lon, lat) inputs and outputs published in the test suites of
# wandergis/coordtransform (JS) and googollee/eviltransform.
COORDTRANSFORM_IN = (116.404, 39.915)
COORDTRANSFORM_WGS_TO_GCJ = (116.41024449916938, 39.91640428150164)
COORDTRANSFORM_GCJ_TO_BD = (116.41036949371029, 39.92133699351021)
# One-step (approximate) inverses from the same suite.
COORDTRANSFORM_BD_TO_GCJ = (116.39762729119315, 39.90865673957631)
COORDTRANSFORM_GCJ_TO_WGS = (116.39775550083061, 39.91359571849836)

EVILTRANSFORM_WGS_GCJ = [
    # wgs lon, wgs lat, gcj lon, gcj lat
    (121.5272106, 31.1774276, 121.531541859215, 31.17530398364597),  # Shanghai
    (113.912316, 22.543847, 113.9171764808363, 22.540796131694766),  # Shenzhen
    (116.377817, 39.911954, 116.38404722455657, 39.91334545536069),  # Beijing
]


def beijing_grid(n: int = 20_000, seed: int = 20240601) -> tuple[np.ndarray, np.ndarray]:
    """Random points over Beijing municipality (fixed seed)."""
    rng = np.random.default_rng(seed)
    return rng.uniform(115.4, 117.6, n), rng.uniform(39.4, 41.1, n)


def test_wgs84_to_gcj02_matches_coordtransform() -> None:
    lon, lat = wgs84_to_gcj02(*COORDTRANSFORM_IN)
    assert (lon, lat) == pytest.approx(COORDTRANSFORM_WGS_TO_GCJ, abs=1e-12)


def test_gcj02_to_bd09_matches_coordtransform() -> None:
    lon, lat = gcj02_to_bd09(*COORDTRANSFORM_IN)
    assert (lon, lat) == pytest.approx(COORDTRANSFORM_GCJ_TO_BD, abs=1e-12)


@pytest.mark.parametrize(("wgs_lon", "wgs_lat", "gcj_lon", "gcj_lat"), EVILTRANSFORM_WGS_GCJ)
def test_wgs84_to_gcj02_matches_eviltransform(
    wgs_lon: float, wgs_lat: float, gcj_lon: float, gcj_lat: float
) -> None:
    assert wgs84_to_gcj02(wgs_lon, wgs_lat) == pytest.approx((gcj_lon, gcj_lat), abs=1e-9)


@pytest.mark.parametrize(("wgs_lon", "wgs_lat", "gcj_lon", "gcj_lat"), EVILTRANSFORM_WGS_GCJ)
def test_gcj02_to_wgs84_recovers_eviltransform_points(
    wgs_lon: float, wgs_lat: float, gcj_lon: float, gcj_lat: float
) -> None:
    lon, lat = gcj02_to_wgs84(gcj_lon, gcj_lat)
    assert geodesic_m(lon, lat, wgs_lon, wgs_lat) < 0.01


@pytest.mark.parametrize(
    ("inverse", "forward", "published"),
    [
        (gcj02_to_wgs84, wgs84_to_gcj02, COORDTRANSFORM_GCJ_TO_WGS),
        (bd09_to_gcj02, gcj02_to_bd09, COORDTRANSFORM_BD_TO_GCJ),
    ],
)
def test_iterative_inverse_beats_published_one_step(
    inverse: Convert, forward: Convert, published: tuple[float, float]
) -> None:
    lon, lat = inverse(*COORDTRANSFORM_IN)
    # Close to the published one-step inverse, which is only approximate ...
    assert geodesic_m(lon, lat, *published) < 0.5
    # ... but ours maps back onto the input, and the one-step one does not.
    ours = geodesic_m(*forward(lon, lat), *COORDTRANSFORM_IN)
    theirs = geodesic_m(*forward(*published), *COORDTRANSFORM_IN)
    assert ours < 0.001
    assert theirs > 10 * ours


def test_tiananmen_landmark() -> None:
    # Amap's Tiananmen POI (GCJ-02) against the gate's WGS84 position. The two
    # are not quite the same spot, hence 100 m; the GCJ offset itself is ~550 m.
    lon, lat = gcj02_to_wgs84(116.397428, 39.90923)
    assert geodesic_m(lon, lat, 116.3912, 39.9073) < 100
    assert geodesic_m(116.397428, 39.90923, 116.3912, 39.9073) > 400


def test_offset_in_beijing_has_expected_size() -> None:
    # Tiananmen East rail station, WGS84. GCJ-02 moves Beijing ~0.5 km NE-ish.
    lon, lat = 116.39492, 39.90633
    gcj_lon, gcj_lat = wgs84_to_gcj02(lon, lat)
    assert 450 < geodesic_m(lon, lat, gcj_lon, gcj_lat) < 650
    assert gcj_lon > lon and gcj_lat > lat
    assert geodesic_m(*gcj02_to_wgs84(gcj_lon, gcj_lat), lon, lat) < 0.01
    assert geodesic_m(*bd09_to_wgs84(*wgs84_to_bd09(lon, lat)), lon, lat) < 0.01


@pytest.mark.parametrize(
    "func",
    [wgs84_to_gcj02, gcj02_to_wgs84, gcj02_to_bd09, bd09_to_gcj02, wgs84_to_bd09, bd09_to_wgs84],
)
@pytest.mark.parametrize(("lon", "lat"), [(2.35, 48.85), (139.69, 35.69), (-74.0, 40.7)])
def test_outside_china_passes_through(func: Convert, lon: float, lat: float) -> None:
    assert func(lon, lat) == (lon, lat)


@pytest.mark.parametrize(
    ("forward", "inverse"),
    [
        (wgs84_to_gcj02, gcj02_to_wgs84),
        (gcj02_to_bd09, bd09_to_gcj02),
        (wgs84_to_bd09, bd09_to_wgs84),
    ],
)
@pytest.mark.parametrize("area", ["beijing", "china"])
def test_round_trip_is_below_1_cm(forward: Convert, inverse: Convert, area: str) -> None:
    if area == "beijing":
        lon, lat = beijing_grid()
    else:  # most of China, well inside the rough bbox
        rng = np.random.default_rng(99)
        lon, lat = rng.uniform(74.0, 134.0, 20_000), rng.uniform(18.0, 53.0, 20_000)
    back_lon, back_lat = inverse(*forward(lon, lat))
    assert geodesic_m(lon, lat, back_lon, back_lat).max() < 0.01
    # And the other way round: inverse first, then forward.
    again_lon, again_lat = forward(*inverse(lon, lat))
    assert geodesic_m(lon, lat, again_lon, again_lat).max() < 0.01


def test_arrays_match_scalars_and_keep_shape() -> None:
    lon, lat = beijing_grid(12)
    lon2d, lat2d = lon.reshape(3, 4), lat.reshape(3, 4)
    out_lon, out_lat = gcj02_to_wgs84(lon2d, lat2d)
    assert out_lon.shape == out_lat.shape == (3, 4)
    for i in range(3):
        for j in range(4):
            s_lon, s_lat = gcj02_to_wgs84(float(lon2d[i, j]), float(lat2d[i, j]))
            # Arrays iterate until every point converges, so allow ~0.1 mm.
            assert (s_lon, s_lat) == pytest.approx((out_lon[i, j], out_lat[i, j]), abs=1e-9)


def test_scalars_return_floats_and_arrays_mix_inside_and_outside() -> None:
    lon, lat = wgs84_to_gcj02(116, 40)
    assert type(lon) is float and type(lat) is float
    lons, lats = wgs84_to_gcj02(np.array([116.4, 2.35, np.nan]), np.array([39.9, 48.85, 39.9]))
    assert lons[0] != 116.4 and lats[0] != 39.9
    assert (lons[1], lats[1]) == (2.35, 48.85)
    assert np.isnan(lons[2])


def test_convert_dispatches_and_validates() -> None:
    lon, lat = beijing_grid(100)
    for src in CoordSystem:
        for dst in CoordSystem:
            got = convert(lon, lat, src, dst.value)
            if src is dst:
                np.testing.assert_array_equal(got, (lon, lat))
            else:
                back = convert(*got, dst, src)
                assert geodesic_m(lon, lat, *back).max() < 0.01
                assert geodesic_m(lon, lat, *got).min() > 100
    np.testing.assert_array_equal(
        convert(lon, lat, "wgs84", "bd09"), gcj02_to_bd09(*wgs84_to_gcj02(lon, lat))
    )
    with pytest.raises(ValueError, match="mars"):
        convert(116.4, 39.9, "wgs84", "mars")


@pytest.mark.parametrize(
    "geom",
    [
        Point(116.4, 39.9),
        LineString([(116.3, 39.8), (116.4, 39.9), (116.5, 39.95)]),
        Polygon(
            [(116.3, 39.8), (116.5, 39.8), (116.5, 40.0), (116.3, 40.0)],
            [[(116.35, 39.85), (116.45, 39.85), (116.45, 39.95)]],
        ),
        MultiPolygon([Polygon([(116.3, 39.8), (116.5, 39.8), (116.5, 40.0)])]),
    ],
)
def test_transform_geometry_converts_every_vertex(geom: Point) -> None:
    out = transform_geometry(geom, CoordSystem.WGS84, "gcj02")
    assert out.geom_type == geom.geom_type
    expected = np.column_stack(wgs84_to_gcj02(*get_coordinates(geom).T))
    np.testing.assert_array_equal(get_coordinates(out), expected)
    back = transform_geometry(out, "gcj02", "wgs84")
    np.testing.assert_allclose(get_coordinates(back), get_coordinates(geom), atol=1e-8)


def test_transform_geometry_keeps_z() -> None:
    out = transform_geometry(Point(116.4, 39.9, 55.0), "wgs84", "bd09")
    assert out.has_z and out.z == 55.0
    assert (out.x, out.y) == wgs84_to_bd09(116.4, 39.9)
