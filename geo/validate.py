"""Checks and repairs for user-supplied geometries in WGS84 longitude/latitude.

:func:`check_geometry` lists every problem it finds as a :class:`Problem`
with a stable ``code`` (for translation in the UI) and an English
``message`` that says what is wrong, where, and what to do about it.
:func:`validate_geometry` raises :class:`GeometryError` with those problems;
:func:`repair_geometry` fixes what can be fixed automatically.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

import numpy as np
import shapely
from shapely.geometry import LineString, MultiLineString, MultiPoint, MultiPolygon, Point, Polygon
from shapely.geometry.base import BaseGeometry, BaseMultipartGeometry
from shapely.validation import explain_validity

__all__ = [
    "CHINA_BOUNDS",
    "DEFAULT_MAX_VERTICES",
    "GeometryError",
    "Problem",
    "ProblemCode",
    "check_geometry",
    "ensure_multipolygon",
    "looks_swapped",
    "repair_geometry",
    "validate_geometry",
    "within_china",
]

DEFAULT_MAX_VERTICES = 10_000
#: (min_lon, min_lat, max_lon, max_lat) of China, generously rounded.
CHINA_BOUNDS = (73.0, 3.8, 135.1, 53.6)

_BOUNDS_TEXT = "lon {0:g}..{2:g}, lat {1:g}..{3:g}".format(*CHINA_BOUNDS)
_REASON_RE = re.compile(r"^(?P<reason>[^\[]+)\[(?P<x>\S+) (?P<y>\S+)\]$")


class ProblemCode(StrEnum):
    """Stable identifiers of geometry problems."""

    EMPTY = "empty"
    WRONG_TYPE = "wrong_type"
    HAS_Z = "has_z"
    NON_FINITE = "non_finite"
    TOO_MANY_VERTICES = "too_many_vertices"
    NOT_DEGREES = "not_degrees"
    SWAPPED_AXES = "swapped_axes"
    OUTSIDE_CHINA = "outside_china"
    INVALID = "invalid"
    COLLAPSED = "collapsed"


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with a geometry.

    ``severity`` is ``"error"`` (the geometry must not be stored as is) or
    ``"warning"`` (it is stored after an automatic fix, such as dropping Z).
    """

    code: ProblemCode
    message: str
    location: tuple[float, float] | None = None
    severity: Literal["error", "warning"] = "error"


class GeometryError(ValueError):
    """A geometry cannot be used; ``problems`` says why."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("; ".join(p.message for p in problems))


def _in_bounds(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    min_lon, min_lat, max_lon, max_lat = CHINA_BOUNDS
    return (lon >= min_lon) & (lon <= max_lon) & (lat >= min_lat) & (lat <= max_lat)


def _inside(lon: float, lat: float) -> bool:
    min_lon, min_lat, max_lon, max_lat = CHINA_BOUNDS
    return min_lon <= lon <= max_lon and min_lat <= lat <= max_lat


def within_china(geom: BaseGeometry) -> bool:
    """Return True if the geometry's bounds lie inside China's extent.

    Examples
    --------
    >>> within_china(Point(116.4, 39.9)), within_china(Point(2.35, 48.85))
    (True, False)
    """
    if geom.is_empty:
        return False
    min_lon, min_lat, max_lon, max_lat = geom.bounds
    return _inside(min_lon, min_lat) and _inside(max_lon, max_lat)


def looks_swapped(lon: float, lat: float) -> bool:
    """Return True if ``(lon, lat)`` is outside China but ``(lat, lon)`` is inside.

    Examples
    --------
    >>> looks_swapped(39.9, 116.4), looks_swapped(116.4, 39.9)
    (True, False)
    """
    return not _inside(lon, lat) and _inside(lat, lon)


def _fmt(x: float, y: float) -> str:
    return f"({x:.6f}, {y:.6f})"


def _rings(geom: BaseGeometry) -> list[tuple[str, LineString]]:
    """Name every polygon ring as a user would count them (1-based)."""
    polygons = [p for p in _parts(geom) if isinstance(p, Polygon)]
    named: list[tuple[str, LineString]] = []
    for i, poly in enumerate(polygons, start=1):
        of = f" of polygon {i}" if len(polygons) > 1 else ""
        named.append((f"the exterior ring{of}", LineString(poly.exterior.coords)))
        named.extend(
            (f"hole {j}{of}", LineString(hole.coords))
            for j, hole in enumerate(poly.interiors, start=1)
        )
    return named


def _parts(geom: BaseGeometry) -> list[BaseGeometry]:
    if isinstance(geom, BaseMultipartGeometry):
        return [p for part in geom.geoms for p in _parts(part)]
    return [geom]


def _invalidity(geom: BaseGeometry) -> Problem:
    """Turn GEOS's validity reason into a message naming the ring and the place."""
    reason = explain_validity(geom)
    match = _REASON_RE.match(reason)
    if match is None:
        return Problem(ProblemCode.INVALID, f"geometry is invalid: {reason}")
    what, x, y = match["reason"].strip(), float(match["x"]), float(match["y"])
    at = Point(x, y)
    rings = [name for name, ring in _rings(geom) if ring.distance(at) < 1e-9]
    where = " and ".join(rings) if rings else "the geometry"
    lowered = what.lower()
    if "self-intersection" in lowered:
        verb = "cross each other" if len(rings) > 1 else "self-intersects"
        message = f"{where} {verb} at {_fmt(x, y)}; redraw it so that no edges cross"
    elif lowered == "hole lies outside shell":
        message = (
            f"{where} lies outside its polygon's exterior ring, near {_fmt(x, y)}; "
            "move the hole inside or draw it as a separate polygon"
        )
    else:
        message = f"{where} is invalid ({what}) at {_fmt(x, y)}; redraw it"
    return Problem(ProblemCode.INVALID, message + ", or repair it automatically", location=(x, y))


