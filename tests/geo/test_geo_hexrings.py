"""Tests for geo.hexrings: cells decide the ring of their points, or say which to test."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from h3.api import basic_int
from shapely import Point, box

from geo.hexrings import ring_cells
from geo.measure import buffer_m

CENTRE = Point(116.397, 39.908)


def _innermost_by_cells(
    rings: list[shapely.Geometry], xs: np.ndarray, ys: np.ndarray
) -> np.ndarray:
    """Return each point's ring as the contents find it: its cell's ring, or tests between."""
    found = ring_cells(rings)
    where = {int(c): k for k, c in enumerate(found.cells)}
    out = np.full(len(xs), len(rings))
    for n, (x, y) in enumerate(zip(xs, ys, strict=True)):
        k = where.get(basic_int.latlng_to_cell(float(y), float(x), 9))
        if k is None:
            continue
        first, whole = int(found.first[k]), int(found.whole[k])
        tested = (i for i in range(first, whole) if shapely.intersects_xy(rings[i], x, y))
        out[n] = first if first == whole else next(tested, whole)
    return out


@pytest.mark.parametrize("seed", [1, 2])
def test_cells_give_every_point_its_innermost_ring(seed: int) -> None:
    rings = [buffer_m(CENTRE, 800.0), buffer_m(CENTRE, 3000.0), box(116.33, 39.86, 116.47, 39.95)]
    rng = np.random.default_rng(seed)
    xs, ys = rng.uniform(116.31, 116.49, 20_000), rng.uniform(39.84, 39.97, 20_000)
    truth = np.full(len(xs), len(rings))
    for i in reversed(range(len(rings))):
        truth[shapely.intersects_xy(rings[i], xs, ys)] = i
    assert (truth < len(rings)).sum() > 10_000
    assert np.array_equal(_innermost_by_cells(rings, xs, ys), truth)


def test_most_cells_need_no_test_and_a_ring_may_stick_out() -> None:
    # a control ring reaching outside the outer one: its own points are still its
    rings = [buffer_m(CENTRE, 500.0), buffer_m(Point(116.43, 39.908), 2500.0),
             box(116.37, 39.89, 116.42, 39.93)]  # fmt: skip
    found = ring_cells(rings)
    decided = found.first == found.whole
    assert decided.mean() > 0.6 and set(found.first.tolist()) == {0, 1, 2}
    xs = np.array([116.397, 116.45, 116.41, 116.30])
    ys = np.array([39.908, 39.908, 39.925, 39.908])
    assert _innermost_by_cells(rings, xs, ys).tolist() == [0, 1, 2, 3]


def test_too_many_cells_is_refused() -> None:
    with pytest.raises(ValueError, match="more than 100"):
        ring_cells([buffer_m(CENTRE, 5000.0)], max_cells=100)
