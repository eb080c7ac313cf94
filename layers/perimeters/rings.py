"""Drawing a ring: a polygon, a buffer in metres around a shape, or a distance around the core.

Every ring is checked before anything is stored (empty, self-intersecting, outside
China, too many vertices, too large, a buffer of zero or less) and each problem is an
``InvalidInput`` naming the ring. Buffers are geodesic (``geo.measure.buffer_m``) and
every ring gets vertices along its edges' geodesics (``geo.densify``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import shapely.geometry
from shapely.geometry import MultiPolygon, Polygon, mapping
from shapely.geometry.base import BaseGeometry

from geo import measure, validate
from geo.densify import densify_m
from layers.errors import InvalidInput


class RingKind(StrEnum):
    """The rings of a perimeter, innermost first."""

    CORE = "core"
    CONTROL = "control"
    OUTER = "outer"


RING_ORDER = tuple(RingKind)
RING_TITLES = {RingKind.CORE: "核心区", RingKind.CONTROL: "管控区", RingKind.OUTER: "外围区"}
_DRAWN_TYPES = frozenset({"Polygon", "MultiPolygon"})
_AROUND_TYPES = frozenset({*_DRAWN_TYPES, "Point", "LineString", "MultiPoint", "MultiLineString"})
SEGMENT_M = 250.0  # geodesic and planar edges part by under 1 mm at this length


@dataclass(frozen=True)
class RingDraft:
    """A ring as asked for: a drawn ``shape``; a ``shape`` grown by ``buffer_m``; or, with no
    shape, the core grown by ``buffer_m``."""

    kind: RingKind
    shape: BaseGeometry | None = None
    buffer_m: float | None = None


@dataclass(frozen=True)
class RingLimits:
    """How large and detailed a ring may be (``WARROOM_PERIMETERS_*``)."""

    max_vertices: int
    max_area_km2: float
    max_buffer_m: float


@dataclass(frozen=True)
class Ring:
    """A checked ring: how it was drawn (JSON), its shape in WGS84 and its geodesic area."""

    kind: RingKind
    drawn: dict[str, Any]
    shape: MultiPolygon
    area_m2: float


def _problem(kind: RingKind, text: str) -> InvalidInput:
    return InvalidInput(f"ring {kind.value!r}: {text}", ring=kind.value)


def _checked_shape(draft: RingDraft, limits: RingLimits) -> BaseGeometry:
    assert draft.shape is not None
    allowed = _AROUND_TYPES if draft.buffer_m is not None else _DRAWN_TYPES
    try:
        return validate.validate_geometry(
            draft.shape, max_vertices=limits.max_vertices, expected_types=allowed
        )
    except validate.GeometryError as exc:
        raise _problem(draft.kind, str(exc)) from None


def _checked_buffer(draft: RingDraft, limits: RingLimits) -> float:
    assert draft.buffer_m is not None
    distance = draft.buffer_m
    if not (math.isfinite(distance) and 0 < distance <= limits.max_buffer_m):
        raise _problem(draft.kind, f"a buffer must be more than 0 and at most "
                       f"{limits.max_buffer_m:,.0f} m, got {distance:g}")  # fmt: skip
    return distance


def _as_multipolygon(kind: RingKind, geom: BaseGeometry) -> MultiPolygon:
    parts = [p for p in getattr(geom, "geoms", [geom]) if isinstance(p, Polygon) and p.area > 0]
    if not parts:
        raise _problem(kind, "the ring encloses no area (its points lie on one line)")
    return MultiPolygon(parts)


def _finished(kind: RingKind, drawn: dict[str, Any], geom: BaseGeometry,
              limits: RingLimits) -> Ring:  # fmt: skip
    shape = _as_multipolygon(kind, densify_m(geom, SEGMENT_M))
    area_km2 = measure.area_m2(shape) / 1e6
    if area_km2 > limits.max_area_km2:
        raise _problem(kind, f"it covers {area_km2:,.1f} km², more than the limit of "
                       f"{limits.max_area_km2:,.0f} km²; draw it smaller")  # fmt: skip
    if not validate.within_china(shape):
        raise _problem(kind, "grown by its buffer it reaches outside China")
    return Ring(kind, drawn, shape, area_km2 * 1e6)


def _one(draft: RingDraft, core: Ring | None, limits: RingLimits) -> Ring:
    if draft.shape is None:
        if draft.buffer_m is None:
            raise _problem(draft.kind, "give a polygon, a shape with buffer_m, or around_core_m")
        if draft.kind is RingKind.CORE or core is None:
            raise _problem(draft.kind, "a distance around the core needs a core ring")
        distance = _checked_buffer(draft, limits)
        grown = measure.buffer_m(core.shape, distance)
        return _finished(draft.kind, {"around_core_m": distance}, grown, limits)
    shape = _checked_shape(draft, limits)
    if draft.buffer_m is None:
        return _finished(draft.kind, {"polygon": mapping(shape)}, shape, limits)
    distance = _checked_buffer(draft, limits)
    drawn = {"around": mapping(shape), "buffer_m": distance}
    return _finished(draft.kind, drawn, measure.buffer_m(shape, distance), limits)


def build_rings(drafts: Sequence[RingDraft], limits: RingLimits) -> list[Ring]:
    """Return the checked rings of a perimeter, innermost first, or raise ``InvalidInput``."""
    if not drafts:
        raise InvalidInput("a perimeter needs at least one ring (core, control or outer)")
    kinds = [d.kind for d in drafts]
    if len(set(kinds)) != len(kinds):
        raise InvalidInput(f"each ring kind may be given once; got {', '.join(kinds)}")
    rings: list[Ring] = []
    core: Ring | None = None
    for draft in sorted(drafts, key=lambda d: RING_ORDER.index(d.kind)):
        ring = _one(draft, core, limits)
        core = ring if ring.kind is RingKind.CORE else core
        rings.append(ring)
    return rings


def draft_of(kind: str, drawn: dict[str, Any]) -> RingDraft:
    """Return the draft that draws a stored ring (its ``drawn`` JSON) again."""
    ring = RingKind(kind)
    if "polygon" in drawn:
        return RingDraft(ring, shapely.geometry.shape(drawn["polygon"]))
    if "around" in drawn:
        return RingDraft(ring, shapely.geometry.shape(drawn["around"]), drawn["buffer_m"])
    return RingDraft(ring, None, drawn["around_core_m"])
