"""The alarm survey answered in the resident's page (issue 20): the same rule as SMS and keypad, the
first answer to an attempt counts, and only a resident the survey asked may answer, decided by the
survey workflow's validator. Through HTTP on the dev server."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.api.conftest import Api
from tests.api.test_drills import _sms, _survey_notices, building, eventually, quick  # noqa: F401
from workflows.contracts import Role
from workflows.drill_survey import DrillSurveyWorkflow


async def surveyed_drill(api: Api, building_id: str) -> str:
    """A drill on the building run through to its completion, which asks every household."""
    at = datetime.now(UTC) + timedelta(minutes=2)
    plan = {"drill_type": "fire", "building_id": building_id, "scheduled_at": at.isoformat()}
    created = await api.call("supervisor", "POST", "/drills", plan)
    assert created.status_code == 201, created.text
    drill_id = created.json()["drill_id"]
    api.case_ids.append(drill_id)
    started = await eventually(lambda: api.call("staff", "POST", f"/drills/{drill_id}/start"),
                               lambda r: r.status_code == 200)
    for step in started.json()["steps"]:
        response = await api.call("staff", "POST", f"/drills/{drill_id}/step", {"number": step["number"]})
        assert response.status_code == 202, response.text
    await eventually(lambda: api.call("staff", "GET", f"/drills/{drill_id}"),
                     lambda r: all(s["done_at"] for s in r.json()["steps"]))
    completed = await api.call("staff", "POST", f"/drills/{drill_id}/complete", {"participation": 2})
    assert completed.status_code == 200, completed.text
    return drill_id


async def test_a_resident_answers_the_survey_in_the_page_once_and_only_if_asked(quick: Api) -> None:  # noqa: F811
    api = quick
    building_id = building(api, households=2)
    for n in (1, 2):
        api.person(f"asked {n}", Role.resident, f"{building_id}-R{n}")
    drill_id = await surveyed_drill(api, building_id)
    asked = await eventually(lambda: _survey_notices(api, drill_id), lambda n: len(n) == 2)
    by_resident = {notice.recipient_id: notice for notice in asked}
    batch_id = by_resident[f"{building_id}-R2"].case_id

    assert await _page_says_answered(api, "asked 2", drill_id) is False
    answered = await api.call("asked 2", "POST", f"/drills/{drill_id}/survey", {"heard": True})
    assert answered.status_code == 200, answered.text
    assert answered.json()["drill_id"] == drill_id and answered.json()["heard"] is True
    again = await api.call("asked 2", "POST", f"/drills/{drill_id}/survey", {"heard": False})
    assert again.status_code == 409 and "already answered" in again.json()["error"]["message"]
    assert await _page_says_answered(api, "asked 2", drill_id) is True, "the page stops asking"
    assert await _page_says_answered(api, "asked 1", drill_id) is False

    first = by_resident[f"{building_id}-R1"]  # answers by SMS first: the page is then refused
    assert (await _sms(api, first.to, "2")).status_code == 200
    await eventually(
        lambda: api.env.client.get_workflow_handle(first.case_id).query(DrillSurveyWorkflow.progress),
        lambda entries: any(e.event == "callback_reply" and e.detail["heard"] is False for e in entries))
    late = await api.call("asked 1", "POST", f"/drills/{drill_id}/survey", {"heard": True})
    assert late.status_code == 409 and "already answered" in late.json()["error"]["message"]

    not_asked = await api.call("resident", "POST", f"/drills/{drill_id}/survey", {"heard": True})
    assert not_asked.status_code == 409 and "not asked you" in not_asked.json()["error"]["message"]
    assert (await api.call("staff", "POST", f"/drills/{drill_id}/survey", {"heard": True})).status_code == 403
    assert (await api.call("asked 2", "POST", "/drills/DR-NOSUCHDRILL/survey", {"heard": True})).status_code \
        == 404

    progress = await api.env.client.get_workflow_handle(batch_id).query(DrillSurveyWorkflow.progress)
    replies = [e.detail for e in progress if e.event == "callback_reply"]
    attempt = by_resident[f"{building_id}-R2"].attempt
    assert {"attempt": attempt, "heard": True, "accepted": True} in replies
    assert not any(r["attempt"] == attempt and not r["heard"] for r in replies), "the second one is refused"


async def _page_says_answered(api: Api, who: str, drill_id: str) -> bool:
    """The resident page's drill card: the survey open, and whether this resident answered it."""
    page = await api.call(who, "GET", "/app/api/hearings-and-drills")
    assert page.status_code == 200, page.text
    (drill,) = [d for d in page.json()["drills"] if d["drill_id"] == drill_id]
    assert drill["survey_open"] is True and drill["title"] is None and drill["drill_type"] == "fire"
    return drill["survey_answered"]
