"""Vehicles and GPS positions for API tests: a vehicle of one's own, routes in metres, batches."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from pyproj import Geod
from shapely.geometry import Point

GEOD = Geod(ellps="WGS84")


def new_vehicle(client: TestClient, headers: dict[str, str], where: tuple[float, float]) -> int:
    """Create a police car of this test's own at ``where``; return its id."""
    plate = f"京A{uuid.uuid4().hex[:8].upper()}"
    properties = {"name": f"巡逻车{plate[-4:]}", "plate": plate, "kind": "police"}
    body = {"geometry": {"type": "Point", "coordinates": list(where)}, "properties": properties}
    response = client.post("/api/layers/vehicles/features", json=body, headers=headers)
    assert response.status_code == 201, response.text
    vehicle_id: int = response.json()["id"]
    return vehicle_id


def east_of(centre: Point, metres: float, north_m: float = 0.0) -> tuple[float, float]:
    """Return the point ``metres`` east (west if negative) and ``north_m`` north of ``centre``."""
    lon, lat, _ = GEOD.fwd(centre.x, centre.y, 90.0 if metres >= 0 else 270.0, abs(metres))
    if north_m:
        lon, lat, _ = GEOD.fwd(lon, lat, 0.0 if north_m >= 0 else 180.0, abs(north_m))
    return lon, lat


def distance_from(centre: Point, where: Sequence[float]) -> float:
    """Return the geodesic distance in metres from ``centre`` to ``where`` (lon, lat)."""
    return float(GEOD.inv(centre.x, centre.y, where[0], where[1])[2])


def positions(
    vehicle_id: int, places: Sequence[tuple[float, float]], start: datetime, every_s: float = 5.0
) -> list[dict[str, Any]]:
    """Return the positions of a drive through ``places``, one every ``every_s`` from ``start``."""
    return [
        {"vehicle_id": vehicle_id, "at": (start + timedelta(seconds=i * every_s)).isoformat(),
         "lon": lon, "lat": lat, "speed_kmh": 36.0, "heading_deg": 90.0}
        for i, (lon, lat) in enumerate(places)
    ]  # fmt: skip


def post(client: TestClient, headers: dict[str, str], batch: list[dict[str, Any]]) -> Any:
    """POST a batch of positions; return the answer's JSON (200 only)."""
    response = client.post("/api/tracks", json={"positions": batch}, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()
