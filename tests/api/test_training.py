"""Security training end to end over HTTP: a course of a document and a video, a plan for an
industry, a unit user who reads, watches (by ranges), fails and passes the quiz, the
certificate, completion figures equal to SQL counts, and the unit's colour in its tile.
"""

from __future__ import annotations

import struct
import time
import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import mapbox_vector_tile
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from geo.tiling import tile_bounds_wgs84
from layers.accounts.roles import Role
from layers.accounts.service import Jurisdiction
from tests.tiles.area import Area, build_area
from tests.utils.users import bearer, make_user

WAIT_S = 30  # bounds a wait for the tile cache's notification; never asserted
QUESTIONS: list[dict[str, Any]] = [
    {"id": "q1", "text": "发现火情首先应当？", "choices": ["报警", "离开", "拍照"], "answers": [0]},
    {"id": "q2", "text": "安保人员应当持证上岗吗？", "choices": ["是", "否"], "answers": [0]},
    {"id": "q3", "text": "以下哪些属于消防器材？", "choices": ["灭火器", "水带", "雨伞"],
     "answers": [0, 1], "points": 2},
]  # fmt: skip
RIGHT = {"q1": [0], "q2": [0], "q3": [1, 0]}
ONE_RIGHT = {"q1": [0], "q2": [1], "q3": [0]}  # 1 of 4 points: 25 %


def box(kind: bytes, body: bytes) -> bytes:
    """One MP4 box: its size, its type, its body."""
    return struct.pack(">I", 8 + len(body)) + kind + body


def mp4(payload_bytes: int = 200_000) -> bytes:
    """A small MP4 file of its own: ftyp, free, moov and an mdat of numbered bytes."""
    payload = bytes(i % 251 for i in range(payload_bytes))
    unique = box(b"free", uuid.uuid4().bytes)  # the library keeps each content once, city-wide
    return box(b"ftyp", b"isom\0\0\2\0isomiso2mp41") + unique + box(b"moov", b"\0" * 64) + box(
        b"mdat", payload)  # fmt: skip


def pdf() -> bytes:
    """A small PDF document of its own (the library keeps each content once, city-wide)."""
    return f"%PDF-1.4\n% {uuid.uuid4()}\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n".encode()


@dataclass(frozen=True)
class Setting:
    """The test area, its officer, two assigned units with a learner each, one unassigned."""

    area: Area
    officer: dict[str, str]
    precinct_id: int
    learners: dict[int, dict[str, str]]
    outsider: dict[str, str]


def _sql(factory: sessionmaker[Session], query: str, **params: Any) -> list[Any]:
    with factory() as session:
        return list(session.execute(text(query), params).all())


@pytest.fixture(scope="module")
def setting(session_factory: sessionmaker[Session], client: TestClient) -> Setting:
    """An area of its own, its west precinct's officer and learners of three of its units."""
    area = build_area(session_factory, 107.05, 30.05)
    ((precinct_id,),) = _sql(session_factory, "SELECT id FROM precincts WHERE code = :c",
                             c=area.west_precinct_code)  # fmt: skip
    west, south, east, north = tile_bounds_wgs84(*area.tile)  # learners' units show in the tile
    schools = [row.id for row in _sql(session_factory, "SELECT id FROM units WHERE precinct_id "
               "= :p AND category = 'school' AND geom && ST_MakeEnvelope(:w, :s, :e, :n, 4326) "
               "ORDER BY id", p=precinct_id, w=west, s=south, e=east, n=north)]  # fmt: skip
    (bank,) = _sql(session_factory, "SELECT id FROM units WHERE precinct_id = :p AND category "
                   "= 'bank' ORDER BY id LIMIT 1", p=precinct_id)  # fmt: skip
    officer = make_user(session_factory, Role.OFFICER,
                        Jurisdiction(precinct_code=area.west_precinct_code))  # fmt: skip
    learners = {unit: bearer(client, make_user(session_factory, Role.UNIT,
                                               Jurisdiction(unit_id=unit)))
                for unit in schools[:2]}  # fmt: skip
    outsider = make_user(session_factory, Role.UNIT, Jurisdiction(unit_id=bank.id))
    return Setting(area, bearer(client, officer), precinct_id, learners,
                   bearer(client, outsider))  # fmt: skip


def _upload(
    client: TestClient, headers: dict[str, str], data: bytes, name: str, media_type: str
) -> Any:
    return client.post("/api/training/resources", headers=headers, data={"title": name},
                       files={"file": (name, data, media_type)})  # fmt: skip


def _unit_training(client: TestClient, headers: dict[str, str], area: Area, unit_id: int) -> Any:
    z, x, y = area.tile
    response = client.get(f"/tiles/units/{z}/{x}/{y}.mvt", headers=headers)
    assert response.status_code == 200, response.text
    layer = mapbox_vector_tile.decode(response.content)["units"]
    (unit,) = [f for f in layer["features"] if f["id"] == unit_id]
    props = unit["properties"]
    return {k: props[k] for k in ("training_assigned", "training_passed", "training_due")
            if k in props}  # fmt: skip


