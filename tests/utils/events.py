"""Places, writes and settings for tests of the event stream and replay."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from layers.features.models import Precinct, Unit
from layers.settings import Settings, StreamSettings
from tests.utils.places import precincts_with_units
from tests.utils.sse import Message

Point = tuple[float, float]
FAST = StreamSettings(heartbeat_s=0.2, session_check_s=0.2, retry_ms=500)


def fast(settings: Settings, **stream: Any) -> Settings:
    """Return ``settings`` with quick heartbeats and session checks (and ``stream`` changes)."""
    return settings.model_copy(update={"stream": FAST.model_copy(update=stream)})


class Place:
    """A precinct, a point inside it and two of its units (ids and places)."""

    def __init__(self, session: Session, precinct: Precinct) -> None:
        self.precinct = precinct
        inside = func.ST_PointOnSurface(Precinct.geom)
        lon, lat = session.execute(
            select(func.ST_X(inside), func.ST_Y(inside)).where(Precinct.id == precinct.id)
        ).one()
        self.point: Point = (lon, lat)
        units = session.execute(
            select(Unit.id, func.ST_X(Unit.geom), func.ST_Y(Unit.geom))
            .where(Unit.precinct_id == precinct.id).order_by(Unit.id).limit(2)
        ).all()  # fmt: skip
        self.units: list[int] = [unit_id for unit_id, _, _ in units]
        self.unit_points: list[Point] = [(lon, lat) for _, lon, lat in units]


def two_places(session: Session) -> tuple[Place, Place]:
    """Return two precincts with units."""
    first, second = precincts_with_units(session)[:2]
    return Place(session, first), Place(session, second)


def box_around(point: Point, half: float = 0.0005) -> str:
    """Return a bbox parameter of a small box centred on ``point``."""
    lon, lat = point
    return f"{lon - half},{lat - half},{lon + half},{lat + half}"


def incident(point: Point, name: str = "流测试警情") -> dict[str, Any]:
    """Return the body of a new incident at ``point``, occurring now."""
    return {
        "geometry": {"type": "Point", "coordinates": list(point)},
        "properties": {"name": name, "category": "theft", "level": 2, "status": "open",
                       "occurred_at": datetime.now(UTC).isoformat()},
    }  # fmt: skip


def create_incident(http: TestClient | httpx.Client, headers: dict[str, str], point: Point) -> int:
    """Create an incident at ``point`` over HTTP; return its id."""
    response = http.post("/api/layers/incidents/features", json=incident(point), headers=headers)
    assert response.status_code == 201, response.text
    feature_id: int = response.json()["id"]
    return feature_id


def new_task(client: TestClient, headers: dict[str, str], unit_id: int) -> dict[str, Any]:
    """Create a task about a unit; return it as the API answers."""
    body = {"title": "流测试任务", "topic": "internal_security",
            "features": [{"layer": "units", "id": unit_id}]}  # fmt: skip
    response = client.post("/api/tasks", json=body, headers=headers)
    assert response.status_code == 201, response.text
    task: dict[str, Any] = response.json()
    return task


def feature_ids(messages: list[Message]) -> list[int]:
    """Return the feature ids of event messages, in order."""
    return [message.json()["feature_id"] for message in messages]
