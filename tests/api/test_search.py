"""The one search box across layers."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from layers.accounts.roles import Role
from layers.features.models import Unit, Vehicle
from tests.utils.users import bearer, make_user


@pytest.fixture(scope="module")
def admin(client: TestClient, session_factory: sessionmaker[Session]) -> dict[str, str]:
    return bearer(client, make_user(session_factory, Role.ADMIN))


def test_exact_name_ranks_first_with_its_location(
    client: TestClient, session_factory: sessionmaker[Session], admin: dict[str, str]
) -> None:
    with session_factory() as session:
        unit = session.execute(
            select(Unit.id, Unit.name, func.ST_X(Unit.geom), func.ST_Y(Unit.geom))
            .order_by(Unit.id).limit(1)
        ).one()  # fmt: skip
    response = client.get(f"/api/search?q={unit.name}", headers=admin)
    assert response.status_code == 200, response.text
    first = response.json()["data"][0]
    assert (first["layer"], first["id"], first["name"]) == ("units", unit.id, unit.name)
    assert first["layer_title"] == "单位"
    assert first["location"] == pytest.approx([unit[2], unit[3]], abs=1e-6)
    scores = [hit["score"] for hit in response.json()["data"]]
    assert scores == sorted(scores, reverse=True)


def test_plates_and_addresses_are_searched(
    client: TestClient, session_factory: sessionmaker[Session], admin: dict[str, str]
) -> None:
    with session_factory() as session:
        plate = session.scalar(select(Vehicle.plate).order_by(Vehicle.id).limit(1))
        address = session.scalar(
            select(Unit.address).where(Unit.address.is_not(None)).order_by(Unit.id).limit(1)
        )
    assert plate and address
    hits = client.get(f"/api/search?q={plate}&layers=vehicles", headers=admin).json()["data"]
    assert hits and hits[0]["matched"] == plate and {h["layer"] for h in hits} == {"vehicles"}
    hits = client.get(f"/api/search?q={address}&layers=units", headers=admin).json()["data"]
    assert any(h["matched"] == address for h in hits)


def test_wildcards_are_literal(client: TestClient, admin: dict[str, str]) -> None:
    response = client.get("/api/search?q=%25%25", headers=admin)
    assert response.status_code == 200 and response.json()["data"] == []


@pytest.mark.parametrize("query", ["q=", "q=%20%20", "q=a&layers=nope", "q=a&limit=0", ""])
def test_bad_searches_are_4xx(client: TestClient, admin: dict[str, str], query: str) -> None:
    response = client.get(f"/api/search?{query}", headers=admin)
    assert response.status_code in (404, 422), response.text
