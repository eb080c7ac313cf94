"""The wall's figures: incidents of today against yesterday (by hour, by district) and open
hazards by level, each counted over the caller's jurisdiction."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from layers.accounts.roles import Role
from layers.accounts.service import Jurisdiction
from layers.features.models import District
from tests.utils.events import incident, two_places
from tests.utils.users import bearer, make_user

ZONE = ZoneInfo("Asia/Shanghai")  # Settings().timezone, the default of the run


def _stats(client: TestClient, path: str, headers: dict[str, str]) -> Any:
    response = client.get(f"/api/stats/{path}", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def _create(client: TestClient, headers: dict[str, str], point: Any, at: datetime) -> None:
    body = incident(point, "看板测试警情")
    body["properties"]["occurred_at"] = at.isoformat()
    response = client.post("/api/layers/incidents/features", json=body, headers=headers)
    assert response.status_code == 201, response.text


def test_incidents_today_against_yesterday_and_hazards_by_level(
    client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    with session_factory() as session:
        here, elsewhere = two_places(session)
        district = session.get(District, here.precinct.district_id)
        assert district is not None
        unit_id = here.units[0]
    commander = bearer(client, make_user(session_factory, Role.COMMANDER))
    where = Jurisdiction(precinct_code=elsewhere.precinct.code)
    other = bearer(client, make_user(session_factory, Role.OFFICER, where))
    before = _stats(client, "incidents", commander)
    before_other = _stats(client, "incidents", other)
    hazards_before = _stats(client, "hazards/open", commander)

    now = datetime.now(ZONE)
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    today_at = midnight + (now - midnight) / 2  # earlier today, whatever the time
    yesterday_at = today_at - timedelta(days=1)  # yesterday, before this time of day
    for at in (today_at, today_at, yesterday_at):
        _create(client, commander, here.point, at.astimezone(UTC))
    hazard = {"title": "3级隐患", "topic": "internal_security",
              "features": [{"layer": "units", "id": unit_id}],
              "details": {"level": 3, "category": "fire"}}  # fmt: skip
    assert client.post("/api/hazards", json=hazard, headers=commander).status_code == 201

    after = _stats(client, "incidents", commander)
    after_other = _stats(client, "incidents", other)
    assert (after["today"] - before["today"], after["yesterday"] - before["yesterday"],
            after["yesterday_until_now"] - before["yesterday_until_now"]) == (2, 1, 1)  # fmt: skip
    hour = today_at.hour
    assert after["today_by_hour"][hour] - before["today_by_hour"][hour] == 2
    assert after["yesterday_by_hour"][hour] - before["yesterday_by_hour"][hour] == 1
    counts = {d["district_id"]: d for d in after["today_by_district"]}
    earlier = {d["district_id"]: d["count"] for d in before["today_by_district"]}
    assert counts[district.id]["count"] - earlier.get(district.id, 0) == 2
    assert counts[district.id]["name"] == district.name
    assert after_other == {**before_other, "now": after_other["now"]}  # not in their precinct

    level = {row["level"]: row["open"] for row in _stats(client, "hazards/open", commander)["data"]}
    was = {row["level"]: row["open"] for row in hazards_before["data"]}
    assert level[3] - was.get(3, 0) == 1
