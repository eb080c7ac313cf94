"""Tests for geo.validate: checks, messages and repairs of user geometries."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from shapely import (
    GeometryCollection,
    LineString,
    MultiPolygon,
    Point,
    Polygon,
    box,
    get_coordinates,
)
from shapely.geometry.base import BaseGeometry

from geo.measure import area_m2
from geo.validate import (
    CHINA_BOUNDS,
    DEFAULT_MAX_VERTICES,
    GeometryError,
    ProblemCode,
    check_geometry,
    ensure_multipolygon,
    looks_swapped,
    repair_geometry,
    validate_geometry,
    within_china,
)

BOWTIE = Polygon([(116.40, 39.90), (116.42, 39.92), (116.42, 39.90), (116.40, 39.92)])
SQUARE = box(116.38, 39.90, 116.40, 39.92)


def codes(geom: BaseGeometry, **kwargs: Any) -> list[ProblemCode]:
    return [p.code for p in check_geometry(geom, **kwargs)]


def circle_polygon(n_vertices: int) -> Polygon:
    angles = np.linspace(0, 2 * math.pi, n_vertices, endpoint=False)
    return Polygon(np.column_stack([116.4 + 0.05 * np.cos(angles), 39.9 + 0.05 * np.sin(angles)]))


def test_good_geometries_have_no_problems() -> None:
    for geom in (Point(116.4, 39.9), SQUARE, LineString([(116.3, 39.9), (116.4, 40.0)])):
        assert check_geometry(geom) == []
        assert validate_geometry(geom).equals(geom)


def test_bowtie_names_the_ring_and_the_crossing() -> None:
    [problem] = check_geometry(BOWTIE)
    assert problem.code is ProblemCode.INVALID
    assert problem.location == pytest.approx((116.41, 39.91))
    assert "exterior ring self-intersects at (116.410000, 39.910000)" in problem.message
    with pytest.raises(GeometryError, match=r"self-intersects at \(116\.410000, 39\.910000\)"):
        validate_geometry(BOWTIE)


def test_hole_crossing_the_shell_names_both_rings_of_the_right_polygon() -> None:
    crossing = Polygon(SQUARE.exterior.coords, [box(116.39, 39.91, 116.41, 39.915).exterior.coords])
    multi = MultiPolygon([box(116.0, 39.5, 116.1, 39.6), crossing])
    [problem] = check_geometry(multi)
    expected = "the exterior ring of polygon 2 and hole 1 of polygon 2 cross each other"
    assert expected in problem.message
    assert problem.location is not None
    assert problem.location[0] == pytest.approx(116.40)


def test_hole_outside_shell_is_explained() -> None:
    poly = Polygon(SQUARE.exterior.coords, [box(116.5, 39.95, 116.51, 39.96).exterior.coords])
    [problem] = check_geometry(poly)
    assert "hole 1 lies outside its polygon's exterior ring" in problem.message


def test_too_many_vertices_reports_count_and_limit() -> None:
    assert DEFAULT_MAX_VERTICES == 10_000
    big = circle_polygon(20_000)  # 20,001 coordinates with the closing one
    [problem] = check_geometry(big)
    assert problem.code is ProblemCode.TOO_MANY_VERTICES
    assert "20001 vertices, more than the limit of 10000" in problem.message
    assert check_geometry(big, max_vertices=20_001) == []
    assert check_geometry(circle_polygon(9_999)) == []  # 10,000 coordinates: at the limit


def test_coordinates_in_europe_are_located() -> None:
    paris = box(2.30, 48.80, 2.40, 48.90)
    [problem] = check_geometry(paris)
    assert problem.code is ProblemCode.OUTSIDE_CHINA
    assert "5 of 5 coordinates are outside China's extent (lon 73..135.1, lat 3.8..53.6)" in (
        problem.message
    )
    assert "vertex 1 at (2.400000, 48.800000)" in problem.message
    mixed = LineString([(116.4, 39.9), (116.5, 39.9), (2.35, 48.85)])
    [problem] = check_geometry(mixed)
    assert "1 of 3 coordinates" in problem.message and "vertex 3" in problem.message


def test_swapped_beijing_point_gets_a_hint() -> None:
    assert looks_swapped(39.9, 116.4)
    assert not looks_swapped(116.4, 39.9)
    assert not looks_swapped(2.35, 48.85)  # Paris is wrong either way
    [problem] = check_geometry(Point(39.9, 116.4))
    assert problem.code is ProblemCode.SWAPPED_AXES
    assert "(longitude, latitude) order" in problem.message
    with pytest.raises(GeometryError) as info:
        validate_geometry(Point(39.9, 116.4))
    assert [p.code for p in info.value.problems] == [ProblemCode.SWAPPED_AXES]


def test_projected_metres_are_not_degrees() -> None:
    web_mercator_beijing = Point(12957400.0, 4852800.0)
    assert codes(web_mercator_beijing) == [ProblemCode.NOT_DEGREES]


def test_empty_geometry() -> None:
    assert codes(Polygon()) == [ProblemCode.EMPTY]
    with pytest.raises(GeometryError, match="empty"):
        validate_geometry(GeometryCollection())
    with pytest.raises(GeometryError, match="empty"):
        repair_geometry(Polygon())


@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")
@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_non_finite_coordinates(bad: float) -> None:
    line = LineString([(116.4, 39.9), (116.5, bad), (116.6, 39.9)])
    [problem] = check_geometry(line)
    assert problem.code is ProblemCode.NON_FINITE
    assert "vertex 2" in problem.message
    with pytest.raises(GeometryError, match="not finite"):
        repair_geometry(line)


def test_z_is_a_warning_and_is_dropped() -> None:
    poly3d = Polygon([(116.38, 39.90, 50.0), (116.40, 39.90, 50.0), (116.40, 39.92, 51.0)])
    [problem] = check_geometry(poly3d)
    assert (problem.code, problem.severity) == (ProblemCode.HAS_Z, "warning")
    out = validate_geometry(poly3d)
    assert not out.has_z
    np.testing.assert_array_equal(get_coordinates(out), get_coordinates(poly3d))
    assert not repair_geometry(poly3d).has_z


def test_expected_types() -> None:
    polygonal = {"Polygon", "MultiPolygon"}
    assert codes(SQUARE, expected_types=polygonal) == []
    line = LineString([(116.3, 39.9), (116.4, 40.0)])
    [problem] = check_geometry(line, expected_types=polygonal)
    assert problem.message == "expected MultiPolygon or Polygon, got LineString"


def test_several_problems_are_all_reported() -> None:
    swapped_bowtie = Polygon([(y, x) for x, y in BOWTIE.exterior.coords])
    assert codes(swapped_bowtie, expected_types={"Point"}) == [
        ProblemCode.WRONG_TYPE,
        ProblemCode.SWAPPED_AXES,
        ProblemCode.INVALID,
    ]


def test_repair_bowtie_keeps_both_lobes() -> None:
    fixed = repair_geometry(BOWTIE)
    assert isinstance(fixed, MultiPolygon) and fixed.is_valid
    assert len(fixed.geoms) == 2
    # The two triangles each cover a quarter of the bounding square.
    assert area_m2(fixed) == pytest.approx(area_m2(box(*BOWTIE.bounds)) / 2, rel=1e-3)
    assert check_geometry(fixed) == []


def test_repair_keeps_only_the_polygonal_part() -> None:
    # A square with a spike: make_valid returns the square plus a line.
    spiky = Polygon(
        [
            (116.38, 39.90),
            (116.40, 39.90),
            (116.45, 39.90),  # the spike
            (116.40, 39.90),
            (116.40, 39.92),
            (116.38, 39.92),
        ]
    )
    assert not spiky.is_valid
    fixed = repair_geometry(spiky)
    assert fixed.geom_type == "Polygon"
    assert fixed.equals(SQUARE)


def test_repair_leaves_valid_geometry_alone_and_rejects_collapse() -> None:
    assert repair_geometry(SQUARE) is not None and repair_geometry(SQUARE).equals(SQUARE)
    flat = Polygon([(116.38, 39.90), (116.39, 39.90), (116.40, 39.90)])
    with pytest.raises(GeometryError) as info:
        repair_geometry(flat)
    assert info.value.problems[0].code is ProblemCode.COLLAPSED


def test_within_china() -> None:
    assert within_china(SQUARE)
    assert not within_china(box(2.3, 48.8, 2.4, 48.9))
    assert not within_china(LineString([(116.4, 39.9), (140.0, 39.9)]))  # leaves the box
    assert not within_china(Point())
    min_lon, min_lat, max_lon, max_lat = CHINA_BOUNDS
    assert within_china(box(min_lon, min_lat, max_lon, max_lat))


def test_ensure_multipolygon() -> None:
    multi = ensure_multipolygon(SQUARE)
    assert isinstance(multi, MultiPolygon) and multi.geoms[0].equals(SQUARE)
    assert ensure_multipolygon(multi) is multi
    with pytest.raises(GeometryError, match="got LineString"):
        ensure_multipolygon(LineString([(116.3, 39.9), (116.4, 40.0)]))
