"""Forms as data: versioned templates, submissions checked and scored, hazards opened."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from layers.accounts.roles import Role
from layers.accounts.service import Jurisdiction
from layers.features.models import Unit
from tests.utils.places import precincts_with_units
from tests.utils.users import bearer, make_user


def _template(code: str, form_kind: str = "inspection", exits_points: int = 40) -> dict[str, Any]:
    return {
        "code": code,
        "form_kind": form_kind,
        "title": "消防检查表",
        "schema": {
            "type": "object",
            "required": ["exits_clear", "extinguishers_ok"],
            "properties": {
                "exits_clear": {"type": "boolean", "title": "安全出口畅通"},
                "extinguishers_ok": {"type": "boolean", "title": "灭火器有效"},
                "guards_on_duty": {"type": "integer", "minimum": 0, "title": "在岗保安人数"},
            },
            "additionalProperties": False,
        },
        "scoring": {
            "items": {
                "exits_clear": {"points": exits_points, "hazard": {"level": 3, "category": "fire"}},
                "extinguishers_ok": {"points": 60, "hazard": {"level": 2, "category": "fire"}},
            },
            "pass_mark": 60,
        },
    }


class Cast:
    """A commander, a precinct's officer, a unit in it and that unit's user."""

    def __init__(self, client: TestClient, factory: sessionmaker[Session]) -> None:
        with factory() as session:
            precinct = precincts_with_units(session)[-1]
            assert precinct is not None
            unit = session.scalars(select(Unit).where(Unit.precinct_id == precinct.id)).first()
            assert unit is not None
            self.unit_id = unit.id
        self.commander = bearer(client, make_user(factory, Role.COMMANDER))
        here = Jurisdiction(precinct_code=precinct.code)
        self.officer = bearer(client, make_user(factory, Role.OFFICER, here))
        self.unit_user = bearer(
            client, make_user(factory, Role.UNIT, Jurisdiction(unit_id=unit.id))
        )


@pytest.fixture(scope="module")
def cast(client: TestClient, session_factory: sessionmaker[Session]) -> Cast:
    """The people of this module."""
    return Cast(client, session_factory)


def test_a_failed_inspection_is_scored_and_opens_hazards(client: TestClient, cast: Cast) -> None:
    code = f"fire_{uuid.uuid4().hex[:6]}"
    made = client.post("/api/forms", json=_template(code), headers=cast.commander)
    assert made.status_code == 201, made.text
    assert made.json()["version"] == 1 and made.json()["schema"]["type"] == "object"
    answers = {"exits_clear": False, "extinguishers_ok": True, "guards_on_duty": 2}
    body = {"template": code, "features": [{"layer": "units", "id": cast.unit_id}],
            "answers": answers}  # fmt: skip
    response = client.post("/api/inspections", json=body, headers=cast.officer)
    assert response.status_code == 201, response.text
    kept = response.json()
    assert kept["kind"] == "inspection" and kept["state"] == "submitted"
    assert kept["details"]["score"] == 60 and kept["details"]["max_score"] == 100
    assert kept["details"]["passed"] is True
    assert kept["details"]["failed_items"] == ["exits_clear"]
    [hazard] = kept["opened_hazards"]
    assert hazard["kind"] == "hazard" and hazard["details"]["level"] == 3
    assert kept["details"]["hazards"] == [hazard["id"]]
    again = client.get(f"/api/inspections/{kept['id']}", headers=cast.officer).json()
    assert again["details"]["hazards"] == [hazard["id"]]
    timeline = client.get(f"/api/layers/units/features/{cast.unit_id}/records",
                          headers=cast.officer).json()  # fmt: skip
    ids = [r["id"] for r in timeline["data"]]
    assert kept["id"] in ids and hazard["id"] in ids
    assert timeline["risk"]["hazard_level"] >= 3


def test_a_submission_is_kept_against_the_version_it_answers(
    client: TestClient, cast: Cast
) -> None:
    code = f"fire_{uuid.uuid4().hex[:6]}"
    client.post("/api/forms", json=_template(code, exits_points=40), headers=cast.commander)
    second = client.post("/api/forms", json=_template(code, exits_points=10),
                         headers=cast.commander)  # fmt: skip
    assert second.json()["version"] == 2
    answers = {"exits_clear": True, "extinguishers_ok": False}
    body = {"template": code, "template_version": 1, "answers": answers,
            "features": [{"layer": "units", "id": cast.unit_id}]}  # fmt: skip
    old = client.post("/api/inspections", json=body, headers=cast.officer).json()
    new = client.post("/api/inspections", json={**body, "template_version": None},
                      headers=cast.officer).json()  # fmt: skip
    assert (old["details"]["template_version"], old["details"]["score"]) == (1, 40)
    assert (new["details"]["template_version"], new["details"]["score"]) == (2, 10)
    assert old["details"]["passed"] is False
    listed = client.get("/api/forms", headers=cast.officer).json()["data"]
    assert [t["version"] for t in listed if t["code"] == code] == [2]
    first = client.get(f"/api/forms/{code}", params={"version": 1}, headers=cast.officer)
    assert first.json()["scoring"]["items"]["exits_clear"]["points"] == 40


def test_answers_that_do_not_fit_the_form_are_refused(client: TestClient, cast: Cast) -> None:
    code = f"fire_{uuid.uuid4().hex[:6]}"
    client.post("/api/forms", json=_template(code), headers=cast.commander)
    base = {"template": code, "features": [{"layer": "units", "id": cast.unit_id}]}
    for answers, problem in (
        ({"exits_clear": True}, "'extinguishers_ok' is a required property"),
        ({"exits_clear": "yes", "extinguishers_ok": True}, "exits_clear: 'yes' is not of type"),
        ({"exits_clear": True, "extinguishers_ok": True, "x": 1}, "Additional properties"),
    ):
        response = client.post("/api/inspections", json={**base, "answers": answers},
                               headers=cast.officer)  # fmt: skip
        assert response.status_code == 422 and problem in response.json()["detail"], response.text
    missing = client.post("/api/inspections", json={**base, "template": "nope", "answers": {}},
                          headers=cast.officer)  # fmt: skip
    assert missing.status_code == 404


def test_a_unit_self_checks_only_itself_with_a_self_check_form(
    client: TestClient, cast: Cast, session_factory: sessionmaker[Session]
) -> None:
    code = f"self_{uuid.uuid4().hex[:6]}"
    client.post("/api/forms", json=_template(code, form_kind="self_check"), headers=cast.commander)
    answers = {"exits_clear": True, "extinguishers_ok": False}
    own = {"template": code, "answers": answers,
           "features": [{"layer": "units", "id": cast.unit_id}]}  # fmt: skip
    response = client.post("/api/self-checks", json=own, headers=cast.unit_user)
    assert response.status_code == 201, response.text
    assert len(response.json()["opened_hazards"]) == 1
    with session_factory() as session:
        other = session.scalar(select(Unit.id).where(Unit.id != cast.unit_id).limit(1))
    elsewhere = {**own, "features": [{"layer": "units", "id": other}]}
    assert (
        client.post("/api/self-checks", json=elsewhere, headers=cast.unit_user).status_code == 404
    )
    # a unit does not fill in an officer's inspection, and a self-check form is not one
    assert client.post("/api/inspections", json=own, headers=cast.unit_user).status_code == 403
    wrong = client.post("/api/inspections", json=own, headers=cast.officer)
    assert wrong.status_code == 422 and "self_check form" in wrong.json()["detail"]


def test_templates_are_checked_and_written_only_by_commanders(
    client: TestClient, cast: Cast
) -> None:
    code = f"bad_{uuid.uuid4().hex[:6]}"
    assert client.post("/api/forms", json=_template(code), headers=cast.officer).status_code == 403
    broken = _template(code)
    broken["schema"]["properties"]["exits_clear"]["type"] = "yes-no"
    response = client.post("/api/forms", json=broken, headers=cast.commander)
    assert response.status_code == 422 and "not valid JSON Schema" in response.json()["detail"]
    unknown = _template(code)
    unknown["scoring"]["items"]["smoke"] = {"points": 1}
    response = client.post("/api/forms", json=unknown, headers=cast.commander)
    assert response.status_code == 422 and "smoke" in response.json()["detail"]
    text_item = _template(code)
    text_item["scoring"]["items"]["guards_on_duty"] = {"points": 1}
    response = client.post("/api/forms", json=text_item, headers=cast.commander)
    assert response.status_code == 422 and "boolean" in response.json()["detail"]


def test_an_officer_assesses_and_inspects_only_units_of_his_jurisdiction(
    client: TestClient, cast: Cast, session_factory: sessionmaker[Session]
) -> None:
    with session_factory() as session:
        elsewhere = precincts_with_units(session)[0]
    stranger = bearer(client, make_user(session_factory, Role.OFFICER,
                                        Jurisdiction(precinct_code=elsewhere.code)))  # fmt: skip
    assessment, inspection = f"assess_{uuid.uuid4().hex[:6]}", f"fire_{uuid.uuid4().hex[:6]}"
    client.post("/api/forms", json=_template(assessment, form_kind="assessment"),
                headers=cast.commander)  # fmt: skip
    client.post("/api/forms", json=_template(inspection), headers=cast.commander)
    body = {"template": assessment, "features": [{"layer": "units", "id": cast.unit_id}],
            "answers": {"exits_clear": True, "extinguishers_ok": True}}  # fmt: skip
    made = client.post("/api/assessments", json=body, headers=cast.officer)
    assert made.status_code == 201, made.text
    kept = made.json()
    assert kept["kind"] == "assessment" and kept["details"]["score"] == 100
    assert kept["details"]["passed"] is True and kept["opened_hazards"] == []
    assert client.get(f"/api/assessments/{kept['id']}", headers=stranger).status_code == 404
    # the unit is outside the stranger's precinct: for him it is not there
    assert client.post("/api/assessments", json=body, headers=stranger).status_code == 404
    inspect = {**body, "template": inspection}
    assert client.post("/api/inspections", json=inspect, headers=stranger).status_code == 404
    assert client.post("/api/assessments", json=body, headers=cast.unit_user).status_code == 403
