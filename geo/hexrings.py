"""Which H3 cells lie wholly within which of nested rings, so most points need no test.

For rings given innermost first (each ring an area; "innermost holding a point" is the
first ring that holds it), every cell that meets a ring gets two numbers: ``first``, the
innermost ring the cell meets, and ``whole``, the innermost ring holding the whole cell
(``len(rings)`` when none does). A point in the cell lies in no ring before ``first``;
when ``first == whole`` it lies in that ring without a test; otherwise only rings
``first`` to ``whole - 1`` need testing, and failing those it lies in ``whole`` (or in
none). Cells are grown by ``margin_m`` before they are judged, so a point that h3 puts
in a cell is certainly within the grown outline (h3's edges are great-circle arcs, the
outline's straight lines in degrees: they part by under a millimetre at resolution 9).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import shapely
from h3.api import basic_int
from shapely.geometry.base import BaseGeometry

from geo.hexes import cover_polygon

__all__ = ["RingCells", "ring_cells"]

_METRES_PER_DEGREE_LAT = 110_574.0


@dataclass(frozen=True)
class RingCells:
    """Cells meeting any of the rings, with ``first`` and ``whole`` for each (see the module)."""

    cells: npt.NDArray[np.int64]
    first: npt.NDArray[np.int16]
    whole: npt.NDArray[np.int16]


def _outlines(cells: npt.NDArray[np.int64]) -> npt.NDArray[np.object_]:
    rings = [[(lng, lat) for lat, lng in basic_int.cell_to_boundary(int(c))] for c in cells]
    return np.asarray(shapely.polygons([shapely.linearrings(r) for r in rings]), dtype=object)


def ring_cells(
    rings: Sequence[BaseGeometry], *, resolution: int = 9, margin_m: float = 2.0,
    max_cells: int = 200_000,
) -> RingCells:  # fmt: skip
    """Return every ``resolution`` cell meeting a ring, with the rings it meets and lies in.

    Raises ``ValueError`` when the rings need more than ``max_cells`` cells.

    Examples
    --------
    >>> from shapely import Point
    >>> core = Point(116.397, 39.908).buffer(0.01)
    >>> outer = Point(116.397, 39.908).buffer(0.03)
    >>> found = ring_cells([core, outer])
    >>> sorted(set(zip(found.first.tolist(), found.whole.tolist())))
    [(0, 0), (0, 1), (1, 1), (1, 2)]
    """
    extent = shapely.union_all(list(rings))
    cells = np.asarray(cover_polygon(extent, resolution=resolution, max_cells=max_cells),
                       dtype=np.int64)  # fmt: skip
    if cells.size and basic_int.get_resolution(int(cells[0])) != resolution:
        raise ValueError(f"the rings need more than {max_cells:,} cells at resolution {resolution}")
    # grown by the margin east-west at the extent's highest latitude: more elsewhere
    widest = max(abs(extent.bounds[1]), abs(extent.bounds[3]))
    margin = margin_m / (_METRES_PER_DEGREE_LAT * math.cos(math.radians(widest)))
    grown = shapely.buffer(_outlines(cells), margin, join_style="mitre")
    count = len(rings)
    first = np.full(len(cells), count, dtype=np.int16)
    whole = np.full(len(cells), count, dtype=np.int16)
    for i, ring in reversed(list(enumerate(rings))):  # inner rings overwrite outer ones
        shapely.prepare(ring)
        first[shapely.intersects(ring, grown)] = i
        whole[shapely.contains(ring, grown)] = i
    meets = first < count
    return RingCells(cells[meets], first[meets], whole[meets])
