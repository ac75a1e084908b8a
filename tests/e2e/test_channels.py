"""Residents and staff reached through Twilio, end to end: HTTP → Temporal → activity → sandbox → signed
webhook → the real `RepairWorkflow` (issue 5).

Residents answer the callback by SMS or keypad, staff acknowledge by SMS or keypad, and the ways a
channel fails — opt-out, an invalid number, a failed delivery, an outage — each end where SPEC §3
says: another channel, a retry that sends once, or a manual callback task for a person.
"""

from __future__ import annotations

import pytest
from sqlalchemy import update
from twilio.request_validator import RequestValidator

from steward.store.models import Case, Resident
from tests.conftest import TEST_AUTH_TOKEN
from tests.e2e.conftest import Community, Person, Steward, events, eventually, new_phone
from workflows.contracts import Role

CALLBACK_SMS = {"zh-CN": "满意请回复1", "en": "Reply 1 if you are satisfied"}
CALLBACK_MENU = "满意请按1"  # the zh-CN keypad menu
INVALID = "+15005550001"  # Twilio's magic number: 21211 for a message, 21217 for a call
STATUS = "/webhooks/twilio/status"


def spoken(code: str) -> str:
    """A case code as a call says it, character by character."""
    return " ".join(char for char in code if char.isalnum())


def callback(state: dict) -> tuple:
    record = state["callback"]
    return record["result"], record["channel"], record["attempts"]


def attempts(state: dict) -> list[str]:
    return [detail["channel"] for detail in events(state, "callback_attempt")]


def closed(state: dict) -> bool:
    return state["status"] == "closed"


# --- the callback loop by SMS ---------------------------------------------------------------------


async def test_a_resident_who_replies_1_to_the_callback_sms_closes_the_case(
    steward: Steward, community: Community
):
    resident = await community.resident(locale="en")
    case_id = await community.resolved(resident)

    asked = await steward.phones.sms(resident.phone, case_id, CALLBACK_SMS["en"])
    assert "has been resolved" in asked["body"]
    answer = await steward.phones.reply(resident.phone, "1")

    assert answer["reply"] is None and steward.kept(answer) == ("callback_reply", case_id)
    state = await steward.until(case_id, closed, "closed")
    assert callback(state) == ("satisfied", "sms", 1)
    assert events(state, "callback_reply") == [
        {"attempt": 1, "satisfied": True, "channel": "sms", "accepted": True}]
    await steward.phones.sms(resident.phone, f"Thank you for your feedback on {case_id}")
    await steward.phones.sms(resident.phone, f"Your case {case_id} is closed")


async def test_a_reply_that_comes_before_the_case_s_callback_status_is_written_still_closes_it(
    steward: Steward, community: Community
):
    """The callback SMS goes out while the projection saying `callback` may still be retrying (its worker
    killed, the database just back): the read model still says `resolved` when the resident answers."""
    resident = await community.resident(locale="en")
    case_id = await community.resolved(resident)
    await steward.phones.sms(resident.phone, case_id, CALLBACK_SMS["en"])
    with steward.database.sessions.begin() as session:
        session.execute(update(Case).where(Case.case_id == case_id).values(status="resolved"))

    answer = await steward.phones.reply(resident.phone, "1")

    assert answer["reply"] is None and steward.kept(answer) == ("callback_reply", case_id)
    state = await steward.until(case_id, closed, "closed")
    assert callback(state) == ("satisfied", "sms", 1)


async def test_not_satisfied_by_sms_reopens_the_case_one_tier_up_until_the_resident_is_satisfied(
    steward: Steward, community: Community
):
    resident = await community.resident(locale="zh-CN")
    case_id = await community.resolved(resident)

    for round_, word in enumerate(["不满意", "2"], start=1):
        await steward.phones.sms(resident.phone, case_id, CALLBACK_SMS["zh-CN"], count=round_)
        await steward.phones.reply(resident.phone, word)
        state = await steward.until(case_id, lambda s, n=round_: s["reopen_count"] == n, "reopened")
        assert (state["status"], state["tier"]) == ("in_progress", round_)
        assert state["owner_id"] == community.handler.id
        await steward.phones.sms(resident.phone, f"很抱歉，事项 {case_id} 已重新处理", count=round_)
        await steward.phones.sms(community.handler.phone, f"您负责的工单 {case_id} 已重新打开", count=round_)
        await community.act(community.handler, case_id, "resolve", {"note": "Replaced the whole tap."})

    await steward.phones.sms(resident.phone, case_id, CALLBACK_SMS["zh-CN"], count=3)
    await steward.phones.reply(resident.phone, "满意")
    state = await steward.until(case_id, closed, "closed")
    assert callback(state) == ("satisfied", "sms", 1) and state["reopen_count"] == 2
    assert [(d["attempt"], d["satisfied"]) for d in events(state, "callback_reply")] == [
        (1, False), (2, False), (3, True)]


