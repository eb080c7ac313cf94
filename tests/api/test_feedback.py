"""Feedback with a screenshot: any user sends it, the PNG is checked by content, admins triage."""

from __future__ import annotations

import os
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from api.app import create_app
from layers.accounts.roles import Role
from layers.audit.models import AuditRecord
from layers.settings import OpsSettings, Settings
from tests.utils.images import png_bytes
from tests.utils.users import bearer, make_user


def _send(
    client: TestClient, headers: dict[str, str], screenshot: bytes | None = None, **fields: str
) -> Any:
    data = {"text": "地图上派出所名称显示不全", "page_url": "/ui/#12/39.9/116.4", **fields}
    files = None if screenshot is None else {"screenshot": ("page.png", screenshot, "image/png")}
    return client.post("/api/feedback", headers=headers, data=data, files=files)


def test_any_user_sends_feedback_with_a_screenshot_that_the_admin_sees(
    client: TestClient, admin: dict[str, str], session_factory: sessionmaker[Session]
) -> None:
    planner_name = make_user(session_factory, Role.PLANNER)
    planner = bearer(client, planner_name)
    image = png_bytes(64, 40, noise=os.urandom(64 * 40))
    sent = _send(client, planner, image)
    assert sent.status_code == 201, sent.text
    body = sent.json()
    assert (body["status"], body["version"], body["screenshot_bytes"]) == ("new", 1, len(image))
    assert body["author_name"] == planner_name and sent.headers["ETag"] == '"1"'
    listed = client.get("/api/admin/feedback", headers=admin, params={"status": "new"}).json()
    assert body["id"] in [f["id"] for f in listed["data"]]
    shot = client.get(f"/api/admin/feedback/{body['id']}/screenshot", headers=admin)
    assert shot.status_code == 200 and shot.content == image
    assert shot.headers["content-type"] == "image/png"
    assert shot.headers["x-content-type-options"] == "nosniff"
    assert client.get("/api/admin/feedback", headers=planner).status_code == 403
    refused = client.get(f"/api/admin/feedback/{body['id']}/screenshot", headers=planner)
    assert refused.status_code == 403
    plain = _send(client, planner)  # no screenshot at all
    assert plain.status_code == 201 and plain.json()["screenshot_bytes"] == 0
    none = client.get(f"/api/admin/feedback/{plain.json()['id']}/screenshot", headers=admin)
    assert none.status_code == 404


def test_a_screenshot_must_be_a_whole_png_by_its_content(
    client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    headers = bearer(client, make_user(session_factory, Role.COMMANDER))
    good = png_bytes()
    flipped = bytearray(good)
    flipped[-20] ^= 0xFF  # a byte of the image data: its chunk's CRC no longer holds
    for bad, why in [
        (b"\xff\xd8\xff\xe0 a JPEG named page.png", "not a PNG"),
        (b"<svg onload=alert(1)>", "not a PNG"),
        (good[:-12], "does not end with its IEND"),
        (good[:30], "cut short"),
        (bytes(flipped), "fails a CRC"),
        (good + b"<script>", "does not end with its IEND"),
    ]:
        answer = _send(client, headers, bad)
        assert answer.status_code == 422, (why, answer.text)
        assert why in answer.json()["detail"]
    assert _send(client, headers, page_url="javascript:alert(1)").status_code == 422
    assert _send(client, headers, text="").status_code == 422
    assert client.post("/api/feedback", data={"text": "x", "page_url": "/"}).status_code == 401


def test_a_screenshot_over_the_size_limit_is_refused(
    settings: Settings, session_factory: sessionmaker[Session], city: None
) -> None:
    small = settings.model_copy(update={"ops": OpsSettings(feedback_screenshot_bytes=10_000)})
    with TestClient(create_app(small)) as app_client:
        headers = bearer(app_client, make_user(session_factory, Role.PLANNER))
        large = png_bytes(120, 120, noise=os.urandom(120 * 120))
        answer = _send(app_client, headers, large)
    assert len(large) > 10_000
    assert answer.status_code == 422 and "at most 10,000 are accepted" in answer.json()["detail"]


def _triage(
    client: TestClient, headers: dict[str, str], feedback_id: int, version: int | None, **body: Any
) -> Any:
    extra = {} if version is None else {"If-Match": f'"{version}"'}
    return client.patch(f"/api/admin/feedback/{feedback_id}", json=body,
                        headers={**headers, **extra})  # fmt: skip


def test_an_admin_triages_feedback_by_version_and_each_step_is_audited(
    client: TestClient, admin: dict[str, str], session_factory: sessionmaker[Session]
) -> None:
    user = bearer(client, make_user(session_factory, Role.TOURISM))
    feedback_id = _send(client, user, png_bytes()).json()["id"]
    assert _triage(client, admin, feedback_id, None, status="in_progress").status_code == 428
    stale = _triage(client, admin, feedback_id, 7, status="in_progress")
    assert stale.status_code == 412 and stale.headers["ETag"] == '"1"'
    taken = _triage(client, admin, feedback_id, 1, status="in_progress", note="已转交地图组")
    assert taken.status_code == 200, taken.text
    assert (taken.json()["status"], taken.json()["note"], taken.headers["ETag"]) == (
        "in_progress", "已转交地图组", '"2"')  # fmt: skip
    assert taken.json()["next_statuses"] == ["done", "rejected"]
    back = _triage(client, admin, feedback_id, 2, status="new")
    assert back.status_code == 409 and "can go to done, rejected" in back.json()["detail"]
    done = _triage(client, admin, feedback_id, 2, status="done", note="已修复")
    assert done.status_code == 200 and done.json()["version"] == 3
    closed = _triage(client, admin, feedback_id, 3, status="rejected")
    assert closed.status_code == 409 and "closed" in closed.json()["detail"]
    denied = _triage(client, user, feedback_id, 3, status="rejected")
    assert denied.status_code == 403
    assert _triage(client, admin, 10**12, 1, status="done").status_code == 404
    assert _triage(client, admin, feedback_id, 3, status="bogus").status_code == 422
    with session_factory() as session:
        trail = session.execute(
            select(AuditRecord.action, AuditRecord.result, AuditRecord.after)
            .where(AuditRecord.target_type == "feedback",
                   AuditRecord.target_id == str(feedback_id))
            .order_by(AuditRecord.id)
        ).all()  # fmt: skip
    assert [(action, result) for action, result, _ in trail] == [
        ("feedback.create", "ok"),
        ("feedback.triage", "ok"),
        ("feedback.triage", "ok"),
    ]  # fmt: skip
    assert trail[2].after == {"status": "done", "note": "已修复"}
