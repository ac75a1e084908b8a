"""The supervisor console in headless Chromium: sign-in, the live board, a case, its actions, reports.

Every test looks at the page a supervisor would see and checks it against the API's or the read
model's own answer; each page is also saved as a screenshot under test-output/console/.
"""

from __future__ import annotations

import asyncio
import csv
import io
import statistics
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from playwright.async_api import Page
from sqlalchemy import select

from steward.store.models import Case, CaseEventRow
from tests.console.conftest import PATIENCE_S, RESOLUTION, Console, Scenario, screenshot


async def test_sign_in_admits_only_supervisors_and_the_page_needs_nothing_from_elsewhere(
    console: Console,
) -> None:
    page = await console.page("en")
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    await page.goto(f"{console.base_url}/console")
    await page.wait_for_selector("#sign-in")
    await screenshot(page, "sign-in")

    for who, expected in (("resident", "Only supervisors"), ("staff", "Only supervisors"),
                          ("admin", "Only supervisors")):
        await page.fill("#token", console.tokens[who])
        await page.click("#sign-in button[type=submit]")
        await page.wait_for_function(
            "text => document.querySelector('#sign-in-error').textContent.includes(text)", arg=expected)
        assert await page.is_hidden("#nav")
    await screenshot(page, "sign-in-refused")
    await page.fill("#token", "stw_not-a-token")
    await page.click("#sign-in button[type=submit]")
    await page.wait_for_function(
        "() => document.querySelector('#sign-in-error').textContent.includes('unknown')")

    await page.fill("#token", console.tokens["supervisor"])
    await page.click("#sign-in button[type=submit]")
    await page.wait_for_selector("#board-status:not(:empty)")
    assert "Zhou Qiang (S201)" in await page.inner_text("#who")
    assert all(url.startswith((console.base_url, "blob:", "data:")) for url in requested), requested

    await page.click("#sign-out")
    await page.wait_for_selector("#sign-in")
    assert await page.evaluate("sessionStorage.length") == 0
    await page.context.close()


async def board_state(page: Page, case_id: str) -> str | None:
    row = page.locator(f'tr[data-case="{case_id}"]')
    return await row.get_attribute("data-state") if await row.count() else None


async def test_board_shows_a_case_turn_from_on_time_to_warning_to_breached(console: Console) -> None:
    page = await console.signed_in("en")
    case_id = await console.submit("resident", severity="normal", category="plumbing", unit="101")

    seen: list[str] = []
    deadline = asyncio.get_running_loop().time() + RESOLUTION + PATIENCE_S
    while "breached" not in seen:
        state = await board_state(page, case_id)
        if state and (not seen or seen[-1] != state):
            seen.append(state)
            await screenshot(page, f"board-{state}")
        assert asyncio.get_running_loop().time() < deadline, f"states seen: {seen}"
        await asyncio.sleep(0.2)
    assert seen == ["on_time", "warning", "breached"]

    row = page.locator(f'tr[data-case="{case_id}"]')
    assert await row.locator("td.countdown").inner_text() != "—"
    assert "Plumbing" in await row.inner_text() or "plumbing" in await row.inner_text()
    assert await page.locator("#board-at-risk").count() == 1

    # the filters narrow the same board: building B2 has no such case, B1 has it
    await page.select_option("#filter-building", "B2")
    await page.wait_for_function("() => location.hash.includes('building=B2')")
    await page.wait_for_selector("#board-status:not(:empty)")
    await page.wait_for_timeout(300)
    assert await page.locator(f'tr[data-case="{case_id}"]').count() == 0
    await page.select_option("#filter-building", "B1")
    await page.wait_for_selector(f'tr[data-case="{case_id}"]')

    chinese = await console.signed_in("zh-CN")
    await chinese.wait_for_selector(f'tr[data-case="{case_id}"]')
    assert "已超时" in await chinese.locator(f'tr[data-case="{case_id}"]').inner_text()
    await screenshot(chinese, "board-zh-CN")
    await chinese.context.close()
    await page.context.close()


async def open_case(console: Console, case_id: str, locale: str = "en") -> Page:
    page = await console.signed_in(locale)
    await page.wait_for_selector(f'tr[data-case="{case_id}"] a.case-link')
    await page.click(f'tr[data-case="{case_id}"] a.case-link')
    await page.wait_for_selector("#timeline li")
    return page


async def fact(page: Page, name: str) -> str:
    return await page.inner_text(f'dd[data-fact="{name}"]')


