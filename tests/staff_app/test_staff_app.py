"""The staff app in headless Chromium at 360 px: a plumber signs in with the code texted to them, opens
the dispatch notice, acknowledges, goes offline, adds a note with a photo and resolves, comes back
online; Steward applies both once, in order, with their device times, and the case moves to its
callback. Each page is checked for horizontal scrolling and unlabelled controls, and saved as a
screenshot under test-output/staff_app/."""

from __future__ import annotations

import asyncio
import io
from datetime import datetime

from PIL import Image
from playwright.async_api import Page
from sqlalchemy import select

from steward.seed import STAFF
from steward.store.models import Notification
from tests.console.conftest import PATIENCE_S
from tests.staff_app.conftest import APP_UNREAD_S, StaffApp, screenshot

PHONES = {staff_id: phone for staff_id, _, _, _, _, phone, _ in STAFF}
GPS_IFD = 0x8825


def photo_with_gps() -> bytes:
    """A JPEG as a phone camera makes it: with the place it was taken in its EXIF."""
    image = Image.new("RGB", (640, 480), (200, 120, 40))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    exif[GPS_IFD] = {1: "N", 2: (31.0, 14.0, 0.0), 3: "E", 4: (121.0, 28.0, 0.0)}
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif)
    return out.getvalue()


