"""Statistics and topics: every number equals a direct SQL count."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, text
from sqlalchemy.orm import Session, sessionmaker

from layers.accounts.roles import Role
from layers.accounts.service import Jurisdiction
from layers.features.models import Precinct, Unit
from tests.utils.users import bearer, make_user


@pytest.fixture(scope="module")
def seeded(client: TestClient, session_factory: sessionmaker[Session]) -> dict[str, Any]:
    """A commander, an officer of one precinct, and records of several kinds across the city."""
    commander = bearer(client, make_user(session_factory, Role.COMMANDER))
    with session_factory() as session:
        busy = session.scalar(
            select(Unit.precinct_id)
            .where(Unit.precinct_id.is_not(None))
            .order_by(Unit.id.desc())
            .limit(1)
        )
        precinct = session.get_one(Precinct, busy)
        units = session.scalars(select(Unit.id).order_by(Unit.id).limit(12)).all()
        local = session.scalars(
            select(Unit.id).where(Unit.precinct_id == precinct.id).limit(3)
        ).all()
    officer = bearer(
        client, make_user(session_factory, Role.OFFICER, Jurisdiction(precinct_code=precinct.code))
    )
    past = (datetime.now(UTC) - timedelta(days=2)).isoformat()
    for i, unit in enumerate([*units, *local]):
        feature = [{"layer": "units", "id": unit}]
        task = {
            "title": f"任务{i}",
            "topic": "internal_security",
            "features": feature,
            "due_at": past if i % 3 == 0 else None,
            "details": {},
        }
        assert client.post("/api/tasks", json=task, headers=commander).status_code == 201
        hazard = {
            "title": f"隐患{i}",
            "topic": "internal_security",
            "features": feature,
            "details": {"level": 1 + i % 4, "category": "fire"},
        }
        made = client.post("/api/hazards", json=hazard, headers=commander).json()
        if i % 2:
            for action in ("rectify", "report", "verify"):
                made = client.post(
                    f"/api/hazards/{made['id']}/transitions",
                    json={"action": action},
                    headers={**commander, "If-Match": f'"{made["version"]}"'},
                ).json()
        case = {
            "title": f"案件{i}",
            "topic": ("food_drug", "tobacco")[i % 2],
            "features": feature,
            "details": {
                "summary": "线索",
                "results": {"cases": 1, "people": i, "value_yuan": 100.5 * i},
            },
        }
        assert client.post("/api/cases", json=case, headers=commander).status_code == 201
    return {"commander": commander, "officer": officer, "precinct": precinct.id}


def _sql(factory: sessionmaker[Session], query: str, **params: Any) -> list[tuple[Any, ...]]:
    with factory() as session:
        return [tuple(row) for row in session.execute(text(query), params)]


def test_counts_by_district_and_state_equal_sql(
    client: TestClient, seeded: dict[str, Any], session_factory: sessionmaker[Session]
) -> None:
    response = client.get(
        "/api/stats/records",
        params={"group_by": "district,state", "kind": "hazard"},
        headers=seeded["commander"],
    )
    assert response.status_code == 200, response.text
    got = {(r["district"], r["state"]): r["count"] for r in response.json()["data"]}
    expected = dict(
        ((d, s), n)
        for d, s, n in _sql(
            session_factory,
            "SELECT district_id, state, count(*) FROM records WHERE kind = 'hazard' GROUP BY 1, 2",
        )
    )
    assert got == expected and sum(got.values()) > 0


def test_an_officer_counts_only_his_precinct(
    client: TestClient, seeded: dict[str, Any], session_factory: sessionmaker[Session]
) -> None:
    rows = client.get(
        "/api/stats/records", params={"group_by": "kind"}, headers=seeded["officer"]
    ).json()["data"]
    got = {r["kind"]: r["count"] for r in rows}
    expected = dict(
        _sql(
            session_factory,
            "SELECT kind, count(*) FROM records WHERE precinct_id = :p GROUP BY 1",
            p=seeded["precinct"],
        )
    )
    assert got == expected and got["task"] >= 3


def test_counts_by_day_follow_the_bureaus_time_zone(
    client: TestClient, seeded: dict[str, Any], session_factory: sessionmaker[Session]
) -> None:
    rows = client.get(
        "/api/stats/records",
        params={"group_by": "day,kind", "topic": "tobacco"},
        headers=seeded["commander"],
    ).json()["data"]
    expected = _sql(
        session_factory,
        "SELECT to_char(created_at AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD'), kind, count(*)"
        " FROM records WHERE topic = 'tobacco' GROUP BY 1, 2 ORDER BY 1, 2",
    )
    assert [(r["day"], r["kind"], r["count"]) for r in rows] == expected


def test_overdue_weekly_hazards_and_results_equal_sql(
    client: TestClient, seeded: dict[str, Any], session_factory: sessionmaker[Session]
) -> None:
    headers = seeded["commander"]
    overdue = {
        r["kind"]: r["overdue"]
        for r in client.get("/api/stats/overdue", headers=headers).json()["data"]
    }
    assert overdue == dict(
        _sql(
            session_factory,
            "SELECT kind, count(*) FROM records WHERE due_at < now()"
            " AND NOT (kind = 'task' AND state IN ('approved', 'archived', 'cancelled'))"
            " AND NOT (kind = 'hazard' AND state = 'verified') GROUP BY 1",
        )
    )
    weekly = client.get("/api/stats/hazards/weekly", headers=headers).json()["data"]
    [(found,)] = _sql(session_factory, "SELECT count(*) FROM records WHERE kind = 'hazard'")
    [(closed,)] = _sql(
        session_factory,
        "SELECT count(*) FROM record_transitions t JOIN records r ON r.id = t.record_id"
        " WHERE r.kind = 'hazard' AND t.to_state = 'verified'",
    )
    assert sum(w["found"] for w in weekly) == found and sum(w["closed"] for w in weekly) == closed
    results = client.get("/api/stats/results", headers=headers).json()["data"]
    expected = _sql(
        session_factory,
        "SELECT topic, count(*), sum((details->'results'->>'people')::float),"
        " sum((details->'results'->>'value_yuan')::float) FROM records WHERE kind = 'case'"
        " GROUP BY 1 ORDER BY 1",
    )
    assert [(r["topic"], r["records"], r["people"], r["value_yuan"]) for r in results] == expected


def test_bad_groupings_are_refused(client: TestClient, seeded: dict[str, Any]) -> None:
    for params in ({"group_by": "colour"}, {"group_by": "state", "colour": "red"}):
        response = client.get("/api/stats/records", params=params, headers=seeded["commander"])
        assert response.status_code == 422


def test_topics_list_their_kinds_stages_and_sections(
    client: TestClient, seeded: dict[str, Any]
) -> None:
    topics = {
        t["id"]: t for t in client.get("/api/topics", headers=seeded["officer"]).json()["data"]
    }
    assert {
        "internal_security",
        "environment",
        "food_drug",
        "tobacco",
        "intellectual_property",
        "public_transport",
        "tourism",
    } <= set(topics)
    case = next(k for k in topics["food_drug"]["kinds"] if k["id"] == "case")
    assert [s["state"] for s in case["stages"]] == [
        "clue",
        "analysis",
        "handoff",
        "disposal",
        "archived",
    ]
    transit = {s["id"] for s in topics["public_transport"]["sections"]}
    assert {
        "rail",
        "ground",
        "taxi",
        "rail_construction",
        "key_station_areas",
        "support",
    } <= transit
