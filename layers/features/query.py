"""Feature reads: scoped, filtered, keyset-paged rows ready to be written as GeoJSON.

Pages are cut by a keyset cursor on ``(sort column, id)`` — never OFFSET — and no
page counts the whole result. Geometry leaves PostGIS as GeoJSON text and is only
parsed when it must be converted to GCJ-02 or BD-09.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt
import shapely
from geoalchemy2 import Geography
from shapely.geometry.base import BaseGeometry
from sqlalchemy import (
    ColumnElement,
    Float,
    Select,
    Subquery,
    Text,
    and_,
    cast,
    func,
    or_,
    select,
    true,
)
from sqlalchemy.orm import Session

from geo.crs import CoordSystem, convert
from layers.accounts.roles import Permission
from layers.accounts.scope import Actor
from layers.cursors import is_bigint, pack_cursor, unpack_cursor
from layers.errors import InvalidInput
from layers.features.filters import (
    AttributeFilter,
    BBox,
    bbox_clause,
    filter_clause,
    text_search_clause,
)
from layers.features.personal import PageMasker
from layers.features.registry import AttrType, LayerSpec
from layers.features.timespan import TimeInterval, interval_clause
from layers.values import storable_instant, text_problem

META_PROPERTIES = ("external_id", "version", "district_id", "precinct_id", "updated_at")
GEOJSON_DECIMALS = 7  # ~1 cm; GeoJSON text stays short
_UNSORTABLE = {AttrType.STRING_LIST}
_PLAIN_PLANS = "warroom.plain_plans"  # session.info key: (transaction, parallel) already set


@dataclass(frozen=True)
class Sort:
    """Order of a listing: a column and a direction (ties broken by id)."""

    name: str = "id"
    descending: bool = False


@dataclass(frozen=True)
class FeatureQuery:
    """Everything a feature listing can be asked for; every part is optional."""

    bbox: BBox | None = None
    filters: tuple[AttributeFilter, ...] = ()
    q: str | None = None
    interval: TimeInterval | None = None
    where: tuple[ColumnElement[bool], ...] = ()
    sort: Sort = field(default_factory=Sort)
    limit: int = 100
    cursor: str | None = None
    properties: tuple[str, ...] | None = None
    crs: CoordSystem = CoordSystem.WGS84
    with_total: bool = False  # count every match in the same scan (first page only)


class FeatureRow(NamedTuple):
    """One feature of a page: id, GeoJSON geometry text (in the output CRS), properties JSON.

    A named tuple: a page makes thousands, and a frozen dataclass costs ~1 µs more each.
    """

    id: int
    geometry: str
    properties: str


@dataclass(frozen=True)
class FeaturePage:
    """A page of features and the cursor of the next page (None on the last page)."""

    features: list[FeatureRow]
    next_cursor: str | None
    total: int | None = None


def parse_sort(spec: LayerSpec, text: str | None) -> Sort:
    """Parse ``name`` or ``-name`` (descending) into a ``Sort`` over a sortable column."""
    if not text:
        return Sort()
    name = text.removeprefix("-").removeprefix("+")
    # a sealed value's order says nothing (and must not): personal attributes are not sortable
    sortable = ["id", *(a.name for a in spec.attributes
                        if a.type not in _UNSORTABLE and a.personal is None)]  # fmt: skip
    if name not in sortable:
        raise InvalidInput(f"cannot sort {spec.id!r} by {name!r}; sort by one of: "
                           f"{', '.join(sortable)} (prefix '-' for descending)")  # fmt: skip
    return Sort(name, descending=text.startswith("-"))


def parse_properties(spec: LayerSpec, text: str | None) -> tuple[str, ...] | None:
    """Parse a comma-separated list of property names (None means all of them)."""
    if text is None:
        return None
    names = tuple(n.strip() for n in text.split(",") if n.strip())
    known = [*(a.name for a in spec.attributes), *META_PROPERTIES]
    unknown = [n for n in names if n not in known]
    if unknown:
        raise InvalidInput(f"unknown properties {', '.join(unknown)} of layer {spec.id!r}; "
                           f"choose from: {', '.join(known)}")  # fmt: skip
    return names


def conditions(
    spec: LayerSpec, actor: Actor, query: FeatureQuery, session: Session | None = None
) -> list[ColumnElement[bool]]:
    """Return the WHERE clauses of ``query``, always including the actor's scope.

    ``session`` carries the key ring a filter on a personal attribute digests its values
    with; without it such a filter is refused.
    """
    actor.require(Permission.FEATURES_READ)
    model = spec.model
    clauses: list[ColumnElement[bool]] = [actor.scope.clause(model), *query.where]
    if query.bbox is not None:
        clauses.append(bbox_clause(model, query.bbox))
    clauses += [filter_clause(spec, f, session) for f in query.filters]
    if query.q:
        clauses.append(text_search_clause(spec, query.q))
    if query.interval is not None:
        clauses.append(interval_clause(spec, query.interval))
    return clauses


def plain_plans(session: Session, *, parallel: bool = False) -> None:
    """Turn off JIT (and parallel workers) for this transaction's feature reads.

    Measured on 1M units (bench/query.py, PERF_NOTES.md): JIT compiles for ~17 ms
    and parallel workers pay ~10 ms start-up on queries that touch a few thousand rows,
    several times what the query itself costs on this 2-core machine. One statement,
    issued once per transaction and mode: a request of several reads pays one round trip.
    """
    transaction = session.get_transaction()
    if transaction is not None and session.info.get(_PLAIN_PLANS) == (transaction, parallel):
        return
    settings = [func.set_config("jit", "off", True)]
    if not parallel:
        settings.append(func.set_config("max_parallel_workers_per_gather", "0", True))
    session.execute(select(*settings))
    session.info[_PLAIN_PLANS] = (session.get_transaction(), parallel)


def geography(geom: Any) -> ColumnElement[Any]:
    """Return ``geom`` cast to geography, so distances are geodesic metres."""
    return cast(geom, Geography(srid=4326))


def literal_geometry(geom: BaseGeometry) -> ColumnElement[Any]:
    """Return a shapely geometry as a bound WGS84 PostGIS geometry."""
    return func.ST_GeomFromText(geom.wkt, 4326)


def _json_ready(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime | date) else value


def encode_cursor(sort: Sort, value: Any, feature_id: int) -> str:
    """Return an opaque cursor for the page after ``(value, feature_id)``."""
    return pack_cursor([sort.name, sort.descending, _json_ready(value), feature_id])


def decode_cursor(spec: LayerSpec, sort: Sort, cursor: str) -> tuple[Any, int]:
    """Return ``(sort value, id)`` of a cursor made for ``sort``, or raise ``InvalidInput``.

    A cursor is only a position in the order (scope and filters apply to every page
    anew), so it is not signed: it is checked to be one this order could have written,
    its value of the sort column's type. That holds across workers and restarts.
    """
    name, descending, value, feature_id = unpack_cursor(cursor, 4)
    if (name, descending) != (sort.name, sort.descending) or type(descending) is not bool:
        raise InvalidInput("invalid cursor: it belongs to another sort order; start again")
    if not is_bigint(feature_id) or (sort.name == "id" and value != feature_id):
        raise InvalidInput("invalid cursor: bad feature id")
    if value is not None and sort.name != "id":
        try:
            value = _cursor_value(spec.attribute(sort.name).type, value)
        except (ValueError, TypeError, InvalidInput) as exc:
            raise InvalidInput(f"invalid cursor: bad {sort.name} value ({exc})") from None
    return value, feature_id


def _cursor_value(kind: AttrType, value: Any) -> Any:
    """Return a cursor's sort value as the column's type, or raise ``ValueError``."""
    if isinstance(value, str) and kind is AttrType.STRING:
        problem = text_problem(value)
        if problem is not None:
            raise ValueError(problem)
        return value
    if isinstance(value, str) and kind is AttrType.DATE:
        return date.fromisoformat(value)
    if isinstance(value, str) and kind is AttrType.DATETIME:
        return storable_instant(datetime.fromisoformat(value), "time")
    if (kind is AttrType.INTEGER and is_bigint(value)) or (
        kind is AttrType.BOOLEAN and type(value) is bool
    ):
        return value
    raise ValueError(f"{value!r:.40} is not of type {kind}")


def _after(spec: LayerSpec, sort: Sort, cursor: str) -> ColumnElement[bool]:
    value, last_id = decode_cursor(spec, sort, cursor)
    model = spec.model
    ident = model.id
    id_after = ident < last_id if sort.descending else ident > last_id
    if sort.name == "id":
        return id_after
    col = getattr(model, sort.name)
    if value is None:  # NULLS LAST: only later nulls remain
        return and_(col.is_(None), id_after)
    beyond = col < value if sort.descending else col > value
    return or_(beyond, and_(col == value, id_after), col.is_(None))


def _order_by(spec: LayerSpec, sort: Sort) -> list[Any]:
    model = spec.model
    ident = model.id.desc() if sort.descending else model.id.asc()
    if sort.name == "id":
        return [ident]
    col = getattr(model, sort.name)
    return [(col.desc() if sort.descending else col.asc()).nulls_last(), ident]


def property_names(spec: LayerSpec, query: FeatureQuery) -> tuple[str, ...]:
    """Return the property names a page of ``query`` carries, in output order."""
    if query.properties is not None:
        return query.properties
    return (*(a.name for a in spec.attributes), *META_PROPERTIES)


def _personal_names(spec: LayerSpec, query: FeatureQuery) -> tuple[str, ...]:
    """Return the personal attributes a page carries: sealed columns, masked in Python."""
    personal = {a.name for a in spec.attributes if a.personal is not None}
    return tuple(name for name in property_names(spec, query) if name in personal)


def _page_rows(
    spec: LayerSpec, query: FeatureQuery, picked: Subquery | None = None,
    metres: ColumnElement[float] | None = None,
) -> Select[Any]:  # fmt: skip
    """Return ``SELECT id, geometry, properties`` of a page, joined to the ``picked`` ids.

    PostgreSQL writes the properties JSON (ISO dates, arrays) with ``row_to_json`` of a
    LATERAL row: ~20 % cheaper than ``json_build_object`` of pairs (1 ms per 1000 rows).
    ``metres`` adds ``distance_m`` to the centimetre. Personal attributes follow the
    properties as sealed columns of their own (``PageMasker`` adds their masks).
    """
    model = spec.model
    personal = _personal_names(spec, query)
    values = [getattr(model, n).label(n) for n in property_names(spec, query) if n not in personal]
    if metres is not None:
        values.append((func.round(metres * 100, type_=Float) / 100.0).label("distance_m"))
    sources = [model] if picked is None else [model, picked]
    properties = select(*values).correlate(*sources).lateral("properties")
    columns: list[Any] = [
        model.id,
        func.ST_AsGeoJSON(model.geom, GEOJSON_DECIMALS).label("geometry"),  # type: ignore[attr-defined]
        cast(func.row_to_json(properties.table_valued()), Text).label("properties"),
        *(getattr(model, n).label(f"sealed_{n}") for n in personal),
    ]
    statement = select(*columns).select_from(model)
    if picked is not None:  # first: the properties may read the picked row
        statement = statement.join(picked, picked.c.fid == model.id)
    return statement.join(properties, true())


def _feature_rows(rows: Sequence[Any], crs: CoordSystem, masker: PageMasker) -> list[FeatureRow]:
    # By position: a Row's attribute lookup costs ~0.4 µs, a third of a page's Python time.
    sealed = slice(3, 3 + len(masker.names))
    features = [FeatureRow(row[0], row[1], masker.properties(row[0], row[2], row[sealed]))
                for row in rows]  # fmt: skip
    if crs is CoordSystem.WGS84:
        return features
    geometries = geometries_in_crs([f.geometry for f in features], crs)
    return [f._replace(geometry=g) for f, g in zip(features, geometries, strict=True)]


def list_features(
    *, session: Session, spec: LayerSpec, actor: Actor, query: FeatureQuery
) -> FeaturePage:
    """Return one page of the features matching ``query`` that ``actor`` may see."""
    model = spec.model
    sort_value = getattr(model, query.sort.name).label("sort_value")
    clauses = conditions(spec, actor, query, session)
    plain_plans(session)
    if query.cursor:
        clauses.append(_after(spec, query.sort, query.cursor))
    order = _order_by(spec, query.sort)
    if query.with_total:
        if query.cursor:
            raise InvalidInput("a total is only counted for the first page")
        # Count in a scan that reads only ids; geometry and properties are built for
        # the page's rows alone (a window over the full projection costs 2-3x more).
        page_ids = (
            select(model.id.label("fid"), func.count().over().label("total"))
            .where(*clauses).order_by(*order).limit(query.limit + 1).subquery()
        )  # fmt: skip
        statement = _page_rows(spec, query, page_ids).add_columns(sort_value, page_ids.c.total)
        statement = statement.order_by(*order)
    else:
        statement = (
            _page_rows(spec, query).add_columns(sort_value)
            .where(*clauses).order_by(*order).limit(query.limit + 1)
        )  # fmt: skip
    rows = session.connection().execute(statement).all()
    more = len(rows) > query.limit
    rows = rows[: query.limit]
    last = rows[-1] if rows else None
    cursor = encode_cursor(query.sort, last.sort_value, last.id) if more and last else None
    total = (int(last.total) if last else 0) if query.with_total else None
    masker = PageMasker(session, spec, _personal_names(spec, query))
    return FeaturePage(_feature_rows(rows, query.crs, masker), cursor, total)


def ranked_features(
    *, session: Session, spec: LayerSpec, query: FeatureQuery, ranked: Subquery
) -> FeaturePage:
    """Return the features a ``(fid, metres[, total])`` subquery picked, nearest first.

    The subquery chose and scoped the ids; only its rows' geometry and properties are
    built, each with ``distance_m``. A ``total`` column is the page's total.
    """
    statement = _page_rows(spec, query, ranked, ranked.c.metres)
    counted = "total" in ranked.c
    if counted:
        statement = statement.add_columns(ranked.c.total)
    plain_plans(session)
    rows = session.connection().execute(statement.order_by(ranked.c.metres, ranked.c.fid)).all()
    total = (int(rows[0].total) if rows else 0) if counted else None
    masker = PageMasker(session, spec, _personal_names(spec, query))
    return FeaturePage(_feature_rows(rows, query.crs, masker), None, total)


def count_features(*, session: Session, spec: LayerSpec, actor: Actor, query: FeatureQuery) -> int:
    """Return how many features match ``query`` for ``actor`` (an exact count: use sparingly)."""
    statement = (
        select(func.count()).select_from(spec.model).where(*conditions(spec, actor, query, session))
    )
    plain_plans(session)
    return int(session.scalar(statement) or 0)


def _convert_coords(dst: CoordSystem) -> Any:
    def _apply(coords: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        out = coords.copy()
        out[:, 0], out[:, 1] = convert(coords[:, 0], coords[:, 1], CoordSystem.WGS84, dst)
        return out

    return _apply


def geometries_in_crs(texts: list[str], crs: CoordSystem) -> list[str]:
    """Return WGS84 GeoJSON geometry texts converted to ``crs`` (one vectorised pass)."""
    if crs is CoordSystem.WGS84 or not texts:
        return texts
    geoms = shapely.from_geojson(np.array(texts, dtype=object))
    converted = shapely.transform(geoms, _convert_coords(crs))
    return [str(t) for t in shapely.to_geojson(converted)]
