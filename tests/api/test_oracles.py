"""Answers that must not tell what exists: logins, features outside a jurisdiction, server paths."""

from __future__ import annotations

import time
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from api.app import create_app
from layers.accounts.roles import Role
from layers.accounts.service import Jurisdiction
from layers.audit.models import AuditRecord
from layers.features.models import Precinct, Unit
from layers.settings import SecuritySettings, Settings
from tests.utils.users import PASSWORD, bearer, make_user

POLICY = SecuritySettings()


def _from(client: TestClient, address: str) -> TestClient:
    """A client of the same app whose requests come from ``address`` (TEST-NET, per test)."""
    return TestClient(client.app, client=(address, 50000))


def _login(client: TestClient, username: str, password: str) -> Any:
    return client.post("/api/auth/login", json={"username": username, "password": password})


def _fail(client: TestClient, username: str, times: int) -> None:
    for _ in range(times):
        assert _login(client, username, "wrong-password-x").status_code == 401


def test_locked_unknown_and_wrong_password_answer_alike(
    client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    name = make_user(session_factory, Role.PLANNER)
    attacker = _from(client, "192.0.2.1")
    wrong = _login(attacker, name, "wrong-password-x")
    unknown = _login(attacker, f"nobody-{name}", "wrong-password-x")
    _fail(attacker, name, POLICY.max_failed_logins - 1)
    locked = _login(attacker, name, PASSWORD)  # the right password, but this pair is locked
    answers = {(r.status_code, r.text, r.headers.get("www-authenticate")) for r in
               (wrong, unknown, locked)}  # fmt: skip
    assert len(answers) == 1, answers
    assert wrong.status_code == 401


def test_a_lock_from_one_address_does_not_lock_out_another(
    client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    name = make_user(session_factory, Role.PLANNER)
    _fail(_from(client, "192.0.2.2"), name, POLICY.max_failed_logins + 1)
    assert _login(_from(client, "192.0.2.3"), name, PASSWORD).status_code == 200


def test_the_lock_is_shared_by_workers_and_audited(
    client: TestClient, settings: Settings, session_factory: sessionmaker[Session]
) -> None:
    name = make_user(session_factory, Role.PLANNER)
    _fail(_from(client, "192.0.2.4"), name, POLICY.max_failed_logins)
    with TestClient(create_app(settings), client=("192.0.2.4", 50000)) as other_worker:
        assert _login(other_worker, name, PASSWORD).status_code == 401
    with session_factory() as session:
        last = session.scalars(
            select(AuditRecord).where(AuditRecord.action == "auth.login",
                                      AuditRecord.actor_name == name)
            .order_by(AuditRecord.id.desc()).limit(1)
        ).one()  # fmt: skip
    assert last.result == "denied" and last.detail is not None and "locked" in last.detail
    assert last.client is not None and last.client.startswith("192.0.2.4")


def test_one_address_is_throttled_across_accounts(
    client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    name = make_user(session_factory, Role.PLANNER)
    sprayer = _from(client, "192.0.2.5")
    for i in range(POLICY.max_failed_logins_per_source):
        assert _login(sprayer, f"guess-{i}-{name}", "Passw0rd!").status_code == 401
    assert _login(sprayer, name, PASSWORD).status_code == 401
    assert _login(_from(client, "192.0.2.6"), name, PASSWORD).status_code == 200


def test_unknown_names_are_audited_with_their_address(
    client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    assert _login(_from(client, "192.0.2.7"), "nobody-audited", "x").status_code == 401
    with session_factory() as session:
        record = session.scalars(
            select(AuditRecord).where(AuditRecord.actor_name == "nobody-audited")
        ).one()
    assert (record.action, record.result, record.actor_id) == ("auth.login", "denied", None)
    assert record.client is not None and record.client.startswith("192.0.2.7")


# --- 9: a feature in another precinct reads exactly like one that does not exist ---


@pytest.fixture(scope="module")
def precincts(session_factory: sessionmaker[Session], city: None) -> tuple[Precinct, int, int]:
    """A precinct, a unit outside it, and an id no unit has."""
    with session_factory() as session:
        precinct_id = session.scalar(
            select(Unit.precinct_id).where(Unit.precinct_id.is_not(None)).limit(1)
        )
        precinct = session.get(Precinct, precinct_id)
        elsewhere = session.scalar(
            select(Unit.id).where(Unit.precinct_id != precinct_id).limit(1)
        )  # fmt: skip
        missing = (session.scalar(select(func.max(Unit.id))) or 0) + 10_000
    assert precinct is not None and elsewhere is not None
    return precinct, elsewhere, missing


def _same_but_id(a: Any, b: Any, ids: tuple[int, int]) -> None:
    assert a.status_code == b.status_code == 404, (a.text, b.text)
    assert a.json()["detail"].replace(str(ids[0]), "N") == b.json()["detail"].replace(
        str(ids[1]), "N"
    )
    assert a.json()["code"] == b.json()["code"]


def test_other_precincts_features_read_as_missing(
    client: TestClient, session_factory: sessionmaker[Session],
    precincts: tuple[Precinct, int, int],
) -> None:  # fmt: skip
    precinct, elsewhere, missing = precincts
    officer = bearer(client, make_user(session_factory, Role.OFFICER,
                                       Jurisdiction(precinct_code=precinct.code)))  # fmt: skip
    for path in ("/api/layers/units/features/{}", "/ogc/collections/units/items/{}"):
        hidden = client.get(path.format(elsewhere), headers=officer)
        absent = client.get(path.format(missing), headers=officer)
        _same_but_id(hidden, absent, (elsewhere, missing))


def test_other_precincts_features_cannot_be_written_nor_found_by_writing(
    client: TestClient, session_factory: sessionmaker[Session],
    precincts: tuple[Precinct, int, int],
) -> None:  # fmt: skip
    precinct, elsewhere, missing = precincts
    officer = bearer(client, make_user(session_factory, Role.OFFICER,
                                       Jurisdiction(precinct_code=precinct.code)))  # fmt: skip
    headers = officer | {"If-Match": '"1"'}
    patch = {"properties": {"risk_level": 2}}
    put = {"geometry": {"type": "Point", "coordinates": [116.4, 39.9]},
           "properties": {"name": "x", "category": "bank"}}  # fmt: skip
    for method, body in (("PATCH", patch), ("PUT", put), ("DELETE", None)):
        hidden, absent = (
            client.request(method, f"/api/layers/units/features/{i}", headers=headers, json=body)
            for i in (elsewhere, missing)
        )
        _same_but_id(hidden, absent, (elsewhere, missing))
    with session_factory() as session:
        refused = session.scalar(
            select(func.count()).select_from(AuditRecord)
            .where(AuditRecord.target_type == "units", AuditRecord.target_id == str(elsewhere),
                   AuditRecord.result == "denied")
        )  # fmt: skip
    assert refused == 3  # the attempts are still in the audit log


def test_a_role_that_may_not_write_still_gets_403(
    client: TestClient, session_factory: sessionmaker[Session],
    precincts: tuple[Precinct, int, int],
) -> None:  # fmt: skip
    _, elsewhere, _ = precincts
    planner = bearer(client, make_user(session_factory, Role.PLANNER))
    response = client.patch(f"/api/layers/units/features/{elsewhere}", json={"properties": {}},
                            headers=planner | {"If-Match": '"1"'})  # fmt: skip
    assert response.status_code == 403


# --- 11: import jobs name the upload, never a server directory ---


def _import(client: TestClient, headers: dict[str, str], name: str, body: bytes) -> dict[str, Any]:
    response = client.post("/api/imports", headers=headers, files={"file": (name, body)},
                           data={"layer": "units", "map": "name=名称"})  # fmt: skip
    assert response.status_code == 202, response.text
    for _ in range(600):
        job: dict[str, Any] = client.get(f"/api/imports/{response.json()['id']}",
                                         headers=headers).json()  # fmt: skip
        if job["status"] in {"finished", "failed"}:
            return job
        time.sleep(0.05)
    raise AssertionError(f"import did not end: {job}")


def _no_server_path(text: str) -> None:
    assert "warroom-import-" not in text and "/tmp" not in text, text


def test_import_reports_and_rejects_name_files_only(
    client: TestClient, admin: dict[str, str]
) -> None:
    csv = "名称,经度,纬度,类别\n甲银行,116.39,39.91,bank\n乙,116.40,39.92,moon\n".encode()
    job = _import(client, admin, "leak_check.csv", csv)
    assert job["status"] == "finished" and job["has_rejects"], job
    assert job["report"]["reject_file"] == "leak_check.rejects.csv"
    report = client.get(f"/api/imports/{job['id']}/report", headers=admin)
    _no_server_path(report.text)
    _no_server_path(str(job))
    rejects = client.get(f"/api/imports/{job['id']}/rejects", headers=admin)
    assert rejects.status_code == 200
    assert 'filename="leak_check.rejects.csv"' in rejects.headers["content-disposition"]


def test_import_errors_name_files_only(client: TestClient, admin: dict[str, str]) -> None:
    job = _import(client, admin, "broken.gpkg", b"not a geopackage" * 64)
    assert job["status"] == "failed" and "broken.gpkg" in job["error"], job
    _no_server_path(job["error"])
    report = client.get(f"/api/imports/{job['id']}/report", headers=admin)
    _no_server_path(report.text)