async def check_layout(page: Page, where: str) -> None:
    """No horizontal scroll at 360 px; every control has a label (or, for a button, its text)."""
    overflow = await page.evaluate(
        "() => document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"{where}: {overflow}px of horizontal scroll"
    unlabelled = await page.evaluate("""() =>
        [...document.querySelectorAll('input, select, textarea, button')]
        .filter(e => e.offsetParent !== null)
        .filter(e => e.tagName === 'BUTTON' ? !e.textContent.trim() && !e.getAttribute('aria-label')
                                            : !(e.labels && e.labels.length) && !e.getAttribute('aria-label'))
        .map(e => e.outerHTML.slice(0, 80))""")
    assert unlabelled == [], f"{where}: controls without a label: {unlabelled}"
    small = await page.evaluate("""() =>
        [...document.querySelectorAll('button, a.work-item, .tabs a, select')]
        .filter(e => e.offsetParent !== null && e.getBoundingClientRect().height < 44)
        .map(e => e.outerHTML.slice(0, 80))""")
    assert small == [], f"{where}: touch targets under 44 px: {small}"


async def until(staff_app: StaffApp, case_id: str, check, within: float = PATIENCE_S) -> dict:
    return await staff_app.until(case_id, check, within)


async def test_a_plumber_works_a_case_from_the_phone_through_an_offline_spell(staff_app: StaffApp) -> None:
    case_id = await staff_app.submit("resident", severity="low", category="plumbing", unit="101")
    state = await until(staff_app, case_id, lambda s: s["status"] == "dispatched" and s["handler_id"])
    handler = state["handler_id"]
    assert handler == "S001"  # the plumber on duty for building B1; "colleague" (S002) is not
    context, page = await staff_app.phone("en")
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))

    await staff_app.sign_in(page, PHONES[handler])
    await page.wait_for_selector(f"#work a[href*='{case_id}']")
    await check_layout(page, "my work")
    await screenshot(page, "my-work")

    await page.click("#nav a[data-section=notices]")
    notice = page.locator(".notice-open[data-key$=':app']", has_text=case_id)
    await notice.wait_for()
    assert "Not opened" in await notice.inner_text()
    await check_layout(page, "notices")
    await screenshot(page, "notices")
    async with page.expect_response(lambda r: r.url.endswith("/read") and r.status == 200):
        await notice.click()
    await page.wait_for_selector("#case")
    with staff_app.database.sessions() as session:
        opened = session.scalars(select(Notification).where(
            Notification.case_id == case_id, Notification.recipient_id == handler,
            Notification.template == "dispatch", Notification.channel == "app")).one()
        assert opened.read_at is not None

    await check_layout(page, "case")
    await page.click("#acknowledge")
    await until(staff_app, case_id, lambda s: s["status"] == "acknowledged" and s["owner_id"] == handler)
    await page.wait_for_selector("#pause-form")

    await context.set_offline(True)
    await page.fill("#note-text", "Washer worn; fitting a new one.")
    await page.set_input_files("#note-photos", files=[
        {"name": "tap.jpg", "mimeType": "image/jpeg", "buffer": photo_with_gps()}])
    await page.click("#note-form button[type=submit]")
    await page.wait_for_function("() => document.querySelector('#waiting').textContent === '1'")
    await page.fill("#resolve-note", "New washer fitted; no more drips.")
    await page.click("#resolve-form button[type=submit]")
    await page.wait_for_function("() => document.querySelector('#waiting').textContent === '2'")
    await page.click("#nav a[data-section=outbox]")
    await page.wait_for_selector("#outbox li:nth-child(2)")
    assert await page.locator("#network").is_visible()
    await check_layout(page, "outbox")
    await screenshot(page, "outbox-offline")
    assert (await staff_app.until(case_id, lambda s: True))["status"] == "acknowledged"

    await context.set_offline(False)
    state = await until(staff_app, case_id, lambda s: s["status"] in ("callback", "closed"))
    await page.wait_for_function("() => document.querySelector('#waiting').textContent === ''")
    entries = state["timeline"]
    notes = [e for e in entries if e["event"] == "progress"]
    resolutions = [e for e in entries if e["event"] == "resolved"]
    assert len(notes) == 1 and len(resolutions) == 1, entries
    assert entries.index(notes[0]) < entries.index(resolutions[0])
    note, resolution = notes[0], resolutions[0]
    assert note["detail"]["note"] == "Washer worn; fitting a new one."
    assert note["device_at"] and resolution["device_at"]
    made = [datetime.fromisoformat(e["device_at"]) for e in (note, resolution)]
    received = [datetime.fromisoformat(e["at"]) for e in (note, resolution)]
    assert made[0] <= made[1] < received[0] <= received[1]  # both made offline, before either arrived
    assert note["actor"]["id"] == resolution["actor"]["id"] == handler
    history = (await staff_app.call("supervisor", "GET", f"/requests/{case_id}/history")).json()["entries"]
    device_times = [datetime.fromisoformat(e["device_at"]) for e in history if e["device_at"]]
    assert [moment for moment in device_times if moment in made] == made  # both, once each, in order

    [photo_id] = note["detail"]["photos"]
    url = f"/requests/{case_id}/photos/{photo_id}"
    served = await staff_app.call("staff", "GET", url)
    assert served.status_code == 200 and served.headers["content-type"] == "image/jpeg"
    with Image.open(io.BytesIO(served.content)) as kept:
        exif = kept.getexif()
        assert GPS_IFD not in exif and 0x010F not in exif and "exif" not in kept.info
    for who in ("neighbour", "colleague"):
        refused = await staff_app.call(who, "GET", url)
        assert refused.status_code == 404, (who, refused.text)
    assert (await staff_app.call("resident", "GET", url)).status_code == 200

    await page.click("#nav a[data-section=work]")
    await page.goto(f"{staff_app.base_url}/app/#/case/{case_id}")
    await page.wait_for_selector("#timeline li[data-event=progress] img[alt]")
    await check_layout(page, "case after")
    await screenshot(page, "case")
    assert all(url.startswith(staff_app.base_url) or url.startswith("blob:") for url in requested), requested
    await context.close()


async def test_an_unread_app_notice_reaches_the_phone_by_sms_after_its_time(staff_app: StaffApp) -> None:
    case_id = await staff_app.submit("neighbour", severity="low", category="plumbing", unit="102")
    handler = (await until(staff_app, case_id, lambda s: s["handler_id"] is not None))["handler_id"]
    deadline = asyncio.get_running_loop().time() + APP_UNREAD_S + PATIENCE_S
    while not any(case_id in text for text in await staff_app.texts_to(PHONES[handler])):
        assert asyncio.get_running_loop().time() < deadline, "the unread dispatch never came by SMS"
        await asyncio.sleep(0.2)
    with staff_app.database.sessions() as session:
        rows = session.scalars(select(Notification).where(
            Notification.case_id == case_id, Notification.recipient_id == handler)).all()
    assert {(row.channel, row.template) for row in rows} >= {("app", "dispatch"), ("sms", "dispatch")}
    assert next(row for row in rows if row.channel == "app").read_at is None


