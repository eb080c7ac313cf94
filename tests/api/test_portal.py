"""The unit portal over HTTP: invitations, disabling, edits pending approval, isolation, home."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from layers.accounts.invitations import UnitInvitation, hash_code
from layers.accounts.roles import Role
from layers.accounts.service import Jurisdiction
from layers.audit.models import AuditRecord
from layers.features.models import Unit
from layers.features.operators import FeatureOperator
from layers.settings import Settings
from tests.utils.places import precincts_with_units
from tests.utils.portal import invite, join, self_check_form
from tests.utils.users import PASSWORD, bearer, make_user
from warroom_ui.portal import PortalSettings, create_portal_app, portal_settings


@pytest.fixture(scope="module")
def portal(settings: Settings, city: None) -> Iterator[TestClient]:
    """The portal app on the run's database."""
    with TestClient(create_portal_app(settings)) as client:
        yield client


class Cast:
    """Units A, B (same precinct) and C (A's branch); their officer, another, a commander."""

    def __init__(self, client: TestClient, factory: sessionmaker[Session]) -> None:
        with factory() as session:
            precincts = precincts_with_units(session)
            here, there = precincts[2], precincts[3]
            units = session.scalars(
                select(Unit.id).where(Unit.precinct_id == here.id).order_by(Unit.id).limit(3)
            ).all()
            self.a, self.b, self.c = units
        with factory() as session, session.begin():  # A runs a chain: C is its branch
            session.add(FeatureOperator(unit_id=self.a, layer="units", feature_id=self.c))
        self.officer, self.stranger = (
            bearer(client, make_user(factory, Role.OFFICER, Jurisdiction(precinct_code=p.code)))
            for p in (here, there)
        )
        self.commander = bearer(client, make_user(factory, Role.COMMANDER))


@pytest.fixture(scope="module")
def cast(client: TestClient, session_factory: sessionmaker[Session]) -> Cast:
    """The people and units of this module."""
    return Cast(client, session_factory)


@pytest.fixture(scope="module")
def form(client: TestClient, cast: Cast) -> str:
    """A self-check form of this module's; its code."""
    body = self_check_form()
    assert client.post("/api/forms", json=body, headers=cast.commander).status_code == 201
    return str(body["code"])


def _unit_user(client: TestClient, portal: TestClient, cast: Cast, unit_id: int) -> dict[str, str]:
    """Invite ``unit_id`` through the main app, join and sign in on the portal."""
    made = invite(client, cast.officer, unit_id)
    return bearer(portal, join(portal, made["code"]))


def _join(portal: TestClient, code: str, password: str = PASSWORD) -> Any:
    body = {"code": code, "username": f"unit-{uuid.uuid4().hex[:8]}", "password": password}
    return portal.post("/api/portal/join", json=body)


def _self_check(
    portal: TestClient, user: dict[str, str], form: str, unit_id: int, **answers: bool
) -> Any:
    body = {"template": form, "features": [{"layer": "units", "id": unit_id}],
            "answers": {"exits_clear": True, "extinguishers_ok": True, **answers}}  # fmt: skip
    return portal.post("/api/self-checks", json=body, headers=user)


def test_an_invited_unit_sets_its_own_password_once(
    client: TestClient, portal: TestClient, cast: Cast, session_factory: sessionmaker[Session]
) -> None:
    made = invite(client, cast.officer, cast.a, valid_hours=2)
    assert made["join_path"] == f"/portal#join={made['code']}"
    with session_factory() as session:  # kept as its SM3 digest only
        kept = session.get_one(UnitInvitation, made["id"])
        assert kept.code_hash == hash_code(made["code"]) and made["code"] not in kept.code_hash
    weak = _join(portal, made["code"], "short")
    assert weak.status_code == 422 and weak.json()["rule"] == "length"
    name = join(portal, made["code"].lower())  # typed in lower case: the same code
    me = portal.get("/api/auth/me", headers=bearer(portal, name)).json()
    assert me["role"] == "unit" and me["scope_id"] == cast.a and me["required"] is None
    again = _join(portal, made["code"])
    assert again.status_code == 404
    listed = client.get(f"/api/unit-accounts?unit_id={cast.a}", headers=cast.officer).json()
    assert name in [a["username"] for a in listed["accounts"]]
    assert all(i["code"] is None for i in listed["invitations"])  # never shown again


