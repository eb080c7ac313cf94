"""An officer's day on the phone (/m, 360x740, touch): nearby units, a check-in near a unit
and one refused far from it, an inspection with a photo made offline that arrives once, and
the work views - security tasks, clue verification, the hazard ledger - with a clue taken
into verification and a rectified hazard verified from the phone.

The phone's position is Playwright's faked geolocation; the network is cut with
``context.set_offline`` and, once, the server's answer is lost on the way back (the write
was done, the phone does not know): the resend under the same Idempotency-Key is answered,
not done again. Screenshots land in ``tests/ui/screenshots/phone_*.png``.
"""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from geoalchemy2.shape import to_shape
from playwright.sync_api import (
    Browser,
    FilePayload,
    Geolocation,
    Page,
    Route,
    ViewportSize,
)
from sqlalchemy import select, text
from sqlalchemy.orm import Session, sessionmaker

from layers.accounts.roles import Role
from layers.accounts.service import Jurisdiction
from layers.features.models import Unit
from tests.ui.helpers import SCREENSHOTS, log_in
from tests.utils.images import png_bytes
from tests.utils.places import precincts_with_units
from tests.utils.users import PASSWORD, bearer, make_user

PHONE = ViewportSize(width=360, height=740)
DUE = "2020-01-01T09:00:00+08:00"  # before the demo city's records: first in each list


def _count(factory: sessionmaker[Session], sql: str, **values: object) -> int:
    with factory() as session:
        return int(session.scalar(text(sql), values) or 0)


def _open_unit(page: Page, unit_id: int) -> None:
    page.tap("nav.tabs button[data-tab=nearby]")
    page.tap(f"#nearby li[data-id='{unit_id}'] button.link")
    page.wait_for_selector("#check-in")


def _work(client: TestClient, headers: dict[str, str], unit_id: int) -> dict[str, Any]:
    """Make, as the precinct's commander, a security task, a clue and a rectified hazard."""
    about = {"topic": "internal_security", "features": [{"layer": "units", "id": unit_id}],
             "due_at": DUE}  # fmt: skip
    made: dict[str, Any] = {}
    for kind, path, title, details in (
        ("task", "/api/tasks", "演唱会安保勤务", {"task_kind": "security"}),
        ("clue", "/api/clues", "群众举报可疑人员", {"source": "hotline", "content": "夜间聚集"}),
        ("hazard", "/api/hazards", "消防通道堵塞", {"level": 2, "category": "fire"}),
    ):
        response = client.post(path, json={**about, "title": title, "details": details},
                               headers=headers)  # fmt: skip
        assert response.status_code == 201, response.text
        made[kind] = response.json()
    for action in ("rectify", "report"):  # the unit has fixed it: the officer verifies
        hazard = made["hazard"]
        moved = client.post(f"/api/hazards/{hazard['id']}/transitions", json={"action": action},
                            headers={**headers, "If-Match": f'"{hazard["version"]}"'})  # fmt: skip
        assert moved.status_code == 200, moved.text
        made["hazard"] = moved.json()
    return made


def _state(factory: sessionmaker[Session], record_id: int) -> str:
    with factory() as session:
        found = session.scalar(text("SELECT state FROM records WHERE id = :i"), {"i": record_id})
    return str(found)