def _wait_for_tile(
    client: TestClient, headers: dict[str, str], area: Area, unit_id: int, expected: Any
) -> Any:
    deadline = time.monotonic() + WAIT_S  # the cache hears of the change on its own connection
    seen = _unit_training(client, headers, area, unit_id)
    while seen != expected and time.monotonic() < deadline:
        time.sleep(0.05)
        seen = _unit_training(client, headers, area, unit_id)
    return seen


def _sql_completion(
    factory: sessionmaker[Session], plan_id: int, key: str, today: date
) -> dict[Any, tuple[int, ...]]:
    """Completion per ``key`` counted straight from the tables: the ground truth."""
    rows = _sql(factory, f"""
        WITH a AS (SELECT DISTINCT unit_id, course_id FROM training_assignments
                   WHERE plan_id = :plan),
        d AS (SELECT a.unit_id, a.course_id,
                     EXISTS (SELECT 1 FROM training_certificates c WHERE c.unit_id = a.unit_id
                             AND c.course_id = a.course_id) AS passed,
                     p.deadline FROM a JOIN training_plans p ON p.id = :plan),
        u AS (SELECT unit_id, count(*) AS n, count(*) FILTER (WHERE passed) AS ok,
                     count(*) FILTER (WHERE NOT passed AND deadline < :today) AS late
              FROM d GROUP BY unit_id)
        SELECT units.{key} AS key, count(*), count(*) FILTER (WHERE ok = n), sum(n), sum(ok),
               sum(late)
        FROM u JOIN units ON units.id = u.unit_id GROUP BY units.{key}""",
        plan=plan_id, today=today)  # fmt: skip
    return {row[0]: tuple(int(v) for v in row[1:]) for row in rows}


def _api_completion(
    client: TestClient, headers: dict[str, str], plan_id: int, group_by: str
) -> dict[Any, tuple[int, ...]]:
    response = client.get("/api/training/stats/completion", headers=headers,
                          params={"group_by": group_by, "plan_id": plan_id})  # fmt: skip
    assert response.status_code == 200, response.text
    return {r["key"]: (r["units"], r["compliant_units"], r["assignments"], r["passed"],
                       r["overdue"]) for r in response.json()["data"]}  # fmt: skip


