"""The console's read-model views in headless Chromium: hearings and drills with their deadlines,
the queues for people (an unmatched SMS attached to a case from its queue), and a board that keeps
the keyboard where it was and does not announce its countdowns."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx

from tests.console.conftest import PATIENCE_S, Console, screenshot

SHANGHAI = ZoneInfo("Asia/Shanghai")
HEARING = {
    "title": "Lift renewal from the maintenance fund", "reason": "The lift failed its inspection.",
    "costs": [{"item": "New lift", "amount": "680000.00"}], "building_ids": ["B1"], "place": "Club house",
}


async def eventually_visible(page, selector: str, reload: str) -> None:
    """The views read when opened: press Refresh until the projection has landed."""
    deadline = asyncio.get_running_loop().time() + PATIENCE_S
    while not await page.locator(selector).count():
        assert asyncio.get_running_loop().time() < deadline, f"{selector} never appeared"
        await page.click(reload)
        await page.wait_for_timeout(300)


async def test_a_hearing_and_a_drill_appear_in_their_views_with_their_deadlines(console: Console) -> None:
    hearing = await console.call("supervisor", "POST", "/hearings", HEARING | {
        "hearing_at": (datetime.now(UTC) + timedelta(days=8)).isoformat()})
    assert hearing.status_code == 201, hearing.text
    hearing_id = hearing.json()["hearing_id"]
    receipt = await console.call("resident", "POST", f"/hearings/{hearing_id}/objections",
                                 {"text": "Why now?"})
    assert receipt.status_code == 201, receipt.text
    scheduled = datetime.now(UTC) + timedelta(days=4)
    drill = await console.call("supervisor", "POST", "/drills", {
        "drill_type": "fire", "building_id": "B2", "scheduled_at": scheduled.isoformat()})
    assert drill.status_code == 201, drill.text
    drill_id = drill.json()["drill_id"]
    console.case_ids += [hearing_id, drill_id]

    page = await console.signed_in("en")
    await page.click('#nav a[data-section="hearings"]')
    row = f'#hearings-awaiting tr[data-hearing="{hearing_id}"]'
    await eventually_visible(page, row, "#duties-refresh")
    assert await page.inner_text(f"{row} td.objections") == "1 / 1"
    due = datetime.fromisoformat(receipt.json()["answer_due"]).astimezone(
        SHANGHAI)
    assert due.strftime("%H:%M") in await page.inner_text(f"{row} td.answer-due")
    await screenshot(page, "hearings-en")

    await page.click('#nav a[data-section="drills"]')
    row = f'#drills-not-started tr[data-drill="{drill_id}"]'
    await eventually_visible(page, row, "#duties-refresh")
    start_due = (scheduled + timedelta(minutes=30)).astimezone(SHANGHAI)
    assert start_due.strftime("%H:%M") in await page.inner_text(f"{row} td.start-due")
    await screenshot(page, "drills-en")

    chinese = await console.signed_in("zh-CN")
    await chinese.click('#nav a[data-section="drills"]')
    await eventually_visible(chinese, f'#drills-not-started tr[data-drill="{drill_id}"]', "#duties-refresh")
    assert "尚未开始的演练" in await chinese.inner_text("#drills-not-started")
    await screenshot(chinese, "drills-zh-CN")
    await chinese.context.close()
    await page.context.close()


async def test_an_unmatched_sms_is_attached_to_a_case_from_the_queue_view(console: Console) -> None:
    case_id = await console.submit("resident")
    await console.until(case_id, lambda s: s["status"] == "dispatched")
    text = f"Stair light out {uuid.uuid4().hex[:6]}"
    async with httpx.AsyncClient(base_url=console.sandbox_url) as sandbox:
        sent = await sandbox.post("/sandbox/reply", json={"from": "+8613900008888", "body": text})
        assert sent.status_code == 200, sent.text

    page = await console.signed_in("en")
    await page.click('#nav a[data-section="queues"]')
    row = page.locator("#queue-sms tr", has_text=text)
    await eventually_visible(page, f'#queue-sms tr:has-text("{text}")', "#queues-refresh")
    await row.locator("input").fill(case_id)
    await row.locator("button[type=submit]").click()
    await page.wait_for_function(
        "text => ![...document.querySelectorAll('#queue-sms tr')].some(r => r.textContent.includes(text))",
        arg=text)
    assert await page.inner_text("#announcer") == f"Attached to {case_id}."
    state = await console.until(case_id, lambda s: any(text in str(e["detail"].get("note"))
                                                       for e in s["timeline"]))
    note = next(e for e in state["timeline"] if text in str(e["detail"].get("note")))
    assert note["actor"] == {"id": "S201", "role": "supervisor"}
    await page.context.close()


async def test_the_board_keeps_focus_and_leaves_countdowns_out_of_what_is_announced(console: Console) -> None:
    first = await console.submit("resident")
    page = await console.signed_in("en")
    link = f'tr[data-case="{first}"] a.case-link'
    await page.wait_for_selector(link)
    assert await page.get_attribute("#view", "aria-live") is None
    assert await page.get_attribute(f'tr[data-case="{first}"] td.countdown', "aria-hidden") == "true"
    await page.focus(link)

    second = await console.submit("resident")
    await page.wait_for_selector(f'tr[data-case="{second}"]')
    assert await page.evaluate("() => document.activeElement.closest('tr')?.dataset.case") == first
    announced = await page.inner_text("#announcer")
    assert "open cases" in announced
    await page.wait_for_timeout(2500)  # countdowns tick and the board polls; nothing new is said
    assert await page.inner_text("#announcer") == announced
    await page.context.close()
