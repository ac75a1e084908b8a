"""Nobody games the closed loop (issue 14), through HTTP on the dev server with the real worker and the
Twilio sandbox: the resident's own answer decides the callback, a complaint about a staff member is
invisible to them and handled above their tier, and residents file only for their own home.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

from sqlalchemy import select

from steward.store.models import CaseEventRow, Notification
from tests.api.conftest import PATIENCE_S, Api
from tests.api.test_complaints_and_hearings import assert_error, callback_sent, sms_from
from workflows.contracts import Role

RESIDENT_PHONE = "+8613800000101"  # R001, B1-101
SUBJECT_PHONE = "+8613900000001"  # S001, the plumber (tier 0)
CALLED = {"result": "satisfied", "note": "Spoke to the resident.", "reached_by": "phone"}
COMPLAINT = {
    "kind": "complaint", "category": "staff_conduct", "title": "Rude on the phone",
    "description": "The plumber shouted at me.", "subject_staff_id": "S001",
}


async def resolved_by_the_plumber(api: Api) -> str:
    case_id = await api.submit("resident")
    await api.until(case_id, lambda s: s["status"] == "dispatched" and s["handler_id"] == "S001")
    response = await api.call("staff", "POST", f"/requests/{case_id}/resolve", {"note": "Washer replaced."})
    assert response.status_code == 200, response.text
    return case_id


def notices(api: Api, case_id: str, template: str) -> list[Notification]:
    with api.database.sessions() as session:
        return list(session.scalars(select(Notification).where(
            Notification.case_id == case_id, Notification.template == template)))


async def eventually_told(api: Api, case_id: str, template: str) -> list[Notification]:
    deadline = asyncio.get_running_loop().time() + PATIENCE_S
    while not (told := notices(api, case_id, template)):
        assert asyncio.get_running_loop().time() < deadline, f"no {template} for {case_id}"
        await asyncio.sleep(0.2)
    return told


def recorded_events(api: Api, case_id: str) -> list[dict]:
    with api.database.sessions() as session:
        rows = session.scalars(select(CaseEventRow).where(CaseEventRow.case_id == case_id,
                                                          CaseEventRow.event == "callback_recorded"))
        return [row.detail | {"actor": row.actor_id} for row in rows]


# --- the callback is not self-assessment -------------------------------------------------------------


async def test_while_the_resident_is_asked_only_their_answer_decides(api: Api) -> None:
    case_id = await resolved_by_the_plumber(api)
    await callback_sent(api, case_id)

    early = await api.call("staff", "POST", f"/requests/{case_id}/callback", CALLED)
    assert_error(early, 409, "refused", "automatic callback is still asking")
    colleague = await api.call("colleague", "POST", f"/requests/{case_id}/callback", CALLED)
    assert_error(colleague, 409, "refused", "automatic callback is still asking")
    no_reason = await api.call("supervisor", "POST", f"/requests/{case_id}/callback", CALLED)
    assert_error(no_reason, 409, "refused", "must give a reason")
    assert (await api.state(case_id))["status"] == "callback"

    await sms_from(api, RESIDENT_PHONE, f"2 {case_id}")
    state = await api.until(case_id, lambda s: s["reopen_count"] == 1)
    assert state["status"] == "in_progress" and state["callback"] is None
    answers = [e for e in state["timeline"] if e["event"] == "callback_recorded"]
    assert [(e["detail"]["result"], e["detail"]["by_role"], e["actor"]["id"]) for e in answers] == [
        ("not_satisfied", "system", "steward")]


async def test_a_supervisor_may_record_while_the_resident_is_asked_with_a_reason_and_it_is_counted(
    api: Api,
) -> None:
    case_id = await resolved_by_the_plumber(api)
    await callback_sent(api, case_id)
    response = await api.call("supervisor", "POST", f"/requests/{case_id}/callback", CALLED | {
        "reason": "The resident phoned the office to say it is fixed."})
    assert response.status_code == 200, response.text
    closed = await api.until(case_id, lambda s: s["status"] == "closed")
    assert closed["callback"]["recorded_by"] == {"id": "S201", "role": "supervisor"}
    await api.completed(case_id)
    recorded = next(e for e in closed["timeline"] if e["event"] == "manual_callback_recorded")
    assert recorded["detail"] == {"result": "satisfied", "reached_by": "phone",
                                  "reason": "The resident phoned the office to say it is fixed."}
    assert [(e["by_role"], e["actor"]) for e in recorded_events(api, case_id)] == [("supervisor", "S201")]


async def test_the_resolver_may_not_record_the_manual_callback_a_colleague_says_how_they_reached_them(
    api: Api,
) -> None:
    resident_id = f"RX{uuid.uuid4().hex[:6].upper()}"
    added = await api.call("admin", "POST", "/residents", {
        "id": resident_id, "household_id": "H-B1-105", "name": "No phone", "locale": "en",
        "preferred_channel": "sms"})
    assert added.status_code == 201, added.text
    api.person("nophone", Role.resident, resident_id)
    case_id = await api.submit("nophone")
    await api.until(case_id, lambda s: s["status"] == "dispatched" and s["handler_id"] == "S001")
    response = await api.call("staff", "POST", f"/requests/{case_id}/resolve", {"note": "Washer replaced."})
    assert response.status_code == 200, response.text
    await api.until(case_id, lambda s: s["status"] == "manual_callback")

    own = await api.call("staff", "POST", f"/requests/{case_id}/callback", CALLED)
    assert_error(own, 409, "refused", "S001 resolved the work and may not record its callback")
    unsaid = {key: value for key, value in CALLED.items() if key != "reached_by"}
    assert_error(await api.call("colleague", "POST", f"/requests/{case_id}/callback", unsaid), 422,
                 "validation_error", "reached_by")
    assert (await api.state(case_id))["status"] == "manual_callback"

    visited = CALLED | {"reached_by": "visit", "note": "Visited; the tap is fine."}
    response = await api.call("colleague", "POST", f"/requests/{case_id}/callback", visited)
    assert response.status_code == 200, response.text
    closed = await api.until(case_id, lambda s: s["status"] == "closed")
    assert closed["callback"]["recorded_by"] == {"id": "S002", "role": "staff"}
    tasks = await eventually_told(api, case_id, "manual_callback_task")
    assert SUBJECT_PHONE not in {n.to for n in tasks}  # the resolver's team leads are asked, not them


# --- a complaint about a staff member is confidential -------------------------------------------------


async def test_the_subject_of_a_complaint_cannot_find_read_or_act_on_it_nor_can_their_tier(api: Api) -> None:
    api.person("team_lead", Role.staff, "S101")
    case_id = await api.submit("resident", **COMPLAINT)
    state = await api.until(case_id, lambda s: s["status"] == "dispatched")
    assert state["tier"] == 1 and state["handler_id"] != "S001"

    assert_error(await api.call("staff", "GET", f"/requests/{case_id}"), 404, "not_found")
    listed = await api.call("staff", "GET", "/requests", params={"kind": "complaint", "page_size": 100})
    assert listed.status_code == 200 and case_id not in {c["case_id"] for c in listed.json()["items"]}
    others = await api.call("colleague", "GET", "/requests", params={"kind": "complaint", "page_size": 100})
    assert case_id in {c["case_id"] for c in others.json()["items"]}
    at_risk = await api.call("staff", "GET", "/at-risk", params={"building": "B1", "limit": 200})
    assert at_risk.status_code == 200 and case_id not in {c["case_id"] for c in at_risk.json()["items"]}
    for action, body in (("withdraw", {"reason": "all sorted now"}), ("pause", {"reason": "awaiting parts"}),
                         ("acknowledge", {}), ("callback", CALLED), ("progress", {"note": "Not true."})):
        refused = await api.call("staff", "POST", f"/requests/{case_id}/{action}", body)
        assert_error(refused, 404, "not_found")

    for action, body in (("acknowledge", {}), ("resolve", {"note": "Talked to him."})):
        refused = await api.call("colleague", "POST", f"/requests/{case_id}/{action}", body)
        assert_error(refused, 409, "refused", "handled at tier 1 or above")
    noted = await api.call("colleague", "POST", f"/requests/{case_id}/progress", {"note": "He is fine."})
    assert noted.status_code == 202
    assert_error(await api.call("team_lead", "POST", f"/requests/{case_id}/withdraw",
                                {"reason": "sorted it out"}), 409, "refused", "only the resident withdraws")

    taken = await api.call("team_lead", "POST", f"/requests/{case_id}/acknowledge")
    assert taken.status_code == 200 and taken.json()["owner_id"] == "S101", taken.text
    state = await api.state(case_id)
    assert "He is fine." not in str(state["timeline"])
    with api.database.sessions() as session:
        told = session.scalars(select(Notification.body).where(Notification.to == SUBJECT_PHONE,
                                                               Notification.case_id == case_id)).all()
    assert told == []


async def test_a_supervisor_withdraws_a_complaint_about_staff_only_with_a_reason_the_resident_is_told(
    api: Api,
) -> None:
    case_id = await api.submit("resident", **COMPLAINT)
    await api.until(case_id, lambda s: s["status"] == "dispatched")
    assert_error(await api.call("supervisor", "POST", f"/requests/{case_id}/withdraw"), 409, "refused",
                 "must give a reason")
    response = await api.call("supervisor", "POST", f"/requests/{case_id}/withdraw",
                              {"reason": "The resident asked us by phone to drop it."})
    assert response.status_code == 200 and response.json()["withdrawn"] is True, response.text
    told = await eventually_told(api, case_id, "case_withdrawn")
    assert [(n.to, n.params["reason"]) for n in told] == [
        (RESIDENT_PHONE, "The resident asked us by phone to drop it.")]


# --- where a resident may file ------------------------------------------------------------------------


async def test_a_resident_files_for_their_own_home_or_a_common_area_and_staff_file_for_anyone(
    api: Api,
) -> None:
    leak = {"category": "plumbing", "title": "Leak", "description": "Dripping."}
    for elsewhere in ({"building_id": "B1", "unit": "102"}, {"building_id": "B2", "unit": None},
                      {"building_id": "B2"}):
        refused = await api.call("resident", "POST", "/requests", leak | elsewhere,
                                 headers={"Idempotency-Key": uuid.uuid4().hex})
        assert_error(refused, 403, "forbidden", "own home or a common area")

    home = await api.state(await api.submit("resident"))
    assert (home["building_id"], home["unit"]) == ("B1", "101")
    lobby = await api.state(await api.submit("resident", building_id="B1", unit=None))
    assert (lobby["building_id"], lobby["unit"]) == ("B1", None)

    taken = await api.submit("staff", resident_id="R002", origin="voice")
    state = await api.until(taken, lambda s: s["status"] == "dispatched")
    assert (state["building_id"], state["unit"]) == ("B1", "101")  # staff may name any unit
    assert state["owner_id"] == "S001"  # the member of staff who took the call is its first contact
    submitted = state["timeline"][0]
    assert submitted["event"] == "submitted" and submitted["actor"] == {"id": "S001", "role": "staff"}


async def test_a_colleague_at_the_subjects_tier_cannot_take_the_complaint_by_sms(api: Api) -> None:
    """An SMS acknowledgement carries the sender's tier as the API's does: a tier-0 colleague of the
    plumber the complaint is about is refused, even with a dispatch notice for it on their phone."""
    case_id = await api.submit("resident", **COMPLAINT)
    await api.until(case_id, lambda s: s["status"] == "dispatched")
    await eventually_told(api, case_id, "dispatch")
    colleague_phone = "+8613900000002"  # S002, tier 0 like the subject
    with api.database.sessions.begin() as session:
        session.add(Notification(key=f"{case_id}:forged-dispatch", case_id=case_id, to=colleague_phone,
                                 channel="sms", template="dispatch", locale="en", params={"code": case_id},
                                 body=f"dispatch {case_id}", recipient_id="S002", status="delivered",
                                 created_at=datetime.now(UTC), updated_at=datetime.now(UTC)))
    reply = await sms_from(api, colleague_phone, f"1 {case_id}")  # S002 may have other work waiting
    assert "could not be acknowledged" in reply or "无法确认" in reply, reply
    assert "handled at tier" in reply
    state = await api.state(case_id)
    assert state["acknowledged_at"] is None and state["status"] == "dispatched"
