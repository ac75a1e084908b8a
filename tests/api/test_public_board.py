"""The public board's figures (issue 20): no sign-in, cacheable, equal to the supervisors' reports for
the same period, and nothing personal. The API on the dev server with the real worker and sandbox."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from temporalio.testing import WorkflowEnvironment

from steward.store.models import Household, Resident, Staff
from tests.api.conftest import PATIENCE_S, Api
from tests.api.test_complaints_and_hearings import NOTICE_PERIOD_S, assert_error, hearing, schedule
from tests.chaos.harness import eventually
from tests.conftest import Database


def personal_strings(api: Api) -> set[str]:
    """Every name, phone and unit in the directory, and every person's id."""
    with api.database.sessions() as session:
        found: set[str] = set()
        for resident in session.query(Resident):
            found |= {resident.id, resident.name, resident.phone or resident.id}
        for staff in session.query(Staff):
            found |= {staff.id, staff.name, staff.phone or staff.id}
        found |= {f'"{household.unit}"' for household in session.query(Household)}
        return found


async def test_the_board_shows_the_months_figures_of_the_supervisors_reports_and_nothing_personal(
    api: Api,
) -> None:
    repair = await api.submit("resident")
    await api.until(repair, lambda s: s["status"] == "dispatched")
    await api.call("staff", "POST", f"/requests/{repair}/resolve", {"note": "Washer replaced."})
    await api.until(repair, lambda s: s["status"] == "callback" and s["callback_attempt"] == 1)
    answered = await api.call("resident", "POST", f"/requests/{repair}/answer", {"satisfied": True})
    assert answered.status_code == 200, answered.text
    complaint = await api.submit("neighbour", kind="complaint", category="noise", title="Music at night",
                                 unit="102")
    await api.completed(repair)
    await api.until(complaint, lambda s: s["status"] == "dispatched")

    month = datetime.now(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m")
    response = await api.call(None, "GET", "/public/api/board", params={"month": month})
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"].startswith("public")
    board = response.json()
    period = {"since": board["month"]["since"], "until": board["month"]["until"]}
    sla = (await api.call("supervisor", "GET", "/reports/sla", params=period)).json()
    satisfaction = (await api.call("supervisor", "GET", "/reports/satisfaction", params=period)).json()
    assert board["month"]["overall"] == sla["overall"] and board["month"]["overall"]["cases"] >= 2
    assert board["month"]["by_category"] == sla["by_category"]
    assert board["month"]["satisfaction"] == satisfaction["overall"]
    assert board["month"]["satisfaction"]["satisfied"] >= 1
    assert board["month"]["satisfaction_by_category"] == satisfaction["by_category"]
    assert board["month"]["complaints_received"] >= 1
    year = {"since": board["year"]["since"], "until": board["year"]["until"]}
    year_report = (await api.call("supervisor", "GET", "/reports/sla", params=year)).json()
    assert board["year"]["overall"] == year_report["overall"]
    assert [p["severity"] for p in board["promises"]] == ["emergency", "urgent", "normal", "low"]
    assert board["promises"][0]["response_minutes"] == 5

    text = response.text
    assert not {s for s in personal_strings(api) if s in text}, "the board names a person or a unit"

    assert_error(await api.call(None, "GET", "/public/api/board", params={"month": "2026-13"}), 422)
    page = await api.call(None, "GET", "/public/")
    assert page.status_code == 200 and "script-src 'self'" in page.headers["content-security-policy"]


async def test_the_board_publishes_hearings_with_their_costs_and_decisions_and_the_drill_calendar(
    running_api, dev_env: WorkflowEnvironment, sqlite_database: Database,
) -> None:
    async with running_api(dev_env, sqlite_database, hearing_notice_period=f"{NOTICE_PERIOD_S}s") as api:
        await hearings_and_drills_published(api)


async def hearings_and_drills_published(api: Api) -> None:
    hearing_id = await schedule(api, hearing(NOTICE_PERIOD_S + 1, title="Roof repair from the fund"))
    drill_at = (datetime.now(UTC) + timedelta(days=4)).replace(microsecond=0)
    response = await api.call("supervisor", "POST", "/drills", {
        "drill_type": "security", "building_id": "B2", "scheduled_at": drill_at.isoformat()})
    assert response.status_code == 201, response.text
    api.case_ids.append(response.json()["drill_id"])
    objection = await api.call("resident", "POST", f"/hearings/{hearing_id}/objections", {"text": "Why now?"})
    assert objection.status_code == 201, objection.text
    answer = await api.call("staff", "POST", f"/hearings/{hearing_id}/objections/1/answer",
                            {"answer": "The roof leaks into three flats."})
    assert answer.status_code == 200, answer.text

    held = {"minutes": "Held.", "attendance": 9, "votes_for": 7, "votes_against": 2, "abstentions": 0}
    deadline = asyncio.get_running_loop().time() + PATIENCE_S
    held_at = f"/hearings/{hearing_id}/held"
    while (response := await api.call("supervisor", "POST", held_at, held)).status_code != 200:
        assert asyncio.get_running_loop().time() < deadline, response.text
        await asyncio.sleep(0.5)
    decided = await api.call("supervisor", "POST", f"/hearings/{hearing_id}/decision",
                             {"outcome": "approved", "reason": "Most households agreed."})
    assert decided.status_code == 200, decided.text

    async def roof_hearing() -> dict:
        response = await api.call(None, "GET", "/public/api/board")
        assert response.status_code == 200, response.text
        return next(h for h in response.json()["hearings"] if h["title"] == "Roof repair from the fund")

    # The board reads the SQL read model, which the decision reaches a moment after its answer.
    published = await eventually(roof_hearing, lambda h: h["decision"] is not None, "decision on the board",
                                 PATIENCE_S)
    response = await api.call(None, "GET", "/public/api/board")
    board = response.json()
    assert published["costs"] == [{"item": "New lift", "amount": "680000.00"},
                                  {"item": "Installation", "amount": "45000.50"}]
    assert published["total"] == "725000.50" and published["decision"] == "approved"
    assert published["decision_reason"] == "Most households agreed."
    assert any(d["building_id"] == "B2" and d["drill_type"] == "security"
               and datetime.fromisoformat(d["scheduled_at"]) == drill_at for d in board["drills"])
    assert "Why now?" not in response.text and "R001" not in response.text
