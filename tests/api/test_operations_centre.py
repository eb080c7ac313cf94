"""The operations centre's API: users, live sessions (revocable), errors, imports, backups."""

from __future__ import annotations

import time
import uuid
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from api.app import create_app
from layers.accounts.roles import Role
from layers.accounts.scope import SYSTEM
from layers.accounts.service import Jurisdiction
from layers.audit.models import AuditRecord
from layers.backup.manifest import DUMP_FILE, Manifest, sm3_file, write_manifest
from layers.features.models import Precinct
from layers.imports.service import INTERRUPTED, create_job, set_progress
from layers.settings import OpsSettings, Settings
from tests.utils.users import bearer, make_user

ATTACKER = "192.0.2.50"  # TEST-NET: its refused logins count against no other test's address


def _users(client: TestClient, headers: dict[str, str], **params: Any) -> list[dict[str, Any]]:
    response = client.get("/api/admin/users", headers=headers, params=params)
    assert response.status_code == 200, response.text
    data: list[dict[str, Any]] = response.json()["data"]
    return data


def test_users_are_listed_with_role_jurisdiction_state_and_last_login(
    client: TestClient, admin: dict[str, str], session_factory: sessionmaker[Session]
) -> None:
    with session_factory() as session:
        code, precinct = session.execute(select(Precinct.code, Precinct.name).limit(1)).one()
    officer = make_user(session_factory, Role.OFFICER, Jurisdiction(precinct_code=code))
    (before,) = _users(client, admin, search=officer)
    assert before["role"] == "officer" and before["jurisdiction"] == f"precinct {code}"
    assert before["jurisdiction_name"] == precinct
    assert before["is_active"] and not before["locked"] and before["last_login_at"] is None
    bearer(client, officer)
    (logged_in,) = _users(client, admin, search=officer, role="officer")
    assert logged_in["last_login_at"] is not None
    attacker = TestClient(client.app, client=(ATTACKER, 50000))
    for _ in range(5):  # the default lockout: five refusals from one address
        refused = attacker.post("/api/auth/login", json={"username": officer, "password": "nope"})
        assert refused.status_code == 401
    (locked,) = _users(client, admin, search=officer)
    assert locked["locked"]
    assert _users(client, admin, search=officer, role="planner") == []
    assert _users(client, admin, search="%") == []  # a character to find, not a pattern