def test_an_expired_or_revoked_invitation_is_refused_like_a_wrong_one(
    client: TestClient, portal: TestClient, cast: Cast, session_factory: sessionmaker[Session]
) -> None:
    expired, revoked = invite(client, cast.officer, cast.b), invite(client, cast.officer, cast.b)
    with session_factory() as session, session.begin():
        past = datetime.now(UTC) - timedelta(hours=1)
        session.execute(update(UnitInvitation).where(UnitInvitation.id == expired["id"])
                        .values(created_at=past - timedelta(hours=1), expires_at=past))  # fmt: skip
    gone = client.delete(f"/api/unit-accounts/invitations/{revoked['id']}", headers=cast.officer)
    assert gone.status_code == 204
    codes = (expired["code"], revoked["code"], "ABCD-EFGH-JKMN-PQRS-TUVW")
    answers = [_join(portal, code) for code in codes]
    assert {a.status_code for a in answers} == {404}
    assert len({a.json()["detail"] for a in answers}) == 1
    with session_factory() as session:
        denied = session.scalars(select(AuditRecord).where(
            AuditRecord.action == "unit_invitation.redeem", AuditRecord.result == "denied",
            AuditRecord.target_id == str(cast.b),
        )).all()  # fmt: skip
        assert len(denied) >= 2


def test_only_the_supervising_police_invite_and_disable(
    client: TestClient, portal: TestClient, cast: Cast, session_factory: sessionmaker[Session]
) -> None:
    body = {"unit_id": cast.a}
    elsewhere = client.post("/api/unit-accounts/invitations", json=body, headers=cast.stranger)
    assert elsewhere.status_code == 404
    unit = _unit_user(client, portal, cast, cast.a)
    assert client.post("/api/unit-accounts/invitations", json=body, headers=unit).status_code == 403
    me = portal.get("/api/auth/me", headers=unit).json()
    off = {"active": False}
    assert client.patch(f"/api/unit-accounts/{me['id']}", json=off,
                        headers=cast.stranger).status_code == 404  # fmt: skip
    disabled = client.patch(f"/api/unit-accounts/{me['id']}", json=off, headers=cast.officer)
    assert disabled.status_code == 200 and disabled.json()["is_active"] is False
    assert portal.get("/api/portal/home", headers=unit).status_code == 401  # its session ended
    refused = portal.post(
        "/api/auth/login", json={"username": me["username"], "password": PASSWORD}
    )
    assert refused.status_code == 401
    enabled = client.patch(f"/api/unit-accounts/{me['id']}", json={"active": True},
                           headers=cast.officer)  # fmt: skip
    assert enabled.json()["is_active"] is True
    assert portal.get("/api/portal/home", headers=bearer(portal, me["username"])).status_code == 200
    with session_factory() as session:
        about = (AuditRecord.target_type == "user", AuditRecord.target_id == str(me["id"]))
        actions = set(session.scalars(select(AuditRecord.action).where(*about)))
        assert {"unit_account.disable", "unit_account.enable"} <= actions


def test_a_units_edit_shows_as_pending_until_its_officer_approves(
    client: TestClient, portal: TestClient, cast: Cast
) -> None:
    unit = _unit_user(client, portal, cast, cast.b)
    read = portal.get("/api/portal/unit", headers=unit)
    assert read.status_code == 200 and read.json()["pending"] == []
    before = read.json()
    stale = portal.patch("/api/portal/unit", json={"address": "门户路1号"},
                         headers={**unit, "If-Match": f'"{before["version"] + 5}"'})  # fmt: skip
    assert stale.status_code == 409
    at = {**unit, "If-Match": f'"{before["version"]}"'}
    assert portal.patch("/api/portal/unit", json={"risk_level": 1}, headers=at).status_code == 422
    proposal = {"address": "门户路1号", "contact_phone": "13800138000"}
    edit = portal.patch("/api/portal/unit", json=proposal, headers=at)
    assert edit.status_code == 202, edit.text
    approval = edit.json()
    pending = portal.get("/api/portal/unit", headers=unit).json()
    assert [p["id"] for p in pending["pending"]] == [approval["id"]]
    assert pending["properties"]["address"] == before["properties"]["address"]  # not yet
    proposed = pending["pending"][0]["details"]["payload"]["properties"]
    assert proposed["address"] == "门户路1号" and proposed["contact_phone"] != "13800138000"
    decided = client.post(
        f"/api/approvals/{approval['id']}/transitions", json={"action": "approve"},
        headers={**cast.officer, "If-Match": f'"{approval["version"]}"'},
    )  # fmt: skip
    assert decided.status_code == 200, decided.text
    after = portal.get("/api/portal/unit", headers=unit).json()
    assert after["properties"]["address"] == "门户路1号" and after["pending"] == []


