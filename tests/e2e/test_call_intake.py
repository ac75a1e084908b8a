"""Calling the service centre (issue 22), end to end: the sandbox's phone calls Steward's number, its
signed webhooks reach the served API, the menu's keys open cases in the real `RepairWorkflow`, a
message is recorded and fetched back, and `<Dial>` rings staff phones in ladder order.
"""

from __future__ import annotations

from sqlalchemy import select
from twilio.request_validator import RequestValidator

from steward.store.models import CallRecording, Case
from tests.conftest import TEST_AUTH_TOKEN
from tests.e2e.conftest import Community, Person, Steward, events, eventually, new_phone

CALL = "/webhooks/twilio/call"
MENU_ZH = "紧急情况请按1，报修或留言请按2，查询您的事项进度请按3"
STRANGER_MENU = ("紧急情况请按1，给工作人员留言请按2", "to leave a message for our staff press 2")


def spoken(code: str) -> str:
    return " ".join(char for char in code if char.isalnum())


def origin(state: dict) -> str:
    return events(state, "submitted")[0]["origin"]


def says(call: dict) -> list[str]:
    return [say["text"] for say in call["says"]]


async def dial_in(steward: Steward, phone: str) -> dict:
    response = await steward.phones.http.post("/sandbox/call", json={"from": phone})
    assert response.status_code == 200, response.text
    return response.json()


async def leave_message(steward: Steward, call_sid: str, seconds: int = 2) -> dict:
    response = await steward.phones.http.post("/sandbox/record",
                                              json={"call_sid": call_sid, "seconds": seconds})
    assert response.status_code == 200, response.text
    return response.json()


async def cases_of(steward: Steward, resident: Person) -> list[Case]:
    def read() -> list[Case]:
        with steward.database.sessions() as session:
            return list(session.scalars(select(Case).where(Case.resident_id == resident.id)))

    async def rows() -> list[Case]:
        return read()

    return await eventually(rows, bool, f"a case for {resident.id}")


def recording(steward: Steward, sid: str) -> CallRecording | None:
    with steward.database.sessions() as session:
        return session.get(CallRecording, sid)


async def test_an_elderly_resident_leaves_a_message_and_hears_the_code_of_the_repair_it_opened(
    steward: Steward, community: Community
):
    resident = await community.resident(locale="zh-CN", channel="voice")
    neighbour = await community.resident()

    call = await dial_in(steward, resident.phone)
    assert call["gathering"] and MENU_ZH in says(call)[0] and call["gathers"][0]["language"] == "zh-CN"
    call = await steward.phones.press(call["sid"], "2")
    assert call["recording"] and "请在提示音后说明情况" in says(call)[-1]
    call = await leave_message(steward, call["sid"])

    [message] = call["recordings"]
    kept = recording(steward, message["sid"])
    assert kept is not None and kept.case_id and kept.size > 0
    case_id = kept.case_id
    assert call["status"] == "completed"
    assert says(call)[-1].startswith(f"您的报修已登记，事项编号 {spoken(case_id)}")
    state = await steward.until(case_id, lambda s: s["status"] in ("dispatched", "submitted"))
    assert (state["kind"], state["building_id"], state["unit"], origin(state)) == (
        "repair", community.building, resident.unit, "voice")
    community.case_ids.append(case_id)

    path = f"/requests/{case_id}/recordings/{message['sid']}"
    fetched = await steward.call(resident.token, "GET", path)
    assert fetched.status_code == 200 and fetched.content.startswith(b"RIFF")
    assert fetched.headers["content-type"] == "audio/wav"
    listed = await steward.call(resident.token, "GET", f"/requests/{case_id}/recordings")
    assert [entry["sid"] for entry in listed.json()] == [message["sid"]]
    assert (await steward.call(neighbour.token, "GET", path)).status_code == 404
    staff_only = await steward.call(neighbour.token, "GET", "/call-recordings/" + message["sid"])
    assert staff_only.status_code == 403

    # Twilio retrying the recording callback opens nothing new and says the same code.
    [document] = [d for d in call["documents"] if d["url"].endswith("/call/recorded")]
    anonymous = await steward.phones.http.get(document["params"]["RecordingUrl"] + ".wav")
    assert anonymous.status_code == 401  # the sandbox serves recordings behind the account, as Twilio
    retried = await signed_post(steward, document["url"], document["params"])
    assert retried.status_code == 200 and spoken(case_id) in retried.text
    assert [row.case_id for row in await cases_of(steward, resident)] == [case_id]


async def test_an_emergency_rings_the_buildings_handler_who_then_owns_the_case(
    steward: Steward, community: Community
):
    resident = await community.resident(locale="en")

    call = await dial_in(steward, resident.phone)
    call = await steward.phones.press(call["sid"], "1")

    [case] = await cases_of(steward, resident)
    community.case_ids.append(case.case_id)
    assert call["status"] == "completed"
    assert f"Your emergency is registered as case {spoken(case.case_id)}." in says(call)
    assert [(d["to"], d["status"]) for d in call["dialled"]] == [(community.handler.phone, "completed")]
    whisper = (await steward.phones.calls(community.handler.phone))
    [rung] = [c for c in whisper if c["direction"] == "outbound-dial"]
    assert rung["from"] == resident.phone and spoken(case.case_id) in says(rung)[0]
    state = await steward.until(case.case_id, lambda s: s["owner_id"] is not None, "owned")
    assert (state["owner_id"], state["severity"], origin(state)) == (
        community.handler.id, "emergency", "voice")


