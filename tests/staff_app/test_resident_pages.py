"""The resident pages of the app in headless Chromium at 360 px, in Chinese: a resident signs in with the
code texted to them, reports a leak with a photo (a lost answer and a second tap make one case), sees
the published deadlines; staff acknowledge and resolve through the API; the resident answers "not
satisfied" in the page and the case reopens, then "satisfied" and it closes. A neighbour sees neither
the case nor its photo. A question asked in the page is answered in writing and closes through its
callback. The public board shows the month's figures of `/reports/sla` and names no one.
Screenshots under test-output/staff_app/."""

from __future__ import annotations

import asyncio
import io
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from PIL import Image
from playwright.async_api import Page, Route
from sqlalchemy import func, select

from steward.store.models import Notification
from tests.console.conftest import PATIENCE_S
from tests.staff_app.conftest import StaffApp, screenshot
from tests.staff_app.test_staff_app import check_layout

RESIDENT_PHONE = "+8613800000101"
NEIGHBOUR_PHONE = "+8613800000102"


def a_photo() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (320, 240), (30, 90, 200)).save(out, format="JPEG")
    return out.getvalue()


async def case_page(staff_app: StaffApp, page: Page, case_id: str, selector: str) -> None:
    await page.goto(f"{staff_app.base_url}/app/#/mine/{case_id}")
    await page.reload()
    await page.wait_for_selector(selector)