async def test_case_page_shows_state_messages_and_timeline_and_reassigns_through_the_api(
    console: Console, scenario: Scenario
) -> None:
    case_id = scenario.reopened
    page = await open_case(console, case_id)
    state = (await console.call("supervisor", "GET", f"/requests/{case_id}")).json()

    assert await fact(page, "owner") == "Li Na (S002)"
    assert f"({state['handler_id']})" in await fact(page, "handler")
    assert await fact(page, "status") == "in progress"
    assert await fact(page, "reopened") == "1"
    temporal = await page.get_attribute("#temporal-link", "href")
    assert temporal.endswith(f"/namespaces/default/workflows/{case_id}")
    events = await page.eval_on_selector_all("#timeline li", "items => items.map(item => item.dataset.event)")
    assert {"submitted", "acknowledged", "resolved", "callback_reply", "reopened"} <= set(events)
    callback_sms = page.locator('#messages tr[data-template="callback_request"]')
    await callback_sms.first.wait_for()
    assert await callback_sms.first.get_attribute("data-delivery") in ("sent", "delivered")

    newcomer = "S003" if state["handler_id"] != "S003" else "S004"
    await page.select_option("#reassign-handler", newcomer)
    await page.fill("#reassign-reason", "The drain needs the cleaning team")
    await page.click("#action-reassign button[type=submit]")
    await page.wait_for_selector("#reassign-result.ok")
    await page.wait_for_function(
        "id => document.querySelector('dd[data-fact=handler]').textContent.includes(id)", arg=newcomer)
    reassigned = page.locator('#timeline li[data-event="reassigned"]')
    await reassigned.wait_for()
    assert newcomer in await reassigned.inner_text()
    assert "The drain needs the cleaning team" in await reassigned.inner_text()
    assert (await console.call("supervisor", "GET", f"/requests/{case_id}")).json()["handler_id"] == newcomer
    await screenshot(page, "case")

    await page.click("#action-reassign button[type=submit]")
    await page.wait_for_selector("#reassign-result.error")
    assert f"{newcomer} already handles the case" in await page.inner_text("#reassign-result")

    await page.select_option("#language", "zh-CN")
    await page.wait_for_selector('dd[data-fact="status"]:text("处理中")')
    assert "重新打开" in await page.inner_text("#timeline")
    await screenshot(page, "case-zh-CN")
    await page.context.close()


async def test_a_manual_callback_recorded_in_the_console_closes_the_case(
    console: Console, scenario: Scenario
) -> None:
    case_id = scenario.manual_callback
    page = await open_case(console, case_id)
    assert "awaiting a manual callback" in await page.inner_text("#callback-outcome")
    await page.select_option("#callback-result", "satisfied")
    await page.fill("#callback-note", "Phoned Mr Tan's daughter; the lights work.")
    await page.click("#action-callback button[type=submit]")
    await page.wait_for_selector('#callback-outcome[data-result="satisfied"]', timeout=PATIENCE_S * 1000)
    await page.wait_for_selector('dd[data-fact="status"]:text("closed")', timeout=PATIENCE_S * 1000)
    assert "Zhou Qiang (S201)" in await page.inner_text("#callback-outcome")
    await page.wait_for_selector("#case-actions :text('The case is closed')")
    await screenshot(page, "case-callback")

    await page.goto(f"{console.base_url}/console/#/case/{scenario.satisfied}")
    await page.wait_for_selector('#callback-outcome[data-result="satisfied"]')
    assert "satisfied — by SMS" in await page.inner_text("#callback-outcome")
    await page.context.close()


# --- reports ---------------------------------------------------------------------------------


def read_model(console: Console) -> tuple[list[Case], list[CaseEventRow]]:
    with console.database.sessions() as session:
        return list(session.scalars(select(Case))), list(session.scalars(select(CaseEventRow)))


async def settled(console: Console, scenario: Scenario) -> tuple[list[Case], list[CaseEventRow]]:
    """The read model once the scenario's cases are projected at rest and nothing changes for a moment."""
    deadline = asyncio.get_running_loop().time() + PATIENCE_S
    previous = None
    while True:
        cases, events = read_model(console)
        by_id = {case.case_id: case for case in cases}
        ready = (by_id.get(scenario.satisfied) and by_id[scenario.satisfied].closed_at is not None
                 and by_id.get(scenario.reopened) and by_id[scenario.reopened].reopen_count == 1)
        snapshot = sorted((case.case_id, case.last_seq) for case in cases)
        if ready and snapshot == previous:
            return cases, events
        previous = snapshot
        assert asyncio.get_running_loop().time() < deadline, "the read model did not settle"
        await asyncio.sleep(0.5)


async def table(page: Page, table_id: str) -> dict[str, dict[str, str]]:
    """{row key: {column: figure}} of a report table, read from the cells' data attributes."""
    return await page.eval_on_selector_all(
        f"#{table_id} tbody tr",
        """rows => Object.fromEntries(rows.map(row => [row.dataset.key, Object.fromEntries(
            [...row.cells].filter(cell => 'value' in cell.dataset)
                          .map(cell => [cell.dataset.col, cell.dataset.value]))]))""",
    )