def test_only_account_managers_list_users_and_sessions(
    client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    security = bearer(client, make_user(session_factory, Role.SECURITY_ADMIN))
    assert client.get("/api/admin/users", headers=security).status_code == 200
    assert client.get("/api/admin/sessions", headers=security).status_code == 200
    for role in (Role.AUDITOR, Role.COMMANDER, Role.PLANNER):
        headers = bearer(client, make_user(session_factory, role))
        for path in ("/api/admin/users", "/api/admin/sessions"):
            assert client.get(path, headers=headers).status_code == 403, (role, path)
    assert client.get("/api/admin/users").status_code == 401


def _sessions_of(client: TestClient, headers: dict[str, str], name: str) -> list[dict[str, Any]]:
    response = client.get("/api/admin/sessions", headers=headers)
    assert response.status_code == 200, response.text
    return [s for s in response.json()["data"] if s["username"] == name]


def test_an_admin_revokes_a_live_session_and_its_next_request_is_401(
    client: TestClient, admin: dict[str, str], session_factory: sessionmaker[Session]
) -> None:
    name = make_user(session_factory, Role.COMMANDER)
    victim = bearer(client, name)
    kept = bearer(client, name)  # a second session of the same user stays
    assert client.get("/api/auth/me", headers=victim).status_code == 200
    sessions = _sessions_of(client, admin, name)
    assert len(sessions) == 2 and {s["source"] for s in sessions} == {"testclient"}
    assert all(s["client"] == "testclient" and not s["current"] for s in sessions)
    mine = client.get("/api/admin/sessions", headers=admin).json()["data"]
    assert sum(s["current"] for s in mine) == 1  # the admin's own session is marked
    newest = max(sessions, key=lambda s: s["id"])  # ``kept`` logged in last
    oldest = min(sessions, key=lambda s: s["id"])
    assert client.delete(f"/api/admin/sessions/{oldest['id']}", headers=admin).status_code == 204
    assert client.get("/api/auth/me", headers=victim).status_code == 401
    assert client.get("/api/auth/me", headers=kept).status_code == 200
    assert [s["id"] for s in _sessions_of(client, admin, name)] == [newest["id"]]
    again = client.delete(f"/api/admin/sessions/{oldest['id']}", headers=admin)
    assert again.status_code == 404
    with session_factory() as session:
        audited = session.scalars(
            select(AuditRecord).where(AuditRecord.action == "auth.session.revoke",
                                      AuditRecord.target_id == str(oldest["id"]))
            .order_by(AuditRecord.id)
        ).all()  # fmt: skip
    assert [a.result for a in audited] == ["ok", "denied"]  # the second try found none
    assert audited[0].after == {"user_id": oldest["user_id"]}


def test_a_session_revocation_by_a_non_manager_is_refused_and_audited(
    client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    name = make_user(session_factory, Role.PLANNER)
    target = bearer(client, name)
    commander = bearer(client, make_user(session_factory, Role.COMMANDER))
    security = bearer(client, make_user(session_factory, Role.SECURITY_ADMIN))
    (session_,) = _sessions_of(client, security, name)
    refused = client.delete(f"/api/admin/sessions/{session_['id']}", headers=commander)
    assert refused.status_code == 403
    assert client.get("/api/auth/me", headers=target).status_code == 200
    with session_factory() as session:  # refused by the route's rule (api/access.py)
        denied = session.scalar(
            select(AuditRecord.result).where(
                AuditRecord.action == "access.denied",
                AuditRecord.detail.startswith(f"DELETE /api/admin/sessions/{session_['id']} "))
        )  # fmt: skip
    assert denied == "denied"
    ok = client.delete(f"/api/admin/sessions/{session_['id']}", headers=security)
    assert ok.status_code == 204
    assert client.get("/api/auth/me", headers=target).status_code == 401


def test_recent_errors_keep_request_id_route_and_message(
    settings: Settings, session_factory: sessionmaker[Session], city: None
) -> None:
    app = create_app(settings)

    def explode() -> None:
        raise RuntimeError("boom\n[parameters: secret]")

    app.add_api_route("/test/explode/{n}", explode)
    with TestClient(app) as app_client:
        admin = bearer(app_client, make_user(session_factory, Role.ADMIN))
        security = bearer(app_client, make_user(session_factory, Role.SECURITY_ADMIN))
        assert app_client.get("/api/admin/errors", headers=admin).json()["data"] == []
        for n in (1, 2):
            answer = app_client.get(f"/test/explode/{n}", headers={"X-Request-ID": f"ops-{n}"})
            assert answer.status_code == 500
        assert app_client.get("/api/layers", headers=admin).status_code == 200  # no error
        errors = app_client.get("/api/admin/errors", headers=admin).json()
        assert app_client.get("/api/admin/errors", headers=security).status_code == 403
    assert errors["count"] == 2
    assert [(e["request_id"], e["route"], e["status"], e["method"], e["message"])
            for e in errors["data"]] == [
        ("ops-2", "/test/explode/{n}", 500, "GET", "RuntimeError: boom"),
        ("ops-1", "/test/explode/{n}", 500, "GET", "RuntimeError: boom"),
    ]  # fmt: skip


def _wait(client: TestClient, job_id: str, headers: dict[str, str]) -> None:
    for _ in range(600):
        if client.get(f"/api/imports/{job_id}", headers=headers).json()["status"] == "finished":
            return
        time.sleep(0.05)
    raise AssertionError(f"import job {job_id} did not finish")


def test_import_jobs_of_every_user_are_listed_for_the_admin(
    client: TestClient, admin: dict[str, str], session_factory: sessionmaker[Session]
) -> None:
    commander_name = make_user(session_factory, Role.COMMANDER)
    commander = bearer(client, commander_name)
    rows = f"编号,单位名称,类别,经度,纬度\nops{uuid.uuid4().hex[:6]},甲银行,bank,116.39,39.91\n"
    started = client.post("/api/imports", headers=commander, data={"layer": "units",
                          "id_field": "编号", "map": "name=单位名称"},
                          files={"file": ("units.csv", rows.encode(), "text/csv")})  # fmt: skip
    assert started.status_code == 202, started.text
    _wait(client, started.json()["id"], commander)
    with session_factory() as session, session.begin():  # a job whose worker died
        orphan = create_job(session=session, actor=SYSTEM, layer="units", source="lost.csv",
                            work_dir="")  # fmt: skip
        set_progress(session=session, job_id=orphan.id, phase="check", done=1, total=2)
    listed = client.get("/api/admin/imports", headers=admin, params={"limit": 500}).json()["data"]
    by_id = {job["id"]: job for job in listed}
    mine = by_id[started.json()["id"]]
    assert (mine["actor_name"], mine["status"], mine["source"]) == (
        commander_name, "finished", "units.csv")  # fmt: skip
    assert by_id[orphan.id]["status"] == "failed" and by_id[orphan.id]["error"] == INTERRUPTED
    assert client.get("/api/admin/imports", headers=commander).status_code == 403


def _backup(directory: Path, dump: bytes) -> Path:
    directory.mkdir()
    (directory / DUMP_FILE).write_bytes(dump)
    manifest = Manifest(
        created_at="2026-12-03T02:30:00+00:00", database="warroom", server_version="15.20",
        schema_revision="0023", encoding="UTF8", collate="C.UTF-8", ctype="C.UTF-8",
        dump_bytes=len(dump), dump_sm3=sm3_file(directory / DUMP_FILE),
        row_counts={"units": 3, "users": 2},
    )  # fmt: skip
    write_manifest(directory, manifest)
    return directory


def test_backups_are_listed_with_their_verification(
    settings: Settings, session_factory: sessionmaker[Session], city: None, tmp_path: Path
) -> None:
    _backup(tmp_path / "2026-12-02", b"PGDMP good dump")
    tampered = _backup(tmp_path / "2026-12-03", b"PGDMP good dump")
    (tampered / DUMP_FILE).write_bytes(b"PGDMP evil dump")  # same size, other bytes
    (tmp_path / "2026-12-04").mkdir()
    (tmp_path / "2026-12-04" / DUMP_FILE).write_bytes(b"PGDMP half")  # no manifest yet
    (tmp_path / "not-a-backup").mkdir()
    configured = settings.model_copy(update={"ops": OpsSettings(backup_dir=tmp_path)})
    with TestClient(create_app(configured)) as app_client:
        admin = bearer(app_client, make_user(session_factory, Role.ADMIN))
        listed = app_client.get("/api/admin/backups", headers=admin).json()
        auditor = bearer(app_client, make_user(session_factory, Role.AUDITOR))
        assert app_client.get("/api/admin/backups", headers=auditor).status_code == 403
    assert listed["directory"] == str(tmp_path) and listed["detail"] is None
    by_name = {backup["name"]: backup for backup in listed["data"]}
    assert set(by_name) == {"2026-12-02", "2026-12-03", "2026-12-04"}
    good = by_name["2026-12-02"]
    assert (good["status"], good["rows"], good["schema_revision"], good["signed"]) == (
        "verified", 5, "0023", False)  # fmt: skip
    assert by_name["2026-12-03"]["status"] == "refused"
    assert "does not match the manifest" in by_name["2026-12-03"]["detail"]
    assert by_name["2026-12-04"]["status"] == "incomplete"


def test_without_a_backup_directory_the_list_says_how_to_set_one(
    client: TestClient, admin: dict[str, str]
) -> None:
    listed = client.get("/api/admin/backups", headers=admin).json()
    assert listed["data"] == [] and "WARROOM_OPS_BACKUP_DIR" in listed["detail"]
