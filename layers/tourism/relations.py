"""特征关联: a park's gates, and the rail stations and bus stops within walking distance.

Stations and stops are related by computation (``compute_relations``: within ``walk_m``
of the park's edge, geodesic metres) and by hand (``add_relation``). Removing a computed
relation hides it, so the next computation does not bring it back; removing a hand-made
one deletes it. A park's gates are its points of kind ``gate``.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import and_, delete, func, select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from layers.accounts.roles import Permission
from layers.accounts.scope import Actor
from layers.audit.service import audited_denials, record_audit
from layers.errors import InvalidInput, NotFound
from layers.features.models import BusStation, Park, RailStation
from layers.features.registry import get_layer
from layers.features.service import get_feature
from layers.tourism.models import ParkRelation, TourismPoint
from layers.tourism.parks import visible_park

RELATED_LAYERS: dict[str, type[RailStation] | type[BusStation]] = {
    "rail_stations": RailStation, "bus_stations": BusStation,
}  # fmt: skip
M_PER_DEG = 80_000.0  # a degree of longitude at Beijing's latitude, rounded down: a wide box

# Each park against the stations in a box around it (the GiST index), then in metres.
_COMPUTE = """
INSERT INTO park_relations (park_id, layer, feature_id, distance_m, source, hidden)
SELECT p.id, :layer, s.id, ST_Distance(CAST(p.geom AS geography), CAST(s.geom AS geography)),
       'computed', false
FROM parks AS p JOIN {table} AS s
  ON s.geom && ST_Expand(p.geom, :box_deg)
 AND ST_DWithin(CAST(p.geom AS geography), CAST(s.geom AS geography), :walk_m)
WHERE p.id = ANY(CAST(:parks AS bigint[]))
ON CONFLICT DO NOTHING
"""


def compute_relations(session: Session, park_ids: list[int], walk_m: float) -> int:
    """Relate the parks to the stations and stops within ``walk_m``; return the relations made.

    Computed relations of these parks are made again; hand-made and hidden ones stay.
    """
    session.execute(delete(ParkRelation).where(
        ParkRelation.park_id.in_(park_ids), ParkRelation.source == "computed",
        ParkRelation.hidden.is_(False),
    ))  # fmt: skip
    made = 0
    for layer, model in RELATED_LAYERS.items():
        result = session.execute(
            text(_COMPUTE.format(table=model.__tablename__)),
            {"layer": layer, "parks": park_ids, "walk_m": walk_m, "box_deg": walk_m / M_PER_DEG},
        )
        made += int(result.rowcount or 0)  # type: ignore[attr-defined]
    return made


@dataclass(frozen=True)
class Related:
    """A feature related to a park: its layer, id, name, distance and who made the tie."""

    layer: str
    feature_id: int
    name: str
    distance_m: float | None
    source: str
    lon: float
    lat: float


def list_relations(*, session: Session, park_id: int, actor: Actor) -> list[Related]:
    """Return a park's gates, then its related stations and stops by distance."""
    park = visible_park(session, park_id, actor)
    gates = session.execute(
        select(TourismPoint.id, TourismPoint.name, func.ST_X(TourismPoint.geom),
               func.ST_Y(TourismPoint.geom))
        .where(TourismPoint.park_id == park.id, TourismPoint.kind == "gate")
        .order_by(TourismPoint.id)
    )  # fmt: skip
    found = [Related("tourism_points", i, name, 0.0, "gate", x, y) for i, name, x, y in gates]
    for layer, model in RELATED_LAYERS.items():
        rows = session.execute(
            select(model.id, model.name, ParkRelation.distance_m, ParkRelation.source,
                   func.ST_X(model.geom), func.ST_Y(model.geom))
            .join(ParkRelation, and_(ParkRelation.feature_id == model.id,
                                     ParkRelation.layer == layer))
            .where(ParkRelation.park_id == park.id, ParkRelation.hidden.is_(False))
            .order_by(ParkRelation.distance_m, model.id)
        )  # fmt: skip
        found += [Related(layer, *row) for row in rows]
    return found


def _checked_layer(layer: str) -> str:
    if layer not in RELATED_LAYERS:
        raise InvalidInput(f"a park relates to {' or '.join(RELATED_LAYERS)}, not {layer!r}")
    return layer


def add_relation(*, session: Session, park_id: int, layer: str, feature_id: int,
                 actor: Actor) -> None:  # fmt: skip
    """Relate a station or stop to a park by hand (shown again if it had been hidden)."""
    with audited_denials(session, actor, "park_relations.create", "parks", park_id):
        actor.require(Permission.TOURISM_WRITE)
        park = visible_park(session, park_id, actor)
        feature = get_feature(session=session, spec=get_layer(_checked_layer(layer)),
                              feature_id=feature_id, actor=actor)  # fmt: skip
    model = RELATED_LAYERS[layer]
    outline = select(Park.geom).where(Park.id == park.id).scalar_subquery()
    distance = session.scalar(select(func.ST_Distance(
        func.Geography(model.geom), func.Geography(outline),
    )).where(model.id == feature.id))  # fmt: skip
    upsert = insert(ParkRelation).values(
        park_id=park.id,
        layer=layer,
        feature_id=feature.id,
        distance_m=distance,
        source="manual",
        hidden=False,
    )
    session.execute(upsert.on_conflict_do_update(
        index_elements=["park_id", "layer", "feature_id"], set_={"hidden": False},
    ))  # fmt: skip
    record_audit(session, actor=actor, action="park_relations.create", target_type="parks",
                 target_id=park.id, after={"layer": layer, "feature_id": feature.id})  # fmt: skip


def remove_relation(*, session: Session, park_id: int, layer: str, feature_id: int,
                    actor: Actor) -> None:  # fmt: skip
    """Remove a relation: a hand-made one is deleted, a computed one hidden from then on."""
    with audited_denials(session, actor, "park_relations.delete", "parks", park_id):
        actor.require(Permission.TOURISM_WRITE)
        park = visible_park(session, park_id, actor)
    key = and_(ParkRelation.park_id == park.id, ParkRelation.layer == _checked_layer(layer),
               ParkRelation.feature_id == feature_id, ParkRelation.hidden.is_(False))  # fmt: skip
    source = session.scalar(select(ParkRelation.source).where(key).with_for_update())
    if source is None:
        raise NotFound(f"park {park_id} has no relation to {layer} {feature_id}")
    if source == "manual":
        session.execute(delete(ParkRelation).where(key))
    else:
        session.execute(update(ParkRelation).where(key).values(hidden=True))
    record_audit(session, actor=actor, action="park_relations.delete", target_type="parks",
                 target_id=park.id, before={"layer": layer, "feature_id": feature_id,
                                            "source": source})  # fmt: skip


def recompute_relations(*, session: Session, park_id: int, actor: Actor, walk_m: float) -> int:
    """Compute a park's relations to stations and stops again; return how many were made."""
    with audited_denials(session, actor, "park_relations.compute", "parks", park_id):
        actor.require(Permission.TOURISM_WRITE)
        park = visible_park(session, park_id, actor)
    made = compute_relations(session, [park.id], walk_m)
    record_audit(session, actor=actor, action="park_relations.compute", target_type="parks",
                 target_id=park.id, after={"walk_m": walk_m, "made": made})  # fmt: skip
    return made
