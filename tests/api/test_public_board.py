"""The public board's figures (issue 20): no sign-in, cacheable, equal to the supervisors' reports for
the same period, and nothing personal. The API on the dev server with the real worker and sandbox."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from steward.store.models import Household, Resident, Staff
from tests.api.conftest import Api
from tests.api.test_complaints_and_hearings import assert_error


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