async def test_a_reply_without_a_code_while_two_cases_wait_asks_for_the_code(
    steward: Steward, community: Community
):
    resident = await community.resident(locale="en")
    first = await community.resolved(resident, title="Kitchen tap leaking")
    second = await community.resolved(resident, title="Bathroom door sticks")
    for case_id in (first, second):
        await steward.phones.sms(resident.phone, case_id, CALLBACK_SMS["en"])

    answer = await steward.phones.reply(resident.phone, "1")
    assert "several cases awaiting your answer" in answer["reply"]
    assert first in answer["reply"] and second in answer["reply"]
    assert steward.kept(answer) == ("ambiguous", None)

    answer = await steward.phones.reply(resident.phone, f"1 {second}")
    assert answer["reply"] is None and steward.kept(answer) == ("callback_reply", second)
    assert callback(await steward.until(second, closed, "closed"))[0] == "satisfied"
    assert (await steward.state(first))["status"] == "callback"

    await steward.phones.reply(resident.phone, f"2 {first.lower()}")
    state = await steward.until(first, lambda s: s["reopen_count"] == 1, "reopened")
    assert state["status"] == "in_progress"


# --- the callback loop by keypad -------------------------------------------------------------------


async def test_an_elderly_resident_answers_the_callback_call_in_chinese_with_the_keypad(
    steward: Steward, community: Community
):
    r003 = Person("R003", "+8613800000103", steward.token(Role.resident, "R003"), unit="103")
    case_id = await community.resolved(r003, building_id="B1")

    call = await steward.phones.call(r003.phone, spoken(case_id), CALLBACK_MENU)
    [menu] = call["says"]
    [gather] = call["gathers"]
    assert (menu["voice"], menu["language"]) == ("Polly.Zhiyu", "cmn-CN")  # STEWARD_CALL_VOICE_ZH's
    assert gather["language"] == "zh-CN" and gather["num_digits"] == 1
    assert gather["action"].startswith(f"{steward.base_url}/webhooks/twilio/voice?key=")
    assert not any(CALLBACK_SMS["zh-CN"] in m["body"] for m in await steward.phones.messages(r003.phone))

    call = await steward.phones.press(call["sid"], "7")
    assert call["gathering"] and [s["text"] for s in call["says"]][1:] == ["输入无效。", menu["text"]]
    call = await steward.phones.press(call["sid"], "1")

    assert call["status"] == "completed"
    assert call["says"][-1]["text"] == f"感谢您对事项 {spoken(case_id)} 的评价，再见。"
    state = await steward.until(case_id, closed, "closed")
    assert callback(state) == ("satisfied", "voice", 1)


async def test_no_keypress_repeats_the_menu_once_then_hangs_up_and_counts_as_a_failed_attempt(
    steward: Steward, community: Community
):
    resident = await community.resident(locale="zh-CN", channel="voice")
    case_id = await community.resolved(resident)
    call = await steward.phones.call(resident.phone, spoken(case_id), CALLBACK_MENU)
    menu = call["says"][0]["text"]

    call = await steward.phones.press(call["sid"], "")
    assert call["gathering"] and [s["text"] for s in call["says"]][1:] == ["我们没有收到您的按键。", menu]
    call = await steward.phones.press(call["sid"], "")
    assert call["status"] == "completed" and call["says"][-1]["text"].startswith("感谢接听")

    await steward.phones.sms(resident.phone, case_id, CALLBACK_SMS["zh-CN"])
    state = await steward.state(case_id)
    assert events(state, "callback_failed") == [{"attempt": 1, "channel": "voice", "error": "no-input"}]
    assert attempts(state) == ["voice", "sms"]
    await steward.phones.reply(resident.phone, "1")
    assert callback(await steward.until(case_id, closed, "closed")) == ("satisfied", "sms", 2)


# --- staff acknowledge by SMS and by keypad ---------------------------------------------------------


