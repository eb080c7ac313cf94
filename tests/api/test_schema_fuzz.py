"""Every operation of our OpenAPI, fuzzed as an admin, an officer, and a role it admits (#14.6).

Schemathesis generates requests from the app's own OpenAPI document; each is sent with
an admin's and with an officer's bearer token, and an operation neither may call (the
audit log, the security admin's, the unit portal's) also with the token of a role its
access rule names, so every operation is fuzzed past its rule. No answer may be a 5xx,
and every answer must match what the document says of its status (its schema, its
content type). The short form runs in ``make test`` (a few examples per operation);
``make fuzz`` runs it with more examples, invalid data as well, and every check
Schemathesis has (WARROOM_FUZZ_EXAMPLES, WARROOM_FUZZ_FULL=1).

The fuzzed app has a database of its own with a small demo city: the fuzz creates,
changes and deletes freely there, and the run's shared database is left alone.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
import schemathesis
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.python.asgi import ASGIClient
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    positive_data_acceptance,
    response_schema_conformance,
)
from sqlalchemy import select
from typer.testing import CliRunner

from api.access import rule_of
from api.app import create_app
from api.cli.main import app as cli
from layers.accounts.models import AuthSession, User
from layers.accounts.roles import Role
from layers.accounts.service import Jurisdiction
from layers.crypto.keys import bind_key_ring, load_key_ring
from layers.database import make_engine, make_sessionmaker
from layers.features.models import Precinct, Unit
from layers.settings import DatabaseSettings, Settings
from tests.conftest import throwaway_database
from tests.utils.users import PASSWORD, make_user

FULL = os.environ.get("WARROOM_FUZZ_FULL") == "1"
EXAMPLES = int(os.environ.get("WARROOM_FUZZ_EXAMPLES") or (50 if FULL else 3))
SHORT_CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance]
# Schema-valid input may still break a domain rule no schema states (a topic of another
# kind, a ring that crosses itself, a place outside the jurisdiction): a precise 422 then.
NOT_CHECKED = [positive_data_acceptance]
HTTP_METHODS = ("get", "put", "post", "delete", "patch")
FUZZERS = (Role.ADMIN, Role.OFFICER)  # send every operation
# The first of these an operation's rule names sends it too, if no fuzzer may.
ADMITTED = (Role.AUDITOR, Role.SECURITY_ADMIN, Role.UNIT)
FUZZ_UNITS = 300  # units of the fuzzed city: every layer has rows, the load takes seconds


def _cli(url: str, *arguments: str) -> None:
    result = CliRunner().invoke(cli, list(arguments), env={"WARROOM_DATABASE_URL": url})
    assert result.exit_code == 0, result.output


@dataclass
class Fuzzers:
    """Schemathesis' client of the fuzzed app, its fuzzers' sessions, the ids fair game."""

    client: ASGIClient
    names: dict[Role, str]
    tokens: dict[str, dict[str, str]] = field(default_factory=dict)
    # Path parameters naming a user or a session: always the victim's, so the fuzz may
    # reset, revoke or end it without locking its own fuzzers out.
    pinned: dict[str, int] = field(default_factory=dict)

    def log_in(self, name: str) -> dict[str, str]:
        """Start a new session of ``name``; return its Authorization header."""
        answer = self.client.post("/api/auth/login", json={"username": name, "password": PASSWORD})
        assert answer.status_code == 200, answer.text
        self.client.cookies.clear()
        self.tokens[name] = {"Authorization": f"Bearer {answer.json()['access_token']}"}
        return self.tokens[name]

    def check(self, case: schemathesis.Case, name: str) -> None:
        """Send ``case`` as ``name`` (again in a new session if the fuzz ended the last)."""
        headers = self.tokens[name]
        response = case.call(session=self.client, headers=headers)
        if response.status_code == 401:  # a logout or a revocation the fuzz sent
            headers = self.log_in(name)
            response = case.call(session=self.client, headers=headers)
        self.client.cookies.clear()  # a login the fuzz made must not become a cookie session
        case.validate_response(
            response, checks=None if FULL else SHORT_CHECKS, excluded_checks=NOT_CHECKED,
            headers=headers, transport_kwargs={"session": self.client, "headers": headers},
        )  # fmt: skip


@pytest.fixture(scope="module")
def fuzzers(server_url: str, migrated_template: str, settings: Settings) -> Iterator[Fuzzers]:
    """The app on a database of its own with a small city, an admin, an officer, a victim."""
    with throwaway_database(server_url, migrated_template) as url:
        _cli(url, "demo", "--units", str(FUZZ_UNITS), "--seed", "11")
        own = settings.model_copy(update={
            "database": DatabaseSettings(url=url),
            # the fuzz logs in with made-up names: no lockout of its own address or fuzzers
            "security": settings.security.model_copy(update={
                "max_failed_logins": 100, "max_failed_logins_per_source": 10_000}),
        })  # fmt: skip
        engine = make_engine(own)
        factory = bind_key_ring(make_sessionmaker(engine), load_key_ring(own.crypto))
        with factory() as session:
            precinct = session.scalars(select(Precinct.code).order_by(Precinct.id)).first()
            unit = session.scalars(select(Unit.id).order_by(Unit.id)).first()
        where = {Role.OFFICER: Jurisdiction(precinct_code=precinct),
                 Role.UNIT: Jurisdiction(unit_id=unit)}  # fmt: skip
        names = {role: make_user(factory, role, where.get(role)) for role in (*FUZZERS, *ADMITTED)}
        victim = make_user(factory, Role.PLANNER)
        app = create_app(own)
        # The TestClient runs the app's lifespan; Schemathesis' own client (not entered, so
        # it starts none) sends every request, from one event loop.
        with TestClient(app):
            fuzz = Fuzzers(ASGIClient(app), names)
            for name in [*names.values(), victim]:
                fuzz.log_in(name)
            with factory() as session:
                user_id, session_id = session.execute(
                    select(User.id, AuthSession.id).where(User.username == victim)
                    .join(AuthSession, AuthSession.user_id == User.id)
                ).one()  # fmt: skip
            fuzz.pinned = {"user_id": user_id, "session_id": session_id}
            yield fuzz
        engine.dispose()


@pytest.fixture(scope="module")
def api_schema(fuzzers: Fuzzers) -> schemathesis.BaseSchema:
    """The fuzzed app's OpenAPI document as Schemathesis reads it."""
    return schemathesis.openapi.from_dict(fuzzers.client.get("/openapi.json").json())