async def test_a_resident_reports_a_leak_follows_it_and_answers_the_callback_in_the_page(
        staff_app: StaffApp) -> None:
    context, page = await staff_app.phone("zh-CN")
    await staff_app.sign_in(page, RESIDENT_PHONE)
    await page.wait_for_selector("#my-cases")
    await check_layout(page, "resident: my cases")

    await page.click("#resident-nav a[href='#/report']")
    await page.wait_for_selector("#report-form")
    assert "+86 21 5555 0100" in await page.inner_text("#emergency-first")
    await page.check("input[name=severity][value=emergency]")
    emergency = page.locator("#emergency")
    await emergency.wait_for()
    assert "+86 21 5555 0100" in await emergency.inner_text() and "119" in await emergency.inner_text()
    await check_layout(page, "resident: report, emergency")
    await screenshot(page, "resident-report-emergency")
    await page.check("input[name=severity][value=urgent]")
    assert await emergency.is_hidden()
    await page.select_option("#category", "plumbing")
    await page.fill("#title", "厨房水管漏水")
    await page.fill("#description", "水槽下面一直在滴水，地上湿了。")
    await page.set_input_files("#photos", files=[
        {"name": "leak.jpg", "mimeType": "image/jpeg", "buffer": a_photo()}])

    lost: list[str] = []

    async def answer_lost(route: Route) -> None:
        """The submission reaches Steward, but its answer never reaches the phone."""
        lost.append(route.request.headers["idempotency-key"])
        await route.fetch()
        await route.abort()

    await page.route("**/requests", answer_lost, times=1)
    await page.click("#report-form button[type=submit]")
    await page.wait_for_selector("#report-message:has-text('没有联网')")
    await page.click("#report-form button[type=submit]")
    await page.wait_for_selector("#my-case")
    case_id = page.url.rsplit("/", 1)[-1]
    staff_app.case_ids.append(case_id)
    mine = (await staff_app.call("resident", "GET", "/app/api/my-cases")).json()
    assert [c["case_id"] for c in mine].count(case_id) == 1 and len(lost) == 1
    state = await staff_app.until(case_id, lambda s: any(e["event"] == "photos_added" for e in s["timeline"]))
    assert (state["kind"], state["severity"], state["unit"], state["resident_id"]) == (
        "repair", "urgent", "101", "R001")
    photo_id = next(e for e in state["timeline"] if e["event"] == "photos_added")["detail"]["photos"][0]

    await case_page(staff_app, page, case_id, "#timeline img[src^=blob]")
    assert (await page.inner_text("#response-due")).strip()
    assert (await page.inner_text("#resolution-due")).strip()
    assert "工作人员将在" in await page.inner_text("#next-step")
    await check_layout(page, "resident: case")
    await screenshot(page, "resident-case")

    await staff_app.act("staff", case_id, "acknowledge")
    response = await staff_app.call("staff", "POST", f"/requests/{case_id}/progress",
                                    {"note": "internal: the valve is from the 1990s"})
    assert response.status_code == 202, response.text
    await staff_app.act("staff", case_id, "pause", {"reason": "住户不在家，约好明天上门"})
    await case_page(staff_app, page, case_id, "#resume")
    assert "住户不在家，约好明天上门" in await page.inner_text("#next-step")
    await page.click("#resume")
    await staff_app.until(case_id, lambda s: not s["paused"] and s["timeline"][-1]["event"] == "resumed")
    resumed = (await staff_app.until(case_id, lambda s: True))["timeline"][-1]
    assert resumed["actor"] == {"id": "R001", "role": "resident"}
    await staff_app.act("staff", case_id, "resolve", {"note": "更换了水槽下的阀门。"})
    await staff_app.until(case_id, lambda s: s["status"] == "callback" and s["callback_attempt"] == 1)
    await case_page(staff_app, page, case_id, "#answer")
    assert "Wang" in await page.inner_text("#who") and "S001" not in await page.inner_text("#my-case")
    shown = await page.inner_text("#timeline")
    assert "1990s" not in shown and "covers" not in shown  # no staff note, no dispatcher's reasoning
    await check_layout(page, "resident: answer")
    await screenshot(page, "resident-answer")
    await page.fill("#answer-comment", "晚上还是在滴水。")
    await page.click("#not-satisfied")
    state = await staff_app.until(case_id, lambda s: s["reopen_count"] == 1 and s["status"] == "in_progress")
    reply = next(e for e in state["timeline"] if e["event"] == "callback_reply")
    said = {"comment": "晚上还是在滴水。", "satisfied": False, "channel": "app"}
    assert reply["detail"] | said == reply["detail"]

    await staff_app.act("staff", case_id, "resolve", {"note": "阀门重新密封，已观察一晚。"})
    await staff_app.until(case_id, lambda s: s["status"] == "callback" and s["callback_attempt"] == 2)
    await case_page(staff_app, page, case_id, "#answer")
    await page.click("#satisfied")
    state = await staff_app.until(case_id, lambda s: s["status"] == "closed")
    assert state["callback"]["result"] == "satisfied" and state["callback"]["channel"] == "app"
    await case_page(staff_app, page, case_id, "#my-case[data-status=closed]")
    assert "已办结" in await page.inner_text("#next-step")
    await context.close()

    context, page = await staff_app.phone("zh-CN")
    await staff_app.sign_in(page, NEIGHBOUR_PHONE)
    await page.wait_for_selector("#my-cases")
    assert case_id not in await page.inner_text("#my-cases")
    await page.goto(f"{staff_app.base_url}/app/#/mine/{case_id}")
    await page.wait_for_selector("main [role=alert]")
    assert (await staff_app.call("neighbour", "GET", f"/app/api/my-cases/{case_id}")).status_code == 404
    photo = f"/requests/{case_id}/photos/{photo_id}"
    assert (await staff_app.call("neighbour", "GET", photo)).status_code == 404
    assert (await staff_app.call("resident", "GET", photo)).status_code == 200
    await context.close()


async def test_a_question_asked_in_the_page_is_answered_in_writing_and_closed_through_its_callback(
        staff_app: StaffApp) -> None:
    context, page = await staff_app.phone("zh-CN")
    await staff_app.sign_in(page, RESIDENT_PHONE)
    await page.wait_for_selector("#my-cases")
    await page.click("#resident-nav a[href='#/report']")
    await page.check("input[name=kind][value=question]")
    assert await page.locator("#severity-choices").is_hidden()
    await page.select_option("#category", "fees")
    await page.check("input[name=where][value=common]")
    await page.fill("#title", "停车费什么时候交？")
    await page.fill("#description", "公告栏上没找到日期。")
    await page.click("#report-form button[type=submit]")
    await page.wait_for_selector("#my-case")
    case_id = page.url.rsplit("/", 1)[-1]
    staff_app.case_ids.append(case_id)
    assert case_id.startswith("QS-")
    state = await staff_app.until(case_id, lambda s: s["status"] == "dispatched")
    assert (state["kind"], state["unit"], state["handler_id"]) == ("question", None, "S005")

    answer = "每月5日前在服务中心或应用内缴纳。"
    await staff_app.act("staff", case_id, "resolve", {"note": answer})
    await page.wait_for_selector("#answer", timeout=PATIENCE_S * 1000)  # the page refreshes itself
    assert answer in await page.inner_text("#timeline li[data-event=answer_sent]")
    assert any(answer in text for text in await staff_app.texts_to(RESIDENT_PHONE))
    await page.click("#satisfied")
    state = await staff_app.until(case_id, lambda s: s["status"] == "closed")
    assert state["callback"]["result"] == "satisfied"
    await context.close()