async def test_the_handler_acknowledges_by_replying_1_to_the_dispatch_sms(
    steward: Steward, community: Community
):
    resident = await community.resident()
    case_id = await community.submit(resident)
    await steward.phones.sms(community.handler.phone, case_id, "回复1确认接单")

    answer = await steward.phones.reply(community.handler.phone, "1")

    assert answer["reply"] == f"工单 {case_id} 已确认接单。"
    assert steward.kept(answer) == ("acknowledged", case_id)
    state = await steward.until(case_id, lambda s: s["status"] == "acknowledged", "acknowledged")
    assert state["owner_id"] == community.handler.id
    [ack] = [e for e in state["timeline"] if e["event"] == "acknowledged"]
    assert ack["actor"] == {"id": community.handler.id, "role": "staff"}
    await steward.phones.sms(resident.phone, f"您的事项 {case_id} 已有工作人员接单处理")

    again = await steward.phones.reply(community.handler.phone, "1")
    assert "已确认接单" not in again["reply"] and steward.kept(again)[0] in ("ack_refused", "unmatched")
    assert len(events(await steward.state(case_id), "acknowledged")) == 1


async def test_an_emergency_calls_the_property_manager_who_acknowledges_by_pressing_1(
    steward: Steward, community: Community
):
    resident = await community.resident()
    case_id = await community.submit(resident, severity="emergency", title="Water pouring through ceiling")

    call = await steward.phones.call(community.manager.phone, spoken(case_id), "确认接单请按1")
    await steward.phones.sms(community.manager.phone, case_id, "回复1确认接单")
    call = await steward.phones.press(call["sid"], "1")

    assert call["status"] == "completed"
    assert call["says"][-1]["text"] == f"工单 {spoken(case_id)} 已确认接单，谢谢。"
    state = await steward.until(case_id, lambda s: s["status"] == "acknowledged", "acknowledged")
    assert (state["owner_id"], state["tier"]) == (community.manager.id, 2)

    handlers_call = await steward.phones.call(community.handler.phone, spoken(case_id), "确认接单请按1")
    handlers_call = await steward.phones.press(handlers_call["sid"], "1")
    assert handlers_call["says"][-1]["text"] == f"工单 {spoken(case_id)} 无法确认，请在工作台查看。"
    assert (await steward.state(case_id))["owner_id"] == community.manager.id


# --- when a channel fails --------------------------------------------------------------------------


async def test_stop_turns_the_callback_into_a_manual_task_and_start_brings_sms_back(
    steward: Steward, community: Community
):
    resident = await community.resident()
    lead = await community.staff(tier=1)
    await steward.phones.reply(resident.phone, "STOP")

    case_id = await community.resolved(resident)
    state = await steward.until(case_id, lambda s: s["status"] == "manual_callback", "manual callback")
    assert events(state, "manual_callback") == [{"reason": "opted_out"}]
    assert attempts(state) == [] and await steward.phones.calls(resident.phone) == []
    # The handler resolved the work, so their team lead makes the manual callback.
    await steward.phones.sms(lead.phone, f"【人工回访】工单 {case_id}：住户已退订短信")
    await community.act(lead, case_id, "callback", {
        "result": "satisfied", "note": "Phoned the resident; the tap is fine.", "reached_by": "phone"})
    state = await steward.until(case_id, closed, "closed")
    assert (state["callback"]["result"], state["callback"]["recorded_by"]["id"]) == ("satisfied", lead.id)
    assert not any(case_id in m["body"] for m in await steward.phones.messages(resident.phone))

    await steward.phones.reply(resident.phone, "START")
    again = await community.resolved(resident)
    await steward.phones.sms(resident.phone, again, CALLBACK_SMS["zh-CN"])
    await steward.phones.reply(resident.phone, "1")
    assert callback(await steward.until(again, closed, "closed")) == ("satisfied", "sms", 1)


async def test_an_invalid_number_falls_back_to_the_other_channel_then_to_a_manual_callback(
    steward: Steward, community: Community
):
    resident = await community.resident()
    lead = await community.staff(tier=1)
    case_id = await community.submit(resident)
    await steward.until(case_id, lambda s: s["status"] == "dispatched", "dispatched")
    with steward.database.sessions.begin() as session:
        session.execute(update(Resident).where(Resident.id == resident.id).values(phone=INVALID))
    await community.act(community.handler, case_id, "resolve", {"note": "Replaced the washer."})

    state = await steward.until(case_id, lambda s: s["status"] == "manual_callback", "manual callback")
    assert attempts(state) == ["sms", "voice"]
    assert [d["error"] for d in events(state, "callback_failed")] == ["InvalidNumber", "InvalidNumber"]
    assert events(state, "manual_callback") == [{"reason": "bad_channel"}]
    await steward.phones.sms(lead.phone, f"【人工回访】工单 {case_id}：住户电话无法接通")

    await community.act(lead, case_id, "callback", {
        "result": "not_satisfied", "note": "Visited: the tap still drips.", "reached_by": "visit"})
    state = await steward.until(case_id, lambda s: s["reopen_count"] == 1, "reopened")
    assert state["status"] == "in_progress"


