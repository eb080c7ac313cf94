"""Ask the spatial query API from tests."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient


def ask(client: TestClient, headers: dict[str, str], **body: Any) -> dict[str, Any]:
    """POST a spatial query about units; return the units' part of the answer (200 only)."""
    response = client.post("/api/spatial/query", json={"layers": ["units"], **body},
                           headers=headers)  # fmt: skip
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()["layers"]["units"]
    return result
