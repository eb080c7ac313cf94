"""Acting on a perimeter's rings: tasks for their units, a notice to them, exports read back."""

from __future__ import annotations

import csv
import io
import json
import xml.etree.ElementTree as ET
from typing import Any

import openpyxl
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from layers.accounts.roles import Role
from layers.records.models import Record, RecordLink
from tests.utils.perimeters import busy_place, create_perimeter, innermost, perimeter_body
from tests.utils.users import bearer, make_user


class Scene:
    """A commander's perimeter around the busiest place, a planner, and the units of its rings."""

    def __init__(self, client: TestClient, factory: sessionmaker[Session]) -> None:
        with factory() as session:
            _, centre = busy_place(session)
        self.commander = bearer(client, make_user(factory, Role.COMMANDER))
        self.planner = bearer(client, make_user(factory, Role.PLANNER))
        self.perimeter = create_perimeter(client, self.commander, perimeter_body(centre))
        self.url = f"/api/perimeters/{self.perimeter['id']}"
        with factory() as session:
            self.units = innermost(session, self.perimeter["id"], "units")


@pytest.fixture(scope="module")
def scene(client: TestClient, session_factory: sessionmaker[Session]) -> Scene:
    """This module's perimeter and people."""
    return Scene(client, session_factory)


TASK = {"title": "节前安全检查", "topic": "internal_security", "priority": 3,
        "due_at": "2026-12-23T18:00:00+08:00",
        "details": {"task_kind": "security", "description": "演唱会前逐户检查"}}  # fmt: skip


def _linked(factory: sessionmaker[Session], record_ids: list[int]) -> dict[int, list[int]]:
    with factory() as session:
        rows = session.execute(
            select(RecordLink.record_id, RecordLink.feature_id)
            .where(RecordLink.record_id.in_(record_ids), RecordLink.layer == "units")
            .order_by(RecordLink.record_id, RecordLink.feature_id)
        ).all()  # fmt: skip
    linked: dict[int, list[int]] = {}
    for record_id, unit_id in rows:
        linked.setdefault(record_id, []).append(unit_id)
    return linked


def test_a_task_for_each_unit_of_the_core(
    client: TestClient, scene: Scene, session_factory: sessionmaker[Session]
) -> None:
    response = client.post(f"{scene.url}/tasks", json={"rings": ["core"], "task": TASK},
                           headers=scene.commander)  # fmt: skip
    assert response.status_code == 201, response.text
    made = response.json()
    assert made["count"] == len(scene.units["core"]) > 0
    linked = _linked(session_factory, made["ids"])
    assert sorted(u for units in linked.values() for u in units) == scene.units["core"]
    assert all(len(units) == 1 for units in linked.values())
    with session_factory() as session:
        tasks = session.scalars(select(Record).where(Record.id.in_(made["ids"]))).all()
    assert {(t.kind, t.title, t.priority, t.details["task_kind"]) for t in tasks} == {
        ("task", "节前安全检查", 3, "security")
    }


def test_one_task_about_every_unit_of_two_rings(
    client: TestClient, scene: Scene, session_factory: sessionmaker[Session]
) -> None:
    body = {"rings": ["core", "control"], "task": {**TASK, "one_per_feature": False}}
    response = client.post(f"{scene.url}/tasks", json=body, headers=scene.commander)
    assert response.status_code == 201, response.text
    [task_id] = response.json()["ids"]
    assert _linked(session_factory, [task_id])[task_id] == sorted(
        scene.units["core"] + scene.units["control"]
    )


def test_a_planner_turns_a_ring_into_draft_tasks_and_a_notice(
    client: TestClient, scene: Scene, session_factory: sessionmaker[Session]
) -> None:
    made = client.post(f"{scene.url}/tasks", json={"rings": ["core"], "task": TASK},
                       headers=scene.planner)  # fmt: skip
    assert made.status_code == 201, made.text
    assert made.json()["count"] == len(scene.units["core"])
    with session_factory() as session:
        states = set(session.scalars(select(Record.state).where(Record.id.in_(made.json()["ids"]))))
    assert states == {"draft"}  # a commander or officer assigns them
    task_id = made.json()["ids"][0]
    assign = client.post(f"/api/tasks/{task_id}/transitions", json={"action": "assign"},
                         headers=scene.planner | {"If-Match": '"1"'})  # fmt: skip
    assert assign.status_code == 403
    notice = {"rings": ["core"], "notice": {"title": "安保通知", "body": "请配合检查。"}}
    sent = client.post(f"{scene.url}/notices", json=notice, headers=scene.planner)
    assert sent.status_code == 201, sent.text