def _senders(rule_roles: frozenset[Role]) -> tuple[Role, ...]:
    """Return the fuzzers, and the first admitted role if the rule names no fuzzer."""
    if rule_roles & set(FUZZERS):
        return FUZZERS
    return (*FUZZERS, *[role for role in ADMITTED if role in rule_roles][:1])


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Parametrize over every operation of the app's OpenAPI document (no database needed)."""
    if "operation" in metafunc.fixturenames:
        app = create_app(Settings())
        document = app.openapi()
        rules = {(method, route.path): rule_of(route) for route in iter_route_contexts(app.routes)
                 for method in getattr(route, "methods", None) or ()}  # fmt: skip
        operations = [(method.upper(), path) for path, methods in document["paths"].items()
                      for method in methods if method in HTTP_METHODS]  # fmt: skip
        cases = [(method, path, _senders(getattr(rules.get((method, path)), "roles", frozenset())))
                 for method, path in operations]  # fmt: skip
        metafunc.parametrize("operation", cases, ids=[f"{m} {p}" for m, p in operations])


def test_no_operation_answers_5xx_or_off_its_schema(
    api_schema: schemathesis.BaseSchema, fuzzers: Fuzzers,
    operation: tuple[str, str, tuple[Role, ...]],
) -> None:  # fmt: skip
    method, path, senders = operation
    pinned = {name: value for name, value in fuzzers.pinned.items() if f"{{{name}}}" in path}
    modes = [GenerationMode.POSITIVE, *([GenerationMode.NEGATIVE] if FULL else [])]
    endpoint = api_schema[path][method]
    cases = st.one_of(*(endpoint.as_strategy(generation_mode=mode, path_parameters=pinned)
                        for mode in modes))  # fmt: skip

    @given(cases)
    @hypothesis_settings(max_examples=EXAMPLES, deadline=None, database=None,
                         suppress_health_check=list(HealthCheck))  # fmt: skip
    def answers_within_its_schema(case: schemathesis.Case) -> None:
        for role in senders:
            fuzzers.check(case, fuzzers.names[role])

    answers_within_its_schema()