async def test_a_refusal_is_shown_in_the_persons_language_and_a_resident_lands_on_their_own_pages(
        staff_app: StaffApp) -> None:
    case_id = await staff_app.submit("resident", severity="normal", category="plumbing", unit="101")
    await until(staff_app, case_id, lambda s: s["status"] == "dispatched")
    context, page = await staff_app.phone("zh-CN")
    seen = len(await staff_app.codes_to(PHONES["S101"]))
    await page.goto(f"{staff_app.base_url}/app/")
    await page.fill("#phone", PHONES["S101"])
    await page.click("#phone-form button[type=submit]")
    await page.fill("#code", "12345x")
    await page.click("#code-form button[type=submit]")  # refused by the browser: not 6 digits
    assert not await page.evaluate("() => document.querySelector('#code').validity.valid")
    wrong = (int(await staff_app.code_for(PHONES["S101"], seen)) + 1) % 1_000_000
    await page.fill("#code", f"{wrong:06d}")
    await page.click("#code-form button[type=submit]")
    await page.wait_for_selector("#sign-in-message:has-text('验证码错误或已失效')")
    await staff_app.sign_in(page, PHONES["S101"])
    await page.wait_for_selector("nav#nav:not([hidden])")
    await page.goto(f"{staff_app.base_url}/app/#/case/{case_id}")
    await page.wait_for_selector("#acknowledge")
    await staff_app.act("supervisor", case_id, "acknowledge")
    await page.click("#acknowledge")
    await page.wait_for_function("() => document.querySelector('#announce').textContent.includes('工单已由')")
    await check_layout(page, "refusal")
    await context.close()

    context, page = await staff_app.phone("en")
    await staff_app.sign_in(page, "+8613800000103")
    await page.wait_for_selector("#my-cases")
    assert await page.locator("#nav").is_hidden()
    await check_layout(page, "resident")
    await context.close()


async def test_the_console_accepts_the_same_sign_in_for_supervisors_only(staff_app: StaffApp) -> None:
    context = await staff_app.browser.new_context(locale="en", timezone_id="Asia/Shanghai")
    page = await context.new_page()
    page.set_default_timeout(15_000)
    for phone, signed_in in ((PHONES["S001"], "#sign-in-error:has-text('Only supervisors')"),
                             (PHONES["S201"], "#board-status:not(:empty)")):
        before = await staff_app.codes_to(phone)
        await page.goto(f"{staff_app.base_url}/console/")
        await page.fill("#phone", phone)
        await page.click("#phone-sign-in button[type=submit]")
        await page.wait_for_selector("#code:visible")
        await page.fill("#code", await staff_app.code_for(phone, len(before)))
        await page.click("#phone-sign-in button[type=submit]")
        await page.wait_for_selector(signed_in)
    await context.close()


async def test_with_no_network_the_app_still_opens_with_my_work_as_last_seen(staff_app: StaffApp) -> None:
    case_id = await staff_app.submit("resident", severity="normal", category="plumbing", unit="101")
    await until(staff_app, case_id, lambda s: s["handler_id"] == "S001")
    context, page = await staff_app.phone("zh-CN")
    await staff_app.sign_in(page, PHONES["S001"])
    await page.wait_for_selector(f"#work a[href*='{case_id}']")
    assert await page.evaluate("() => navigator.serviceWorker.ready.then(r => Boolean(r.active))")
    await page.reload()  # now under the service worker's control
    await page.wait_for_selector(f"#work a[href*='{case_id}']")

    await context.set_offline(True)
    shell = await page.reload()
    assert shell is not None and shell.from_service_worker
    await page.wait_for_selector(f"#work a[href*='{case_id}']")
    assert "显示的是" in await page.inner_text("main")  # "as last seen at …"
    assert await page.locator("#network").is_visible()
    await check_layout(page, "offline work")
    await context.close()
