"""Scope: an officer's and a unit user's list, query, hexbins, nearest, OGC and search agree."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from shapely.geometry import box, mapping
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from layers.accounts.roles import Role
from layers.accounts.service import Jurisdiction
from layers.features.models import Precinct, Unit
from tests.utils.users import bearer, make_user

CITY_BOX = box(115.4, 39.4, 117.6, 41.1)
AROUND = (116.39, 39.9)  # the default centre of the radius view


@pytest.fixture(scope="module")
def precinct(session_factory: sessionmaker[Session], city: None) -> Precinct:
    """The precinct holding the most units."""
    with session_factory() as session:
        precinct_id = session.scalar(
            select(Unit.precinct_id).where(Unit.precinct_id.is_not(None))
            .group_by(Unit.precinct_id).order_by(func.count().desc()).limit(1)
        )  # fmt: skip
        found = session.get(Precinct, precinct_id)
        assert found is not None
        return found


@pytest.fixture(scope="module")
def officer(client: TestClient, session_factory: sessionmaker[Session], precinct: Precinct
            ) -> dict[str, str]:  # fmt: skip
    where = Jurisdiction(precinct_code=precinct.code)
    return bearer(client, make_user(session_factory, Role.OFFICER, where))


def _ids(body: dict[str, Any]) -> set[int]:
    return {f["id"] for f in body["features"]}


def _views(client: TestClient, headers: dict[str, str], layer: str = "units",
           around: tuple[float, float] = AROUND) -> dict[str, Any]:  # fmt: skip
    """What each kind of read returns to the caller, as sets of ids (or counts)."""
    get = lambda url: client.get(url, headers=headers).json()  # noqa: E731
    region = client.post("/api/spatial/query", headers=headers, json={
        "layers": [layer], "geometry": mapping(CITY_BOX), "limit": 10000}).json()  # fmt: skip
    circle = {"point": list(around), "radius_m": 3000, "limit": 10000}
    around = client.post("/api/spatial/query", headers=headers,
                         json={"layers": [layer], **circle}).json()  # fmt: skip
    hexbins = get(f"/api/layers/{layer}/hexbins?resolution=5")["features"]
    return {
        "list": _ids(get(f"/api/layers/{layer}/features?limit=10000")),
        "query": _ids(region["layers"][layer]),
        "query_count": region["layers"][layer]["count"],
        "around": _ids(around["layers"][layer]),
        "around_count": around["layers"][layer]["count"],
        "hexbin_count": sum(c["properties"]["count"] for c in hexbins),
        "ogc": _ids(get(f"/ogc/collections/{layer}/items?limit=10000")),
        "nearest": _ids(get(f"/api/layers/{layer}/nearest?point=116.39,39.9&k=1000")),
    }


def test_officer_sees_only_his_precinct_everywhere(
    client: TestClient, session_factory: sessionmaker[Session], precinct: Precinct,
    officer: dict[str, str],
) -> None:  # fmt: skip
    with session_factory() as session:
        mine = set(session.scalars(select(Unit.id).where(Unit.precinct_id == precinct.id)))
        name = session.scalar(select(Unit.name).where(Unit.precinct_id != precinct.id).limit(1))
        inner = session.execute(select(func.ST_X(func.ST_PointOnSurface(Precinct.geom)),
                                       func.ST_Y(func.ST_PointOnSurface(Precinct.geom)))
                                .where(Precinct.id == precinct.id)).one()  # fmt: skip
        target = func.geography(func.ST_SetSRID(func.ST_MakePoint(*inner), 4326))
        within = func.ST_DWithin(func.geography(Unit.geom), target, 3000)
        near = set(session.scalars(select(Unit.id).where(Unit.precinct_id == precinct.id, within)))
    views = _views(client, officer, around=(float(inner[0]), float(inner[1])))
    assert mine and views["list"] == views["query"] == views["ogc"] == mine
    assert views["query_count"] == views["hexbin_count"] == len(mine)
    assert near and views["around"] == near and views["around_count"] == len(near)
    assert views["nearest"] <= mine and len(views["nearest"]) == min(1000, len(mine))
    hits = client.get(f"/api/search?q={name}&layers=units", headers=officer).json()["data"]
    assert all(hit["id"] in mine for hit in hits)


def test_officer_cannot_edit_outside_his_precinct(
    client: TestClient, session_factory: sessionmaker[Session], precinct: Precinct,
    officer: dict[str, str],
) -> None:  # fmt: skip
    with session_factory() as session:
        other = session.scalar(  # a low id: other test files write the newest units
            select(Unit.id).where(Unit.precinct_id != precinct.id).order_by(Unit.id).limit(1)
        )
    url = f"/api/layers/units/features/{other}"
    body = {"geometry": {"type": "Point", "coordinates": [116.39, 39.9]},
            "properties": {"name": "越权", "category": "bank"}}  # fmt: skip
    assert client.put(url, json=body, headers={**officer, "If-Match": '"1"'}).status_code == 404
    assert client.delete(url, headers={**officer, "If-Match": '"1"'}).status_code == 404
    assert client.get(f"/ogc/collections/units/items/{other}", headers=officer).status_code == 404


def test_unit_user_sees_only_its_own_unit(
    client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    with session_factory() as session:
        unit_id, name = session.execute(select(Unit.id, Unit.name).order_by(Unit.id)
                                        .offset(10).limit(1)).one()  # fmt: skip
    headers = bearer(client, make_user(session_factory, Role.UNIT, Jurisdiction(unit_id=unit_id)))
    views = _views(client, headers)
    assert views["list"] == views["query"] == views["ogc"] == views["nearest"] == {unit_id}
    assert views["query_count"] == views["hexbin_count"] == 1
    assert views["around"] <= {unit_id} and views["around_count"] == len(views["around"])
    assert _views(client, headers, "parks")["list"] == set()
    hits = client.get(f"/api/search?q={name}", headers=headers).json()["data"]
    assert [(h["layer"], h["id"]) for h in hits] == [("units", unit_id)]
