"""Credentials never reach a log line or the audit table (#14: 1).

Logs in and fails to, changes a password, has it reset and enrols a second factor with
recognisable secrets, with every log record of the process captured as the JSON lines
production writes; then looks for each secret in those lines and in every audit row.
"""

from __future__ import annotations

import io
import json

from fastapi.testclient import TestClient
from sqlalchemy import select, text
from sqlalchemy.orm import Session, sessionmaker

from layers.accounts.models import User
from layers.accounts.roles import Role
from tests.api.test_ops import json_logs, log_lines
from tests.utils.users import PASSWORD, bearer, log_in, make_user, totp_code

__all__ = ["json_logs"]  # the fixture, used by name below

WRONG = "Wrong-Secret-Xyzzy-1"
CHOSEN = "Chosen-Secret-Plugh-2"


def test_no_password_code_secret_or_token_in_logs_or_audit(
    client: TestClient,
    session_factory: sessionmaker[Session],
    admin: dict[str, str],
    json_logs: io.StringIO,
) -> None:
    name = make_user(session_factory, Role.COMMANDER, initial_password=True)
    refused = client.post("/api/auth/login", json={"username": name, "password": WRONG})
    assert refused.status_code == 401
    token = log_in(client, name)
    headers = {"Authorization": f"Bearer {token}"}
    change = {"old_password": PASSWORD, "new_password": CHOSEN}
    assert client.post("/api/auth/password", json=change, headers=headers).status_code == 204
    wrong_old = {"old_password": WRONG, "new_password": "Never-Applied-3"}
    assert client.post("/api/auth/password", json=wrong_old, headers=headers).status_code == 403
    enrolment = client.post("/api/auth/totp/enroll", headers=headers).json()
    code = totp_code(enrolment["secret"])
    assert (
        client.post("/api/auth/totp/confirm", json={"code": code}, headers=headers).status_code
        == 204
    )
    with session_factory() as session:
        user_id = session.scalar(select(User.id).where(User.username == name))
    reset = client.post(f"/api/admin/users/{user_id}/password-reset", headers=admin)
    one_time = reset.json()["one_time_password"]
    bearer(client, make_user(session_factory, Role.PLANNER))  # one more successful login

    secrets = {"wrong password": WRONG, "initial password": PASSWORD, "chosen": CHOSEN,
               "one-time": one_time, "totp secret": enrolment["secret"], "token": token,
               "refused new password": "Never-Applied-3"}  # fmt: skip
    server_logs = json.dumps([line for line in log_lines(json_logs) if line["logger"] != "httpx"])
    assert '"route": "/api/auth/login"' in server_logs  # the lines were captured
    with session_factory() as session:
        audit = session.scalars(text("SELECT row_to_json(a)::text FROM audit_log a")).all()
        stored = session.scalar(text("SELECT row_to_json(u)::text FROM users u WHERE id = :id"),
                                {"id": user_id})  # fmt: skip
    assert stored and '"totp_secret_sealed":"\\\\x' in stored  # sealed, not the secret
    assert enrolment["secret"] not in stored and enrolment["secret"].encode().hex() not in stored
    assert any(f'"actor_name":"{name}"' in row and '"result":"denied"' in row for row in audit)
    for what, secret in secrets.items():
        assert secret not in server_logs, what
        assert not any(secret in row for row in audit), what
