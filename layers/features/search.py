"""One search box across layers: names, addresses, plates and codes, ranked by similarity.

Every match is one an index serves (GIN on the character bigrams of names and unit
addresses, ``layers.features.grams``; byte-order B-trees on credit codes and plates), so
no query reads a whole large layer:

- two characters or more match anywhere in a name or address ("银行", "医院");
- one character matches at the start of a name;
- plates match from their first character, and codes (credit codes, station and area
  codes) too, for queries that look like one (letters, digits, ``-``); both in capitals.

Candidates found by their grams are checked with ILIKE.

A layer contributes at most ``CANDIDATES`` matches to the ranking, plus every exact
name: a query as broad as "有限公司" (half the units) ranks a sample, not them all.
Matches are counted in the same statement up to ``COUNT_CAP`` a layer: beyond it the
count says "at least" (``SearchResults.exact`` is false), so a broad query never
counts half a million rows.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, cast

from sqlalchemy import (
    CTE,
    BigInteger,
    ColumnElement,
    Integer,
    Select,
    String,
    and_,
    bindparam,
    case,
    func,
    literal,
    or_,
    select,
    union,
    union_all,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import InstrumentedAttribute, Session

from layers.accounts.roles import Permission
from layers.accounts.scope import Actor, Scope, ScopeKind
from layers.errors import InvalidInput
from layers.features.filters import escape_like, narrowed_by_grams
from layers.features.grams import grams_of, query_grams
from layers.features.query import plain_plans
from layers.features.registry import LayerSpec, get_layer

MIN_QUERY_LENGTH = 1
MAX_QUERY_LENGTH = 100
MIN_SUBSTRING = 2  # the grams look up a substring of two characters or more
CANDIDATES = 200
COUNT_CAP = 1000  # matches counted per layer; more is "at least COUNT_CAP"
CODES = frozenset({"code", "credit_code"})
PLATES = frozenset({"plate"})
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


@dataclass(frozen=True)
class SearchResults:
    """The best hits and how many features matched (a lower bound unless ``exact``)."""

    hits: list[SearchHit]
    matched: int
    exact: bool


_Q = bindparam("q", type_=String)
_LIMIT = bindparam("limit", type_=Integer)
_SCOPE_ID = bindparam("scope_id", type_=BigInteger)
# The patterns of one query, bound by name: built once per query shape, then cached.
_PATTERNS = {name: bindparam(name, type_=String) for name in ("anywhere", "start", "code")}
_GRAMS = bindparam("grams", type_=ARRAY(Integer))
_NAME_GRAMS = bindparam("name_grams", type_=ARRAY(Integer))  # a name equal to the query has


@dataclass(frozen=True)
class _Shape:
    """What decides the statement of a query: its length class and whether it is a code."""

    length: int  # 1, or MIN_SUBSTRING for anything longer
    code: bool

    @classmethod
    def of(cls, q: str) -> _Shape:
        return cls(min(len(q), MIN_SUBSTRING), bool(_CODE.fullmatch(q)))


def _ilike(column: InstrumentedAttribute[str], pattern: str) -> ColumnElement[bool]:
    return column.ilike(_PATTERNS[pattern], escape="\\")


def _indexed(column: InstrumentedAttribute[str], pattern: str) -> ColumnElement[bool]:
    """Return ILIKE ``pattern`` on ``column``, narrowed first by its grams if it has them."""
    return narrowed_by_grams(column.class_, column.key, _ilike(column, pattern), _GRAMS)


def column_match(column: InstrumentedAttribute[str], shape: _Shape) -> ColumnElement[bool] | None:
    """Return how ``column`` matches a query of ``shape`` (see the module), or None."""
    if column.key in PLATES or (column.key in CODES and shape.code):
        return column.like(_PATTERNS["code"], escape="\\")
    if column.key in CODES:
        return None
    if shape.length >= MIN_SUBSTRING:
        return _indexed(column, "anywhere")
    if column.key in ADDRESSES:
        return None
    return _indexed(column, "start")


def _patterns(q: str) -> dict[str, Any]:
    text = escape_like(q)
    return {"anywhere": f"%{text}%", "start": f"{text}%", "code": f"{escape_like(q.upper())}%",
            "grams": query_grams(q), "name_grams": grams_of(q)}  # fmt: skip


def _branch(spec: LayerSpec, scope: Scope, shape: _Shape) -> tuple[Select[Any], CTE]:
    """Return one layer's best hits and its matches to count (up to ``COUNT_CAP + 1`` ids).

    The hits are ranked from the first ``CANDIDATES`` matches and every exact name.
    """
    model = spec.model
    columns = [getattr(model, c) for c in spec.searchable]
    matches = [(m, c) for c in columns if (m := column_match(c, shape)) is not None]
    mine = scope.clause(model)
    matching = (
        select(model.id).where(mine, or_(*(m for m, _ in matches)))
        .limit(COUNT_CAP + 1).cte(f"{spec.id}_matching")
    )  # fmt: skip
    found = select(matching.c.id).limit(CANDIDATES)
    exact = narrowed_by_grams(model, "name", model.name == _Q, _NAME_GRAMS)
    picked = union(found, select(model.id).where(mine, exact)).subquery()
    matched = case(*matches, else_=model.name)
    similarity = func.greatest(*(func.similarity(func.coalesce(c, ""), _Q) for c in columns))
    score = similarity + case((model.name == _Q, 1.0), else_=0.0)
    anchor = func.ST_PointOnSurface(model.geom)  # type: ignore[attr-defined]
    hits = (
        select(
            literal(spec.id).label("layer"), model.id.label("id"), model.name.label("name"),
            func.cast(matched, model.name.type).label("matched"), score.label("score"),
            func.ST_X(anchor).label("lon"), func.ST_Y(anchor).label("lat"),
        )
        .join(picked, picked.c.id == model.id)
        .order_by(score.desc(), model.id)
        .limit(_LIMIT)
    )  # fmt: skip
    return hits, matching


@lru_cache(maxsize=128)
def _statement(layers: tuple[str, ...], kind: ScopeKind, shape: _Shape) -> Select[Any]:
    """Return the search across ``layers`` for a scope of ``kind``, values as parameters.

    Building ten layers' branches costs more than running them (~13 ms, ~300 KB), so a
    statement is built once per layers, kind of scope and query shape; the scope's id
    is a parameter too, so one statement serves every precinct.
    """
    scope = Scope(kind, cast(Any, _SCOPE_ID))
    branches = [_branch(get_layer(layer), scope, shape) for layer in layers]
    combined = union_all(*(hits for hits, _ in branches)).subquery()
    counts = [select(func.count()).select_from(m).scalar_subquery() for _, m in branches]
    capped = [func.least(n, COUNT_CAP) for n in counts]
    total = sum(capped[1:], capped[0])
    exact = and_(*(n <= COUNT_CAP for n in counts))
    c = combined.c
    return (
        select(combined, total.label("total"), exact.label("total_exact"))
        .order_by(c.score.desc(), c.layer, c.id).limit(_LIMIT)
    )  # fmt: skip


def search_features(
    *, session: Session, actor: Actor, q: str, specs: tuple[LayerSpec, ...], limit: int
) -> SearchResults:
    """Return up to ``limit`` features across ``specs`` whose text matches ``q``, best first.

    The score is the best trigram similarity of a searchable column to ``q``, plus
    one for an exact name; each layer contributes at most ``limit`` hits. Every match
    is counted, up to ``COUNT_CAP`` a layer.
    """
    actor.require(Permission.FEATURES_READ)
    q = q.strip()
    if not MIN_QUERY_LENGTH <= len(q) <= MAX_QUERY_LENGTH:
        raise InvalidInput(f"q must be 1..{MAX_QUERY_LENGTH} characters after trimming")
    if not specs:
        return SearchResults([], 0, True)
    plain_plans(session)
    statement = _statement(tuple(spec.id for spec in specs), actor.scope.kind, _Shape.of(q))
    values = {"q": q, "limit": limit, "scope_id": actor.scope.id, **_patterns(q)}
    rows = session.execute(statement, values).all()
    hits = [
        SearchHit(r.layer, int(r.id), r.name, str(r.matched), round(float(r.score), 4),
                  float(r.lon), float(r.lat))
        for r in rows
    ]  # fmt: skip
    if not rows:  # every layer with a match has a hit: nothing matched
        return SearchResults(hits, 0, True)
    return SearchResults(hits, int(rows[0].total), bool(rows[0].total_exact))
