"""One search box across layers: names, addresses, plates and codes, ranked by similarity."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import case, func, literal, select, union_all
from sqlalchemy.orm import Session

from layers.accounts.scope import Actor
from layers.errors import InvalidInput
from layers.features.filters import like_pattern, text_search_clause
from layers.features.query import FeatureQuery, conditions, plain_plans
from layers.features.registry import LayerSpec

MIN_QUERY_LENGTH = 1
MAX_QUERY_LENGTH = 100


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


def search_features(
    *, session: Session, actor: Actor, q: str, specs: tuple[LayerSpec, ...], limit: int
) -> list[SearchHit]:
    """Return up to ``limit`` features across ``specs`` whose text contains ``q``, best first.

    The score is the best trigram similarity of a searchable column to ``q``, plus
    one for an exact name; each layer contributes at most ``limit`` candidates.
    """
    q = q.strip()
    if not MIN_QUERY_LENGTH <= len(q) <= MAX_QUERY_LENGTH:
        raise InvalidInput(f"q must be 1..{MAX_QUERY_LENGTH} characters after trimming")
    pattern = like_pattern(q)
    branches = []
    for spec in specs:
        model = spec.model
        cols = [getattr(model, c) for c in spec.searchable]
        matched = case(*((c.ilike(pattern, escape="\\"), c) for c in cols), else_=model.name)
        similarity = func.greatest(*(func.similarity(func.coalesce(c, ""), q) for c in cols))
        score = similarity + case((model.name == q, 1.0), else_=0.0)
        where = text_search_clause(spec, q, spec.searchable)
        anchor = func.ST_PointOnSurface(model.geom)  # type: ignore[attr-defined]
        branch = (
            select(
                literal(spec.id).label("layer"), model.id.label("id"), model.name.label("name"),
                func.cast(matched, model.name.type).label("matched"), score.label("score"),
                func.ST_X(anchor).label("lon"), func.ST_Y(anchor).label("lat"),
            )
            .where(*conditions(spec, actor, FeatureQuery(where=(where,))))
            .order_by(score.desc(), model.id)
            .limit(limit)
        )  # fmt: skip
        branches.append(select(branch.subquery()))
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