async def test_a_landline_gets_the_callback_by_phone_call(steward: Steward, community: Community):
    resident = await community.resident(phone="+15005550009")  # 21614: not a mobile number
    case_id = await community.resolved(resident)

    call = await steward.phones.call(resident.phone, spoken(case_id), CALLBACK_MENU)
    await steward.phones.press(call["sid"], "1")

    state = await steward.until(case_id, closed, "closed")
    assert callback(state) == ("satisfied", "voice", 1) and attempts(state) == ["voice"]
    assert await steward.phones.messages(resident.phone) == []


@pytest.mark.parametrize(("preferred", "failing", "other"), [
    ("sms", {"sms": "fail"}, "voice"),
    ("voice", {"voice": "no-answer"}, "sms"),
], ids=["undelivered-sms", "unanswered-call"])
async def test_a_failed_delivery_counts_as_a_failed_attempt_and_the_next_goes_by_the_other_channel(
    steward: Steward, community: Community, preferred: str, failing: dict, other: str
):
    resident = await community.resident(channel=preferred)
    await steward.phones.behave(resident.phone, **failing)
    case_id = await community.resolved(resident)

    state = await steward.until(case_id, lambda s: len(attempts(s)) == 2, "a second attempt")
    status = "undelivered" if preferred == "sms" else "no-answer"
    assert events(state, "delivery_failed") == [
        {"attempt": 1, "channel": preferred, "status": status, "accepted": True}]
    assert events(state, "callback_failed") == [{"attempt": 1, "channel": preferred, "error": status}]
    assert attempts(state) == [preferred, other]

    if other == "voice":
        call = await steward.phones.call(resident.phone, spoken(case_id), CALLBACK_MENU)
        await steward.phones.press(call["sid"], "1")
    else:
        await steward.phones.sms(resident.phone, case_id, CALLBACK_SMS["zh-CN"])
        await steward.phones.reply(resident.phone, "1")
    state = await steward.until(case_id, closed, "closed")
    assert callback(state) == ("satisfied", other, 2)
    assert len(events(state, "delivery_failed")) == 1


async def test_a_repeated_failed_status_callback_fails_the_attempt_once(
    steward: Steward, community: Community
):
    resident = await community.resident()
    await steward.phones.behave(resident.phone, sms="fail")
    case_id = await community.resolved(resident)
    await steward.until(case_id, lambda s: len(attempts(s)) == 2, "a second attempt")

    [failed] = [m for m in await steward.phones.messages(resident.phone)
                if CALLBACK_SMS["zh-CN"] in m["body"]]
    form = {"MessageSid": failed["sid"], "MessageStatus": "undelivered", "ErrorCode": "30003"}
    url = steward.base_url + STATUS
    signature = RequestValidator(TEST_AUTH_TOKEN).compute_signature(url, form)
    response = await steward.http.post(STATUS, data=form, headers={"X-Twilio-Signature": signature})

    assert response.status_code == 204
    state = await steward.state(case_id)
    assert len(events(state, "delivery_failed")) == 1 and attempts(state) == ["sms", "voice"]
    [asked] = [e for e in await steward.history(case_id)
               if e["event"] == "message" and e["detail"]["attempt"] == 1]
    assert (asked["delivery"]["status"], asked["delivery"]["error_code"]) == ("undelivered", 30003)


