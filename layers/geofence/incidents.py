"""Incidents and the rings in force: a new or moved incident inside a ring raises an alert.

An incident is a reported place, not a GPS trace: there is no jitter to absorb, so it
is inside a ring when the ring covers it (no margin, no dwell), weighed at the time of
the write against the perimeters in force then. Moved out of a ring by an edit, it
leaves it.
"""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
from geoalchemy2.shape import to_shape
from sqlalchemy.orm import Session

from layers.accounts.scope import Actor
from layers.base import Feature
from layers.features.followers import follow as follow_layer
from layers.features.registry import LayerSpec
from layers.geofence.follow import Rules, Sightings, announce_alerts, follow

LAYER = "incidents"
PLACES = Rules(margin_m=0.0, dwell_s=0.0)


def weigh_incident(session: Session, spec: LayerSpec, feature: Feature, actor: Actor) -> None:
    """Raise an alert for each ring in force the written incident entered or left."""
    lon, lat = to_shape(feature.geom).coords[0]  # type: ignore[attr-defined]
    sightings = Sightings(
        spec.id, np.array([feature.id], dtype=np.int64),
        np.array([datetime.now(UTC).timestamp()]), np.array([lon]), np.array([lat]),
        {feature.id: feature.name},
    )  # fmt: skip
    announce_alerts(session, follow(session, sightings, PLACES), actor)


def follow_incidents() -> None:
    """Have the feature write door weigh every written incident against the rings in force."""
    follow_layer(LAYER, "geofence", weigh_incident)
