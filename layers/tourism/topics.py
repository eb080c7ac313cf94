"""旅游专题: special activities at parks, and topic maps — named map configurations the team
saves, reopens and shares.

An activity is seen by whoever may see its park. A topic map is its owner's, and the whole
team's when ``shared``; its configuration names layers of the registry, filters per layer
and a view (centre and zoom), checked when saved. Writes are audited and versioned.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from layers.accounts.roles import Permission
from layers.accounts.scope import Actor
from layers.audit.service import audited_denials, record_audit
from layers.errors import Conflict, InvalidInput, NotFound, PreconditionRequired, VersionConflict
from layers.features.models import Park
from layers.features.registry import REGISTRY
from layers.tourism.models import TopicMap, TourismActivity
from layers.tourism.parks import visible_park

OVERLAYS = ("occupancy", "flows", "vehicles", "alerts", "points")  # the tourism page's own


@dataclass(frozen=True)
class ActivityIn:
    """A special activity at a park: name, window, attendance expected."""

    park_id: int
    name: str
    starts_at: datetime
    ends_at: datetime
    expected: int


def _check_version(found: Any, expected_version: int | None, what: str) -> None:
    if expected_version is None:
        raise PreconditionRequired("writes need the version they replace (If-Match header)")
    if found.version != expected_version:
        raise VersionConflict(f"{what} is at version {found.version}, not {expected_version}",
                              current_version=found.version)  # fmt: skip


def create_activity(*, session: Session, activity_in: ActivityIn, actor: Actor
                    ) -> TourismActivity:  # fmt: skip
    """Record a special activity at a park the actor may see; audited."""
    with audited_denials(session, actor, "tourism_activities.create", "tourism_activities", None):
        actor.require(Permission.TOURISM_WRITE)
        park = visible_park(session, activity_in.park_id, actor)
    if activity_in.ends_at <= activity_in.starts_at:
        raise InvalidInput("an activity must end after it starts")
    activity = TourismActivity(park_id=park.id, name=activity_in.name,
                               starts_at=activity_in.starts_at, ends_at=activity_in.ends_at,
                               expected=activity_in.expected, created_by=actor.user_id)  # fmt: skip
    session.add(activity)
    session.flush()
    record_audit(session, actor=actor, action="tourism_activities.create",
                 target_type="tourism_activities", target_id=activity.id,
                 after={"park_id": park.id, "name": activity.name,
                        "expected": activity.expected})  # fmt: skip
    return activity


def list_activities(*, session: Session, actor: Actor, since: datetime | None,
                    until: datetime | None) -> list[tuple[TourismActivity, Park]]:  # fmt: skip
    """Return the activities at parks the actor may see that overlap the window, by start."""
    actor.require(Permission.FEATURES_READ)
    query = (
        select(TourismActivity, Park).join(Park, Park.id == TourismActivity.park_id)
        .where(actor.scope.clause(Park)).order_by(TourismActivity.starts_at, TourismActivity.id)
    )  # fmt: skip
    if since is not None:
        query = query.where(TourismActivity.ends_at > since)
    if until is not None:
        query = query.where(TourismActivity.starts_at < until)
    return [(a, p) for a, p in session.execute(query)]


def delete_activity(*, session: Session, activity_id: int, expected_version: int | None,
                    actor: Actor) -> None:  # fmt: skip
    """Delete an activity at the version given; audited."""
    with audited_denials(session, actor, "tourism_activities.delete", "tourism_activities",
                         activity_id):  # fmt: skip
        actor.require(Permission.TOURISM_WRITE)
        activity = session.scalar(
            select(TourismActivity).join(Park, Park.id == TourismActivity.park_id)
            .where(TourismActivity.id == activity_id, actor.scope.clause(Park))
            .with_for_update(of=TourismActivity)
        )  # fmt: skip
        if activity is None:
            raise NotFound(f"no activity {activity_id} that you may see")
    _check_version(activity, expected_version, f"activity {activity_id}")
    session.delete(activity)
    record_audit(session, actor=actor, action="tourism_activities.delete",
                 target_type="tourism_activities", target_id=activity_id,
                 before={"park_id": activity.park_id, "name": activity.name})  # fmt: skip


def check_config(config: dict[str, Any]) -> dict[str, Any]:
    """Return a topic map's configuration if it names known layers and a sane view."""
    layers = config.get("layers", [])
    if not isinstance(layers, list) or not all(isinstance(x, str) for x in layers):
        raise InvalidInput("config.layers must be a list of layer ids")
    unknown = sorted(set(layers) - set(REGISTRY) - set(OVERLAYS))
    if unknown:
        raise InvalidInput(f"config.layers names unknown layers: {', '.join(unknown)}; known: "
                           f"{', '.join([*REGISTRY, *OVERLAYS])}")  # fmt: skip
    filters = config.get("filters", {})
    if not isinstance(filters, dict) or not set(filters) <= set(layers):
        raise InvalidInput("config.filters must map layers of config.layers to their filters")
    view = config.get("view", {})
    centre, zoom = view.get("center"), view.get("zoom")
    if not (isinstance(centre, list) and len(centre) == 2
            and all(isinstance(c, int | float) for c in centre)
            and -180 <= centre[0] <= 180 and -90 <= centre[1] <= 90
            and isinstance(zoom, int | float) and 0 <= zoom <= 22):  # fmt: skip
        raise InvalidInput("config.view needs center [lon, lat] (WGS84) and zoom 0..22")
    return {"layers": layers, "filters": filters, "view": {"center": centre, "zoom": zoom}}


def _readable(actor: Actor) -> Any:
    return or_(TopicMap.shared.is_(True), TopicMap.owner_id == actor.user_id)


def list_topic_maps(*, session: Session, actor: Actor) -> list[TopicMap]:
    """Return the shared topic maps and the actor's own, by name."""
    actor.require(Permission.FEATURES_READ)
    return list(session.scalars(select(TopicMap).where(_readable(actor)).order_by(TopicMap.name)))


def get_topic_map(*, session: Session, map_id: int, actor: Actor) -> TopicMap:
    """Return a topic map the actor may open, or raise ``NotFound``."""
    actor.require(Permission.FEATURES_READ)
    found = session.scalar(select(TopicMap).where(TopicMap.id == map_id, _readable(actor)))
    if found is None:
        raise NotFound(f"no topic map {map_id} that you may open")
    return found


def save_topic_map(*, session: Session, actor: Actor, name: str, config: dict[str, Any],
                   shared: bool, map_id: int | None = None,
                   expected_version: int | None = None) -> TopicMap:  # fmt: skip
    """Create a topic map, or replace one (its owner's or a shared one) at its version."""
    action = "topic_maps.create" if map_id is None else "topic_maps.update"
    with audited_denials(session, actor, action, "topic_maps", map_id):
        actor.require(Permission.TOURISM_WRITE)
        found = None if map_id is None else get_topic_map(session=session, map_id=map_id,
                                                          actor=actor)  # fmt: skip
    checked = check_config(config)
    if found is None:
        found = TopicMap(name=name, config=checked, shared=shared, owner_id=actor.user_id)
        session.add(found)
    else:
        _check_version(found, expected_version, f"topic map {map_id}")
        found.name, found.config, found.shared = name, checked, shared
        found.version += 1
        found.updated_at = func.now()
    try:
        session.flush()
    except IntegrityError as exc:
        raise Conflict(f"a topic map is called {name!r} already") from exc
    session.refresh(found)
    record_audit(session, actor=actor, action=action, target_type="topic_maps",
                 target_id=found.id, after={"name": name, "config": checked,
                                            "shared": shared})  # fmt: skip
    return found
