"""The one search box across layers."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from layers.features import search
from layers.features.models import Unit, Vehicle


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


def _hits(client: TestClient, headers: dict[str, str], q: str, **params: str) -> list[Any]:
    response = client.get("/api/search", params={"q": q, **params}, headers=headers)
    assert response.status_code == 200, response.text
    data: list[Any] = response.json()["data"]
    return data


def test_three_characters_match_anywhere_in_names_and_addresses(
    client: TestClient, session_factory: sessionmaker[Session], admin: dict[str, str]
) -> None:
    with session_factory() as session:
        unit_id, name, address = session.execute(
            select(Unit.id, Unit.name, Unit.address).where(func.length(Unit.name) >= 8)
            .order_by(Unit.id).limit(1)
        ).one()  # fmt: skip
    middle = name[2:7]
    hits = _hits(client, admin, middle, layers="units", limit="100")
    assert unit_id in {h["id"] for h in hits}
    assert all(middle in h["matched"] for h in hits)
    street = address[3:9]
    hits = _hits(client, admin, street, layers="units", limit="100")
    assert any(h["id"] == unit_id and h["matched"] == address for h in hits)


def test_two_characters_match_anywhere_and_one_at_the_start_of_a_name(
    client: TestClient, session_factory: sessionmaker[Session], admin: dict[str, str]
) -> None:
    with session_factory() as session:
        unit_id, name = session.execute(
            select(Unit.id, Unit.name).where(func.length(Unit.name) >= 6).order_by(Unit.id)
        ).first()  # fmt: skip
    middle = name[3:5]  # neither at the start nor at the end
    hits = _hits(client, admin, middle, layers="units", limit="100")
    assert hits and all(middle in h["matched"] for h in hits)
    assert len(hits) == 100 or unit_id in {h["id"] for h in hits}
    exact = _hits(client, admin, name[1:], layers="units", limit="100")
    assert unit_id in {h["id"] for h in exact}
    hits = _hits(client, admin, name[1], layers="units", limit="100")
    assert hits and all(h["name"].startswith(name[1]) for h in hits)


def test_a_new_or_renamed_feature_is_found_by_any_two_of_its_characters(
    client: TestClient, admin: dict[str, str]
) -> None:
    unit = {"geometry": {"type": "Point", "coordinates": [116.40, 39.91]},
            "properties": {"name": "北京鑫龘科技有限公司", "category": "company"}}  # fmt: skip
    created = client.post("/api/layers/units/features", json=unit, headers=admin)
    assert created.status_code == 201, created.text
    feature = created.json()["id"]
    assert [h["id"] for h in _hits(client, admin, "鑫龘", layers="units")] == [feature]
    assert [h["id"] for h in _hits(client, admin, "龘科", layers="units")] == [feature]
    url = f"/api/layers/units/features/{feature}"

    def at(version: int) -> dict[str, str]:
        return {**admin, "If-Match": f'"{version}"'}

    renamed = client.patch(url, headers=at(1), json={"properties": {"name": "北京燚KTV有限公司"}})
    assert renamed.status_code == 200, renamed.text
    assert _hits(client, admin, "鑫龘", layers="units") == []
    assert [h["id"] for h in _hits(client, admin, "燚k", layers="units")] == [feature]
    renamed = client.patch(url, headers=at(2), json={"properties": {"name": "北京燚ＫＴＶ"}})
    assert renamed.status_code == 200, renamed.text  # full-width, as an IME types it
    assert [h["id"] for h in _hits(client, admin, "燚ｋｔ", layers="units")] == [feature]
    assert _hits(client, admin, "燚kt", layers="units") == []  # ILIKE tells the widths apart
    deleted = client.delete(url, headers=at(3))
    assert deleted.status_code == 204


def test_codes_and_plates_match_from_their_start_in_any_case(
    client: TestClient, session_factory: sessionmaker[Session], admin: dict[str, str]
) -> None:
    with session_factory() as session:
        unit_id, code = session.execute(select(Unit.id, Unit.credit_code).where(
            Unit.credit_code.is_not(None)).order_by(Unit.id).limit(1)).one()  # fmt: skip
        plate = session.scalar(select(Vehicle.plate).order_by(Vehicle.id).limit(1))
    assert plate
    for q in (code, code[:10], code[:10].lower()):
        hits = _hits(client, admin, q, layers="units", limit="100")
        assert any(h["id"] == unit_id and h["matched"] == code for h in hits), q
        assert all(h["matched"].startswith(q.upper()) or q in h["matched"] for h in hits)
    hits = _hits(client, admin, plate[:3], layers="vehicles", limit="100")
    assert plate in {h["matched"] for h in hits}
    assert all(h["matched"].startswith(plate[:3]) for h in hits)


def test_an_exact_name_ranks_first_however_broad_the_query(
    client: TestClient, session_factory: sessionmaker[Session], admin: dict[str, str]
) -> None:
    with session_factory() as session:
        broad = session.scalar(select(func.count()).where(Unit.name.contains("有限公司")))
    assert broad and broad > search.CANDIDATES  # more matches than a layer ranks
    unit = {"geometry": {"type": "Point", "coordinates": [116.40, 39.91]},
            "properties": {"name": "有限公司", "category": "company"}}  # fmt: skip
    created = client.post("/api/layers/units/features", json=unit, headers=admin)
    assert created.status_code == 201, created.text
    try:
        hits = _hits(client, admin, "有限公司", layers="units")
        assert hits[0]["id"] == created.json()["id"] and hits[0]["score"] > 1
        assert len(hits) == 20 and all("有限公司" in h["matched"] for h in hits)
    finally:
        deleted = client.delete(f"/api/layers/units/features/{created.json()['id']}",
                                headers={**admin, "If-Match": '"1"'})  # fmt: skip
        assert deleted.status_code == 204


def test_count_says_how_many_matched_not_how_many_came_back(
    client: TestClient, session_factory: sessionmaker[Session], admin: dict[str, str]
) -> None:
    def matching(q: str) -> int:
        with session_factory() as session:
            return int(session.scalar(select(func.count()).where(
                Unit.name.contains(q) | Unit.address.contains(q))) or 0)  # fmt: skip

    narrow, broad = "学校", "有限公司"
    assert 5 < matching(narrow) <= search.COUNT_CAP < matching(broad)
    for q, count, exact in ((narrow, matching(narrow), True), (broad, search.COUNT_CAP, False)):
        response = client.get("/api/search", params={"q": q, "layers": "units", "limit": 5},
                              headers=admin)  # fmt: skip
        body = response.json()
        assert (body["count"], body["count_is_exact"]) == (count, exact), q
        assert body["returned"] == len(body["data"]) == 5