def test_an_officer_checks_in_and_inspects_offline_on_the_phone(
    served_city: str, browser: Browser, session_factory: sessionmaker[Session],
    client: TestClient,
) -> None:  # fmt: skip
    with session_factory() as session:
        precinct = precincts_with_units(session)[1]
        unit = session.scalars(
            select(Unit).where(Unit.precinct_id == precinct.id).order_by(Unit.id).limit(1)
        ).one()
        lon, lat = to_shape(unit.geom).coords[0]
    officer = make_user(session_factory, Role.OFFICER, Jurisdiction(precinct_code=precinct.code))
    commander = make_user(session_factory, Role.COMMANDER,
                          Jurisdiction(precinct_code=precinct.code))  # fmt: skip
    work = _work(client, bearer(client, commander), unit.id)
    near = Geolocation(longitude=lon, latitude=lat + 0.0008)  # ~90 m north
    context = browser.new_context(
        viewport=PHONE, is_mobile=True, has_touch=True, locale="zh-CN",
        geolocation=near, permissions=["geolocation"],
    )  # fmt: skip
    page = context.new_page()
    page.goto(f"{served_city}/m")
    log_in(page, officer, PASSWORD)
    page.wait_for_selector("nav.tabs button[data-tab=home]")

    _open_unit(page, unit.id)
    page.tap("#check-in")
    page.wait_for_selector("#message.ok:has-text('签到成功')")
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=SCREENSHOTS / "phone_check_in.png")
    mine = "SELECT count(*) FROM check_ins WHERE feature_id = :f AND username = :u"
    assert _count(session_factory, mine, f=unit.id, u=officer) == 1

    context.set_geolocation(Geolocation(longitude=lon, latitude=lat + 0.02))  # ~2.2 km north
    page.tap("#check-in")
    page.wait_for_selector("#message.error:has-text('签到被拒绝')")
    assert _count(session_factory, mine, f=unit.id, u=officer) == 1

    page.tap("#inspect")
    page.wait_for_selector("#inspection")
    page.uncheck("#inspection input[name=exits_clear]")
    photo = FilePayload(name="scene.png", mimeType="image/png", buffer=png_bytes(8, 8, noise=b"x"))
    page.set_input_files("#photos", files=[photo])
    context.set_offline(True)
    page.tap("#inspection button[type=submit]")
    page.wait_for_selector("#message.notice:has-text('联网后自动发送')")
    page.wait_for_selector("#pending-badge:has-text('待发送 1 条')")
    page.tap("nav.tabs button[data-tab=queue]")
    page.wait_for_selector("#queue li")
    page.screenshot(path=SCREENSHOTS / "phone_offline_queue.png")

    # Back online, the first answer is lost on its way back: the server has the inspection,
    # the phone keeps it queued and sends it again.
    lost: list[str] = []

    def lose_the_answer(route: Route) -> None:
        if route.request.method == "POST" and not lost:
            route.fetch()
            lost.append(route.request.headers["idempotency-key"])
            route.abort("connectionreset")
        else:
            route.continue_()

    page.route("**/api/inspections", lose_the_answer)
    with page.expect_event("requestfailed", lambda r: r.url.endswith("/api/inspections")):
        context.set_offline(False)
    page.wait_for_selector("#pending-badge:has-text('待发送 1 条')")
    assert len(lost) == 1
    page.tap("button:has-text('立即发送')")
    page.wait_for_selector("#pending-badge", state="hidden")
    page.wait_for_selector("text=没有待发送的内容")

    kept = _count(session_factory, "SELECT count(*) FROM records r JOIN record_links l ON "
                  "l.record_id = r.id WHERE r.kind = 'inspection' AND l.feature_id = :f "
                  "AND r.created_at > now() - interval '10 minutes' AND "
                  "r.details->'answers'->>'exits_clear' = 'false'", f=unit.id)  # fmt: skip
    photos = _count(session_factory, "SELECT count(*) FROM record_attachments a JOIN "
                    "record_links l ON l.record_id = a.record_id WHERE l.feature_id = :f "
                    "AND a.name = 'scene.png'", f=unit.id)  # fmt: skip
    assert kept == 1 and photos == 1
    _open_unit(page, unit.id)
    page.screenshot(path=SCREENSHOTS / "phone_unit_card.png", full_page=True)

    # The work views, from home's tiles: the security task is listed with the step a lead
    # may take; a clue is taken into verification; a rectified hazard is verified.
    page.tap("nav.tabs button[data-tab=home]")
    page.tap("#open-security")
    page.wait_for_selector(f"li[data-id='{work['task']['id']}'] button[data-action=assign]")
    page.tap("nav.tabs button[data-tab=home]")
    page.tap("#open-clues")
    page.tap(f"#clue-list li[data-id='{work['clue']['id']}'] button[data-action=verify]")
    page.wait_for_selector(f"#clue-list li[data-id='{work['clue']['id']}'][data-state=verifying]")
    assert _state(session_factory, work["clue"]["id"]) == "verifying"
    page.tap("nav.tabs button[data-tab=home]")
    page.tap("#open-hazards")
    hazard = f"#ledger li[data-id='{work['hazard']['id']}']"
    page.wait_for_selector(f"{hazard} .due.late")  # its deadline has passed
    page.screenshot(path=SCREENSHOTS / "phone_hazard_ledger.png")
    page.tap(f"{hazard} button[data-action=verify]")
    page.wait_for_selector("#message.ok:has-text('已办理')")
    page.wait_for_selector(hazard, state="detached")  # verified: closed, off the ledger
    assert _state(session_factory, work["hazard"]["id"]) == "verified"
    context.close()
