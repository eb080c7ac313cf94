"""Every route of the app against every role, from the route table and the rules declared on it.

Each route declares who may call it (``api.access``); this test reads the rule back
from every route the app has, then calls the route as each role and as nobody:

- a role the rule leaves out gets 403 (before anything else: the request is minimal,
  so a check that ran after body or parameter validation would answer 422 instead);
- a role the rule names gets anything but 401 and 403 (404 for an id that does not
  exist, 422 for a missing body, 428 without If-Match: past the rule all the same);
- without a session, 401 unless the route is public.

A route without a rule fails the test with its method and path.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from api.access import Public, Rule, rule_of
from layers.accounts.roles import Role
from layers.accounts.service import Jurisdiction
from layers.features.models import Precinct, Unit
from tests.utils.users import bearer, make_user

# A value for each path parameter: real where a route needs one to be reached (a layer),
# otherwise an id that does not exist, so an allowed call changes nothing.
PATH_VALUES = {"layer": "units", "layers": "units", "collection_id": "units", "z": "12",
               "x": "3372", "y": "1552"}  # fmt: skip
MISSING_ID = "987654321"
_PARAMETER = re.compile(r"{(\w+)(?::\w+)?}")


@dataclass(frozen=True)
class Call:
    """One route and method, with the path it is called at and its rule."""

    method: str
    template: str
    path: str
    rule: Rule | None
    streams: bool  # an endless event stream: only its refusals can be awaited

    def __str__(self) -> str:
        return f"{self.method} {self.template}"


def _calls(app: FastAPI) -> Iterator[Call]:
    for route in iter_route_contexts(app.routes):
        template = route.path
        if template is None:
            continue
        path = _PARAMETER.sub(lambda m: PATH_VALUES.get(m.group(1), MISSING_ID), template)
        answers = getattr(route, "responses", None) or {}
        streams = any("text/event-stream" in (a.get("content") or {}) for a in answers.values())
        for method in sorted((route.methods or set()) - {"HEAD"}):
            yield Call(method, template, path, rule_of(route), streams)


@pytest.fixture(scope="module")
def calls(client: TestClient) -> list[Call]:
    """Every route and method of the app under test."""
    found = list(_calls(client.app))  # type: ignore[arg-type]
    assert len(found) > 50, "the route table was not read"
    return found


def test_every_route_declares_who_may_call_it(calls: list[Call]) -> None:
    missing = sorted(str(call) for call in calls if call.rule is None)
    assert not missing, f"routes without an access rule (api/access.py): {missing}"


def _where(factory: sessionmaker[Session], role: Role) -> Jurisdiction | None:
    """Return a jurisdiction the role can work in: a precinct for an officer, a unit for a unit."""
    with factory() as session:
        if role is Role.OFFICER:
            return Jurisdiction(precinct_code=session.scalars(select(Precinct.code).limit(1)).one())
        if role is Role.UNIT:
            return Jurisdiction(unit_id=session.scalars(select(Unit.id).limit(1)).one())
    return None


def _send(client: TestClient, call: Call, headers: dict[str, str]) -> int:
    body: dict[str, Any] | None = {} if call.method in ("POST", "PUT", "PATCH") else None
    response = client.request(call.method, call.path, headers=headers, json=body)
    return response.status_code


def _alive(client: TestClient, headers: dict[str, str]) -> bool:
    answer = client.get("/api/auth/session", headers=headers).json()
    return bool(answer["authenticated"])


def test_every_route_refuses_every_role_it_does_not_name(
    client: TestClient, calls: list[Call], session_factory: sessionmaker[Session]
) -> None:
    users = {role: make_user(session_factory, role, _where(session_factory, role)) for role in Role}
    sessions = {role: bearer(client, name) for role, name in users.items()}
    wrong: list[str] = []
    for call in (call for call in calls if call.rule is not None):
        assert call.rule is not None
        anonymous = _send(client, call, {})
        if not isinstance(call.rule, Public) and anonymous != 401:
            wrong.append(f"{call} without a session: {anonymous}, not 401")
        for role in Role:
            allowed = call.rule.allows(role)
            if allowed and call.streams:
                continue
            status = _send(client, call, sessions[role])
            if allowed and status in (401, 403):
                wrong.append(f"{call} as {role.value}: {status}, but the rule allows it")
            if not allowed and status != 403:
                wrong.append(f"{call} as {role.value}: {status}, but the rule refuses it")
            if call.method != "GET" and not _alive(client, sessions[role]):
                sessions[role] = bearer(client, users[role])  # that route ended the session
    assert not wrong, "\n".join(wrong)
