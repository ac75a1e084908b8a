"""The real Twilio client, through `Notifier`, against the running sandbox over HTTP.

The receiver stands where Steward's public address would be: it sees the status callbacks, TwiML
fetches and inbound SMS exactly as the sandbox sends them, and every one must carry a valid signature.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

import httpx
import pytest
from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError
from temporalio.worker import UnsandboxedWorkflowRunner, Worker
from twilio.request_validator import RequestValidator

from activities.notify import Notifier
from steward.settings import Settings
from steward.store.models import Resident
from steward.texts.render import render
from tests.sandbox.twilio_harness import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    Received,
    eventually,
    notification,
    resident,
    settings_for,
    unique_phone,
)
from workflows.activity_contracts import Notice, ResidentNotice
from workflows.contracts import Channel, Locale

MESSAGES = f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
FROM = Settings(_env_file=None).twilio_from_number


def notice(to: str, channel: Channel = Channel.sms, template: str = "case_closed", **extra) -> Notice:
    case_id = f"RP-{uuid.uuid4().hex[:6].upper()}"
    params = {"code": case_id} | extra.pop("params", {})
    return Notice(case_id=case_id, key=f"{case_id}:1", to=to, channel=channel, locale=Locale.en,
                  template=template, params=params, **extra)


def signed(request: Received) -> bool:
    return RequestValidator(AUTH_TOKEN).validate(request.url, request.form, request.signature or "")


async def get_json(http: httpx.AsyncClient, path: str, **params):
    response = await http.get(path, params=params)
    response.raise_for_status()
    return response.json()


# --- messages ----------------------------------------------------------------------------------


def attempt(to: str, channel: Channel = Channel.sms) -> Notice:
    """A callback attempt: the one notice whose delivery Twilio reports back (Steward acts on a failure)."""
    return notice(to, channel, attempt=1)


async def test_only_a_callback_attempt_asks_twilio_for_its_delivery_status(notifier, receiver, sandbox_http):
    told, asked = unique_phone(), unique_phone()
    await notifier.send(notice(told))
    await notifier.send(attempt(asked))
    [message] = await get_json(sandbox_http, "/sandbox/messages", to=told)
    assert message["status_callback"] is None
    callbacks = await receiver.wait_for(lambda r: len(r) == 2)
    [with_status] = await get_json(sandbox_http, "/sandbox/messages", to=asked)
    assert {c.form["MessageSid"] for c in callbacks} == {with_status["sid"]}, "none for the other SMS"


async def test_an_sms_is_recorded_and_its_signed_status_callbacks_say_sent_then_delivered(
    notifier, receiver, sandbox_http, database
):
    phone = unique_phone()
    sent = attempt(phone)
    result = await notifier.send(sent)

    assert result.sid.startswith("SM") and len(result.sid) == 34 and result.status == "queued"
    [message] = await get_json(sandbox_http, "/sandbox/messages", to=phone)
    assert message["sid"] == result.sid and message["from"] == "+15005550006"
    assert message["body"] == f"Your case {sent.case_id} is closed. Thank you."
    callbacks = await receiver.wait_for(lambda r: len(r) == 2)
    assert [c.form["MessageStatus"] for c in callbacks] == ["sent", "delivered"]
    assert all(c.path == "/webhooks/twilio/status" and c.form["MessageSid"] == result.sid for c in callbacks)
    assert all(signed(c) for c in callbacks)
    row = notification(database, sent.key)
    assert (row.sid, row.status, row.to, row.template, row.body) == (
        result.sid, "queued", phone, "case_closed", message["body"])


async def test_the_same_key_sends_one_message_whatever_the_retries(notifier, receiver, sandbox_http):
    phone = unique_phone()
    sent = notice(phone)
    first = await notifier.send(sent)
    again = await notifier.send(sent)
    assert again.sid == first.sid
    assert len(await get_json(sandbox_http, "/sandbox/messages", to=phone)) == 1


async def test_a_retry_after_a_kill_between_send_and_record_finds_the_sms_instead_of_resending(
    notifier, receiver, sandbox_http, database
):
    """The worker died after Twilio took the SMS and before its SID was written (the row stays
    pending): the retry asks Twilio, adopts that message and sends nothing."""
    phone = unique_phone()
    sent = notice(phone)
    body = render(sent.template, sent.locale, sent.params, channel=sent.channel, timezone="Asia/Shanghai")
    claim = await notifier._write(sent, body, status="pending")
    assert (claim.done, claim.tried_since) == (None, None)
    taken = await notifier.client.messages.create_async(to=phone, from_=FROM, body=body)

    retried = await notifier.send(sent)

    assert retried.sid == taken.sid
    assert len(await get_json(sandbox_http, "/sandbox/messages", to=phone)) == 1
    assert notification(database, sent.key).sid == taken.sid


async def test_the_retry_finds_the_earlier_sms_behind_many_newer_ones_to_the_same_phone(
    notifier, receiver, sandbox_http, database
):
    """A handler paged for a storm gets dozens of texts while a killed try waits for its retry: the
    earlier SMS is older than a page of them, and the retry must still find it rather than resend."""
    phone = unique_phone()
    sent = notice(phone)
    body = render(sent.template, sent.locale, sent.params, channel=sent.channel, timezone="Asia/Shanghai")
    await notifier._write(sent, body, status="pending")
    taken = await notifier.client.messages.create_async(to=phone, from_=FROM, body=body)
    for n in range(60):
        await notifier.client.messages.create_async(to=phone, from_=FROM, body=f"another page {n}")

    retried = await notifier.send(sent)

    assert retried.sid == taken.sid
    assert sum(m["body"] == body for m in await get_json(sandbox_http, "/sandbox/messages", to=phone)) == 1


async def test_a_retry_whose_earlier_try_never_reached_twilio_sends_once_and_the_stalled_try_may_not(
    notifier, receiver, sandbox_http
):
    """Temporal retried after a time-out while the first try was stalled (not dead): the retry sends,
    and the first try, waking up, finds the row no longer its own and must not call Twilio."""
    phone = unique_phone()
    sent = notice(phone)
    body = render(sent.template, sent.locale, sent.params, channel=sent.channel, timezone="Asia/Shanghai")
    stalled_claim = (await notifier._write(sent, body, status="pending")).claimed_at

    retried = await notifier.send(sent)

    [message] = await get_json(sandbox_http, "/sandbox/messages", to=phone)
    assert retried.sid == message["sid"]
    assert not notifier._still_ours(sent.key, stalled_claim)


async def test_a_message_can_be_fetched_back_through_the_rest_api(notifier, receiver, sandbox_http):
    result = await notifier.send(notice(unique_phone()))
    fetched = await eventually(lambda: notifier.client.messages(result.sid).fetch_async(),
                               lambda m: m.status == "delivered")
    assert fetched.sid == result.sid and fetched.date_sent is not None


async def test_an_app_notice_is_recorded_for_the_staff_app_without_twilio(
    notifier, receiver, sandbox_http, database
):
    phone = unique_phone()
    sent = notice(phone, Channel.app)
    result = await notifier.send(sent)
    assert (result.sid, result.status) == (None, "app")
    assert await get_json(sandbox_http, "/sandbox/messages", to=phone) == []
    row = notification(database, sent.key)
    assert row.status == "app" and sent.case_id in row.body


@pytest.mark.parametrize(("to", "code"), [
    ("+15005550001", 21211), ("+15005550009", 21614), ("13800000000", 21211), ("+86 138 0000", 21211),
])
async def test_an_unusable_number_is_invalid_for_good_and_marked_on_the_resident(
    notifier, receiver, database, people, to, code
):
    person = people(to)
    sent = notice(to)
    with pytest.raises(ApplicationError) as raised:
        await notifier.send(sent)
    assert raised.value.type == "InvalidNumber" and raised.value.non_retryable
    assert raised.value.details[0]["code"] == code
    assert resident(database, person.id).bad_channels == ["sms"]
    row = notification(database, sent.key)
    assert (row.status, row.error_code, row.sid) == ("failed", code, None)


def resident_notice(resident_id: str, template: str = "case_closed") -> ResidentNotice:
    case_id = f"RP-{uuid.uuid4().hex[:6].upper()}"
    return ResidentNotice(case_id=case_id, key=f"{case_id}:1", resident_id=resident_id, template=template,
                          params={"code": case_id})


def change_resident(database, resident_id: str, **values) -> None:
    with database.sessions.begin() as session:
        person = session.get(Resident, resident_id)
        for name, value in values.items():
            setattr(person, name, value)


# --- a resident's notice, their contact read inside the send (issue 18) --------------------------


async def test_a_resident_notice_reads_the_contact_and_sends_on_their_channel_once_per_key(
    notifier, receiver, sandbox_http, database, people
):
    phone = unique_phone()
    person = people(phone)
    sent = resident_notice(person.id)

    first = await notifier.send_to_resident(sent)
    again = await notifier.send_to_resident(sent)

    [message] = await get_json(sandbox_http, "/sandbox/messages", to=phone)
    assert first.sid == again.sid == message["sid"]
    row = notification(database, sent.key)
    assert (row.to, row.channel, row.recipient_id) == (phone, "sms", person.id)


async def test_a_resident_who_prefers_voice_is_called(notifier, receiver, database, people):
    phone = unique_phone()
    person = people(phone)
    change_resident(database, person.id, preferred_channel="voice")
    sent = resident_notice(person.id)

    result = await notifier.send_to_resident(sent)

    assert result.sid.startswith("CA")
    assert notification(database, sent.key).channel == "voice"


async def test_an_opted_out_resident_is_skipped_without_a_message(
    notifier, receiver, sandbox_http, database, people
):
    phone = unique_phone()
    person = people(phone)
    change_resident(database, person.id, opted_out=True)
    sent = resident_notice(person.id)

    assert await notifier.send_to_resident(sent) is None
    assert notification(database, sent.key) is None
    assert await get_json(sandbox_http, "/sandbox/messages", to=phone) == []


async def test_a_call_to_an_invalid_number_marks_voice_bad(notifier, receiver, database, people):
    person = people("+15005550001")
    with pytest.raises(ApplicationError) as raised:
        await notifier.send(notice("+15005550001", Channel.voice))
    assert raised.value.type == "InvalidNumber" and raised.value.details[0]["code"] == 21217
    assert resident(database, person.id).bad_channels == ["voice"]


async def test_an_unsubscribed_number_is_opted_out_for_good(notifier, receiver, database, people):
    person = people("+15005550004")
    sent = notice("+15005550004")
    with pytest.raises(ApplicationError) as raised:
        await notifier.send(sent)
    assert raised.value.type == "OptedOut" and raised.value.non_retryable
    assert resident(database, person.id).opted_out
    assert notification(database, sent.key).error_code == 21610


async def test_stop_from_a_phone_blocks_messages_to_it_until_start(
    notifier, receiver, sandbox_http, database, people
):
    phone = unique_phone()
    person = people(phone)
    stop = (await sandbox_http.post("/sandbox/reply", json={"from": phone, "body": "STOP"})).json()
    assert stop["replies"][0]["body"].startswith("You have successfully been unsubscribed")

    with pytest.raises(ApplicationError) as raised:
        await notifier.send(notice(phone))
    assert raised.value.type == "OptedOut" and resident(database, person.id).opted_out

    auth = (ACCOUNT_SID, AUTH_TOKEN)
    form = {"To": phone, "From": "+15005550006", "Body": "hello"}
    refused = await sandbox_http.post(MESSAGES, data=form, auth=auth)
    assert refused.status_code == 400 and refused.json()["code"] == 21610
    await sandbox_http.post("/sandbox/reply", json={"from": phone, "body": "start"})
    assert (await sandbox_http.post(MESSAGES, data=form, auth=auth)).status_code == 201


@pytest.mark.parametrize(("mode", "code"), [("500", 20500), ("429", 20429)])
async def test_an_outage_is_retryable_and_the_retry_after_it_sends_once(
    notifier, receiver, sandbox_http, database, mode, code
):
    phone = unique_phone()
    sent = notice(phone)
    (await sandbox_http.post("/sandbox/outage", json={"mode": mode})).raise_for_status()
    for _ in range(2):
        with pytest.raises(ApplicationError) as raised:
            await notifier.send(sent)
        assert raised.value.type == "TwilioUnavailable" and not raised.value.non_retryable
        assert raised.value.details[0]["code"] == code
    row = notification(database, sent.key)
    assert (row.status, row.error_code, row.sid) == ("retrying", code, None)
    outage = await get_json(sandbox_http, "/sandbox/outage", to=phone)
    assert outage["mode"] == mode
    assert [(r["method"], r["code"]) for r in outage["refused"]] == [("POST", code)] * 2

    (await sandbox_http.post("/sandbox/outage", json={"mode": None})).raise_for_status()
    result = await notifier.send(sent)
    assert result.sid and await notifier.send(sent) == result
    assert len(await get_json(sandbox_http, "/sandbox/messages", to=phone)) == 1
    assert notification(database, sent.key).error_code is None


async def test_twilio_out_of_reach_is_retryable(database, receiver):
    with socket_closed() as url:
        notifier = Notifier(settings_for(database, url, receiver.base_url), database.sessions)
        with pytest.raises(ApplicationError) as raised:
            await notifier.send(notice(unique_phone()))
        await notifier.close()
    assert raised.value.type == "TwilioUnavailable" and not raised.value.non_retryable


async def test_a_phone_that_fails_gets_undelivered_with_error_30003(notifier, receiver, sandbox_http):
    phone = unique_phone()
    await sandbox_http.post("/sandbox/phones", json={"number": phone, "sms": "fail"})
    result = await notifier.send(attempt(phone))
    callbacks = await receiver.wait_for(lambda r: len(r) == 2)
    assert [(c.form["MessageStatus"], c.form.get("ErrorCode")) for c in callbacks] == [
        ("sent", None), ("undelivered", "30003")]
    assert all(signed(c) and c.form["MessageSid"] == result.sid for c in callbacks)


async def test_the_rest_api_wants_the_account_credentials(sandbox_http):
    form = {"To": "+8613800000000", "From": "+15005550006", "Body": "hi"}
    for auth, path in [(("AC" + "0" * 32, AUTH_TOKEN), MESSAGES), ((ACCOUNT_SID, "wrong"), MESSAGES),
                       ((ACCOUNT_SID, AUTH_TOKEN), MESSAGES.replace(ACCOUNT_SID, "AC" + "1" * 32))]:
        response = await sandbox_http.post(path, data=form, auth=auth)
        assert response.status_code == 401
        assert response.json() == {"code": 20003, "message": "Authenticate",
                                   "more_info": "https://www.twilio.com/docs/errors/20003", "status": 401}
    assert (await sandbox_http.post(MESSAGES, data=form)).status_code == 401


async def test_a_message_without_a_body_is_refused_like_twilio(sandbox_http):
    response = await sandbox_http.post(MESSAGES, data={"To": "+8613800000000", "From": "+15005550006"},
                                       auth=(ACCOUNT_SID, AUTH_TOKEN))
    assert response.status_code == 400 and response.json()["code"] == 21602


# --- inbound SMS -------------------------------------------------------------------------------


async def test_a_reply_is_a_signed_webhook_and_steward_twiml_answer_is_recorded(receiver, sandbox_http):
    receiver.answers["/webhooks/twilio/sms"] = "<Response><Message>Thank you, noted.</Message></Response>"
    phone = unique_phone()
    answer = (await sandbox_http.post("/sandbox/reply", json={"from": phone, "body": "1 RP-ABC123"})).json()

    assert answer["webhook_status"] == 200 and answer["reply"] == "Thank you, noted."
    [webhook] = receiver.at("/webhooks/twilio/sms")
    assert signed(webhook)
    assert webhook.form["From"] == phone and webhook.form["To"] == "+15005550006"
    assert webhook.form["Body"] == "1 RP-ABC123" and webhook.form["NumMedia"] == "0"
    assert webhook.form["AccountSid"] == ACCOUNT_SID
    assert webhook.form["MessageSid"].startswith("SM") and len(webhook.form["MessageSid"]) == 34
    conversation = await get_json(sandbox_http, "/sandbox/messages", to=phone)
    assert [(m["direction"], m["body"]) for m in conversation] == [("outbound-reply", "Thank you, noted.")]
    assert [m["body"] for m in await get_json(sandbox_http, "/sandbox/messages", **{"from": phone})] == [
        "1 RP-ABC123"]


async def test_the_sandbox_carries_on_when_steward_is_down():
    from sandbox.app import SandboxConfig, create_app
    from tests.conftest import ThreadedServer

    with socket_closed() as down:
        server = ThreadedServer(create_app(SandboxConfig(account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN,
                                                 webhook_base_url=down, step_delay=0.01))).start()
        try:
            async with httpx.AsyncClient(base_url=server.base_url) as http:
                phone = "+8613800000001"
                answer = (await http.post("/sandbox/reply", json={"from": phone, "body": "hi"})).json()
                assert answer["webhook_status"] is None and "ConnectError" in answer["webhook_error"]
                sent = await http.post(MESSAGES, auth=(ACCOUNT_SID, AUTH_TOKEN), data={
                    "To": phone, "From": "+15005550006", "Body": "x", "StatusCallback": down + "/s"})
                assert sent.status_code == 201
                [message] = await eventually(lambda: get_json(http, "/sandbox/messages", to=phone),
                                             lambda ms: ms and len(ms[0]["callbacks"]) == 2)
                assert message["status"] == "delivered"
                assert [c["error"] is not None for c in message["callbacks"]] == [True, True]
        finally:
            server.stop()


# --- calls -------------------------------------------------------------------------------------

MENU = """<Response>
  <Gather numDigits="1" timeout="7" action="/menu/answer" language="en-US">
    <Say language="en-US">Press 1 if satisfied, 2 if not.</Say>
  </Gather>
  <Redirect method="POST">/menu/repeat</Redirect>
