"""One-clause SQL builders for feature reads: bbox, attribute filters, name search.

Each function returns one SQLAlchemy condition; the query functions AND them with the
actor's scope clause. Values are always bound parameters, never formatted into SQL.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Integer, and_, cast, func, or_
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import InstrumentedAttribute, Session

from layers.base import Feature
from layers.errors import InvalidInput
from layers.features.attributes import coerce_properties
from layers.features.grams import column_of, query_grams
from layers.features.personal import blind_clause
from layers.features.registry import AttrType, LayerSpec

BBox = tuple[float, float, float, float]
RANGE_SEPARATOR = ".."
_RANGE_TYPES = {AttrType.INTEGER, AttrType.DATE, AttrType.DATETIME, AttrType.STRING}


@dataclass(frozen=True)
class AttributeFilter:
    """``name`` equals one of ``values``, or lies in ``[low, high]`` (either end open)."""

    name: str
    values: tuple[Any, ...] = ()
    low: Any = None
    high: Any = None


def column(spec: LayerSpec, name: str) -> InstrumentedAttribute[Any]:
    """Return the model column of attribute ``name`` of ``spec`` (``NotFound`` if unknown)."""
    spec.attribute(name)
    attr: InstrumentedAttribute[Any] = getattr(spec.model, name)
    return attr


def _coerce(spec: LayerSpec, name: str, raw: str) -> Any:
    try:
        return coerce_properties(spec, {name: raw}, partial=True)[name]
    except InvalidInput as exc:
        problems = "; ".join(exc.details.get("problems", [exc.message]))
        raise InvalidInput(f"invalid filter {name}={raw!r}: {problems}") from None


def parse_filter(spec: LayerSpec, name: str, raw: str) -> AttributeFilter:
    """Parse ``raw`` (``v``, ``v1,v2`` or a range ``lo..hi``/``lo..``/``..hi``) for ``name``."""
    known = [a.name for a in spec.attributes]
    if name not in known:
        raise InvalidInput(
            f"unknown filter {name!r} for layer {spec.id!r}; filter by one of: {', '.join(known)}"
        )
    attribute = spec.attribute(name)
    if RANGE_SEPARATOR in raw and attribute.type in _RANGE_TYPES and attribute.personal is None:
        low, _, high = raw.partition(RANGE_SEPARATOR)
        if not low and not high:
            raise InvalidInput(f"invalid filter {name}={raw!r}: a range needs at least one end")
        return AttributeFilter(
            name,
            low=_coerce(spec, name, low) if low else None,
            high=_coerce(spec, name, high) if high else None,
        )
    if attribute.type is AttrType.STRING_LIST:
        return AttributeFilter(name, values=tuple(_coerce(spec, name, raw)))
    parts = [p.strip() for p in raw.split(",")] if attribute.type is AttrType.STRING else [raw]
    values = tuple(_coerce(spec, name, p) for p in parts if p)
    if not values:
        raise InvalidInput(f"invalid filter {name}={raw!r}: give a value")
    return AttributeFilter(name, values=values)


def parse_filters(spec: LayerSpec, raw: Mapping[str, str]) -> tuple[AttributeFilter, ...]:
    """Parse every ``name=value`` pair of ``raw`` as an attribute filter of ``spec``."""
    return tuple(parse_filter(spec, name, value) for name, value in raw.items())


def filter_clause(
    spec: LayerSpec, flt: AttributeFilter, session: Session | None = None
) -> ColumnElement[bool]:
    """Return the SQL condition of one attribute filter.

    A personal attribute is matched exactly, by its blind index under the key ring of
    ``session`` (the stored values are sealed); without a session it is refused.
    """
    if spec.attribute(flt.name).personal is not None:
        if session is None:
            raise InvalidInput(f"{flt.name} cannot be filtered on here (personal information)")
        return blind_clause(session, spec, flt.name, flt.values)
    col = column(spec, flt.name)
    if spec.attribute(flt.name).type is AttrType.STRING_LIST:
        return col.contains(list(flt.values))
    if flt.values:
        return col == flt.values[0] if len(flt.values) == 1 else col.in_(flt.values)
    parts = []
    if flt.low is not None:
        parts.append(col >= flt.low)
    if flt.high is not None:
        parts.append(col <= flt.high)
    return and_(*parts)


def envelope(bbox: BBox) -> ColumnElement[Any]:
    """Return a WGS84 rectangle ``(minx, miny, maxx, maxy)`` as a PostGIS geometry."""
    return func.ST_MakeEnvelope(*bbox, 4326)


def bbox_clause(model: type[Feature], bbox: BBox) -> ColumnElement[bool]:
    """Return the condition "the geometry intersects ``bbox``" (index-assisted)."""
    return func.ST_Intersects(model.geom, envelope(bbox))  # type: ignore[attr-defined]


def escape_like(text: str) -> str:
    """Return ``text`` with the LIKE wildcards and the escape character escaped (``\\``)."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def like_pattern(text: str) -> str:
    """Return ``%text%`` with LIKE wildcards in ``text`` escaped."""
    return f"%{escape_like(text)}%"


def narrowed_by_grams(
    model: Any, column: str, clause: ColumnElement[bool], grams: Any
) -> ColumnElement[bool]:
    """Return ``clause`` on ``column``, first narrowed to the rows whose grams include ``grams``.

    ``grams`` is a list or a bound parameter; the narrowing is served by the GIN index of
    the column's grams (``layers.features.grams``). A column without grams: ``clause``.
    """
    kept: InstrumentedAttribute[list[int]] | None = getattr(model, column_of(column), None)
    if kept is None:
        return clause
    return and_(kept.contains(cast(grams, ARRAY(Integer))), clause)


def contains_clause(model: type[Feature], column: str, q: str) -> ColumnElement[bool]:
    """Return "``column`` contains ``q``" (ILIKE), narrowed by its grams where it has them.

    A ``q`` of two characters or more is first looked up in the GIN index of the
    column's grams; ILIKE then checks each candidate.
    """
    text: InstrumentedAttribute[str] = getattr(model, column)
    contains = text.ilike(like_pattern(q), escape="\\")
    return contains if len(q) < 2 else narrowed_by_grams(model, column, contains, query_grams(q))


def text_search_clause(
    spec: LayerSpec, q: str, columns: tuple[str, ...] = ("name",)
) -> ColumnElement[bool]:
    """Return "one of ``columns`` contains ``q``" (ILIKE, served by the columns' grams).

    ILIKE rather than the ``%`` similarity operator because trigram similarity of a
    two-character Chinese query against a longer name is too low to pass a threshold.
    """
    return or_(*(contains_clause(spec.model, c, q) for c in columns))
