"""One search box across layers: names, addresses, plates and codes, ranked by similarity.

Every match an index can serve (pg_trgm GIN on names and unit addresses, a pattern
B-tree on unit credit codes), so no query reads a whole layer:

- three characters or more match anywhere in a name, plate or address;
- one or two characters match at the start of a name or plate, two also at its end
  ("大厦", "医院"): pg_trgm holds no trigram of a shorter substring in the middle;
- codes (credit codes, station and area codes) match from their first character, in
  capitals, and only queries that look like one (letters, digits, ``-``).

A layer contributes at most ``CANDIDATES`` matches to the ranking, plus every exact
name: a query as broad as "有限公司" (half the units) ranks a sample, not them all.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import ColumnElement, Select, case, func, literal, or_, select, union, union_all
from sqlalchemy.orm import InstrumentedAttribute, Session

from layers.accounts.scope import Actor
from layers.errors import InvalidInput
from layers.features.filters import escape_like
from layers.features.query import FeatureQuery, conditions, plain_plans
from layers.features.registry import LayerSpec

MIN_QUERY_LENGTH = 1
MAX_QUERY_LENGTH = 100
MIN_SUBSTRING = 3  # pg_trgm can look up a substring of three characters or more
CANDIDATES = 500
IDENTIFIERS = frozenset({"code", "credit_code"})
ADDRESSES = frozenset({"address"})
_CODE = re.compile(r"[0-9A-Za-z-]+")


@dataclass(frozen=True)
class SearchHit:
    """A feature whose name or other searchable text contains the query."""

    layer: str
    id: int
    name: str
    matched: str
    score: float
    lon: float
    lat: float


def _ilike(column: InstrumentedAttribute[str], pattern: str) -> ColumnElement[bool]:
    return column.ilike(pattern, escape="\\")


def column_match(column: InstrumentedAttribute[str], q: str) -> ColumnElement[bool] | None:
    """Return how ``column`` matches ``q`` (see the module), or None when it cannot."""
    if column.key in IDENTIFIERS:
        return column.like(f"{q.upper()}%") if _CODE.fullmatch(q) else None  # no wildcards
    text = escape_like(q)
    if len(q) >= MIN_SUBSTRING:
        return _ilike(column, f"%{text}%")
    if column.key in ADDRESSES:
        return None
    if len(q) == 1:
        return _ilike(column, f"{text}%")
    return or_(_ilike(column, f"{text}%"), _ilike(column, f"%{text}"))


def _branch(spec: LayerSpec, actor: Actor, q: str, limit: int) -> Select[tuple[object, ...]]:
    """Return the ``limit`` best hits of one layer, from its candidates and exact names."""
    model = spec.model
    columns = [getattr(model, c) for c in spec.searchable]
    matches = [(m, c) for c in columns if (m := column_match(c, q)) is not None]
    found = select(model.id).where(*conditions(spec, actor, FeatureQuery(
        where=(or_(*(m for m, _ in matches)),)))).limit(CANDIDATES)  # fmt: skip
    named = select(model.id).where(*conditions(spec, actor, FeatureQuery(where=(model.name == q,))))
    picked = union(found, named).subquery()
    matched = case(*matches, else_=model.name)
    similarity = func.greatest(*(func.similarity(func.coalesce(c, ""), q) for c in columns))
    score = similarity + case((model.name == q, 1.0), else_=0.0)
    anchor = func.ST_PointOnSurface(model.geom)  # type: ignore[attr-defined]
    return (
        select(
            literal(spec.id).label("layer"), model.id.label("id"), model.name.label("name"),
            func.cast(matched, model.name.type).label("matched"), score.label("score"),
            func.ST_X(anchor).label("lon"), func.ST_Y(anchor).label("lat"),
        )
        .join(picked, picked.c.id == model.id)
        .order_by(score.desc(), model.id)
        .limit(limit)
    )  # fmt: skip


def search_features(
    *, session: Session, actor: Actor, q: str, specs: tuple[LayerSpec, ...], limit: int
) -> list[SearchHit]:
    """Return up to ``limit`` features across ``specs`` whose text matches ``q``, best first.

    The score is the best trigram similarity of a searchable column to ``q``, plus
    one for an exact name; each layer contributes at most ``limit`` hits.
    """
    q = q.strip()
    if not MIN_QUERY_LENGTH <= len(q) <= MAX_QUERY_LENGTH:
        raise InvalidInput(f"q must be 1..{MAX_QUERY_LENGTH} characters after trimming")
    branches = [select(_branch(spec, actor, q, limit).subquery()) for spec in specs]
    if not branches:
        return []
    plain_plans(session)
    combined = union_all(*branches).subquery()
    statement = select(combined).order_by(combined.c.score.desc(), combined.c.layer,
                                          combined.c.id).limit(limit)  # fmt: skip
    return [
        SearchHit(r.layer, int(r.id), r.name, str(r.matched), round(float(r.score), 4),
                  float(r.lon), float(r.lat))
        for r in session.execute(statement).all()
    ]  # fmt: skip
