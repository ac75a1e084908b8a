"""`notify.send_to_staff` against the Twilio sandbox, run by a real worker: a page reads who is on duty
inside its send (issue 18), tells each person once per key, and a number Twilio refuses for good fails
only that person's notice."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import delete
from temporalio import workflow
from temporalio.worker import UnsandboxedWorkflowRunner, Worker

from activities.broadcast import Broadcaster
from steward.store.models import Staff
from tests.sandbox.twilio_harness import unique_phone
from workflows.activity_contracts import SendManyResult, StaffNotices, TierRequest
from workflows.contracts import Channel, Tier

INVALID = "+15005550001"  # Twilio's magic number: 21211 for a message


@workflow.defn(name="PageForTest")
class Page:
    @workflow.run
    async def run(self, notices: StaffNotices) -> SendManyResult:
        return await workflow.execute_activity(
            "notify.send_to_staff", notices, result_type=SendManyResult,
            start_to_close_timeout=timedelta(seconds=30))


@pytest.fixture
def building(database) -> Iterator[str]:
    building = f"P{uuid.uuid4().hex[:6].upper()}"
    yield building
    with database.sessions.begin() as session:
        session.execute(delete(Staff).where(Staff.id.like(f"{building}-%")))


def add_staff(database, building: str, name: str, phone: str, on_duty: bool = True,
              buildings: list[str] | None = None) -> str:
    staff_id = f"{building}-{name}"
    with database.sessions.begin() as session:
        session.add(Staff(id=staff_id, name=name, tier=int(Tier.team_lead), skills=[],
                          buildings=[building] if buildings is None else buildings, on_duty=on_duty,
                          phone=phone, locale="en"))
    return staff_id


async def messages_to(http: httpx.AsyncClient, path: str, phone: str) -> list[dict]:
    response = await http.get(path, params={"to": phone})
    response.raise_for_status()
    return response.json()


async def page(env, notifier, database, notices: StaffNotices) -> SendManyResult:
    broadcaster = Broadcaster(notifier, database.sessions)
    queue = f"page-{uuid.uuid4().hex[:6]}"
    async with Worker(env.client, task_queue=queue, workflows=[Page], activities=[broadcaster.send_to_staff],
                      workflow_runner=UnsandboxedWorkflowRunner()):
        return await env.client.execute_workflow(Page.run, notices, id=queue, task_queue=queue,
                                                 result_type=SendManyResult)


def escalation(
    building: str, key: str, channel: Channel = Channel.sms, staff_ids: tuple[str, ...] = ()
) -> StaffNotices:
    return StaffNotices(case_id=f"RP-{building}", key=key, staff_ids=list(staff_ids),
                        tier=TierRequest(building_id=building, tier=Tier.team_lead), channel=channel,
                        template="escalation", params={"code": f"RP-{building}", "tier": "1",
                                                       "reason": "response_missed"})


async def test_a_page_reaches_the_tier_on_duty_now_once_and_a_refused_number_fails_alone(
    ts_env, notifier, receiver, sandbox_http, database, building
):
    lead, refused = unique_phone(), INVALID
    add_staff(database, building, "lead", lead)
    bad = add_staff(database, building, "bad", refused)
    off, elsewhere = unique_phone(), unique_phone()
    add_staff(database, building, "off", off, on_duty=False)
    add_staff(database, building, "elsewhere", elsewhere, buildings=["B-OTHER"])
    notices = escalation(building, f"RP-{building}:1")

    first = await page(ts_env, notifier, database, notices)
    again = await page(ts_env, notifier, database, notices)

    assert first == again == SendManyResult(sent=1, failed=[f"RP-{building}:1:{bad}:sms: InvalidNumber"])
    [message] = await messages_to(sandbox_http, "/sandbox/messages", lead)
    assert f"RP-{building}" in message["body"]
    for nobody in (off, elsewhere):
        assert await messages_to(sandbox_http, "/sandbox/messages", nobody) == []


async def test_a_voice_page_calls_and_texts_and_a_named_person_off_duty_is_told_too(
    ts_env, notifier, receiver, sandbox_http, database, building
):
    lead, owner = unique_phone(), unique_phone()
    add_staff(database, building, "lead", lead)
    owner_id = add_staff(database, building, "owner", owner, on_duty=False)

    result = await page(ts_env, notifier, database,
                        escalation(building, f"RP-{building}:2", Channel.voice, staff_ids=(owner_id,)))

    assert result == SendManyResult(sent=4, failed=[])
    for phone in (lead, owner):
        assert len(await messages_to(sandbox_http, "/sandbox/calls", phone)) == 1
        assert len(await messages_to(sandbox_http, "/sandbox/messages", phone)) == 1
