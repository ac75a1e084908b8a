"""What a webhook tells Steward never undoes what happened, and what a phone sends is never lost
(issue 14): a late "failed" after "delivered" fails no attempt, and an SMS whose case cannot answer
in time is listed for staff."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from twilio.request_validator import RequestValidator

from steward.store.models import Case, Notification
from tests.conftest import TEST_AUTH_TOKEN
from tests.e2e.conftest import Community, Steward, events
from tests.e2e.test_channels import CALLBACK_SMS, attempts, closed

STATUS = "/webhooks/twilio/status"


async def test_a_late_failed_status_after_delivered_fails_no_attempt_and_the_residents_answer_decides(
    steward: Steward, community: Community
):
    resident = await community.resident(locale="en")
    case_id = await community.resolved(resident)
    asked = await steward.phones.sms(resident.phone, case_id, CALLBACK_SMS["en"])
    await delivered(steward, asked["sid"])  # the phone has it before Steward hears so: wait for that

    form = {"MessageSid": asked["sid"], "MessageStatus": "failed", "ErrorCode": "30008"}
    signature = RequestValidator(TEST_AUTH_TOKEN).compute_signature(steward.base_url + STATUS, form)
    response = await steward.http.post(STATUS, data=form, headers={"X-Twilio-Signature": signature})
    assert response.status_code == 204

    state = await steward.state(case_id)
    assert events(state, "delivery_failed") == [] and attempts(state) == ["sms"]
    [message] = [e for e in await steward.history(case_id)
                 if e["event"] == "message" and e["detail"]["attempt"] == 1]
    assert message["delivery"]["status"] == "delivered"
    await steward.phones.reply(resident.phone, "1")
    state = await steward.until(case_id, closed, "closed")
    assert state["callback"]["result"] == "satisfied"


async def test_only_the_callback_attempt_hears_back_from_twilio(steward: Steward, community: Community):
    """Twilio reports a delivery where Steward acts on it: the callback attempt, whose failure moves the
    callback on. The earlier notices keep the status Twilio gave when it took them."""
    resident = await community.resident(locale="en")
    case_id = await community.resolved(resident)
    asked = await steward.phones.sms(resident.phone, case_id, CALLBACK_SMS["en"])
    await delivered(steward, asked["sid"])
    statuses = {e["detail"]["template"]: e["delivery"]["status"] for e in await steward.history(case_id)
                if e["event"] == "message"}
    assert statuses["callback_request"] == "delivered"
    assert statuses["case_received"] == "queued", statuses


async def delivered(steward: Steward, sid: str) -> None:
    """Wait (bounded) until Twilio's "delivered" for the message has been recorded."""
    deadline = asyncio.get_running_loop().time() + 30
    while True:
        with steward.database.sessions() as session:
            status = session.scalar(select(Notification.status).where(Notification.sid == sid))
        if status == "delivered":
            return
        assert asyncio.get_running_loop().time() < deadline, f"{sid} never recorded as delivered: {status}"
        await asyncio.sleep(0.1)


async def test_an_sms_acknowledgement_whose_case_cannot_answer_is_listed_for_staff(
    steward: Steward, community: Community
):
    """The case's workflow exists but no worker polls its task queue, so its update would wait forever:
    the webhook gives up after its time-out, answers the phone, and the message needs a person."""
    case_id = f"RP-{uuid.uuid4().hex[:8].upper()}"
    await steward.env.client.start_workflow("RepairWorkflow", {}, id=case_id, task_queue="nobody-polls")
    community.case_ids.append(case_id)
    now = datetime.now(UTC)
    with steward.database.sessions.begin() as session:
        session.add(Case(case_id=case_id, kind="repair", severity="normal", category="plumbing",
                         building_id=community.building, unit="101", resident_id="R001", status="dispatched",
                         tier=0, submitted_at=now, resolution_due=now + timedelta(hours=24)))
        session.add(Notification(key=f"{case_id}:dispatch", case_id=case_id, to=community.handler.phone,
                                 channel="sms", template="dispatch", params={"code": case_id},
                                 status="delivered", created_at=now, updated_at=now))

    answer = await steward.phones.reply(community.handler.phone, "1")

    assert steward.kept(answer) == ("case_unavailable", case_id)
    assert case_id in answer["reply"]
    listed = await steward.call(community.handler.token, "GET", "/inbound-messages")
    assert listed.status_code == 200
    [entry] = [m for m in listed.json()["items"] if m["sid"] == answer["message"]["sid"]]
    assert (entry["outcome"], entry["case_id"]) == ("case_unavailable", case_id)
