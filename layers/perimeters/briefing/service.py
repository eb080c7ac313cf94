"""A perimeter's briefing map: its contents (as ``/contents`` reads them) drawn on a page."""

from __future__ import annotations

from typing import Any

from geoalchemy2.shape import to_shape
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from layers.accounts.scope import Actor
from layers.features.query import FeatureQuery, FeatureRow, list_features
from layers.features.registry import get_layer
from layers.perimeters.briefing.assets import leaflet_assets
from layers.perimeters.briefing.figure import Briefing, BriefingRing, briefing_page
from layers.perimeters.contents import perimeter_contents
from layers.perimeters.models import Perimeter
from layers.perimeters.service import rings_of

_MAX_BOUNDARIES = 500  # outlines under one map; a perimeter reaches a few districts


def _boundaries(session: Session, actor: Actor, perimeter_id: int) -> list[FeatureRow]:
    """Return the district and precinct outlines the actor sees near the perimeter."""
    extent = select(func.ST_Expand(Perimeter.extent, 0.02)).where(
        Perimeter.id == perimeter_id).scalar_subquery()  # fmt: skip
    rows: list[FeatureRow] = []
    for layer_id in ("districts", "precincts"):
        spec = get_layer(layer_id)
        near = func.ST_Intersects(spec.model.geom, extent)  # type: ignore[attr-defined]
        query = FeatureQuery(where=(near,), limit=_MAX_BOUNDARIES, properties=("name",))
        rows += list_features(session=session, spec=spec, actor=actor, query=query).features
    return rows


def briefing_html(
    *, session: Session, perimeter_id: int, actor: Actor, page_size: int, zone: Any,
    tiles: str | None = None,
) -> str:  # fmt: skip
    """Return the briefing map of a perimeter, as the actor may see it, as one offline page."""
    assets = leaflet_assets()
    perimeter, contents = perimeter_contents(
        session=session, perimeter_id=perimeter_id, actor=actor, page_size=page_size, zone=zone
    )
    shapes = {r.kind: to_shape(r.geom) for r in rings_of(session, perimeter_id)}
    rings = [BriefingRing(c, shapes[c.kind.value]) for c in contents]
    window = (f"{perimeter.starts_at.astimezone(zone):%Y-%m-%d %H:%M} 至 "
              f"{perimeter.ends_at.astimezone(zone):%Y-%m-%d %H:%M}")  # fmt: skip
    briefing = Briefing(perimeter.name, window, rings,
                        _boundaries(session, actor, perimeter_id), tiles)  # fmt: skip
    return briefing_page(briefing, assets)
