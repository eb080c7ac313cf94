"""The tourism dashboard (/tourism): counts a counter posts through the API turn the park red
on the map and raise its alert in the panel, live from the stream, without a reload; no
console error, no request beyond our origin.

Screenshot: ``tests/ui/screenshots/tourism.png``.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import h3
import httpx
from playwright.sync_api import Browser
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from layers.accounts.roles import Role
from layers.features.models import RailStation
from tests.ui.helpers import (
    SCREENSHOTS,
    SETTLED,
    console_errors,
    cut_network,
    log_in,
    new_page,
    wait_for_map,
)  # fmt: skip
from tests.utils.users import PASSWORD, make_user

HALF_DEG = 0.002  # a park of about 340 x 440 m
# whether the park's rendered shape is drawn at that level (its feature state on the map)
DRAWN_AT = """([id, level]) => window.warroomMap.queryRenderedFeatures({ layers: ["parks-fill"] })
  .some(feature => feature.id === id && feature.state.level === level)"""


FLOW_DRAWN = """id => window.warroomMap.queryRenderedFeatures({ layers: ["flows-line"] })
  .some(feature => feature.properties.park_id === id)"""


def _token(http: httpx.Client, username: str) -> dict[str, str]:
    answer = http.post("/api/auth/login", json={"username": username, "password": PASSWORD})
    assert answer.status_code == 200, answer.text
    http.cookies.clear()
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


def test_counts_turn_a_park_red_and_raise_its_alert_live(
    served_city: str, browser: Browser, session_factory: sessionmaker[Session]
) -> None:
    with session_factory() as session:
        lon, lat = session.execute(
            select(func.ST_X(RailStation.geom), func.ST_Y(RailStation.geom))
            .order_by(RailStation.id).limit(1)
        ).one()  # fmt: skip
    west, south = lon + 0.001, lat - HALF_DEG
    square = [[west, south], [west + 2 * HALF_DEG, south],
              [west + 2 * HALF_DEG, south + 2 * HALF_DEG], [west, south + 2 * HALF_DEG],
              [west, south]]  # fmt: skip
    tourism = make_user(session_factory, Role.TOURISM)
    commander = make_user(session_factory, Role.COMMANDER)
    code = f"T-{uuid.uuid4().hex[:8]}"
    with httpx.Client(base_url=served_city, timeout=30) as http:
        feed, boss = _token(http, tourism), _token(http, commander)
        made = http.post("/api/layers/parks/features", headers=boss, json={
            "type": "Feature", "geometry": {"type": "Polygon", "coordinates": [square]},
            "properties": {"name": f"测试景区{code[2:6]}", "kind": "park", "capacity": 100,
                           "daily_capacity": 300, "grade": "4A"},
        })  # fmt: skip
        assert made.status_code == 201, made.text
        park_id = made.json()["id"]
        gate = http.post("/api/tourism/points", headers=feed, json={
            "park_id": park_id, "code": code, "name": f"{code}号门", "kind": "gate",
            "counts": True, "lon": west, "lat": lat,
        })  # fmt: skip
        assert gate.status_code == 201, gate.text
        hour = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
        flow = http.post("/api/tourism/flows", headers=feed, json={"flows": [{
            "origin_kind": "h3", "origin": h3.latlng_to_cell(lat, west - 0.004, 8),
            "park_id": park_id, "at": hour.isoformat(), "volume": 50}]})  # fmt: skip
        assert flow.status_code == 200, flow.text

        page = new_page(browser)
        errors = console_errors(page)
        elsewhere = cut_network(page, served_city)
        page.goto(f"{served_city}/tourism")
        log_in(page, tourism, PASSWORD)
        page.wait_for_selector("body[data-ready=true]")
        page.wait_for_selector("#live.open")
        wait_for_map(page, "parks-fill")
        page.evaluate("b => window.warroomMap.fitBounds(b, {padding: 120, animate: false})",
                      [[west, south], [west + 2 * HALF_DEG, south + 2 * HALF_DEG]])  # fmt: skip
        page.evaluate(SETTLED)
        page.wait_for_function(DRAWN_AT, arg=[park_id, "normal"])
        page.wait_for_function(FLOW_DRAWN, arg=park_id)  # its arc, from the cell to the west
        assert page.locator(f"#alerts li[data-park='{park_id}']").count() == 0

        at = (datetime.now(UTC) - timedelta(minutes=1)).replace(microsecond=0)
        posted = http.post("/api/tourism/counts", headers=feed, json={"readings": [
            {"point": code, "at": at.isoformat(), "in": 97, "out": 1}]})  # fmt: skip
        assert posted.status_code == 200, posted.text
        assert posted.json()["alert_ids"], posted.text

    # 96 inside of 100: red, on the map and in the panel, with no reload
    page.wait_for_selector(f"#alerts li[data-park='{park_id}']:has-text('红色预警')")
    page.wait_for_function(DRAWN_AT, arg=[park_id, "red"])
    page.wait_for_selector(f"#parks li[data-park='{park_id}'][data-level=red]")
    page.evaluate("() => window.warroomMap.setZoom(13)")  # the park among its neighbours
    page.evaluate(SETTLED)
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=SCREENSHOTS / "tourism.png")
    assert errors == []
    assert elsewhere == []