def test_a_unit_reaches_its_own_and_its_branches_records_and_nothing_else(
    client: TestClient, portal: TestClient, cast: Cast, form: str
) -> None:
    chain, other = (_unit_user(client, portal, cast, u) for u in (cast.a, cast.b))
    done = _self_check(portal, other, form, cast.b, exits_clear=False)
    assert done.status_code == 201, done.text
    theirs = done.json()["opened_hazards"][0]["id"]
    branch = _self_check(portal, chain, form, cast.c, extinguishers_ok=False)
    assert branch.status_code == 201, branch.text  # a branch of A's chain
    ours = branch.json()["opened_hazards"][0]["id"]
    assert portal.get(f"/api/records/{ours}", headers=chain).status_code == 200
    for path in (
        f"/api/records/{theirs}",
        f"/api/hazards/{theirs}",
        f"/api/records/{theirs}/attachments",
        f"/api/portal/unit?id={cast.b}",
    ):
        assert portal.get(path, headers=chain).status_code == 404, path
    assert _self_check(portal, chain, form, cast.b).status_code == 404
    step = portal.post(f"/api/hazards/{theirs}/transitions", json={"action": "rectify"},
                       headers={**chain, "If-Match": '"1"'})  # fmt: skip
    assert step.status_code == 404
    photo = portal.post(f"/api/records/{theirs}/attachments", headers=chain,
                        files={"file": ("a.png", b"\x89PNG\r\n\x1a\n", "image/png")})  # fmt: skip
    assert photo.status_code == 404
    # B sees nothing of A's chain
    assert portal.get(f"/api/records/{ours}", headers=other).status_code == 404
    assert portal.get(f"/api/portal/unit?id={cast.c}", headers=other).status_code == 404
    org = portal.get("/api/portal/units", headers=chain).json()
    assert [(f["id"], f["own"]) for f in org] == [(cast.a, True), (cast.c, False)]
    listed = portal.get("/api/portal/records?kind=hazard&open=true", headers=chain).json()
    assert ours in [r["id"] for r in listed["data"]] and theirs not in [
        r["id"] for r in listed["data"]
    ]


def test_home_lists_hazards_to_fix_deadlines_and_unread_notices(
    client: TestClient, portal: TestClient, cast: Cast, form: str
) -> None:
    unit = _unit_user(client, portal, cast, cast.c)
    hazard = _self_check(portal, unit, form, cast.c, exits_clear=False).json()["opened_hazards"][0]
    sent = {"title": "门户测试通知", "body": "请阅读。", "units": [cast.c]}
    notice = client.post("/api/notices", json=sent, headers=cast.officer)
    assert notice.status_code == 201, notice.text
    staff = {"title": "人员报备", "topic": "internal_security",
             "features": [{"layer": "units", "id": cast.c}],
             "details": {"person_name": "张三", "id_number": "110101199001011234",
                         "phone": "13900139000", "staff_role": "guard"}}  # fmt: skip
    reported = portal.post("/api/staff-registrations", json=staff, headers=unit)
    assert reported.status_code == 201, reported.text
    home = portal.get("/api/portal/home", headers=unit).json()
    todos = [r["id"] for r in home["todos"]]
    assert hazard["id"] in todos and reported.json()["id"] not in todos  # it waits for the police
    assert home["open_hazards"] >= 1 and home["unread_notices"] >= 1
    message = next(m for m in home["notices"] if m["record"]["title"] == "门户测试通知")
    assert portal.post(f"/api/inbox/{message['id']}/read", headers=unit).status_code == 200
    after = portal.get("/api/portal/home", headers=unit).json()
    assert after["unread_notices"] == home["unread_notices"] - 1
    receipts = client.get(f"/api/notices/{notice.json()['id']}/receipts", headers=cast.officer)
    assert receipts.json()["read"] >= 1
    # the hazard is the unit's to rectify, with photos
    rectify = portal.post(f"/api/hazards/{hazard['id']}/transitions", json={"action": "rectify"},
                          headers={**unit, "If-Match": f'"{hazard["version"]}"'})  # fmt: skip
    assert rectify.status_code == 200, rectify.text


