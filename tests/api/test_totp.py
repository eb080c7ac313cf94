"""The second factor of admin, security_admin and auditor: TOTP over HTTP (#14: 1).

These tests run an app with the production roles (the rest of the suite needs none):
such a role enrols an authenticator app before it may do anything (``/metrics``, open to
all three, stands for every route); then every login
sends the current code with the password, each code works once, and wrong codes count
toward the lockout like wrong passwords.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from api.app import create_app
from layers.accounts.models import User
from layers.accounts.roles import Role
from layers.accounts.service import REFUSED
from layers.audit.models import AuditRecord
from layers.settings import SECOND_FACTOR_ROLES, Settings
from tests.utils.users import PASSWORD, enrol_totp, log_in, make_user, totp_code


@pytest.fixture(scope="module")
def strict(settings: Settings, city: None) -> Iterator[TestClient]:
    """A client of an app whose admin, security_admin and auditor need a second factor."""
    policy = settings.security.model_copy(update={"second_factor_roles": list(SECOND_FACTOR_ROLES)})
    with TestClient(create_app(settings.model_copy(update={"security": policy}))) as client:
        yield client


def headers_of(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def login(client: TestClient, name: str, code: str | None = None) -> int:
    body = {"username": name, "password": PASSWORD}
    if code is not None:
        body["totp_code"] = code
    status = client.post("/api/auth/login", json=body).status_code
    client.cookies.clear()
    return status


def enrolled(client: TestClient, factory: sessionmaker[Session], role: Role) -> tuple[str, str]:
    """Make a user of ``role`` with a confirmed second factor; return its name and secret."""
    name = make_user(factory, role)
    return name, enrol_totp(client, headers_of(log_in(client, name)))


def denials(factory: sessionmaker[Session], name: str) -> list[str | None]:
    with factory() as session:
        user_id = session.scalar(select(User.id).where(User.username == name))
        return list(
            session.scalars(
                select(AuditRecord.detail)
                .where(AuditRecord.action == "auth.login", AuditRecord.result == "denied")
                .where(AuditRecord.target_id == str(user_id))
                .order_by(AuditRecord.id)
            )
        )


# A route each of those roles may call once enrolled (三权分立: they share none).
OWN_ROUTE = {Role.ADMIN: "/metrics", Role.SECURITY_ADMIN: "/api/admin/users",
             Role.AUDITOR: "/api/audit/verify"}  # fmt: skip


@pytest.mark.parametrize("role", list(SECOND_FACTOR_ROLES))
def test_the_role_enrols_a_second_factor_before_anything_else(
    strict: TestClient, session_factory: sessionmaker[Session], role: Role
) -> None:
    name = make_user(session_factory, role)
    answer = strict.post("/api/auth/login", json={"username": name, "password": PASSWORD})
    strict.cookies.clear()
    assert answer.status_code == 200 and answer.json()["required"] == "enrol_totp"
    headers = headers_of(answer.json()["access_token"])
    refused = strict.get(OWN_ROUTE[role], headers=headers)
    assert refused.status_code == 403 and refused.json()["code"] == "SecondFactorEnrolmentRequired"
    assert "POST /api/auth/totp/enroll" in refused.json()["detail"]
    enrolment = strict.post("/api/auth/totp/enroll", headers=headers)
    assert enrolment.status_code == 200 and enrolment.headers["cache-control"] == "no-store"
    secret, uri = enrolment.json()["secret"], enrolment.json()["otpauth_uri"]
    assert uri.startswith("otpauth://totp/Warroom:") and f"secret={secret}" in uri
    assert strict.get(OWN_ROUTE[role], headers=headers).status_code == 403  # not yet confirmed
    wrong = f"{(int(totp_code(secret)) + 1) % 1_000_000:06d}"
    bad = strict.post("/api/auth/totp/confirm", json={"code": wrong}, headers=headers)
    assert bad.status_code == 422
    code = strict.post("/api/auth/totp/confirm", json={"code": totp_code(secret)}, headers=headers)
    assert code.status_code == 204
    assert strict.get(OWN_ROUTE[role], headers=headers).status_code == 200
    again = strict.post("/api/auth/totp/enroll", headers=headers)
    assert again.status_code == 409  # a second secret needs a reset first


def test_a_login_needs_the_current_code_once(
    strict: TestClient, session_factory: sessionmaker[Session]
) -> None:
    name, secret = enrolled(strict, session_factory, Role.ADMIN)
    assert login(strict, name) == 401
    near = {totp_code(secret, steps) for steps in (-2, -1, 0, 1, 2)}
    assert login(strict, name, min({"000000", "111111", "222222"} - near)) == 401
    next_code = totp_code(secret, steps_ahead=1)  # the app's next code, within the drift
    assert login(strict, name, next_code) == 200
    assert login(strict, name, next_code) == 401  # replayed
    assert denials(session_factory, name) == [
        "second factor: no code",
        "second factor: wrong code",
        "second factor: code already used",
    ]
    answer = strict.post("/api/auth/login", json={"username": name, "password": PASSWORD})
    assert answer.json()["detail"] == REFUSED  # a wrong code says no more than a wrong password


def test_wrong_codes_count_toward_the_lockout(
    strict: TestClient, session_factory: sessionmaker[Session]
) -> None:
    name, secret = enrolled(strict, session_factory, Role.AUDITOR)
    guesser = TestClient(strict.app, client=("198.51.100.44", 50000))  # knows the password
    for guess in ("000001", "000002", "000003", "000004", "000005"):
        assert login(guesser, name, guess) == 401
    assert login(guesser, name, totp_code(secret, steps_ahead=1)) == 401  # locked there
    assert login(strict, name, totp_code(secret, steps_ahead=1)) == 200  # not elsewhere


def test_the_password_is_changed_before_enrolling(
    strict: TestClient, session_factory: sessionmaker[Session]
) -> None:
    name = make_user(session_factory, Role.SECURITY_ADMIN, initial_password=True)
    headers = headers_of(log_in(strict, name))
    refused = strict.post("/api/auth/totp/enroll", headers=headers)
    assert refused.status_code == 403 and refused.json()["code"] == "PasswordChangeRequired"
    change = {"old_password": PASSWORD, "new_password": "Second-step-pass-1"}
    assert strict.post("/api/auth/password", json=change, headers=headers).status_code == 204
    assert strict.get("/api/auth/me", headers=headers).json()["required"] == "enrol_totp"
    enrol_totp(strict, headers)
    assert strict.get("/api/auth/me", headers=headers).json()["required"] is None


def test_a_lost_device_is_reset_by_a_security_admin(
    strict: TestClient, session_factory: sessionmaker[Session]
) -> None:
    name, secret = enrolled(strict, session_factory, Role.AUDITOR)
    session_before = headers_of(log_in(strict, name, totp_code=totp_code(secret, steps_ahead=1)))
    manager, manager_secret = enrolled(strict, session_factory, Role.SECURITY_ADMIN)
    manager_headers = headers_of(log_in(strict, manager, totp_code=totp_code(manager_secret, 1)))
    with session_factory() as session:
        target = session.scalar(select(User.id).where(User.username == name))
    reset = strict.post(f"/api/admin/users/{target}/totp-reset", headers=manager_headers)
    assert reset.status_code == 204
    assert strict.get("/api/auth/me", headers=session_before).status_code == 401
    answer = strict.post("/api/auth/login", json={"username": name, "password": PASSWORD})
    strict.cookies.clear()
    assert answer.json()["required"] == "enrol_totp"  # no code asked: it enrols anew
    planner = headers_of(log_in(strict, make_user(session_factory, Role.PLANNER)))
    refused = strict.post(f"/api/admin/users/{target}/totp-reset", headers=planner)
    assert refused.status_code == 403
