"""Ask the spatial query API from tests."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import ColumnElement, func


def ask(client: TestClient, headers: dict[str, str], **body: Any) -> dict[str, Any]:
    """POST a spatial query about units; return the units' part of the answer (200 only)."""
    response = client.post("/api/spatial/query", json={"layers": ["units"], **body},
                           headers=headers)  # fmt: skip
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()["layers"]["units"]
    return result


def line_geography(line: list[list[float]]) -> ColumnElement[Any]:
    """Return a lon/lat polyline as a PostGIS geography (for ground-truth distances)."""
    points = ", ".join(f"{lon} {lat}" for lon, lat in line)
    return func.ST_GeogFromText(f"SRID=4326;LINESTRING({points})")
