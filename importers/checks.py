"""Check every row before anything is written: geometry, place, ids and jurisdiction.

Vectorised over a chunk of rows (shapely, numpy); a row gets the first reason that
applies, in the order below, and keeps the reason conversion gave it if it has one:

- no geometry; wrong geometry type for the layer; a polygon that cannot be repaired
  (invalid polygons are repaired as ``ST_MakeValid`` would and stored as MultiPolygon);
- outside China; too many vertices;
- no id in an upsert; an id that exists already in an insert; in an upsert, a feature
  id (a row without an external id) that names no feature of the layer;
- outside the actor's jurisdiction (the precinct of the representative point, by
  ``layers.features.jurisdiction``), or an existing feature with that id outside it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely

from geo import validate
from geo.validate import CHINA_BOUNDS
from importers.convert import FEATURE_KEY, Reasons
from importers.places import BoolArray, FloatArray, Places
from layers.accounts.scope import Scope, ScopeKind
from layers.features.geometry import ensure_multilinestring
from layers.features.jurisdiction import BOUNDARY_TABLES, NO_ID, IdArray, Precincts
from layers.features.registry import LayerSpec

# shapely type ids -> PostGIS GeometryType() names, which the messages use
_TYPE_NAMES = np.array(["POINT", "LINESTRING", "LINESTRING", "POLYGON", "MULTIPOINT",
                        "MULTILINESTRING", "MULTIPOLYGON", "GEOMETRYCOLLECTION"])  # fmt: skip
_POLYGONAL = (3, 6)
_LINEAR = (1, 2, 5)  # LineString, LinearRing, MultiLineString


@dataclass(frozen=True)
class Existing:
    """The layer's features that share an external id with the file, before the import."""

    precinct_id: dict[str, int]
    district_id: dict[str, int]
    bounds: FloatArray  # (n, 4) boxes of their geometries, for the change event
    ids: dict[str, int] = field(default_factory=dict)  # feature id by key

    def __contains__(self, external_id: object) -> bool:
        return external_id in self.precinct_id

    def __len__(self) -> int:
        return len(self.precinct_id)


NO_EXISTING = Existing({}, {}, np.empty((0, 4)))


@dataclass(frozen=True)
class RowRules:
    """What a row is checked against: the layer, the mode, the actor's scope, the city."""

    spec: LayerSpec
    mode: str
    scope: Scope
    max_vertices: int
    precincts: Precincts | None
    existing: Existing = NO_EXISTING


@dataclass(frozen=True)
class CheckedPlaces:
    """Where accepted rows lie: the stored geometry, its representative point, its precinct."""

    places: Places
    x: FloatArray
    y: FloatArray
    precinct_id: IdArray
    district_id: IdArray

    def take(self, mask: BoolArray) -> CheckedPlaces:
        """Return the rows of ``mask``."""
        return CheckedPlaces(self.places.take(mask), self.x[mask], self.y[mask],
                             self.precinct_id[mask], self.district_id[mask])  # fmt: skip


def _close(reasons: Reasons, mask: npt.ArrayLike, reason: str) -> None:
    """Give ``reason`` to the rows in ``mask`` that have none yet."""
    reasons[np.asarray(mask, dtype=bool) & (reasons == "")] = reason


def _close_each(reasons: Reasons, mask: BoolArray, reason_of: npt.NDArray[np.object_]) -> None:
    """Give each row in ``mask`` that has no reason yet its own (``reason_of``, full length)."""
    where = mask & (reasons == "")
    reasons[where] = reason_of[where]


def _texts(mask: BoolArray, texts: list[str]) -> npt.NDArray[np.object_]:
    """Return a full-length array holding ``texts`` at the rows of ``mask``."""
    out = np.full(len(mask), "", dtype=object)
    out[mask] = texts
    return out


def _repaired_areas(shapes: npt.NDArray[np.object_], reasons: Reasons) -> None:
    """Replace valid polygons by MultiPolygons and repair invalid ones in place."""
    for i in np.flatnonzero(reasons == ""):
        shape = shapes[i]
        try:
            if not shape.is_valid:
                shape = validate.repair_geometry(shape)
            shapes[i] = validate.ensure_multipolygon(shape)
        except validate.GeometryError as exc:
            reasons[i] = f"invalid geometry, cannot be repaired: {exc}"


def _geometry(spec: LayerSpec, places: Places, reasons: Reasons) -> Places:
    """Check type and validity; return the places as they will be stored."""
    _close(reasons, places.missing(), "no geometry")
    layer_type = spec.geometry_type.upper()
    if places.is_points:
        if layer_type != "POINT":
            _close(reasons, np.ones(len(places), dtype=bool),
                   f"wrong geometry type POINT: the layer stores {layer_type}")  # fmt: skip
        return places
    shapes = places.as_shapes().copy()
    types = np.asarray(shapely.get_type_id(shapes))
    wanted = (
        np.isin(types, _POLYGONAL) if layer_type == "MULTIPOLYGON"
        else np.isin(types, _LINEAR) if layer_type == "MULTILINESTRING"
        else types == 0
    )  # fmt: skip
    names = _TYPE_NAMES[np.clip(types, 0, len(_TYPE_NAMES) - 1)]
    _close_each(reasons, ~wanted, _texts(~wanted, [
        f"wrong geometry type {n}: the layer stores {layer_type}" for n in names[~wanted]
    ]))  # fmt: skip
    if layer_type == "MULTIPOLYGON":
        _repaired_areas(shapes, reasons)
    elif layer_type == "MULTILINESTRING":
        for i in np.flatnonzero(reasons == ""):
            shapes[i] = ensure_multilinestring(shapes[i])
    return Places.of_shapes(shapes)


