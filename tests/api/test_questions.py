"""Questions through HTTP (issue 20): a resident asks, customer service answers in writing, the answer
reaches the resident's phone, and the case closes only through its callback — here answered in the
app with `POST /requests/{id}/answer`, under the same rule as SMS and keypad. The API on the dev server
with the real worker and the Twilio sandbox, as in the other API tests."""

from __future__ import annotations

import asyncio
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from steward.store.models import Notification
from tests.api.conftest import PATIENCE_S, Api
from tests.api.test_authorisation import a_photo_by
from tests.api.test_complaints_and_hearings import assert_error

QUESTION = {
    "kind": "question", "severity": "low", "category": "fees", "title": "When is the parking fee due?",
    "description": "I could not find the date on the notice board.", "building_id": "B1", "unit": "101",
}
ANSWER = "The parking fee is due on the 5th of each month, at the service centre or in the app."


async def sent_to_resident(api: Api, case_id: str, template: str) -> Notification:
    deadline = asyncio.get_running_loop().time() + PATIENCE_S
    while True:
        with api.database.sessions() as session:
            row = session.scalars(select(Notification).where(
                Notification.case_id == case_id, Notification.template == template)).first()
        if row is not None and row.sid is not None:
            return row
        assert asyncio.get_running_loop().time() < deadline, f"no {template} sent for {case_id}"
        await asyncio.sleep(0.1)


async def sla_cases(api: Api) -> tuple[int, dict[str, int]]:
    today = datetime.now(ZoneInfo("Asia/Shanghai")).date().isoformat()
    response = await api.call("supervisor", "GET", "/reports/sla", params={"since": today, "until": today})
    assert response.status_code == 200, response.text
    report = response.json()
    return report["overall"]["cases"], {row["key"]: row["cases"] for row in report["by_category"]}


async def test_a_question_is_answered_in_writing_and_closes_through_the_callback_answered_in_the_app(
    api: Api,
) -> None:
    before, _ = await sla_cases(api)
    case_id = await api.submit("resident", **QUESTION)
    assert case_id.startswith("QS-")
    state = await api.until(case_id, lambda s: s["status"] == "dispatched")
    assert state["kind"] == "question" and state["handler_id"] == "S005"

    early = await api.call("resident", "POST", f"/requests/{case_id}/answer", {"satisfied": True})
    assert_error(early, 409, "refused", "not waiting for your answer")

    response = await api.call("staff", "POST", f"/requests/{case_id}/resolve", {"note": ANSWER})
    assert response.status_code == 200, response.text
    told = await sent_to_resident(api, case_id, "question_answered")
    assert told.to == "+8613800000101" and ANSWER in told.body
    await api.until(case_id, lambda s: s["status"] == "callback" and s["callback_attempt"] == 1)

    for who, status, code, words in (
        ("neighbour", 404, "not_found", case_id),
        ("staff", 409, "refused", "only the resident of this case"),
    ):
        refused = await api.call(who, "POST", f"/requests/{case_id}/answer", {"satisfied": True})
        assert_error(refused, status, code, words)

    response = await api.call("resident", "POST", f"/requests/{case_id}/answer",
                              {"satisfied": True, "comment": "Clear, thank you."})
    assert response.status_code == 200, response.text
    reply = next(e for e in response.json()["timeline"] if e["event"] == "callback_reply")
    assert reply["detail"]["channel"] == "app"
    assert reply["detail"]["comment"] == "Clear, thank you." and reply["detail"]["accepted"] is True
    again = await api.call("resident", "POST", f"/requests/{case_id}/answer", {"satisfied": False})
    assert again.status_code == 409, again.text
    await api.completed(case_id)
    state = await api.state(case_id, "resident")
    assert state["status"] == "closed" and state["callback"]["result"] == "satisfied"
    assert state["callback"]["channel"] == "app"

    history = await api.call("supervisor", "GET", f"/requests/{case_id}/history",
                             headers={"Accept-Language": "en"})
    answered = next(e for e in history.json()["entries"] if e["event"] == "callback_answered")
    assert answered["actor"] == "R001" and "Clear, thank you." in answered["text"]

    after, by_category = await sla_cases(api)
    assert after == before + 1 and by_category.get("fees", 0) >= 1


async def test_a_resident_adds_up_to_four_photos_to_their_own_case_and_no_one_else_can(api: Api) -> None:
    case_id = await api.submit("resident")
    await api.until(case_id, lambda s: s["status"] == "dispatched")
    photos = [await a_photo_by(api, "resident", case_id) for _ in range(5)]
    with pytest.raises(AssertionError, match="404"):
        await a_photo_by(api, "neighbour", case_id)
    for who, status, words in (("neighbour", 404, case_id), ("staff", 422, "not a photo you attached")):
        refused = await api.call(who, "POST", f"/requests/{case_id}/photos-added", {"photos": photos[:1]})
        assert_error(refused, status, None, words)
    response = await api.call("resident", "POST", f"/requests/{case_id}/photos-added", {"photos": photos[:3]})
    assert response.status_code == 200, response.text
    added = [e for e in response.json()["timeline"] if e["event"] == "photos_added"]
    assert added[0]["detail"]["photos"] == photos[:3]
    too_many = await api.call("resident", "POST", f"/requests/{case_id}/photos-added",
                              {"photos": photos[3:5]})
    assert_error(too_many, 409, "refused", "at most 4 photos")
    fetched = await api.call("resident", "GET", f"/requests/{case_id}/photos/{photos[0]}")
    assert fetched.status_code == 200 and fetched.headers["content-type"].startswith("image/")
    assert (await api.call("neighbour", "GET", f"/requests/{case_id}/photos/{photos[0]}")).status_code == 404


async def test_the_resident_pages_reads_are_for_residents_only(api: Api) -> None:
    for path in ("/app/api/home", "/app/api/my-cases", "/app/api/hearings-and-drills"):
        assert_error(await api.call(None, "GET", path), 401)
        assert_error(await api.call("staff", "GET", path), 403, "forbidden")
        assert (await api.call("resident", "GET", path)).status_code == 200
    case_id = await api.submit("resident")
    assert_error(await api.call("staff", "GET", f"/app/api/my-cases/{case_id}"), 403, "forbidden")
    assert_error(await api.call("neighbour", "GET", f"/app/api/my-cases/{case_id}"), 404, "not_found")
    mine = await api.call("resident", "GET", f"/app/api/my-cases/{case_id}")
    assert mine.status_code == 200 and mine.json()["next_step"] in ("respond", "resolve")