def test_a_course_is_built_assigned_learned_passed_and_counted(
    client: TestClient, session_factory: sessionmaker[Session], setting: Setting
) -> None:
    officer = setting.officer
    video, manual = mp4(), pdf()
    document = _upload(client, officer, manual, "消防安全手册.pdf", "application/pdf")
    assert document.status_code == 201, document.text
    again = _upload(client, officer, manual, "again.pdf", "application/pdf")
    assert again.status_code == 200 and again.json()["id"] == document.json()["id"]
    movie = _upload(client, officer, video, "演练.mp4", "video/mp4")
    assert movie.status_code == 201, movie.text
    assert movie.json()["kind"] == "video" and movie.json()["size_bytes"] == len(video)
    resource_ids = [document.json()["id"], movie.json()["id"]]

    made = client.post("/api/training/courses", headers=officer, json={
        "title": "保安员消防培训", "pass_mark": 75, "state": "published",
        "resource_ids": resource_ids, "questions": QUESTIONS})  # fmt: skip
    assert made.status_code == 201, made.text
    course = made.json()
    assert made.headers["ETag"] == '"1"' and course["questions"][2]["answers"] == [0, 1]

    deadline = date.today() + timedelta(days=30)
    planned = client.post("/api/training/plans", headers=officer, json={
        "title": "学校安保培训", "course_ids": [course["id"]], "industries": ["school"],
        "deadline": deadline.isoformat()})  # fmt: skip
    assert planned.status_code == 201, planned.text
    plan = planned.json()
    (schools,) = _sql(session_factory, "SELECT count(*) FROM units WHERE precinct_id = :p AND "
                      "category = 'school'", p=setting.precinct_id)  # fmt: skip
    assert plan["units_reached"] == schools[0] > 2

    tilejson = client.get("/tiles/units.json", headers=officer).json()
    fields = tilejson["vector_layers"][0]["fields"]
    assert (fields["training_assigned"], fields["training_due"]) == ("Number", "String")
    unit_id, learner = next(iter(setting.learners.items()))
    assert _wait_for_tile(client, officer, setting.area, unit_id, {
        "training_assigned": 1, "training_passed": 0, "training_due": deadline.isoformat()
    }) == {"training_assigned": 1, "training_passed": 0,
           "training_due": deadline.isoformat()}  # fmt: skip

    mine = client.get("/api/training/learning", headers=learner)
    assert mine.status_code == 200, mine.text
    (assigned,) = [a for a in mine.json()["data"] if a["course_id"] == course["id"]]
    assert assigned["deadline"] == deadline.isoformat() and not assigned["passed"]
    read = client.get(f"/api/training/learning/courses/{course['id']}", headers=learner)
    assert read.status_code == 200, read.text
    assert '"answers"' not in read.text  # the right choices stay on the server
    assert [r["id"] for r in read.json()["course"]["resources"]] == resource_ids

    url = f"/api/training/resources/{movie.json()['id']}/content"
    whole = client.get(url, headers=learner)
    assert whole.status_code == 200 and whole.content == video
    assert whole.headers["accept-ranges"] == "bytes"
    part = client.get(url, headers={**learner, "Range": "bytes=70000-200009"})
    assert part.status_code == 206, part.text
    assert part.content == video[70000:200010]
    assert part.headers["content-range"] == f"bytes 70000-200009/{len(video)}"
    assert int(part.headers["content-length"]) == 130010
    tail = client.get(url, headers={**learner, "Range": "bytes=-10"})
    assert tail.status_code == 206 and tail.content == video[-10:]
    for bad in (f"bytes={len(video)}-", "bytes=9-3", "bytes=0-1,5-6", "lines=1-2"):
        refused = client.get(url, headers={**learner, "Range": bad})
        assert refused.status_code == 416, bad
        assert refused.headers["content-range"] == f"bytes */{len(video)}"

    attempts = f"/api/training/learning/courses/{course['id']}/attempts"
    early = client.post(attempts, headers=learner, json={"quiz_version": 1, "answers": RIGHT})
    assert early.status_code == 409 and "not opened" in early.json()["detail"]
    for resource_id in resource_ids:
        viewed = client.post(f"/api/training/learning/courses/{course['id']}/viewed",
                             headers=learner, json={"resource_id": resource_id})  # fmt: skip
        assert viewed.status_code == 200, viewed.text
    assert viewed.json()["viewed"] == resource_ids

    failed = client.post(attempts, headers=learner, json={"quiz_version": 1, "answers": ONE_RIGHT})
    assert failed.status_code == 201, failed.text
    assert failed.json() | {"attempt_id": 0} == {
        "attempt_id": 0, "score": 25, "pass_mark": 75, "passed": False,
        "right": {"q1": True, "q2": False, "q3": False}, "certificate": None}  # fmt: skip
    passed = client.post(attempts, headers=learner, json={"quiz_version": 1, "answers": RIGHT})
    assert passed.status_code == 201, passed.text
    assert passed.json()["score"] == 100 and passed.json()["passed"]
    certificate = passed.json()["certificate"]
    assert certificate["course_id"] == course["id"] and certificate["unit_id"] == unit_id

    held = client.get("/api/training/learning/certificates", headers=learner).json()["data"]
    assert [c["number"] for c in held] == [certificate["number"]]
    ((in_db,),) = _sql(session_factory, "SELECT count(*) FROM training_certificates WHERE "
                       "course_id = :c AND unit_id = :u", c=course["id"], u=unit_id)  # fmt: skip
    assert in_db == 1
    standing = client.get("/api/training/learning", headers=learner).json()["data"]
    (after,) = [a for a in standing if a["course_id"] == course["id"]]
    assert after["passed"] and after["attempts"] == 2 and after["best_score"] == 100

    assert _wait_for_tile(client, officer, setting.area, unit_id, {
        "training_assigned": 1, "training_passed": 1}) == {
        "training_assigned": 1, "training_passed": 1}  # fmt: skip

    stats = client.get("/api/training/stats/completion", headers=officer,
                       params={"plan_id": plan["id"]})  # fmt: skip
    today = date.fromisoformat(stats.json()["today"])
    for group_by, key in (("unit", "id"), ("precinct", "precinct_id"), ("industry", "category")):
        assert _api_completion(client, officer, plan["id"], group_by) == _sql_completion(
            session_factory, plan["id"], key, today), group_by  # fmt: skip
    by_precinct = _api_completion(client, officer, plan["id"], "precinct")
    assert by_precinct == {setting.precinct_id: (schools[0], 1, schools[0], 1, 0)}

    actions = {row.action for row in _sql(session_factory, "SELECT action FROM audit_log WHERE "
               "actor_name IN (SELECT username FROM users WHERE unit_id = :u) AND action LIKE "
               "'training.%'", u=unit_id)}  # fmt: skip
    assert actions == {"training.progress", "training.attempt", "training.certificate"}
    (created,) = _sql(session_factory, "SELECT count(*) FROM audit_log WHERE target_type = "
                      "'training_course' AND target_id = :c AND action = "
                      "'training.course.create'", c=str(course["id"]))  # fmt: skip
    assert created[0] == 1


def test_a_training_notice_reaches_the_units_of_its_industries_only(
    client: TestClient, setting: Setting
) -> None:
    sent = {"title": f"培训通知{uuid.uuid4().hex[:6]}", "body": "本周五前完成消防培训。",
            "industries": ["school"]}  # fmt: skip
    posted = client.post("/api/training/notices", headers=setting.officer, json=sent)
    assert posted.status_code == 201, posted.text
    assert posted.json()["industries"] == ["school"]
    learner = next(iter(setting.learners.values()))  # a school's
    titles = {who: [n["title"] for n in client.get("/api/training/notices", headers=headers)
                    .json()["data"]] for who, headers in (("school", learner),
                                                         ("bank", setting.outsider))}  # fmt: skip
    assert sent["title"] in titles["school"] and sent["title"] not in titles["bank"]
    refused = client.post("/api/training/notices", headers=learner, json=sent)
    assert refused.status_code == 403
