"""Work other modules attach to feature writes, done in the writer's transaction.

A module above ``layers.features`` (geofencing, say) asks to hear of the writes to a
layer (``follow``); the write door calls ``written`` once a create or an update is
audited, so the follower's own writes (alerts, events) share the feature's transaction
and its lock on the row.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import Session

from layers.accounts.scope import Actor
from layers.base import Feature
from layers.features.registry import LayerSpec

Follower = Callable[[Session, LayerSpec, Feature, Actor], object]
_FOLLOWERS: dict[str, dict[str, Follower]] = {}


def follow(layer_id: str, name: str, follower: Follower) -> None:
    """Call ``follower`` after every create or update of a feature of ``layer_id``.

    ``name`` makes the call idempotent: following again under a name replaces it.
    """
    _FOLLOWERS.setdefault(layer_id, {})[name] = follower


def written(session: Session, spec: LayerSpec, feature: Feature, actor: Actor) -> None:
    """Call the followers of the feature's layer with a feature just created or updated."""
    for follower in tuple(_FOLLOWERS.get(spec.id, {}).values()):
        follower(session, spec, feature, actor)
