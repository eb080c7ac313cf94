"""A small test area of its own (far from the demo city): a district, two precincts, units.

Tile tests compare decoded tiles with PostGIS, so the area only has to be known, not
empty of other data; it sits at a place of its own so counts stay readable.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from shapely.geometry import MultiPolygon, Point, box
from sqlalchemy.orm import Session, sessionmaker

from geo.tiling import lonlat_to_tile, tile_bounds_wgs84
from layers.accounts.scope import SYSTEM
from layers.features.registry import get_layer
from layers.features.service import create_feature

ZOOM = 14


@dataclass(frozen=True)
class Area:
    """Codes of the area's precincts and the tile the tests look at."""

    district_code: str
    west_precinct_code: str
    east_precinct_code: str
    tile: tuple[int, int, int]
    unit_ids: tuple[int, ...]
    incident_id: int


def _add(session: Session, layer: str, geometry: object, **properties: object) -> int:
    spec = get_layer(layer)
    feature = create_feature(
        session=session, spec=spec, geometry=geometry, properties=properties,  # type: ignore[arg-type]
        actor=SYSTEM, max_vertices=10_000,
    )  # fmt: skip
    return int(feature.id)


def build_area(factory: sessionmaker[Session], lon: float, lat: float) -> Area:
    """Create the area around ``lon, lat``: units on a grid, some in a tile's buffer."""
    tag = uuid.uuid4().hex[:6]
    x, y = lonlat_to_tile(lon, lat, ZOOM)
    west, south, east, north = tile_bounds_wgs84(ZOOM, x, y)
    width, height = east - west, north - south
    middle = (west + east) / 2
    codes = (f"TD-{tag}", f"TPW-{tag}", f"TPE-{tag}")
    with factory() as session, session.begin():
        outer = box(west - 3 * width, south - 3 * height, east + 3 * width, north + 3 * height)
        _add(session, "districts", MultiPolygon([outer]), name=f"测试分局{tag}", code=codes[0])
        ow, os_, oe, on = outer.bounds
        for code, part in (
            (codes[1], box(ow, os_, middle, on)),
            (codes[2], box(middle, os_, oe, on)),
        ):
            _add(session, "precincts", MultiPolygon([part]), name=f"派出所{code}", code=code,
                 parent_code=codes[0])  # fmt: skip
        ids = []
        for i in range(8):
            for j in range(8):
                # a grid reaching 1/8 of the tile beyond each edge: inside, buffer and outside
                px = west + width * (-0.125 + 1.25 * (i + 0.5) / 8)
                py = south + height * (-0.125 + 1.25 * (j + 0.5) / 8)
                ids.append(_add(session, "units", Point(px, py), name=f"单位{i}-{j}",
                                category="school", risk_level=1 + (i + j) % 4,
                                is_key_unit=(i == j)))  # fmt: skip
        # just outside each edge, inside the clip buffer (64/4096 of a tile)
        for k, (fx, fy) in enumerate(((-0.008, 0.4), (1.008, 0.6), (0.3, -0.008), (0.7, 1.008))):
            ids.append(_add(session, "units", Point(west + width * fx, south + height * fy),
                            name=f"缓冲区单位{k}", category="bank", risk_level=4))  # fmt: skip
        incident = _add(session, "incidents", Point(west + width / 4, south + height / 4),
                        name="测试警情", category="theft", level=2, status="open",
                        occurred_at="2026-11-24T08:00:00+08:00")  # fmt: skip
    return Area(*codes, (ZOOM, x, y), tuple(ids), incident)
