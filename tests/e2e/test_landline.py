"""Messages fit the phone, end to end (issue 19): HTTP → Temporal → activity → sandbox → signed webhook.

A resident whose number is a fixed line is reached by voice only, every notice and the callback alike,
though they said they prefer SMS; numbers written the national way are kept and matched in E.164; SMS
carry the signature of their language and calls speak in the voice set for it.
"""

from __future__ import annotations

import random
import uuid
from typing import Any

import pytest
from sqlalchemy import update

from steward.phones import is_landline, normalise
from steward.store.models import Resident
from tests.e2e.conftest import Community, Steward, eventually
from workflows.contracts import Role

SETTINGS = {"sms_signature_zh": "【物业服务中心】", "sms_signature_en": "[Property Service Centre]",
            "call_voice_en": "Polly.Matthew"}
CALLBACK_MENU = "满意请按1"


@pytest.fixture(scope="module")
def settings_overrides() -> dict[str, Any]:
    return SETTINGS


def shanghai_landline() -> tuple[str, str]:
    """A Shanghai fixed line as a person dials it, and in E.164."""
    dialled = f"021 6{random.randrange(10**6, 10**7)}"
    e164 = normalise(dialled)
    assert is_landline(e164)
    return dialled, e164


def mobile() -> tuple[str, str]:
    digits = str(uuid.uuid4().int)[:8]
    return f"137 {digits[:4]} {digits[4:]}", f"+86137{digits}"


async def messages_to(steward: Steward, case_id: str, resident_id: str) -> list[dict]:
    return [e["detail"] for e in await steward.history(case_id)
            if e["event"] == "message" and e["detail"].get("recipient") == resident_id]


async def test_a_resident_on_a_landline_gets_every_notice_and_the_callback_by_call_never_an_sms(
    steward: Steward, community: Community
):
    dialled, e164 = shanghai_landline()
    resident = await community.resident(channel="sms", phone=dialled)
    case_id = await community.resolved(resident)

    call = await steward.phones.call(e164, CALLBACK_MENU)
    [menu] = call["says"]
    assert (menu["voice"], menu["language"]) == ("Polly.Zhiyu", "cmn-CN")
    call = await steward.phones.press(call["sid"], "1")
    assert call["says"][-1]["text"].startswith("感谢您对事项")
    assert {(s["voice"], s["language"]) for s in call["says"]} == {("Polly.Zhiyu", "cmn-CN")}
    state = await steward.until(case_id, lambda s: s["status"] == "closed", "closed")
    assert state["callback"]["channel"] == "voice"

    sent = await messages_to(steward, case_id, resident.id)
    assert {m["template"] for m in sent} >= {"case_received", "callback_request"}
    assert {m["channel"] for m in sent} == {"voice"}
    assert await steward.phones.messages(e164) == []
    received = [c for c in await steward.phones.calls(e164) if c["sid"] != call["sid"]]
    assert any(case_id[-4:] in " ".join(s["text"] for s in c["says"]).replace(" ", "") for c in received)


async def test_sms_carry_the_signature_of_their_language_and_calls_the_voice_of_theirs(
    steward: Steward, community: Community
):
    _, chinese_phone = mobile()
    chinese = await community.resident(locale="zh-CN", channel="sms", phone=chinese_phone)
    _, english_phone = mobile()
    english = await community.resident(locale="en", channel="voice", phone=english_phone)
    chinese_case = await community.submit(chinese)
    english_case = await community.submit(english)

    received = await steward.phones.sms(chinese_phone, chinese_case)
    assert received["body"].startswith(f"【物业服务中心】您的事项 {chinese_case}")

    async def calls() -> list[dict]:
        return [c for c in await steward.phones.calls(english_phone) if c["says"]]

    [call, *_] = await eventually(calls, bool, f"the receipt of {english_case} by call")
    assert [(s["voice"], s["language"]) for s in call["says"]] == [("Polly.Matthew", "en-US")]
    assert "[Property" not in call["says"][0]["text"]

    await community.act(community.handler, english_case, "resolve", {"note": "Done."})
    await community.act(community.handler, chinese_case, "resolve", {"note": "Done."})
    asked = await steward.phones.sms(chinese_phone, chinese_case, "满意请回复1")
    assert asked["body"].startswith("【物业服务中心】")


async def test_a_reply_from_a_number_written_the_national_way_answers_the_callback(
    steward: Steward, community: Community
):
    dialled, e164 = mobile()
    resident = await community.resident(channel="sms", phone=e164)
    case_id = await community.resolved(resident)
    await steward.phones.sms(e164, case_id, "满意请回复1")

    answer = await steward.phones.reply(dialled, "1")
    assert steward.kept(answer) == ("callback_reply", case_id)
    await steward.until(case_id, lambda s: s["status"] == "closed", "closed")


# --- the directory keeps numbers in E.164 and refuses what is not a number ------------------------


async def test_the_directory_keeps_a_number_written_any_way_in_e164(steward: Steward, community: Community):
    dialled, e164 = mobile()
    resident = await community.resident(phone=dialled)
    assert resident.phone == dialled
    listed = await steward.call(steward.admin, "GET", "/residents?limit=500")
    [entry] = [r for r in listed.json()["items"] if r["id"] == resident.id]
    assert entry["phone"] == e164

    staff_id = f"{community.building}-S9"
    response = await steward.call(steward.admin, "POST", "/staff", {
        "id": staff_id, "name": "Night porter", "tier": 0, "phone": "+86 (21) 6123-4567"})
    assert response.status_code == 201, response.text
    assert response.json()["phone"] == "+862161234567"


async def test_a_number_stored_before_the_check_is_still_listed_as_stored(
    steward: Steward, community: Community
):
    resident = await community.resident()
    with steward.database.sessions.begin() as session:
        session.execute(update(Resident).where(Resident.id == resident.id).values(phone="+12345"))
    listed = await steward.call(steward.admin, "GET", "/residents?limit=500")
    assert listed.status_code == 200, listed.text
    assert [r["phone"] for r in listed.json()["items"] if r["id"] == resident.id] == ["+12345"]


@pytest.mark.parametrize(("phone", "why"), [
    ("12345", "wrong length or prefix"),
    ("+86 138 0000 123", "wrong length or prefix"),
    ("+8612345678901", "wrong length or prefix"),
    ("+999 1234 5678", "unknown country code"),
    ("138-0000-abcd", "use digits"),
    ("+8613800001234 ext. 2", "use digits"),
])
async def test_a_number_that_is_not_valid_is_refused_with_a_422_naming_the_field(
    steward: Steward, community: Community, phone: str, why: str
):
    household = f"H-{community.building}-9{random.randrange(100, 999)}"
    body = {"id": f"{community.building}-X", "household_id": household, "name": "X", "phone": phone}
    for path, entry in (("/residents", body), ("/staff", {"id": f"{community.building}-SX", "name": "X",
                                                           "tier": 0, "phone": phone})):
        response = await steward.call(steward.admin, "POST", path, entry)
        assert response.status_code == 422, response.text
        error = response.json()["error"]
        assert error["code"] == "validation_error"
        assert error["message"].startswith("phone: not a valid phone number") and why in error["message"]
    token = steward.token(Role.resident, "R001")
    response = await steward.call(token, "POST", "/auth/code", {"phone": phone})
    assert response.status_code == 422 and "phone: not a valid phone number" in response.text