</Response>"""
REPEAT = """<Response><Say>We did not hear you.</Say>
  <Gather numDigits="1" action="/menu/answer"><Say>Press 1 or 2.</Say></Gather>
  <Say>Goodbye.</Say><Hangup/></Response>"""
THANKS = "<Response><Say>Thank you.</Say><Hangup/></Response>"


async def start_call(notifier, receiver, sandbox_http, phone: str) -> tuple[str, dict]:
    receiver.answers |= {"/webhooks/twilio/voice": MENU, "/menu/repeat": REPEAT, "/menu/answer": THANKS}
    result = await notifier.send(notice(phone, Channel.voice, template="callback_request", attempt=1,
                                        params={"title": "Leak", "purpose": "resolved"}))
    assert result.sid.startswith("CA") and len(result.sid) == 34
    call = await eventually(lambda: get_json(sandbox_http, f"/sandbox/calls/{result.sid}"),
                            lambda c: c["gathering"])
    return result.sid, call


async def test_an_answered_call_fetches_its_url_signed_and_records_the_menu(notifier, receiver, sandbox_http):
    phone = unique_phone()
    sid, call = await start_call(notifier, receiver, sandbox_http, phone)

    [fetch] = receiver.at("/webhooks/twilio/voice")
    assert signed(fetch) and fetch.method == "POST" and fetch.query["key"].endswith(":1")
    assert {k: fetch.form[k] for k in ("CallSid", "AccountSid", "To", "CallStatus", "Direction")} == {
        "CallSid": sid, "AccountSid": ACCOUNT_SID, "To": phone, "CallStatus": "in-progress",
        "Direction": "outbound-api"}
    assert call["status"] == "in-progress"
    says = [(s["text"], s["language"]) for s in call["says"]]
    assert says == [("Press 1 if satisfied, 2 if not.", "en-US")]
    [gather] = call["gathers"]
    assert (gather["action"], gather["num_digits"], gather["timeout"], gather["open"]) == (
        "/menu/answer", 1, 7, True)


async def test_a_keypress_posts_the_digits_to_the_gather_action_and_the_call_completes(
    notifier, receiver, sandbox_http
):
    sid, _ = await start_call(notifier, receiver, sandbox_http, unique_phone())
    call = (await sandbox_http.post("/sandbox/press", json={"call_sid": sid, "digits": "2"})).json()

    [answer] = receiver.at("/menu/answer")
    assert signed(answer) and answer.form["Digits"] == "2" and answer.form["CallSid"] == sid
    assert call["says"][-1]["text"] == "Thank you." and call["status"] == "completed"
    [status] = await receiver.wait_for(lambda r: any(x.path == "/webhooks/twilio/status" for x in r)) and \
        receiver.at("/webhooks/twilio/status")
    assert signed(status) and status.form["CallStatus"] == "completed" and status.form["CallSid"] == sid
    late = await sandbox_http.post("/sandbox/press", json={"call_sid": sid, "digits": "1"})
    assert late.status_code == 409


async def test_no_input_follows_the_twiml_after_the_gather_and_repeats_once(notifier, receiver, sandbox_http):
    sid, _ = await start_call(notifier, receiver, sandbox_http, unique_phone())
    call = (await sandbox_http.post("/sandbox/press", json={"call_sid": sid, "digits": ""})).json()
    assert len(receiver.at("/menu/repeat")) == 1 and receiver.at("/menu/answer") == []
    assert call["gathering"]
    assert [s["text"] for s in call["says"]][-2:] == ["We did not hear you.", "Press 1 or 2."]

    call = (await sandbox_http.post("/sandbox/press", json={"call_sid": sid, "digits": ""})).json()
    assert call["status"] == "completed" and call["says"][-1]["text"] == "Goodbye."
    assert [g["timed_out"] for g in call["gathers"]] == [True, True]
    assert len(receiver.at("/menu/repeat")) == 1 and receiver.at("/menu/answer") == []


@pytest.mark.parametrize("behaviour", ["no-answer", "busy"])
async def test_an_unanswered_call_ends_with_that_status_and_never_fetches_its_url(
    notifier, receiver, sandbox_http, behaviour
):
    phone = unique_phone()
    await sandbox_http.post("/sandbox/phones", json={"number": phone, "voice": behaviour})
    result = await notifier.send(attempt(phone, Channel.voice))
    [status] = await receiver.wait_for(lambda r: len(r) == 1)
    assert status.form["CallStatus"] == behaviour and status.form["CallSid"] == result.sid and signed(status)
    assert receiver.at("/webhooks/twilio/voice") == []
    fetched = await notifier.client.calls(result.sid).fetch_async()
    assert fetched.status == behaviour


async def test_reset_forgets_everything(notifier, receiver, sandbox_http):
    phone = unique_phone()
    await notifier.send(notice(phone))
    await sandbox_http.post("/sandbox/outage", json={"mode": "500"})
    with pytest.raises(ApplicationError):
        await notifier.send(notice(phone))
    await sandbox_http.post("/sandbox/reply", json={"from": phone, "body": "STOP"})
    await sandbox_http.post("/sandbox/reset")
    assert await get_json(sandbox_http, "/sandbox/messages") == []
    phones = await get_json(sandbox_http, "/sandbox/phones")
    assert phones["opted_out"] == [] and phones["outage"] is None
    assert await get_json(sandbox_http, "/sandbox/outage") == {"mode": None, "refused": []}


async def test_the_console_page_is_served_by_the_sandbox_itself(sandbox_http):
    response = await sandbox_http.get("/sandbox")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    page = response.text
    assert "/sandbox/reply" in page and "/sandbox/press" in page and "setInterval" in page
    assert "<script src" not in page and "<link" not in page


# --- helpers ---------------------------------------------------------------------------------


class socket_closed:
    """A base URL on which nothing listens."""

    def __enter__(self) -> str:
        from tests.conftest import free_port

        return f"http://127.0.0.1:{free_port()}"

    def __exit__(self, *_exc) -> None:
        return None


@workflow.defn(name="SendOnceForTest")
class SendOnce:
    """notify.send as a case runs it, with the start-to-close time-out the test chooses and no retry."""

    @workflow.run
    async def run(self, sent: Notice, seconds: float) -> str:
        try:
            await workflow.execute_activity(
                "notify.send", sent, start_to_close_timeout=timedelta(seconds=seconds),
                retry_policy=RetryPolicy(maximum_attempts=1))
        except ActivityError as error:
            return getattr(error.cause, "type", None) or "failed"
        return "sent"


async def test_a_try_too_close_to_its_time_out_does_not_call_twilio(notifier, receiver, sandbox_http, ts_env):
    """Temporal starts the next try once this one's start-to-close time-out has passed, and that try
    looks for an earlier send before sending: an SMS that reached Twilio after the look would go out
    twice. So a try calls Twilio only while its call can be over well before that time-out."""
    phone = unique_phone()
    async with Worker(ts_env.client, task_queue="send-window", workflows=[SendOnce],
                      activities=[notifier.send], workflow_runner=UnsandboxedWorkflowRunner()):
        too_late = await ts_env.client.execute_workflow(
            SendOnce.run, args=[notice(phone), 3.0], id=f"send-window-{phone}", task_queue="send-window")
        assert too_late == "SendWindowClosed"
        assert await get_json(sandbox_http, "/sandbox/messages", to=phone) == []
        in_time = await ts_env.client.execute_workflow(
            SendOnce.run, args=[notice(phone), 30.0], id=f"send-window-ok-{phone}", task_queue="send-window")
        assert in_time == "sent"
        assert len(await get_json(sandbox_http, "/sandbox/messages", to=phone)) == 1