async def test_the_public_board_shows_the_months_figures_of_the_supervisors_report_and_no_one(
        staff_app: StaffApp) -> None:
    case_id = await staff_app.submit("resident", severity="low", category="lift", unit="101")
    await staff_app.until(case_id, lambda s: s["status"] == "dispatched")
    context, page = await staff_app.phone("zh-CN")
    month = datetime.now(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m")
    await page.goto(f"{staff_app.base_url}/public/?month={month}")
    await page.wait_for_selector("#month-categories")
    since, until = (await page.inner_text("#month h2")).split("（")[1].rstrip("）").split(" 至 ")
    report = (await staff_app.http.get("/reports/sla", params={"since": since, "until": until},
                                       headers=staff_app.auth("supervisor"))).json()
    assert await page.inner_text("#month-cases .big") == str(report["overall"]["cases"])
    for row in report["by_category"]:
        cells = await page.locator(f"#month-categories tr[data-category={row['key']}] td").all_inner_texts()
        assert cells[0] == str(row["cases"])
    assert "按时接单率" in await page.inner_text("#month")
    assert await page.locator("#hearings").is_visible() and await page.locator("#drills").is_visible()
    text = await page.inner_text("body")
    for personal in ("Resident R001", "R001", "+86138", "Wang Wei", "S001", "101"):
        assert personal not in text, personal
    await check_layout(page, "public board")
    await screenshot(page, "public-board")
    await context.close()


async def told(staff_app: StaffApp, resident_id: str, case_id: str) -> None:
    deadline = asyncio.get_running_loop().time() + PATIENCE_S
    while True:
        with staff_app.database.sessions() as session:
            if session.scalar(select(func.count()).where(Notification.case_id == case_id,
                                                         Notification.recipient_id == resident_id)):
                return
        assert asyncio.get_running_loop().time() < deadline, f"{resident_id} was not told of {case_id}"
        await asyncio.sleep(0.2)


async def test_a_resident_reads_the_hearing_that_concerns_them_objects_and_sees_the_written_answer(
        staff_app: StaffApp) -> None:
    soon = datetime.now(UTC)
    response = await staff_app.call("supervisor", "POST", "/hearings", {
        "title": "电梯更新", "reason": "电梯已使用25年，年检未通过。", "building_ids": ["B1"],
        "costs": [{"item": "新电梯", "amount": "680000.00"}, {"item": "安装", "amount": "45000.50"}],
        "hearing_at": (soon + timedelta(days=8)).isoformat(), "place": "会所"})
    assert response.status_code == 201, response.text
    hearing_id = response.json()["hearing_id"]
    response = await staff_app.call("supervisor", "POST", "/drills", {
        "drill_type": "flood", "building_id": "B1", "scheduled_at": (soon + timedelta(days=4)).isoformat()})
    assert response.status_code == 201, response.text
    drill_id = response.json()["drill_id"]
    staff_app.case_ids += [hearing_id, drill_id]
    await told(staff_app, "R001", hearing_id)
    await told(staff_app, "R001", drill_id)

    context, page = await staff_app.phone("zh-CN")
    await staff_app.sign_in(page, RESIDENT_PHONE)
    await page.wait_for_selector("#my-cases")
    await page.click("#resident-nav a[href='#/hearings']")
    card = page.locator(f"[id='{hearing_id}']")
    await card.wait_for()
    text = await card.inner_text()
    assert "新电梯" in text and "725,000.50" in text and "会所" in text
    assert await page.locator(f"[id='{drill_id}']").is_visible()
    await page.fill(f"[id='objection-{hearing_id}']", "费用为什么这么高？")
    await page.click(f"[id='object-{hearing_id}'] button[type=submit]")
    await card.locator(".objection", has_text="费用为什么这么高？").wait_for()
    assert "前书面答复" in await card.locator(".objection").inner_text()
    await check_layout(page, "resident: hearings and drills")

    response = await staff_app.call("staff", "POST", f"/hearings/{hearing_id}/objections/1/answer",
                                    {"answer": "费用含五年维保，明细见公示。"})
    assert response.status_code == 200, response.text
    await page.reload()
    await card.locator(".objection", has_text="费用含五年维保").wait_for()
    await screenshot(page, "resident-hearings")
    await context.close()

    assert (await staff_app.call("neighbour", "GET", "/app/api/hearings-and-drills")).json()[
        "hearings"][0]["objections"] == []


async def test_a_resident_answers_the_drills_alarm_survey_in_the_page_once(staff_app: StaffApp) -> None:
    at = datetime.now(UTC) + timedelta(minutes=2)
    response = await staff_app.call("supervisor", "POST", "/drills", {
        "drill_type": "fire", "building_id": "B1", "scheduled_at": at.isoformat()})
    assert response.status_code == 201, response.text
    drill_id = response.json()["drill_id"]
    staff_app.case_ids.append(drill_id)
    deadline = asyncio.get_running_loop().time() + PATIENCE_S
    while (started := await staff_app.call("staff", "POST", f"/drills/{drill_id}/start")).status_code != 200:
        assert asyncio.get_running_loop().time() < deadline, started.text
        await asyncio.sleep(0.2)
    for step in started.json()["steps"]:
        assert (await staff_app.call("staff", "POST", f"/drills/{drill_id}/step",
                                     {"number": step["number"]})).status_code == 202
    while not all(s["done_at"] for s in (await staff_app.call("staff", "GET", f"/drills/{drill_id}")).json()[
            "steps"]):
        assert asyncio.get_running_loop().time() < deadline, "the steps were not all recorded"
        await asyncio.sleep(0.2)
    completed = await staff_app.call("staff", "POST", f"/drills/{drill_id}/complete", {"participation": 12})
    assert completed.status_code == 200, completed.text
    while not await asyncio.to_thread(_surveyed, staff_app, drill_id, "R001"):
        assert asyncio.get_running_loop().time() < deadline, "R001 was not asked"
        await asyncio.sleep(0.2)

    context, page = await staff_app.phone("zh-CN")
    await staff_app.sign_in(page, RESIDENT_PHONE)
    await page.wait_for_selector("#my-cases")
    await page.click("#resident-nav a[href='#/hearings']")
    survey = page.locator(f"[id='survey-{drill_id}']")
    await survey.wait_for()
    assert "您听到警报了吗" in await survey.inner_text()
    assert "消防演练" in await page.locator(f"[id='{drill_id}'] h2").inner_text(), "named in Chinese"
    await check_layout(page, "resident: the alarm survey")
    await survey.locator("button.heard").click()
    await page.locator("#announce", has_text="已完成").wait_for(state="attached")
    await page.locator(f"[id='{drill_id}'] .answered", has_text="您对警报调查的回答已记录").wait_for()
    assert await survey.count() == 0, "once answered, the page no longer asks"
    again = await staff_app.call("resident", "POST", f"/drills/{drill_id}/survey", {"heard": False})
    assert again.status_code == 409, "the page's answer was the first, so it counts"
    await screenshot(page, "resident-survey")
    await context.close()


def _surveyed(staff_app: StaffApp, drill_id: str, resident_id: str) -> bool:
    with staff_app.database.sessions() as session:
        return bool(session.scalar(select(func.count()).where(
            Notification.case_id.startswith(f"{drill_id}/survey-"),
            Notification.recipient_id == resident_id)))