async def test_when_the_handler_does_not_answer_the_next_tiers_ring_in_ladder_order(
    steward: Steward, community: Community
):
    resident = await community.resident()
    team_lead = await community.staff(tier=1)
    await steward.phones.behave(community.handler.phone, voice="no-answer")
    await steward.phones.behave(team_lead.phone, voice="busy")

    call = await dial_in(steward, resident.phone)
    call = await steward.phones.press(call["sid"], "1")

    [case] = await cases_of(steward, resident)
    community.case_ids.append(case.case_id)
    assert [(d["to"], d["status"]) for d in call["dialled"]] == [
        (community.handler.phone, "no-answer"), (team_lead.phone, "busy"),
        (community.manager.phone, "completed")]
    state = await steward.until(case.case_id, lambda s: s["owner_id"] is not None, "owned")
    assert state["owner_id"] == community.manager.id


async def test_nobody_answering_leaves_the_emergency_open_for_its_ladder(
    steward: Steward, community: Community
):
    resident = await community.resident(locale="en")
    for staff in (community.handler, community.manager):
        await steward.phones.behave(staff.phone, voice="no-answer")

    call = await dial_in(steward, resident.phone)
    call = await steward.phones.press(call["sid"], "1")

    [case] = await cases_of(steward, resident)
    community.case_ids.append(case.case_id)
    assert [d["status"] for d in call["dialled"]] == ["no-answer", "no-answer"]
    assert says(call)[-1].startswith("Sorry, nobody on duty could answer.")
    state = await steward.state(case.case_id)
    assert state["owner_id"] is None and state["status"] != "closed"


async def test_pressing_3_reads_out_the_residents_open_cases(steward: Steward, community: Community):
    resident = await community.resident(locale="en")
    case_id = await community.submit(resident)
    await steward.until(case_id, lambda s: s["status"] == "dispatched", "dispatched")
    await eventually(lambda: cases_of(steward, resident), lambda rows: rows[0].status == "dispatched",
                     "projected")

    call = await dial_in(steward, resident.phone)
    call = await steward.phones.press(call["sid"], "3")

    assert call["status"] == "completed"
    assert says(call)[-1].startswith(f"Case {spoken(case_id)}:") and "assigned to a handler" in says(call)[-1]


async def test_a_strangers_call_is_offered_the_emergency_line_and_a_message_for_staff(
    steward: Steward, community: Community
):
    stranger = new_phone()
    call = await dial_in(steward, stranger)
    assert all(any(text in said for said in says(call)) for text in STRANGER_MENU)

    call = await steward.phones.press(call["sid"], "2")
    call = await leave_message(steward, call["sid"])
    [message] = call["recordings"]
    assert says(call)[-2:] == ["您的留言已转交工作人员，谢谢。再见。",
                               "Your message has been passed to our staff. Thank you. Goodbye."]
    assert recording(steward, message["sid"]).case_id is None
    listed = await steward.call(steward.supervisor, "GET", "/inbound-messages")
    [entry] = [m for m in listed.json()["items"] if m["sid"] == message["sid"]]
    assert entry["from_number"] == stranger and f"/call-recordings/{message['sid']}" in entry["body"]
    fetched = await steward.call(community.handler.token, "GET", f"/call-recordings/{message['sid']}")
    assert fetched.status_code == 200 and fetched.content.startswith(b"RIFF")

    emergency = await steward.phones.press((await dial_in(steward, stranger))["sid"], "1")
    assert emergency["dialled"] and emergency["dialled"][-1]["status"] == "completed"
    assert "编号" not in " ".join(says(emergency))


async def signed_post(steward: Steward, url: str, form: dict, token: str = TEST_AUTH_TOKEN):
    signature = RequestValidator(token).compute_signature(url, form)
    return await steward.http.post(url.removeprefix(steward.base_url), data=form,
                                   headers={"X-Twilio-Signature": signature})


async def test_forged_missing_and_unknown_input_are_refused_or_prompted_again(steward: Steward):
    form = {"CallSid": "CA" + "0" * 32, "From": new_phone(), "To": "+15005550006"}
    forged = await signed_post(steward, steward.base_url + CALL, form, token="not-the-auth-token")
    assert forged.status_code == 403 and forged.json()["error"]["code"] == "forbidden"

    missing = await signed_post(steward, steward.base_url + CALL, {"From": form["From"]})
    assert missing.status_code == 422 and "CallSid" in missing.json()["error"]["message"]
    recorded = await signed_post(steward, steward.base_url + CALL + "/recorded",
                                 form | {"RecordingSid": "RE" + "1" * 32, "RecordingUrl": "http://evil.test/x"})
    assert recorded.status_code == 422 and "RecordingUrl" in recorded.json()["error"]["message"]

    call = await dial_in(steward, new_phone())
    call = await steward.phones.press(call["sid"], "9")
    assert call["gathering"] and "输入无效。" in says(call)
