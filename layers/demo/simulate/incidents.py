"""Incidents (警情): reported at plausible places, then handled and closed.

The command centre (a commander) records each through the feature door, so it is
audited, announced on the stream and weighed against the geofence rings in force.
The simulation moves on only incidents it reported itself (external id ``SIM…``).
"""

from __future__ import annotations

from shapely.geometry import Point
from sqlalchemy import select
from sqlalchemy.orm import Session

from layers.demo.activity import INCIDENT_CATEGORIES, INCIDENT_WEIGHTS, INCIDENT_WORDS
from layers.demo.simulate.actors import COMMANDER
from layers.demo.simulate.places import incident_place
from layers.demo.simulate.registry import Motion, NothingToDo, Outcome, World, register
from layers.features.models import Incident
from layers.features.registry import get_layer
from layers.features.service import create_feature, update_feature

_NEXT = {"open": "handling", "handling": "closed"}
PREFIX = "SIM"
_RECENT = 100  # the newest open incidents of the simulation, one of which moves on


def report_incident(session: Session, world: World) -> Outcome:
    """Report a new incident by a unit or on a road, inside a district."""
    lon, lat, near = incident_place(session, world)
    category = int(world.rng.choice(len(INCIDENT_CATEGORIES), p=INCIDENT_WEIGHTS))
    level = 1 + int(world.rng.choice(4, p=[0.45, 0.35, 0.15, 0.05]))
    now = world.now()
    feature = create_feature(
        session=session, spec=get_layer("incidents"), geometry=Point(lon, lat),
        properties={"name": f"{near}{INCIDENT_WORDS[category]}警情",
                    "category": INCIDENT_CATEGORIES[category], "level": level,
                    "status": "open", "occurred_at": now.isoformat()},
        actor=COMMANDER, external_id=f"{PREFIX}{now:%Y%m%d%H%M%S%f}",
        max_vertices=world.settings.features.max_vertices,
    )  # fmt: skip
    return Outcome(f"incident {feature.id} {feature.name}", features=(("incidents", feature.id),))


def handle_incident(session: Session, world: World) -> Outcome:
    """Move one of the simulation's recent incidents on: open -> handling -> closed."""
    rows = session.execute(
        select(Incident.id, Incident.version, Incident.status)
        .where(Incident.external_id.startswith(PREFIX), Incident.status.in_(list(_NEXT)))
        .order_by(Incident.id.desc()).limit(_RECENT)
    ).all()  # fmt: skip
    if not rows:
        raise NothingToDo("no open incident of the simulation")
    feature_id, version, status = rows[int(world.rng.integers(len(rows)))]
    update_feature(session=session, spec=get_layer("incidents"), feature_id=feature_id,
                   expected_version=version, actor=COMMANDER,
                   properties={"status": _NEXT[status]},
                   max_vertices=world.settings.features.max_vertices)  # fmt: skip
    return Outcome(f"incident {feature_id} {status} -> {_NEXT[status]}",
                   features=(("incidents", feature_id),))  # fmt: skip


register(Motion("incident.new", 3.0, report_incident, "a new incident by a unit or a road"))
register(Motion("incident.step", 2.0, handle_incident, "an incident handled, then closed"))
