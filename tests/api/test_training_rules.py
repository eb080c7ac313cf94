"""Security training refuses precisely: bad files, stale versions, answers to another quiz,
another jurisdiction's courses and plans, another unit's courses; the portal serves learners."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from layers.accounts.roles import Role
from layers.accounts.service import Jurisdiction
from layers.settings import Settings
from tests.api.test_training import QUESTIONS, RIGHT, mp4, pdf
from tests.tiles.area import build_area
from tests.utils.users import bearer, make_user
from warroom_ui.portal import create_portal_app

COURSES = "/api/training/courses"
PLANS = "/api/training/plans"


@dataclass(frozen=True)
class People:
    """Officers of the two precincts, a commander, a learner of an assigned unit, another."""

    west: dict[str, str]
    east: dict[str, str]
    commander: dict[str, str]
    unit_id: int
    east_unit_id: int
    learner: dict[str, str]
    other_learner: dict[str, str]


def _units(factory: sessionmaker[Session], code: str) -> list[int]:
    with factory() as session:
        return list(session.scalars(text(
            "SELECT u.id FROM units u JOIN precincts p ON p.id = u.precinct_id WHERE p.code = :c "
            "ORDER BY u.id"), {"c": code}))  # fmt: skip


@pytest.fixture(scope="module")
def people(session_factory: sessionmaker[Session], client: TestClient) -> People:
    """An area of its own and the people of its two precincts."""
    area = build_area(session_factory, 108.05, 30.05)
    west_units = _units(session_factory, area.west_precinct_code)
    east_units = _units(session_factory, area.east_precinct_code)

    def user(role: Role, where: Jurisdiction | None = None) -> dict[str, str]:
        return bearer(client, make_user(session_factory, role, where))

    return People(
        west=user(Role.OFFICER, Jurisdiction(precinct_code=area.west_precinct_code)),
        east=user(Role.OFFICER, Jurisdiction(precinct_code=area.east_precinct_code)),
        commander=user(Role.COMMANDER), unit_id=west_units[0], east_unit_id=east_units[0],
        learner=user(Role.UNIT, Jurisdiction(unit_id=west_units[0])),
        other_learner=user(Role.UNIT, Jurisdiction(unit_id=west_units[1])),
    )  # fmt: skip


def _upload(client: TestClient, headers: dict[str, str], data: bytes, name: str,
            media_type: str = "application/octet-stream") -> Any:  # fmt: skip
    return client.post("/api/training/resources", headers=headers, data={"title": name},
                       files={"file": (name, data, media_type)})  # fmt: skip


def _course(client: TestClient, headers: dict[str, str], **fields: Any) -> Any:
    document = _upload(client, headers, pdf(), "手册.pdf")
    assert document.status_code in (200, 201), document.text
    body = {"title": "保安员培训", "pass_mark": 60, "state": "published",
            "resource_ids": [document.json()["id"]], "questions": QUESTIONS, **fields}  # fmt: skip
    made = client.post(COURSES, headers=headers, json=body)
    assert made.status_code == 201, made.text
    return made.json()


def _plan(client: TestClient, headers: dict[str, str], course_id: int, **fields: Any) -> Any:
    body = {"title": "培训计划", "course_ids": [course_id],
            "deadline": (date.today() + timedelta(days=7)).isoformat(), **fields}  # fmt: skip
    return client.post(PLANS, headers=headers, json=body)


def test_uploads_are_checked_by_their_bytes_and_size(client: TestClient, people: People) -> None:
    png = b"\x89PNG\r\n\x1a\n" + b"\0" * 64
    assert _upload(client, people.west, png, "a.png").status_code == 415
    cut = mp4()[:-100]
    refused = _upload(client, people.west, cut, "cut.mp4", "video/mp4")
    assert refused.status_code == 422 and "cut short" in refused.json()["detail"]
    misnamed = _upload(client, people.west, pdf(), "film.mp4")
    assert misnamed.status_code == 422 and "PDF document" in misnamed.json()["detail"]
    lying = _upload(client, people.west, mp4(1000), "film.mp4", "application/pdf")
    assert lying.status_code == 422
    too_big = _upload(client, people.west, mp4(260 * 1024), "big.mp4", "video/mp4")
    assert too_big.status_code == 413 and "WARROOM_TRAINING_VIDEO_BYTES" in too_big.text
    huge = _upload(client, people.west, mp4(400 * 1024), "huge.mp4", "video/mp4")
    assert huge.status_code == 413  # refused by its length, before the body is read
    assert _upload(client, people.learner, pdf(), "x.pdf").status_code == 403


def test_versions_and_quizzes_refuse_what_is_stale_or_foreign(
    client: TestClient, people: People, session_factory: sessionmaker[Session]
) -> None:
    course = _course(client, people.west)
    url = f"{COURSES}/{course['id']}"
    quiz = {"questions": QUESTIONS[:2], "pass_mark": 100}
    assert client.patch(url, headers=people.west, json=quiz).status_code == 428
    stale = client.patch(url, headers={**people.west, "If-Match": '"7"'}, json=quiz)
    assert stale.status_code == 412 and stale.headers["ETag"] == '"1"'
    edited = client.patch(url, headers={**people.west, "If-Match": '"1"'}, json=quiz)
    assert edited.status_code == 200, edited.text
    assert (edited.json()["version"], edited.json()["quiz_version"]) == (2, 2)
    bad_quiz = client.patch(
        url,
        headers={**people.west, "If-Match": '"2"'},
        json={"questions": [{"id": "a", "text": "?", "choices": ["x", "y"], "answers": [5]}]},
    )
    assert bad_quiz.status_code == 422 and "not among its 2 choices" in bad_quiz.text

    draft = _course(client, people.west, state="draft")
    refused = _plan(client, people.west, draft["id"], unit_ids=[people.unit_id])
    assert refused.status_code == 422 and "not published" in refused.text
    elsewhere = _plan(client, people.west, course["id"], unit_ids=[people.east_unit_id])
    assert elsewhere.status_code == 422 and str(people.east_unit_id) in elsewhere.text
    assert _plan(client, people.west, course["id"], industries=["casino"]).status_code == 422
    planned = _plan(client, people.west, course["id"], unit_ids=[people.unit_id])
    assert planned.status_code == 201 and planned.json()["units_reached"] == 1

    resource_id = course["resources"][0]["id"]
    client.post(f"/api/training/learning/courses/{course['id']}/viewed", headers=people.learner,
                json={"resource_id": resource_id})  # fmt: skip
    attempts = f"/api/training/learning/courses/{course['id']}/attempts"
    old = client.post(attempts, headers=people.learner, json={"quiz_version": 1, "answers": RIGHT})
    assert old.status_code == 409 and "version 2" in old.json()["detail"]
    foreign = client.post(attempts, headers=people.learner,
                          json={"quiz_version": 2, "answers": {"q1": [0], "zz": [1]}})  # fmt: skip
    assert foreign.status_code == 422 and "'zz'" in foreign.json()["detail"]
    outside = client.post(attempts, headers=people.learner,
                          json={"quiz_version": 2, "answers": {"q1": [7]}})  # fmt: skip
    assert outside.status_code == 422 and "choices 0-2" in outside.json()["detail"]
    right = {"q1": [0], "q2": [0]}
    passed = client.post(attempts, headers=people.learner,
                         json={"quiz_version": 2, "answers": right})  # fmt: skip
    assert passed.status_code == 201 and passed.json()["passed"], passed.text
    with session_factory() as session:
        graded = session.execute(text("SELECT count(*), bool_and(passed) FROM "
                                      "training_attempts WHERE course_id = :c"),
                                 {"c": course["id"]}).one()  # fmt: skip
    assert tuple(graded) == (1, True)  # refused attempts leave nothing behind

    plan = planned.json()
    withdrawn = client.patch(f"{PLANS}/{plan['id']}", json={"state": "withdrawn"},
                             headers={**people.west, "If-Match": '"1"'})  # fmt: skip
    assert withdrawn.status_code == 200 and withdrawn.json()["units_reached"] == 0
    mine = client.get("/api/training/learning", headers=people.learner).json()["data"]
    assert course["id"] not in [a["course_id"] for a in mine]


def test_jurisdictions_and_units_keep_to_their_own(client: TestClient, people: People) -> None:
    course = _course(client, people.west)
    plan = _plan(client, people.west, course["id"], unit_ids=[people.unit_id]).json()
    url = f"{COURSES}/{course['id']}"
    assert client.get(url, headers=people.east).status_code == 404
    assert client.patch(url, headers={**people.east, "If-Match": '"1"'},
                        json={"title": "改"}).status_code == 404  # fmt: skip
    assert client.get(f"{PLANS}/{plan['id']}", headers=people.east).status_code == 404
    stats = client.get("/api/training/stats/completion", headers=people.east,
                       params={"plan_id": plan["id"]})  # fmt: skip
    assert stats.status_code == 404
    assert client.get(url, headers=people.commander).status_code == 200
    assert course["id"] not in [c["id"] for c in client.get(
        COURSES, headers=people.east).json()["data"]]  # fmt: skip

    resource = f"/api/training/resources/{course['resources'][0]['id']}/content"
    assert client.get(resource, headers=people.learner).status_code == 200
    for path in (f"/api/training/learning/courses/{course['id']}", resource):
        assert client.get(path, headers=people.other_learner).status_code == 404, path
    attempt = client.post(f"/api/training/learning/courses/{course['id']}/attempts",
                          headers=people.other_learner,
                          json={"quiz_version": 1, "answers": RIGHT})  # fmt: skip
    assert attempt.status_code == 404


@pytest.fixture(scope="module")
def portal(settings: Settings, city: None) -> Iterator[TestClient]:
    """The unit portal on the run's database."""
    with TestClient(create_portal_app(settings)) as portal_client:
        yield portal_client


def test_the_portal_serves_the_learning_centre_and_no_course_centre(
    client: TestClient, portal: TestClient, people: People, session_factory: sessionmaker[Session]
) -> None:
    course = _course(client, people.west)
    assert _plan(client, people.west, course["id"], unit_ids=[people.unit_id]).status_code == 201
    learner = bearer(portal, make_user(session_factory, Role.UNIT,
                                       Jurisdiction(unit_id=people.unit_id)))  # fmt: skip
    mine = portal.get("/api/training/learning", headers=learner)
    assert mine.status_code == 200 and course["id"] in [a["course_id"] for a in mine.json()["data"]]
    video = portal.get(f"/api/training/resources/{course['resources'][0]['id']}/content",
                       headers={**learner, "Range": "bytes=0-4"})  # fmt: skip
    assert video.status_code == 206 and video.content == b"%PDF-"
    for path in (COURSES, PLANS, "/api/training/stats/completion"):
        assert portal.get(path, headers=learner).status_code == 404, path