def _representative(places: Places, open_rows: BoolArray) -> tuple[FloatArray, FloatArray]:
    """Return the point that places each row (NaN for rows already refused)."""
    if places.is_points:
        assert places.x is not None and places.y is not None
        return places.x.copy(), places.y.copy()
    x, y = np.full(len(places), np.nan), np.full(len(places), np.nan)
    assert places.shapes is not None
    points = shapely.point_on_surface(places.shapes[open_rows])
    x[open_rows], y[open_rows] = shapely.get_x(points), shapely.get_y(points)
    return x, y


def _extent(places: Places, x: FloatArray, y: FloatArray, reasons: Reasons, limit: int) -> None:
    """Refuse rows outside China or with more vertices than ``limit``."""
    bounds = places.bounds()
    min_lon, min_lat, max_lon, max_lat = CHINA_BOUNDS
    with np.errstate(invalid="ignore"):
        outside = ((bounds[:, 0] < min_lon) | (bounds[:, 1] < min_lat)
                   | (bounds[:, 2] > max_lon) | (bounds[:, 3] > max_lat))  # fmt: skip
    outside &= reasons == ""
    _close_each(reasons, outside, _texts(outside, [
        f"outside China ({px:.5f}, {py:.5f})" for px, py in zip(x[outside], y[outside], strict=True)
    ]))  # fmt: skip
    if not places.is_points:
        assert places.shapes is not None
        vertices = np.zeros(len(places), dtype=np.int64)
        open_rows = reasons == ""
        vertices[open_rows] = shapely.get_num_coordinates(places.shapes[open_rows])
        many = vertices > limit
        _close_each(reasons, many, _texts(many, [
            f"too many vertices ({n} > {limit})" for n in vertices[many]
        ]))  # fmt: skip


def _in_scope(scope: Scope, spec: LayerSpec, precinct: IdArray, district: IdArray) -> BoolArray:
    if scope.kind is ScopeKind.CITY:
        return np.ones(len(precinct), dtype=bool)
    if spec.table in BOUNDARY_TABLES or scope.kind is ScopeKind.UNIT:
        return np.zeros(len(precinct), dtype=bool)
    ids = district if scope.kind is ScopeKind.DISTRICT else precinct
    return np.asarray(ids == scope.id)


def _ids(rules: RowRules, external_id: pd.Series | None, reasons: Reasons) -> BoolArray:
    """Check ids against the mode; return which rows update (or replace) an existing feature."""
    if external_id is None:
        if rules.mode == "upsert":
            _close(reasons, np.ones(len(reasons), dtype=bool), "no id: an upsert needs one")
        return np.zeros(len(reasons), dtype=bool)
    ids = external_id.to_numpy(dtype=object)
    if rules.mode == "upsert":
        _close(reasons, ids == "", "no id: an upsert needs one")
    exists = np.zeros(len(ids), dtype=bool)
    if len(rules.existing):
        exists[:] = [i in rules.existing for i in ids]
    if rules.mode == "insert":
        _close(reasons, exists, "a feature with this id exists already "
               "(use --mode upsert to update it)")  # fmt: skip
    by_feature_id = external_id.str.startswith(FEATURE_KEY).to_numpy(dtype=bool)
    _close(reasons, by_feature_id & ~exists, "the layer has no feature with this id "
           "(the file's id column is the feature id of an export; --mode insert adds the "
           "row as a new feature)")  # fmt: skip
    return exists


def _jurisdiction(
    rules: RowRules, x: FloatArray, y: FloatArray, external_id: pd.Series | None,
    exists: BoolArray, reasons: Reasons,
) -> tuple[IdArray, IdArray]:  # fmt: skip
    """Place each open row in its precinct; refuse rows outside the actor's scope."""
    precinct = np.full(len(x), NO_ID, dtype=np.int64)
    district = np.full(len(x), NO_ID, dtype=np.int64)
    open_rows = reasons == ""
    if rules.precincts is not None and open_rows.any():
        precinct[open_rows], district[open_rows] = rules.precincts.locate(
            x[open_rows], y[open_rows]
        )
    _close(reasons, ~_in_scope(rules.scope, rules.spec, precinct, district),
           "outside your jurisdiction")  # fmt: skip
    if external_id is not None and exists.any():
        ids = external_id.to_numpy(dtype=object)[exists]
        old_precinct = np.array([rules.existing.precinct_id[i] for i in ids], dtype=np.int64)
        old_district = np.array([rules.existing.district_id[i] for i in ids], dtype=np.int64)
        outside = np.zeros(len(x), dtype=bool)
        outside[exists] = ~_in_scope(rules.scope, rules.spec, old_precinct, old_district)
        _close(reasons, outside, "the existing feature with this id is outside your jurisdiction")
    return precinct, district


def check_rows(
    rules: RowRules, places: Places, external_id: pd.Series | None, reasons: Reasons
) -> CheckedPlaces:
    """Give every bad row of a chunk its reason (in ``reasons``); return where rows lie."""
    stored = _geometry(rules.spec, places, reasons)
    x, y = _representative(stored, reasons == "")
    _extent(stored, x, y, reasons, rules.max_vertices)
    exists = _ids(rules, external_id, reasons)
    precinct, district = _jurisdiction(rules, x, y, external_id, exists, reasons)
    return CheckedPlaces(stored, x, y, precinct, district)


__all__ = ["NO_EXISTING", "CheckedPlaces", "Existing", "RowRules", "check_rows"]
