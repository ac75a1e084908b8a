"""The Twilio webhook router: signatures first, then what an SMS, a keypress or a status does.

Signature and SMS-handling tests reach the router in process behind a pretend TLS proxy (Steward's
public address differs from the one the app sees); the last ones reach it over HTTP from a sandbox.
What the webhooks do to a real case workflow is tested end to end in tests/e2e/test_channels.py.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from temporalio.exceptions import ApplicationError
from twilio.request_validator import RequestValidator

from steward.store.models import InboundMessage, Notification
from tests.sandbox.twilio_harness import (
    AUTH_TOKEN,
    inbound,
    notification,
    resident,
    settings_for,
    unique_phone,
    webhook_app,
)
from workflows.activity_contracts import Notice
from workflows.contracts import Channel, Locale

PUBLIC = "https://steward.example.com"
INTERNAL = "http://10.0.0.5:8000"
SMS = "/webhooks/twilio/sms"
VOICE = "/webhooks/twilio/voice"
STATUS = "/webhooks/twilio/status"


def sign(url: str, params: dict[str, str], token: str = AUTH_TOKEN) -> dict[str, str]:
    return {"X-Twilio-Signature": RequestValidator(token).compute_signature(url, params)}


def sms_form(phone: str, body: str, sid: str | None = None) -> dict[str, str]:
    return {"MessageSid": sid or "SM" + uuid.uuid4().hex, "AccountSid": "AC" + "5" * 32, "From": phone,
            "To": "+15005550006", "Body": body, "NumMedia": "0"}


@pytest.fixture
async def proxied(database):
    """The router as it sits behind a TLS proxy: Twilio signs for PUBLIC, the app is reached at INTERNAL."""
    app = webhook_app(settings_for(database, "http://127.0.0.1:9", PUBLIC), database, client=None)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=INTERNAL) as http:
        yield http


async def send_sms(http: httpx.AsyncClient, form: dict[str, str]) -> httpx.Response:
    return await http.post(SMS, data=form, headers=sign(PUBLIC + SMS, form))


# --- signatures ----------------------------------------------------------------------------------


async def test_a_request_signed_for_the_public_url_is_accepted_behind_the_proxy(proxied, database):
    form = sms_form(unique_phone(), "hello")
    response = await send_sms(proxied, form)
    assert response.status_code == 200 and response.headers["content-type"].startswith("application/xml")
    assert inbound(database, form["MessageSid"]).outcome == "unmatched"


async def test_a_request_without_a_signature_is_refused_and_nothing_is_kept(proxied, database):
    form = sms_form(unique_phone(), "hello")
    response = await proxied.post(SMS, data=form)
    assert response.status_code == 403
    error = response.json()["error"]
    assert error["code"] == "forbidden" and "X-Twilio-Signature" in error["message"]
    assert inbound(database, form["MessageSid"]) is None


async def test_a_request_signed_with_another_token_is_refused(proxied, database):
    form = sms_form(unique_phone(), "hello")
    response = await proxied.post(SMS, data=form, headers=sign(PUBLIC + SMS, form, token="not-our-token"))
    assert response.status_code == 403 and response.json()["error"]["code"] == "forbidden"
    assert inbound(database, form["MessageSid"]) is None


async def test_a_tampered_body_is_refused(proxied, database):
    form = sms_form(unique_phone(), "1")
    response = await proxied.post(SMS, data=form | {"Body": "2"}, headers=sign(PUBLIC + SMS, form))
    assert response.status_code == 403
    assert inbound(database, form["MessageSid"]) is None


async def test_a_signature_for_the_address_the_app_sees_is_refused(proxied, database):
    form = sms_form(unique_phone(), "hello")
    response = await proxied.post(SMS, data=form, headers=sign(INTERNAL + SMS, form))
    assert response.status_code == 403


async def test_a_voice_request_is_signed_over_its_query_string(proxied, read_model):
    case_id = read_model.case()
    key = read_model.notice(case_id, unique_phone(), "case_closed", gather=None)
    url = f"{VOICE}?key={key}"
    ok = await proxied.get(url, headers=sign(PUBLIC + url, {}))
    assert ok.status_code == 200 and "<Say" in ok.text and "<Hangup" in ok.text
    other = await proxied.get(f"{VOICE}?key={key}x", headers=sign(PUBLIC + url, {}))
    assert other.status_code == 403


async def test_a_forged_status_callback_changes_nothing(proxied, read_model, database):
    case_id = read_model.case()
    sid = "SM" + uuid.uuid4().hex
    key = read_model.notice(case_id, unique_phone(), "callback_request", attempt=1, sid=sid)
    form = {"MessageSid": sid, "MessageStatus": "undelivered", "ErrorCode": "30003"}
    response = await proxied.post(STATUS, data=form, headers=sign(PUBLIC + STATUS, form, token="forged"))
    assert response.status_code == 403
    assert notification(database, key).status == "queued"


# --- what an SMS does (no workflow needed) -----------------------------------------------------


@pytest.mark.parametrize("stop", ["STOP", "stop", "Unsubscribe"])
async def test_stop_opts_the_resident_out_and_start_opts_them_back_in(proxied, database, people, stop):
    phone = unique_phone()
    person = people(phone)
    form = sms_form(phone, stop)
    response = await send_sms(proxied, form)
    assert "<Message" not in response.text
    assert resident(database, person.id).opted_out
    assert inbound(database, form["MessageSid"]).outcome == "opted_out"

    form = sms_form(phone, "START")
    await send_sms(proxied, form)
    assert not resident(database, person.id).opted_out
    assert inbound(database, form["MessageSid"]).outcome == "opted_in"


async def test_tuiding_opts_out_and_is_confirmed_in_chinese(proxied, database, people):
    phone = unique_phone()
    person = people(phone)
    response = await send_sms(proxied, sms_form(phone, "退订"))
    assert resident(database, person.id).opted_out
    assert "您已退订短信通知" in response.text


async def test_a_message_with_nothing_waiting_is_kept_and_answered_politely_in_the_residents_language(
    proxied, database, people
):
    phone = unique_phone()
    people(phone, locale="en")
    form = sms_form(phone, "1")
    response = await send_sms(proxied, form)
    assert "Thank you for your message" in response.text
    kept = inbound(database, form["MessageSid"])
    assert (kept.outcome, kept.body, kept.from_number, kept.case_id) == ("unmatched", "1", phone, None)


async def test_a_staff_1_with_nothing_to_acknowledge_is_told_so(proxied, database, staff_member):
    phone = unique_phone()
    staff_member(phone, locale="en")
    form = sms_form(phone, "1")
    response = await send_sms(proxied, form)
    assert "You have no work order waiting to be acknowledged." in response.text
    assert inbound(database, form["MessageSid"]).outcome == "unmatched"


async def test_the_same_message_sid_is_handled_once(proxied, database, people):
    phone = unique_phone()
    person = people(phone)
    form = sms_form(phone, "STOP")
    await send_sms(proxied, form)
    await send_sms(proxied, sms_form(phone, "START"))
    again = await send_sms(proxied, form)
    assert again.status_code == 200 and not resident(database, person.id).opted_out


async def test_several_waiting_callbacks_and_no_code_ask_for_the_code(proxied, database, read_model):
    phone = unique_phone()
    first, second = read_model.case(), read_model.case()
    read_model.notice(first, phone, "callback_request", attempt=1)
    read_model.notice(second, phone, "callback_request", attempt=2)
    form = sms_form(phone, "满意")
    response = await send_sms(proxied, form)
    assert first in response.text and second in response.text and "事项编号" in response.text
    assert inbound(database, form["MessageSid"]).outcome == "ambiguous"


async def test_a_code_that_matches_no_waiting_callback_is_said_to_be_unavailable(
    proxied, database, read_model
):
    phone = unique_phone()
    read_model.notice(read_model.case(), phone, "callback_request", attempt=1)
    form = sms_form(phone, "2 RP-NOSUCH")
    response = await send_sms(proxied, form)
    assert "RP-NOSUCH" in response.text and inbound(database, form["MessageSid"]).outcome == "unknown_code"


async def test_a_case_no_longer_in_the_callback_step_is_not_answered(proxied, database, read_model):
    phone = unique_phone()
    read_model.notice(read_model.case(status="closed"), phone, "callback_request", attempt=1)
    form = sms_form(phone, "1")
    await send_sms(proxied, form)
    assert inbound(database, form["MessageSid"]).outcome == "unmatched"


async def test_a_request_answered_since_or_older_than_the_wait_is_not_answered_again(
    proxied, database, read_model
):
    """Outside the callback step a case still takes the answer to a request of the last `wait` (its
    status may not be written yet), but not once an SMS answered it, nor after the wait."""
    phone, answered_phone = unique_phone(), unique_phone()
    reopened = read_model.case(status="in_progress")
    read_model.notice(reopened, answered_phone, "callback_request", attempt=1)
    with database.sessions.begin() as session:
        session.add(InboundMessage(sid="SM" + uuid.uuid4().hex, from_number=answered_phone, to_number="+1",
                                   body="2", received_at=datetime.now(UTC), case_id=reopened,
                                   outcome="callback_reply"))
    stale = read_model.notice(read_model.case(status="in_progress"), phone, "callback_request", attempt=1)
    with database.sessions.begin() as session:
        session.get(Notification, stale).updated_at = datetime.now(UTC) - timedelta(hours=4, minutes=1)
    for who in (answered_phone, phone):
        form = sms_form(who, "1")
        await send_sms(proxied, form)
        assert inbound(database, form["MessageSid"]).outcome == "unmatched"


# --- over HTTP: sandbox → router ----------------------------------------------------------------
# The flows through a real case workflow (replies, keypresses, delivery status, acknowledgements)
# are tests/e2e/test_channels.py; what is left here needs no workflow.


def callback_notice(
    case_id: str, phone: str, channel: Channel, attempt: int, locale: Locale = Locale.en
) -> Notice:
    return Notice(case_id=case_id, key=f"{case_id}:cb{attempt}:{channel.value}", to=phone, channel=channel,
                  locale=locale, template="callback_request", attempt=attempt,
                  params={"code": case_id, "title": "Kitchen tap", "purpose": "resolved"},
                  gather="satisfaction" if channel is Channel.voice else None)


async def reply(steward, phone: str, body: str) -> dict:
    async with httpx.AsyncClient(base_url=steward.sandbox, timeout=20) as http:
        response = await http.post("/sandbox/reply", json={"from": phone, "body": body})
        response.raise_for_status()
        return response.json()


async def test_an_answer_for_a_case_whose_workflow_is_gone_is_kept_and_answered(
    steward, read_model, database
):
    phone = unique_phone()
    read_model.phones.append(phone)
    case_id = read_model.case()
    read_model.notice(case_id, phone, "callback_request", attempt=1, locale="en")

    answer = await reply(steward, phone, "1")
    assert answer["webhook_status"] == 200 and case_id in answer["reply"]
    assert inbound(database, answer["message"]["sid"]).outcome == "case_unavailable"


async def test_notify_marks_the_resident_when_the_sandbox_says_stop(steward, people, database):
    phone = unique_phone()
    person = people(phone)
    await reply(steward, phone, "STOP")
    assert resident(database, person.id).opted_out
    with pytest.raises(ApplicationError) as raised:
        await steward.notifier.send(callback_notice("RP-STOPPED", phone, Channel.sms, attempt=1))
    assert raised.value.type == "OptedOut"
