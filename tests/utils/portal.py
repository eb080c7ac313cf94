"""Helpers of the unit portal's tests: a self-check form, inviting a unit and joining, a course."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

import httpx
from fastapi.testclient import TestClient

from tests.api.test_training import QUESTIONS, mp4, pdf
from tests.utils.users import PASSWORD

Http = TestClient | httpx.Client


def self_check_form(code: str | None = None) -> dict[str, Any]:
    """Return a self-check template whose "no" answers open fire hazards."""
    return {
        "code": code or f"portal_{uuid.uuid4().hex[:8]}",
        "form_kind": "self_check",
        "title": "消防安全自查表",
        "schema": {
            "type": "object",
            "required": ["exits_clear", "extinguishers_ok"],
            "properties": {
                "exits_clear": {"type": "boolean", "title": "安全出口畅通"},
                "extinguishers_ok": {"type": "boolean", "title": "灭火器在有效期内"},
            },
            "additionalProperties": False,
        },
        "scoring": {
            "items": {
                "exits_clear": {"points": 50, "hazard": {"level": 2, "category": "fire"}},
                "extinguishers_ok": {"points": 50, "hazard": {"level": 2, "category": "fire"}},
            },
            "pass_mark": 100,
        },
    }


def invite(main: Http, officer: dict[str, str], unit_id: int, **body: Any) -> dict[str, Any]:
    """Have ``officer`` invite a unit through the main app; return the invitation with its code."""
    response = main.post("/api/unit-accounts/invitations", json={"unit_id": unit_id, **body},
                         headers=officer)  # fmt: skip
    assert response.status_code == 201, response.text
    made: dict[str, Any] = response.json()
    return made


def join(portal: Http, code: str, password: str = PASSWORD) -> str:
    """Redeem ``code`` on the portal with a new username; return the username."""
    username = f"unit-{uuid.uuid4().hex[:8]}"
    body = {"code": code, "username": username, "password": password}
    response = portal.post("/api/portal/join", json=body)
    assert response.status_code == 201, response.text
    return username


def planned_course(main: Http, staff: dict[str, str], unit_id: int) -> int:
    """A published course of a document, a video and a quiz, planned for ``unit_id``; its id."""
    resources = []
    for title, data, name in (("消防安全手册", pdf(), "手册.pdf"), ("疏散演练", mp4(), "演练.mp4")):
        added = main.post("/api/training/resources", headers=staff, data={"title": title},
                          files={"file": (name, data, "application/octet-stream")})  # fmt: skip
        assert added.status_code == 201, added.text
        resources.append(added.json()["id"])
    course = main.post("/api/training/courses", headers=staff, json={
        "title": "门户安保培训", "pass_mark": 75, "state": "published",
        "resource_ids": resources, "questions": QUESTIONS})  # fmt: skip
    assert course.status_code == 201, course.text
    planned = main.post("/api/training/plans", headers=staff, json={
        "title": "门户培训计划", "course_ids": [course.json()["id"]], "unit_ids": [unit_id],
        "deadline": (date.today() + timedelta(days=14)).isoformat()})  # fmt: skip
    assert planned.status_code == 201, planned.text
    return int(course.json()["id"])