def compliance(cases: list[Case]) -> dict[str, str]:
    return {key: str(value) for key, value in {
        "cases": len(cases),
        "response_met": sum(c.acknowledged_at is not None and not c.response_breached for c in cases),
        "response_missed": sum(c.response_breached for c in cases),
        "resolution_met": sum(c.resolved_at is not None and not c.resolution_breached for c in cases),
        "resolution_missed": sum(c.resolution_breached for c in cases),
    }.items()}


def grouped(cases: list[Case], key) -> dict[str, list[Case]]:
    groups: dict[str, list[Case]] = {}
    for case in cases:
        groups.setdefault(key(case), []).append(case)
    return groups


async def open_report(page: Page, name: str) -> None:
    await page.click(f"#tab-{name}")
    await page.wait_for_selector(f"#report-{name} section")
    await screenshot(page, f"report-{name}")


async def test_reports_show_the_read_models_figures_and_download_as_csv(
    console: Console, scenario: Scenario
) -> None:
    cases, events = await settled(console, scenario)
    page = await console.signed_in("en")
    await page.click("#nav a[data-section=reports]")
    await page.wait_for_selector("#report-sla section")

    await open_report(page, "sla")
    overall = (await table(page, "sla-overall"))["all"]
    assert {key: overall[key] for key in compliance(cases)} == compliance(cases)
    by_category = await table(page, "sla-by-category")
    for category, members in grouped(cases, lambda c: c.category).items():
        assert {key: by_category[category][key] for key in compliance(members)} == compliance(members)
    assert sum(int(week["cases"]) for week in (await table(page, "sla-by-week")).values()) == len(cases)
    assert await page.locator("#report-sla svg.chart").count() == 2

    await open_report(page, "hotspots")
    expected = {}
    for key in (lambda c: f"building/{c.building_id}/", lambda c: f"unit/{c.building_id}/{c.unit}",
                lambda c: f"category/{c.building_id}/{c.category}"):
        expected |= {name: str(len(group)) for name, group in grouped(cases, key).items() if len(group) >= 2}
    shown = await table(page, "hotspots")
    assert {key: row["cases"] for key, row in shown.items()} == expected
    assert "unit/B1/101" in expected and "category/B1/plumbing" in expected

    await open_report(page, "satisfaction")
    kept = {case.case_id: case for case in cases if not case.withdrawn}
    answers = [(kept[e.case_id], e.detail["result"]) for e in events
               if e.event == "callback_recorded" and e.case_id in kept]
    shown = await table(page, "satisfaction-by-category")
    for category, results in grouped(answers, lambda answer: answer[0].category).items():
        assert shown[category]["satisfied"] == str(sum(r == "satisfied" for _, r in results))
        assert shown[category]["not_satisfied"] == str(sum(r == "not_satisfied" for _, r in results))
    assert shown["plumbing"]["not_satisfied"] == "1"
    by_staff = await table(page, "satisfaction-by-staff")
    assert by_staff["S002"]["not_satisfied"] == "1"

    await open_report(page, "staff")
    shown = await table(page, "staff")
    owned = grouped([case for case in cases if case.owner_id], lambda c: c.owner_id)
    assert set(shown) == set(owned)
    for owner, members in owned.items():
        assert shown[owner]["owned"] == str(len(members))
        breaches = sum(c.response_breached or c.resolution_breached for c in members)
        assert shown[owner]["breaches"] == str(breaches)
        assert shown[owner]["reopened"] == str(sum(c.reopen_count > 0 for c in members))
        waits = [(_utc(c.acknowledged_at) - _utc(c.submitted_at)).total_seconds() for c in members
                 if c.acknowledged_at]
        assert float(shown[owner]["median_response"]) == pytest.approx(statistics.median(waits), abs=0.1)

    await page.click("#tab-sla")
    await page.wait_for_selector("#report-sla section")
    async with page.expect_download() as started:
        await page.click("#download-csv")
    download = await started.value
    today = datetime.now(UTC).astimezone(ZoneInfo("Asia/Shanghai")).date()
    assert download.suggested_filename.startswith("steward-sla-") and download.suggested_filename.endswith(
        f"-{today}.csv")
    data = await asyncio.to_thread(Path(await download.path()).read_bytes)
    assert data.startswith(b"\xef\xbb\xbf"), "spreadsheet programs need the byte-order mark for Chinese"
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    plumbing = next(row for row in rows if row["group"] == "category" and row["key"] == "plumbing")
    expected = compliance([case for case in cases if case.category == "plumbing"])
    assert {key: plumbing[key] for key in expected} == expected
    await page.context.close()


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