def _coordinate_problem(coords: np.ndarray) -> Problem | None:
    """Check that all coordinates are degrees inside China, in (lon, lat) order."""
    lon, lat = coords[:, 0], coords[:, 1]
    outside = np.flatnonzero(~_in_bounds(lon, lat))
    if outside.size == 0:
        return None
    not_degrees = np.flatnonzero((np.abs(lon) > 180) | (np.abs(lat) > 90))
    swapped = all(looks_swapped(float(lon[k]), float(lat[k])) for k in outside)
    if swapped or not not_degrees.size:
        culprits, what = outside, "outside China"
    else:
        culprits, what = not_degrees, "not longitude/latitude degrees"
    i = int(culprits[0])
    where = (float(lon[i]), float(lat[i]))
    message = f"{culprits.size} of {len(coords)} coordinates are {what}"
    first = f"first is vertex {i + 1} at {_fmt(*where)}"
    if swapped:
        code, advice = ProblemCode.SWAPPED_AXES, "send them in (longitude, latitude) order"
        message += f" but would be inside with longitude and latitude exchanged ({first})"
    elif not_degrees.size:
        code, advice = ProblemCode.NOT_DEGREES, "send WGS84 (EPSG:4326) longitude/latitude"
        message += f" ({first}); they look like projected metres"
    else:
        code, advice = ProblemCode.OUTSIDE_CHINA, "check the data is WGS84 longitude/latitude"
        message += f"'s extent ({_BOUNDS_TEXT}); {first}"
    return Problem(code, f"{message}; {advice}", location=where)


def check_geometry(
    geom: BaseGeometry,
    *,
    max_vertices: int = DEFAULT_MAX_VERTICES,
    expected_types: Collection[str] | None = None,
) -> list[Problem]:
    """Return every problem found in a geometry (an empty list if it is fine).

    Parameters
    ----------
    geom : BaseGeometry
        Geometry in WGS84 longitude/latitude.
    max_vertices : int, default DEFAULT_MAX_VERTICES
        Largest accepted number of vertices.
    expected_types : collection of str, optional
        Accepted ``geom_type`` names, e.g. ``{"Polygon", "MultiPolygon"}``.

    Examples
    --------
    >>> check_geometry(Point(116.4, 39.9))
    []
    >>> bowtie = Polygon([(116.40, 39.90), (116.41, 39.91), (116.41, 39.90), (116.40, 39.91)])
    >>> print(check_geometry(bowtie)[0].message)  # doctest: +ELLIPSIS
    the exterior ring self-intersects at (116.405000, 39.905000); redraw it ...
    """
    if geom.is_empty:
        return [Problem(ProblemCode.EMPTY, "geometry is empty; it needs at least one coordinate")]
    problems: list[Problem] = []
    if expected_types is not None and geom.geom_type not in expected_types:
        message = f"expected {' or '.join(sorted(expected_types))}, got {geom.geom_type}"
        problems.append(Problem(ProblemCode.WRONG_TYPE, message))
    if geom.has_z:
        message = "coordinates have a third (Z) value, which is ignored and dropped"
        problems.append(Problem(ProblemCode.HAS_Z, message, severity="warning"))
    coords = shapely.get_coordinates(geom)
    if len(coords) > max_vertices:
        message = (
            f"geometry has {len(coords)} vertices, more than the limit of {max_vertices}; "
            "simplify it (for example to a 1 m tolerance) before uploading"
        )
        problems.append(Problem(ProblemCode.TOO_MANY_VERTICES, message))
    bad = np.flatnonzero(~np.isfinite(coords).all(axis=1))
    if bad.size:
        x, y = coords[bad[0]]
        message = (
            f"{bad.size} coordinates are not finite numbers (NaN or infinity); the first is "
            f"vertex {bad[0] + 1}: ({x}, {y}); fix or remove them"
        )
        # Location and validity checks mean nothing with NaN coordinates.
        return [*problems, Problem(ProblemCode.NON_FINITE, message)]
    outside = _coordinate_problem(coords)
    if outside is not None:
        problems.append(outside)
    if not geom.is_valid:
        problems.append(_invalidity(geom))
    return problems


