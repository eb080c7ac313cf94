"""Tests for geo.densify: vertices along geodesics."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely import LineString, MultiPolygon, Point, Polygon, box, get_coordinates

from geo.densify import densify_m
from geo.measure import distance_m


def _on_geodesic(line: LineString, start: tuple[float, float], end: tuple[float, float]) -> float:
    """Return how far (m) the line's points stray from the geodesic start-end, at most."""
    xs, ys = np.asarray(line.coords).T
    total = distance_m(start[0], start[1], end[0], end[1])
    detour = distance_m(xs, ys, start[0], start[1]) + distance_m(xs, ys, end[0], end[1]) - total
    return float(detour.max())


coordinate = st.tuples(st.floats(115.5, 117.5), st.floats(39.4, 41.0))


@settings(max_examples=60, deadline=None)
@given(start=coordinate, end=coordinate, segment_m=st.floats(50.0, 5_000.0))
def test_new_vertices_lie_on_the_geodesic_no_further_apart_than_asked(
    start: tuple[float, float], end: tuple[float, float], segment_m: float
) -> None:
    line = densify_m(LineString([start, end]), segment_m)
    assert line.coords[0] == start and line.coords[-1] == end
    xs, ys = np.asarray(line.coords).T
    steps = distance_m(xs[:-1], ys[:-1], xs[1:], ys[1:])
    assert steps.max() <= segment_m * (1 + 1e-9) + 1e-6
    # a point on the geodesic adds no detour: within a millimetre over up to 200 km
    assert _on_geodesic(line, start, end) < 1e-3


def test_a_polygon_keeps_its_vertices_holes_and_validity() -> None:
    outer = box(116.30, 39.85, 116.50, 40.00)
    hole = box(116.38, 39.90, 116.42, 39.94)
    dense = densify_m(Polygon(outer.exterior.coords, [hole.exterior.coords]), 250.0)
    assert dense.is_valid and len(dense.interiors) == 1
    kept = {tuple(p) for p in get_coordinates(outer)} | {tuple(p) for p in get_coordinates(hole)}
    assert kept <= {tuple(p) for p in get_coordinates(dense)}
    # the north edge (40.00) bows north along its geodesic, by ~3.6 m over 17 km
    assert dense.bounds[3] > 40.0 + 3e-5
    assert dense.area == pytest.approx(outer.area - hole.area, rel=1e-4)


def test_multi_parts_and_points() -> None:
    parts = MultiPolygon([box(116.30, 39.85, 116.31, 39.86), box(116.40, 39.85, 116.41, 39.86)])
    assert len(densify_m(parts, 100.0).geoms) == 2
    assert densify_m(Point(116.4, 39.9, 50.0), 100.0).equals(Point(116.4, 39.9))
    with pytest.raises(ValueError, match="positive"):
        densify_m(parts, 0.0)