def test_a_planner_tasks_units_picked_on_the_map(client: TestClient, scene: Scene) -> None:
    picked = scene.units["core"][:3]
    body = {"selection": {"layers": ["units"], "ids": {"units": picked}},
            "task": {"title": "巡查", "details": {"task_kind": "inspection"}}}  # fmt: skip
    made = client.post("/api/selections/tasks", json=body, headers=scene.planner)
    assert made.status_code == 201 and made.json()["count"] == len(picked) > 0, made.text


def test_tasks_follow_the_records_rules(
    client: TestClient, scene: Scene, session_factory: sessionmaker[Session]
) -> None:
    # the tourism team reads perimeters' places but makes no tasks
    tourism = bearer(client, make_user(session_factory, Role.TOURISM))
    refused = client.post(f"{scene.url}/tasks", json={"task": TASK}, headers=tourism)
    assert refused.status_code == 403
    unknown_ring = {"rings": ["inner"], "task": TASK}
    assert client.post(f"{scene.url}/tasks", json=unknown_ring,
                       headers=scene.commander).status_code == 422  # fmt: skip


def test_a_notice_reaches_every_unit_of_the_control_ring(
    client: TestClient, scene: Scene, session_factory: sessionmaker[Session]
) -> None:
    body = {
        "rings": ["control"],
        "notice": {"title": "演唱会交通管制通知", "body": "当晚18时起管制。"},
    }
    response = client.post(f"{scene.url}/notices", json=body, headers=scene.commander)
    assert response.status_code == 201, response.text
    notice = response.json()
    assert notice["kind"] == "notice" and notice["details"]["recipients"] == len(
        scene.units["control"]
    )
    assert _linked(session_factory, [notice["id"]])[notice["id"]] == scene.units["control"]
    receipts = client.get(f"/api/notices/{notice['id']}/receipts", headers=scene.commander)
    assert receipts.json() == {"sent": len(scene.units["control"]), "read": 0}


def _contents_ids(client: TestClient, scene: Scene) -> set[tuple[str, str, int]]:
    body = client.get(f"{scene.url}/contents", params={"limit": 1000},
                      headers=scene.commander).json()  # fmt: skip
    found = set()
    for ring in body["rings"]:
        for layer, content in ring["layers"].items():
            features = content["features"]["features"]
            assert len(features) == content["count"] < 1000  # the whole of it is shown
            found |= {(ring["kind"], layer, f["id"]) for f in features}
    return found


def _geojson_rows(data: bytes) -> list[dict[str, Any]]:
    return [f["properties"] for f in json.loads(data)["features"]]


def _csv_rows(data: bytes) -> list[dict[str, Any]]:
    assert data.startswith(b"\xef\xbb\xbf")  # the BOM by which Excel reads UTF-8
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))


def _xlsx_rows(data: bytes) -> list[dict[str, Any]]:
    sheet = openpyxl.load_workbook(io.BytesIO(data), read_only=True).worksheets[0]
    header, *rows = list(sheet.iter_rows(values_only=True))
    return [dict(zip(header, row, strict=True)) for row in rows]


def _kml_rows(data: bytes) -> list[dict[str, Any]]:
    rows = []
    for placemark in ET.fromstring(data).iter("{http://www.opengis.net/kml/2.2}Placemark"):
        fields = {el.get("name"): el.text for el in placemark.iter()
                  if el.tag.endswith("SimpleData")}  # fmt: skip
        name = placemark.find("{http://www.opengis.net/kml/2.2}name")
        rows.append({**fields, "name": name.text if name is not None else None})
    return rows


READERS = {"geojson": _geojson_rows, "csv": _csv_rows, "xlsx": _xlsx_rows, "kml": _kml_rows}


@pytest.mark.parametrize("fmt", sorted(READERS))
def test_the_export_holds_exactly_the_contents(client: TestClient, scene: Scene, fmt: str) -> None:
    response = client.get(f"{scene.url}/export", params={"format": fmt}, headers=scene.planner)
    assert response.status_code == 200, response.text
    rows = READERS[fmt](response.content)
    exported = {(r["ring"], r["layer"], int(r["id"])) for r in rows}
    assert len(exported) == len(rows) == int(response.headers["x-export-count"])
    assert exported == _contents_ids(client, scene)
    cores = [r for r in rows if r["ring"] == "core" and r["layer"] == "units"]
    assert cores and {r["ring_title"] for r in cores} == {"核心区"}
    assert all(r["layer_title"] == "单位" and r["name"] for r in cores)  # Chinese read back


def test_an_export_in_an_unknown_format_is_refused(client: TestClient, scene: Scene) -> None:
    response = client.get(f"{scene.url}/export", params={"format": "shp"}, headers=scene.planner)
    assert response.status_code == 422 and "geojson" in response.json()["detail"]
