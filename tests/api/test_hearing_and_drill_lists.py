"""A hearing and a drill started through HTTP reach the read model and their lists with their
deadlines: objections awaiting answers, drills not started, filters and refusals."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta

import pytest

from tests.api.conftest import PATIENCE_S, Api

HEARING = {
    "title": "Lift renewal from the maintenance fund",
    "reason": "The lift is 25 years old and failed its inspection.",
    "costs": [{"item": "New lift", "amount": "680000.00"}],
    "building_ids": ["B1"],
    "place": "Community club house",
}


@pytest.fixture
async def short_notice(running_api, dev_env, sqlite_database) -> AsyncIterator[Api]:
    async with running_api(dev_env, sqlite_database, hearing_notice_period="3s") as api:
        yield api


async def listed(api: Api, path: str, item_id: str, check: Callable[[dict], bool], **params) -> dict:
    """Poll the list until the item is there and passes `check` (the projection runs in the background)."""
    key = "hearing_id" if path == "/hearings" else "drill_id"
    deadline = asyncio.get_running_loop().time() + PATIENCE_S
    while True:
        response = await api.call("staff", "GET", path, params=params | {"limit": 200})
        assert response.status_code == 200, response.text
        item = next((entry for entry in response.json()["items"] if entry[key] == item_id), None)
        if item is not None and check(item):
            return item
        assert asyncio.get_running_loop().time() < deadline, f"{item_id} not listed as expected: {item}"
        await asyncio.sleep(0.3)


async def test_a_hearing_is_listed_with_its_objections_awaiting_answers(short_notice: Api) -> None:
    api = short_notice
    body = HEARING | {"hearing_at": (datetime.now(UTC) + timedelta(days=2)).isoformat()}
    created = await api.call("supervisor", "POST", "/hearings", body)
    assert created.status_code == 201, created.text
    hearing_id = created.json()["hearing_id"]
    api.case_ids.append(hearing_id)
    receipt = await api.call("resident", "POST", f"/hearings/{hearing_id}/objections", {"text": "Why now?"})
    assert receipt.status_code == 201, receipt.text

    item = await listed(api, "/hearings", hearing_id, lambda i: i["objections_open"] == 1,
                        awaiting_answers="true")
    assert datetime.fromisoformat(item["next_answer_due"]) == datetime.fromisoformat(
        receipt.json()["answer_due"])
    assert item["title"] == HEARING["title"] and item["building_ids"] == ["B1"]
    assert datetime.fromisoformat(item["next_deadline"]) <= datetime.fromisoformat(item["next_answer_due"])

    answered = await api.call("staff", "POST", f"/hearings/{hearing_id}/objections/1/answer",
                              {"answer": "The inspection requires it this year."})
    assert answered.status_code == 200, answered.text
    await listed(api, "/hearings", hearing_id, lambda i: i["objections_open"] == 0, awaiting_answers="false")
    waiting = (await api.call("staff", "GET", "/hearings", params={"awaiting_answers": "true"})).json()
    assert hearing_id not in {entry["hearing_id"] for entry in waiting["items"]}


async def test_a_drill_is_listed_as_not_started_with_its_start_deadline(api: Api) -> None:
    scheduled = datetime.now(UTC) + timedelta(days=4)
    created = await api.call("supervisor", "POST", "/drills", {
        "drill_type": "fire", "building_id": "B2", "scheduled_at": scheduled.isoformat()})
    assert created.status_code == 201, created.text
    drill_id = created.json()["drill_id"]
    api.case_ids.append(drill_id)

    item = await listed(api, "/drills", drill_id, lambda i: i["status"] == "announced",
                        not_started="true", building="B2", drill_type="fire")
    assert datetime.fromisoformat(item["start_due"]) == scheduled + timedelta(minutes=30)
    assert item["next_deadline"] == item["start_due"] and item["next_deadline_kind"] == "start_missed"
    assert item["steps_done"] == 0 and item["steps_total"] > 0
    other = (await api.call("staff", "GET", "/drills", params={"building": "B1"})).json()
    assert drill_id not in {entry["drill_id"] for entry in other["items"]}


@pytest.mark.parametrize(("path", "params"), [
    ("/hearings", {"status": "party"}), ("/hearings", {"page_token": "x"}), ("/drills", {"limit": "0"}),
    ("/drills", {"building": "B1' OR 1=1"}), ("/drills", {"drill_type": "earthquake"}),
])
async def test_the_lists_refuse_what_they_cannot_read(api: Api, path: str, params: dict) -> None:
    response = await api.call("supervisor", "GET", path, params=params)
    assert response.status_code == 422 and response.json()["error"]["code"] == "validation_error"
    assert (await api.call("resident", "GET", path)).status_code == 403
