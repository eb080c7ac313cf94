"""Tourism topics: special activities at parks, and topic maps the team saves and shares."""

from __future__ import annotations

from datetime import UTC
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Path, Response
from pydantic import AwareDatetime

from api.access import FEATURE_READERS, requires
from api.deps import CurrentActor, SessionDep, if_match_version
from api.schemas.tourism import (
    ActivitiesPublic,
    ActivityIn,
    ActivityPublic,
    TopicMapIn,
    TopicMapPublic,
    TopicMapsPublic,
)
from layers.accounts.roles import Permission
from layers.tourism import topics
from layers.tourism.models import TopicMap, TourismActivity
from layers.tourism.parks import visible_park
from layers.values import storable_instant, storable_text

TOURISM_WRITERS = requires(Permission.TOURISM_WRITE)
router = APIRouter(prefix="/api/tourism", tags=["tourism"])
Id = Annotated[int, Path(ge=1, le=2**63 - 1)]


def _activity(a: TourismActivity, park_name: str, daily: int | None) -> ActivityPublic:
    return ActivityPublic(id=a.id, park_id=a.park_id, park_name=park_name, name=a.name,
                          starts_at=a.starts_at, ends_at=a.ends_at, expected=a.expected,
                          expected_ratio=a.expected / daily if daily else None,
                          version=a.version)  # fmt: skip


def _map(m: TopicMap, response: Response | None = None) -> TopicMapPublic:
    if response is not None:
        response.headers["ETag"] = f'"{m.version}"'
    return TopicMapPublic(id=m.id, name=m.name, config=m.config, shared=m.shared,
                          owner_id=m.owner_id, version=m.version,
                          updated_at=m.updated_at)  # fmt: skip


@router.post("/activities", status_code=201, dependencies=[Depends(TOURISM_WRITERS)])
def create_activity(body: ActivityIn, session: SessionDep, actor: CurrentActor) -> ActivityPublic:
    """Record a special activity at a park with the attendance expected."""
    activity = topics.create_activity(session=session, actor=actor, activity_in=topics.ActivityIn(
        body.park_id, storable_text(body.name, "name"),
        storable_instant(body.starts_at, "starts_at", UTC),
        storable_instant(body.ends_at, "ends_at", UTC), body.expected,
    ))  # fmt: skip
    park = visible_park(session, activity.park_id, actor)
    return _activity(activity, park.name, park.daily_capacity)


@router.get("/activities", dependencies=[Depends(FEATURE_READERS)])
def list_activities(session: SessionDep, actor: CurrentActor, since: AwareDatetime | None = None,
                    until: AwareDatetime | None = None) -> ActivitiesPublic:  # fmt: skip
    """Return activities at parks you may see overlapping the window, by start."""
    found = topics.list_activities(
        session=session, actor=actor, since=since and storable_instant(since, "since", UTC),
        until=until and storable_instant(until, "until", UTC),
    )  # fmt: skip
    data = [_activity(a, p.name, p.daily_capacity) for a, p in found]
    return ActivitiesPublic(data=data, count=len(data))


@router.delete("/activities/{activity_id}", status_code=204,
               dependencies=[Depends(TOURISM_WRITERS)])  # fmt: skip
def delete_activity(activity_id: Id, session: SessionDep, actor: CurrentActor,
                    if_match: str | None = Header(default=None)) -> None:  # fmt: skip
    """Delete an activity at the If-Match version."""
    topics.delete_activity(session=session, activity_id=activity_id, actor=actor,
                           expected_version=if_match_version(if_match))  # fmt: skip


@router.get("/maps", dependencies=[Depends(FEATURE_READERS)])
def list_topic_maps(session: SessionDep, actor: CurrentActor) -> TopicMapsPublic:
    """Return the shared topic maps and your own, by name."""
    found = topics.list_topic_maps(session=session, actor=actor)
    return TopicMapsPublic(data=[_map(m) for m in found], count=len(found))


@router.get("/maps/{map_id}", dependencies=[Depends(FEATURE_READERS)])
def read_topic_map(map_id: Id, session: SessionDep, actor: CurrentActor,
                   response: Response) -> TopicMapPublic:  # fmt: skip
    """Return a topic map to reopen, with its version as ETag."""
    return _map(topics.get_topic_map(session=session, map_id=map_id, actor=actor), response)


@router.post("/maps", status_code=201, dependencies=[Depends(TOURISM_WRITERS)])
def create_topic_map(body: TopicMapIn, session: SessionDep, actor: CurrentActor,
                     response: Response) -> TopicMapPublic:  # fmt: skip
    """Save a named map configuration (layers, filters, view), shared with the team by default."""
    saved = topics.save_topic_map(session=session, actor=actor,
                                  name=storable_text(body.name, "name"), config=body.config,
                                  shared=body.shared)  # fmt: skip
    return _map(saved, response)


@router.put("/maps/{map_id}", dependencies=[Depends(TOURISM_WRITERS)])
def update_topic_map(map_id: Id, body: TopicMapIn, session: SessionDep, actor: CurrentActor,
                     response: Response, if_match: str | None = Header(default=None),
                     ) -> TopicMapPublic:  # fmt: skip
    """Replace a topic map at the If-Match version."""
    saved = topics.save_topic_map(session=session, actor=actor, map_id=map_id,
                                  name=storable_text(body.name, "name"), config=body.config,
                                  shared=body.shared,
                                  expected_version=if_match_version(if_match))  # fmt: skip
    return _map(saved, response)
