"""A living directory (issue 14): the admin corrects a phone and deactivates a plumber who left; from then
on the plumber is not dispatched, and neither their SMS, their keypad nor their token acts. A resident
who moved out is no longer called back: another resident of the household is. Every change is listed."""

from __future__ import annotations

import pytest

from steward.tokens import UnknownSubject
from tests.api.conftest import REPAIR
from tests.e2e.conftest import Community, Steward, new_phone
from tests.e2e.test_channels import CALLBACK_SMS
from workflows.contracts import Role

ACK_MENU = "按1"  # the zh-CN dispatch call's keypad menu ("press 1 to acknowledge")


async def change(steward: Steward, kind: str, person_id: str, body: dict, status: int = 200) -> dict:
    response = await steward.call(steward.admin, "PATCH", f"/{kind}/{person_id}", body)
    assert response.status_code == status, response.text
    return response.json()


async def test_a_deactivated_plumber_is_neither_dispatched_nor_able_to_acknowledge_by_sms_keypad_or_token(
    steward: Steward, community: Community
):
    plumber = community.handler
    resident = await community.resident()
    corrected = new_phone()
    assert (await change(steward, "staff", plumber.id, {"phone": corrected}))["phone"] == corrected
    plumber = type(plumber)(plumber.id, corrected, plumber.token)

    emergency = await community.submit(resident, severity="emergency")
    state = await steward.until(emergency, lambda s: s["status"] == "dispatched", "dispatched")
    assert state["handler_id"] == plumber.id
    call = await steward.phones.call(plumber.phone)
    await steward.phones.sms(plumber.phone, emergency)

    left = await change(steward, "staff", plumber.id, {"active": False})
    assert (left["active"], left["on_duty"]) == (False, False)

    answer = await steward.phones.reply(plumber.phone, "1")
    assert steward.kept(answer)[0] == "unmatched"
    await steward.phones.press(call["sid"], "1")
    refused = await steward.call(plumber.token, "POST", f"/requests/{emergency}/acknowledge")
    assert refused.status_code == 401
    with pytest.raises(UnknownSubject):
        steward.token(Role.staff, plumber.id)
    state = await steward.state(emergency)
    assert state["acknowledged_at"] is None and state["status"] == "dispatched"

    later = await community.submit(resident)
    state = await steward.until(later, lambda s: s["status"] == "dispatched", "dispatched")
    assert state["handler_id"] != plumber.id

    log = await steward.call(steward.admin, "GET", f"/directory-changes?subject={plumber.id}")
    assert log.status_code == 200, log.text
    entries = log.json()["items"]
    assert [e["action"] for e in entries] == ["updated", "deactivated"]
    assert entries[0]["changes"]["phone"][1] == corrected and entries[1]["actor_id"] == "admin"
    assert entries[1]["changes"]["active"] == [True, False]
    assert (await change(steward, "staff", plumber.id, {"on_duty": True}, status=409))["error"]


async def test_a_resident_who_moved_out_is_not_called_back_and_another_of_the_household_is(
    steward: Steward, community: Community
):
    leaving = await community.resident()
    household = f"H-{community.building}-{leaving.unit}"
    staying_id, staying_phone = f"{community.building}-R9", new_phone()
    response = await steward.call(steward.admin, "POST", "/residents", {
        "id": staying_id, "household_id": household, "name": "Staying", "phone": staying_phone})
    assert response.status_code == 201, response.text
    case_id = await community.submit(leaving)
    await steward.until(case_id, lambda s: s["status"] == "dispatched", "dispatched")

    await change(steward, "residents", leaving.id, {"active": False})
    refused = await steward.call(leaving.token, "GET", f"/requests/{case_id}")
    assert refused.status_code == 401
    staff_files = await steward.call(community.handler.token, "POST", "/requests", REPAIR | {
        "building_id": community.building, "unit": leaving.unit, "resident_id": leaving.id},
        headers={"Idempotency-Key": new_phone()})
    assert staff_files.status_code == 422 and "moved out" in staff_files.json()["error"]["message"]
    await community.act(community.handler, case_id, "resolve", {"note": "Washer replaced."})

    await steward.phones.sms(staying_phone, case_id, CALLBACK_SMS["zh-CN"])
    assert not [m for m in await steward.phones.messages(leaving.phone) if CALLBACK_SMS["zh-CN"] in m["body"]]
    await steward.phones.reply(staying_phone, "1")
    state = await steward.until(case_id, lambda s: s["status"] == "closed", "closed")
    assert state["callback"]["result"] == "satisfied"


async def test_the_open_cases_of_a_plumber_who_left_are_handed_on_and_the_team_lead_is_told(
    steward: Steward, community: Community
):
    plumber, resident = community.handler, await community.resident(locale="en")
    owned = await community.submit(resident)
    await steward.until(owned, lambda s: s["status"] == "dispatched", "dispatched")
    await community.act(plumber, owned, "acknowledge")
    waiting = await community.submit(resident)
    await steward.until(waiting, lambda s: s["handler_id"] == plumber.id, "dispatched to the plumber")
    lead = await community.staff(tier=1, locale="en")
    successor = f"{community.building}-S0B"
    response = await steward.call(steward.admin, "POST", "/staff", {
        "id": successor, "name": "Successor", "tier": 0, "skills": ["plumbing"],
        "buildings": [community.building], "phone": new_phone()})
    assert response.status_code == 201, response.text

    left = await change(steward, "staff", plumber.id, {"active": False})

    assert sorted(left["handed_on"]) == sorted([owned, waiting])
    state = await steward.state(owned)
    assert (state["owner_id"], state["handler_id"], state["acknowledged_at"] is not None) == (
        successor, successor, True)
    assert (await steward.state(waiting))["handler_id"] == successor
    await steward.phones.sms(lead.phone, f"{plumber.id}, who held case {owned}, has left", successor)
    entries = [e for e in await steward.history(owned) if e["event"] == "handed_on"]
    assert [e["actor"] for e in entries] == ["admin"] and plumber.id in entries[0]["text"]
    again = await change(steward, "staff", plumber.id, {"active": False})
    assert again["handed_on"] == [], "handed on once"
