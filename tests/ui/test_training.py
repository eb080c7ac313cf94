"""The learning centre in Chromium, on the unit portal: a unit user opens the course the
bureau's plan assigned to their unit, studies its document and video, fails the quiz, then
passes it and sees the certificate; the server holds the same certificate."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta

import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import Browser, expect
from sqlalchemy import select, text
from sqlalchemy.orm import Session, sessionmaker

from layers.accounts.roles import Role
from layers.accounts.service import Jurisdiction
from layers.features.models import Unit
from layers.settings import Settings
from tests.api.test_training import QUESTIONS, mp4, pdf
from tests.ui.helpers import SCREENSHOTS, cut_network
from tests.utils.servers import served
from tests.utils.users import PASSWORD, bearer, make_user
from warroom_ui.portal import create_portal_app


@pytest.fixture(scope="module")
def portal_url(settings: Settings, city: None) -> Iterator[str]:
    """The portal app on the run's database, at the returned base URL."""
    with served(create_portal_app(settings)) as url:
        yield url


def test_a_unit_user_studies_a_course_and_passes_its_quiz(
    browser: Browser, portal_url: str, client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    with session_factory() as session:
        unit_id = session.scalars(select(Unit.id).order_by(Unit.id.desc()).limit(1)).one()
    commander = bearer(client, make_user(session_factory, Role.COMMANDER))
    learner = make_user(session_factory, Role.UNIT, Jurisdiction(unit_id=unit_id))
    resources = []
    for title, data, name in (("消防安全手册", pdf(), "手册.pdf"), ("疏散演练", mp4(), "演练.mp4")):
        added = client.post("/api/training/resources", headers=commander, data={"title": title},
                            files={"file": (name, data, "application/octet-stream")})  # fmt: skip
        assert added.status_code == 201, added.text
        resources.append(added.json()["id"])
    course = client.post("/api/training/courses", headers=commander, json={
        "title": "保安员消防培训", "pass_mark": 75, "state": "published",
        "resource_ids": resources, "questions": QUESTIONS}).json()  # fmt: skip
    deadline = (date.today() + timedelta(days=14)).isoformat()
    planned = client.post("/api/training/plans", headers=commander, json={
        "title": "消防培训计划", "course_ids": [course["id"]], "unit_ids": [unit_id],
        "deadline": deadline})  # fmt: skip
    assert planned.status_code == 201, planned.text
    notice = {"title": "培训通知：消防月", "body": "请于截止日期前完成课程并通过测验。"}
    assert client.post("/api/training/notices", headers=commander, json=notice).status_code == 201

    page = browser.new_page(viewport={"width": 390, "height": 844}, locale="zh-CN",
                            has_touch=True, is_mobile=True)  # fmt: skip
    elsewhere = cut_network(page, portal_url)
    page.goto(f"{portal_url}/training")
    page.fill("#login input[name=username]", learner)
    page.fill("#login input[name=password]", PASSWORD)
    page.click("#login button[type=submit]")
    row = page.locator(f"li[data-course='{course['id']}']")
    expect(row).to_contain_text("学习中")
    expect(row).to_contain_text(f"截止 {deadline}")
    expect(page.locator("section.card", has_text="培训通知")).to_contain_text(notice["body"])
    row.locator("button.link").click()

    expect(page.locator("main#view h2")).to_have_text("保安员消防培训")
    expect(page.locator("#quiz")).to_have_count(0)  # the quiz waits until every part is studied
    for resource_id in resources:
        page.locator(f"li[data-resource='{resource_id}'] button", has_text="学习此资料").click()
        expect(page.locator(f"li[data-resource='{resource_id}']")).to_contain_text("已学习")
    expect(page.locator("video.lesson")).to_have_attribute(
        "src", f"/api/training/resources/{resources[1]}/content"
    )
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "training-course-phone.png"), full_page=True)

    def answer(picks: dict[str, list[int]]) -> None:
        for question in QUESTIONS:
            for index in range(len(question["choices"])):
                box = page.locator(
                    f"fieldset[data-question='{question['id']}'] input[value='{index}']"
                )
                box.set_checked(index in picks[question["id"]])
        page.click("#quiz button[type=submit]")

    answer({"q1": [0], "q2": [1], "q3": [0]})
    expect(page.locator("#message")).to_contain_text("得分 25，未通过")
    answer({"q1": [0], "q2": [0], "q3": [0, 1]})
    expect(page.locator("#message")).to_contain_text("得分 100，通过")
    expect(page.locator("#message")).to_contain_text("证书编号 PX")
    page.screenshot(path=str(SCREENSHOTS / "training-passed-phone.png"), full_page=True)

    page.click("text=返回课程列表")
    expect(row).to_contain_text("已通过")
    expect(page.locator("section.card", has_text="我的证书").locator("li")).to_have_count(1)
    page.set_viewport_size({"width": 1280, "height": 800})
    page.screenshot(path=str(SCREENSHOTS / "training-list-desktop.png"), full_page=True)
    with session_factory() as session:
        held = session.execute(text(
            "SELECT count(*) FROM training_certificates c JOIN users u ON u.id = c.user_id "
            "WHERE u.username = :u AND c.course_id = :c"), {"u": learner, "c": course["id"]},
        ).scalar_one()  # fmt: skip
    assert held == 1
    assert not elsewhere, elsewhere