def validate_geometry(
    geom: BaseGeometry,
    *,
    max_vertices: int = DEFAULT_MAX_VERTICES,
    expected_types: Collection[str] | None = None,
) -> BaseGeometry:
    """Return the geometry without Z, or raise GeometryError listing its errors.

    Examples
    --------
    >>> validate_geometry(Point(116.4, 39.9, 50.0)).wkt
    'POINT (116.4 39.9)'
    >>> validate_geometry(Point(39.9, 116.4))
    Traceback (most recent call last):
    ...
    geo.validate.GeometryError: 1 of 1 coordinates are outside China but would be inside ...
    """
    problems = check_geometry(geom, max_vertices=max_vertices, expected_types=expected_types)
    errors = [p for p in problems if p.severity == "error"]
    if errors:
        raise GeometryError(errors)
    return shapely.force_2d(geom)


def repair_geometry(geom: BaseGeometry) -> BaseGeometry:
    """Return a valid 2D version of the geometry, of the same dimension.

    Uses :func:`shapely.make_valid` and keeps only the parts with the input's
    dimension (a bow-tie polygon becomes a MultiPolygon of two triangles; a
    line that doubles back to a point is dropped). Raises GeometryError if
    the geometry is empty, has non-finite coordinates, or collapses.

    Examples
    --------
    >>> bowtie = Polygon([(116.40, 39.90), (116.41, 39.91), (116.41, 39.90), (116.40, 39.91)])
    >>> fixed = repair_geometry(bowtie)
    >>> fixed.geom_type, len(fixed.geoms), fixed.is_valid
    ('MultiPolygon', 2, True)
    """
    flat = shapely.force_2d(geom)
    coords = shapely.get_coordinates(flat)
    if flat.is_empty or not np.isfinite(coords).all():
        raise GeometryError(check_geometry(geom))
    if flat.is_valid:
        return flat
    dimension = int(shapely.get_dimensions(flat))
    kept = [
        p
        for p in _parts(shapely.make_valid(flat))
        if shapely.get_dimensions(p) == dimension and not p.is_empty
    ]
    if not kept:
        message = (
            f"{geom.geom_type} collapses to nothing when repaired (for example all its "
            "vertices lie on one line); redraw it"
        )
        raise GeometryError([Problem(ProblemCode.COLLAPSED, message)])
    if len(kept) == 1:
        return kept[0]
    if dimension == 2:
        return MultiPolygon([p for p in kept if isinstance(p, Polygon)])
    if dimension == 1:
        return MultiLineString([p for p in kept if isinstance(p, LineString)])
    return MultiPoint([p for p in kept if isinstance(p, Point)])


def ensure_multipolygon(geom: BaseGeometry) -> MultiPolygon:
    """Return a Polygon as a one-part MultiPolygon; a MultiPolygon unchanged.

    Examples
    --------
    >>> from shapely import box
    >>> ensure_multipolygon(box(116.4, 39.9, 116.5, 40.0)).geom_type
    'MultiPolygon'
    """
    if isinstance(geom, MultiPolygon):
        return geom
    if isinstance(geom, Polygon):
        return MultiPolygon([geom]) if not geom.is_empty else MultiPolygon()
    raise GeometryError(
        [Problem(ProblemCode.WRONG_TYPE, f"expected Polygon or MultiPolygon, got {geom.geom_type}")]
    )