async def test_a_replayed_keypress_is_answered_200_and_reopens_the_case_once(
    steward: Steward, community: Community
):
    """A validly signed request sent again (an attacker's replay, or Twilio's own retry, which it cannot
    be told from: the signature covers only the URL and the form) is answered like the first and acts
    once: the workflow keeps the first answer to each callback attempt."""
    resident = await community.resident(locale="zh-CN", channel="voice")
    case_id = await community.resolved(resident)
    call = await steward.phones.call(resident.phone, spoken(case_id), CALLBACK_MENU)
    [gather] = call["gathers"]
    await steward.phones.press(call["sid"], "2")
    await steward.until(case_id, lambda s: s["reopen_count"] == 1, "reopened")

    form = {"CallSid": call["sid"], "AccountSid": "AC" + "7" * 32, "From": "+15005550006",
            "To": resident.phone, "Digits": "2"}
    signature = RequestValidator(TEST_AUTH_TOKEN).compute_signature(gather["action"], form)
    path = gather["action"].removeprefix(steward.base_url)
    for _ in range(2):
        replayed = await steward.http.post(path, data=form, headers={"X-Twilio-Signature": signature})
        assert replayed.status_code == 200 and "<Hangup" in replayed.text

    state = await steward.until(case_id, lambda s: len(events(s, "callback_reply")) == 3, "the replays heard")
    assert [(d["attempt"], d["satisfied"], d["accepted"]) for d in events(state, "callback_reply")] == [
        (1, False, True), (1, False, False), (1, False, False)]
    assert state["reopen_count"] == 1 and (state["status"], state["tier"]) == ("in_progress", 1)


async def test_an_outage_is_retried_and_the_callback_sms_is_delivered_exactly_once(
    steward: Steward, community: Community
):
    resident = await community.resident(locale="en")
    case_id = await community.submit(resident)
    await steward.until(case_id, lambda s: s["status"] == "dispatched", "dispatched")
    await steward.phones.sms(resident.phone, f"We have received {case_id}")

    await steward.phones.outage("500")
    await community.act(community.handler, case_id, "resolve", {"note": "Replaced the washer."})

    async def callback_delivery() -> dict | None:
        entries = [e for e in await steward.history(case_id)
                   if e["event"] == "message" and e["detail"]["template"] == "callback_request"]
        return entries[0]["delivery"] if entries else None

    refused = await eventually(callback_delivery, lambda d: d is not None and d["status"] == "retrying",
                                     "the callback SMS refused by the outage")
    assert refused["error_code"] == 20500
    await steward.phones.outage(None)

    await steward.phones.sms(resident.phone, case_id, CALLBACK_SMS["en"])
    await steward.phones.reply(resident.phone, "1")
    state = await steward.until(case_id, closed, "closed")
    assert callback(state) == ("satisfied", "sms", 1)
    bodies = [m["body"] for m in await steward.phones.messages(resident.phone)
              if m["direction"] == "outbound-api"]
    assert len([b for b in bodies if CALLBACK_SMS["en"] in b]) == 1
    assert len(bodies) == len(set(bodies))


# --- messages no case takes ---------------------------------------------------------------------


async def test_a_message_no_case_takes_is_kept_and_listed_for_staff(steward: Steward, community: Community):
    resident = await community.resident()
    handler = community.handler or await community.staff(0)
    stranger = new_phone()

    answer = await steward.phones.reply(stranger, "楼道灯不亮了")

    assert steward.kept(answer) == ("unmatched", None), "a stranger's text opens nothing"
    listed = await steward.call(handler.token, "GET", "/inbound-messages")
    assert listed.status_code == 200, listed.text
    [entry] = [m for m in listed.json()["items"] if m["sid"] == answer["message"]["sid"]]
    assert (entry["from_number"], entry["body"]) == (stranger, "楼道灯不亮了")
    assert entry["outcome"] == "unmatched"
    refused = await steward.call(resident.token, "GET", "/inbound-messages")
    assert refused.status_code == 403 and refused.json()["error"]["code"]


async def test_a_residents_text_opens_a_case_and_its_receipt_comes_back_to_the_phone(
        steward: Steward, community: Community):
    resident = await community.resident()
    answer = await steward.phones.reply(resident.phone, "楼道灯不亮了")
    outcome, case_id = steward.kept(answer)
    assert outcome == "reported" and case_id is not None
    community.case_ids.append(case_id)
    state = await steward.until(case_id, lambda s: s["status"] == "dispatched", "dispatched")
    assert (state["category"], state["unit"]) == ("electrical", resident.unit)

    async def receipts() -> list[str]:
        return [m["body"] for m in await steward.phones.messages(resident.phone)
                if m["direction"] == "outbound-api" and case_id in m["body"]]

    [receipt] = await eventually(receipts, lambda bodies: len(bodies) == 1, "the receipt reached the phone")
    assert "已受理" in receipt and "前响应" in receipt