def test_a_unit_sees_the_patrols_of_its_units_and_reports_an_activity_for_approval(
    client: TestClient, portal: TestClient, cast: Cast
) -> None:
    template = {**self_check_form(), "form_kind": "inspection", "title": "单位巡查表"}
    assert client.post("/api/forms", json=template, headers=cast.commander).status_code == 201
    patrols = {}
    for unit_id in (cast.a, cast.b):  # the officer's patrol of each unit
        body = {"template": template["code"], "features": [{"layer": "units", "id": unit_id}],
                "answers": {"exits_clear": True, "extinguishers_ok": True}}  # fmt: skip
        made = client.post("/api/inspections", json=body, headers=cast.officer)
        assert made.status_code == 201, made.text
        patrols[unit_id] = made.json()["id"]
    own = _unit_user(client, portal, cast, cast.b)
    listed = portal.get("/api/portal/records?kind=inspection", headers=own).json()["data"]
    assert patrols[cast.b] in [r["id"] for r in listed]
    assert patrols[cast.a] not in [r["id"] for r in listed]  # another unit's patrol
    assert portal.get(f"/api/records/{patrols[cast.a]}", headers=own).status_code == 404
    assert portal.post("/api/inspections", json=body, headers=own).status_code == 404  # not served
    start = datetime.now(UTC) + timedelta(days=5)
    activity = portal.post("/api/activities", headers=own, json={
        "title": "门户测试活动", "topic": "internal_security",
        "features": [{"layer": "units", "id": cast.b}],
        "starts_at": start.isoformat(), "ends_at": (start + timedelta(hours=3)).isoformat(),
        "details": {"organiser": "本单位", "expected_size": 800}})  # fmt: skip
    assert activity.status_code == 201, activity.text
    assert activity.json()["state"] == "reported"  # waits for the police
    decided = client.post(
        f"/api/activities/{activity.json()['id']}/transitions", json={"action": "approve"},
        headers={**cast.officer, "If-Match": f'"{activity.json()["version"]}"'},
    )  # fmt: skip
    assert decided.status_code == 200, decided.text
    mine = portal.get("/api/portal/records?kind=activity", headers=own).json()["data"]
    assert [(r["id"], r["state"]) for r in mine] == [(activity.json()["id"], "approved")]


def test_a_transit_company_works_on_its_own_stations_only(
    portal: TestClient, session_factory: sessionmaker[Session], form: str
) -> None:
    with session_factory() as session:  # the demo city's metro companies and their stations
        pairs = select(FeatureOperator.unit_id, FeatureOperator.feature_id)
        operated = session.execute(pairs.where(FeatureOperator.layer == "rail_stations")).all()
    stations: dict[int, set[int]] = {}
    for unit_id, station_id in operated:
        stations.setdefault(unit_id, set()).add(station_id)
    assert len(stations) >= 2, "the demo city has two metro companies"
    company, other = sorted(stations, key=lambda u: len(stations[u]))[:2]
    theirs = min(stations[other] - stations[company])
    user = bearer(portal, make_user(session_factory, Role.UNIT, Jurisdiction(unit_id=company)))
    org = portal.get("/api/portal/units", headers=user).json()
    assert {f["id"] for f in org if f["layer"] == "rail_stations"} == stations[company]
    station = min(stations[company])
    read = portal.get(f"/api/portal/unit?layer=rail_stations&id={station}", headers=user)
    assert read.status_code == 200 and read.json()["editable"] == []  # details: its own unit's
    elsewhere = portal.get(f"/api/portal/unit?layer=rail_stations&id={theirs}", headers=user)
    assert elsewhere.status_code == 404

    def check(station_id: int) -> Any:
        return portal.post("/api/self-checks", headers=user, json={
            "template": form, "features": [{"layer": "rail_stations", "id": station_id}],
            "answers": {"exits_clear": True, "extinguishers_ok": False}})  # fmt: skip

    done = check(station)
    assert done.status_code == 201, done.text
    hazard = done.json()["opened_hazards"][0]["id"]
    assert portal.get(f"/api/hazards/{hazard}", headers=user).status_code == 200
    assert check(theirs).status_code == 404


def test_the_portal_may_use_an_exchange_copy_of_the_database(
    settings: Settings, scratch_database_url: str, session_factory: sessionmaker[Session],
    cast: Cast,
) -> None:  # fmt: skip
    copy = portal_settings(settings, PortalSettings(database_url=scratch_database_url))
    assert portal_settings(settings, PortalSettings()) is settings
    name = make_user(session_factory, Role.UNIT, Jurisdiction(unit_id=cast.a))  # main database
    with TestClient(create_portal_app(copy)) as exchange:
        assert exchange.get("/api/health").json()["database"] == "ok"
        login = exchange.post("/api/auth/login", json={"username": name, "password": PASSWORD})
        assert login.status_code == 401  # the copy has no such account (yet)
