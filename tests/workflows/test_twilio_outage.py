"""Twilio down (issue 10): the real worker sends through the real `twilio` client to the sandbox over
HTTP with the sandbox's outage switch on, while the time-skipping server jumps hours of retry backoff.

A send rides out an outage for `policy.delivery.retry_for` (6 h by default), backing off up to
`max_backoff` (5 min), and what Twilio takes after it is sent once. A send still refused when that
budget is spent is a failed attempt: the callback tries the other channel, then asks staff for a
manual callback, and the case does not close until they record one.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select
from temporalio.api.enums.v1 import EventType, RetryState
from temporalio.client import WorkflowExecutionStatus
from temporalio.testing import WorkflowEnvironment

from steward.store.models import Notification
from tests.conftest import ThreadedServer, make_settings
from tests.workflows.harness import HANDLER, RepairCases, Sent
from workflows.actions import Acknowledge, RecordCallback, Resolve
from workflows.contracts import Actor, CallbackResult, Channel, ReachedBy, Role, Status, Tier
from workflows.repair import RepairWorkflow

MINUTE = timedelta(minutes=1)
HOUR = timedelta(hours=1)
RESIDENT_PHONE = "+8613800000101"  # R001, who reads English
TEAM_LEADS = {"+8613900000101", "+8613900000102"}
TEAM_LEAD = Actor(id="S101", role=Role.staff)
CALLBACK_SMS = "Reply 1 if you are satisfied"
SHORT_BUDGET = timedelta(minutes=30)


@dataclass
class Twilio:
    """The sandbox's outage switch, and the REST requests it refused."""

    http: httpx.AsyncClient

    async def down(self, down: bool) -> None:
        (await self.http.post("/sandbox/outage", json={"mode": "500" if down else None})).raise_for_status()

    async def refused(self, to: str) -> list[dict]:
        response = await self.http.get("/sandbox/outage", params={"to": to})
        response.raise_for_status()
        return response.json()["refused"]


@pytest.fixture
async def twilio(sandbox_reset: ThreadedServer) -> AsyncIterator[Twilio]:
    """Twilio up again when the test ends, however it ends."""
    async with httpx.AsyncClient(base_url=sandbox_reset.base_url) as http:
        twilio = Twilio(http)
        try:
            yield twilio
        finally:
            await twilio.down(False)


@pytest.fixture
async def short_budget(
    ts_env: WorkflowEnvironment, database, sandbox, api_port, worker_for, tmp_path: Path
) -> AsyncIterator[RepairCases]:
    """Like `cases`, but the policy gives up on a message after 30 minutes of outage (not 6 hours),
    so running out of budget three times takes a few dozen refused attempts."""
    policy = tmp_path / "policy.toml"
    policy.write_text(f'[delivery]\nretry_for = "{SHORT_BUDGET.seconds // 60}m"\n', encoding="utf-8")
    settings = make_settings(database, sandbox, api_port, sla_policy=policy)
    harness = RepairCases(ts_env, settings, database, settings.task_queue, sandbox.base_url)
    async with worker_for(ts_env, settings, database):
        await harness.skip_to_local(10)
        yield harness


async def started_and_told(cases: RepairCases):
    """A dispatched case whose first notices (resident and handler) Twilio has taken."""
    handle = await cases.start()
    await cases.sent_eventually(handle.id, lambda s: len(s) >= 2 and all(n.sid for n in s))
    return handle


async def sids(cases: RepairCases, phone: str, case_id: str) -> list[str]:
    """The messages about this case that Twilio took for this phone."""
    return [m["sid"] for m in await cases.sandbox_messages(phone, case_id)]


def of(sent: list[Sent], template: str) -> list[Sent]:
    return [n for n in sent if n.template == template]


async def test_an_hour_long_outage_is_ridden_out_and_the_escalation_and_callback_are_sent_once(
    cases: RepairCases, twilio: Twilio
) -> None:
    handle = await started_and_told(cases)
    told_before = await sids(cases, RESIDENT_PHONE, handle.id)
    await twilio.down(True)
    await cases.sleep(31 * MINUTE)
    await cases.until(handle, lambda s: s.tier is Tier.team_lead)
    await handle.execute_update(RepairWorkflow.resolve, Resolve(actor=HANDLER, note="Washer replaced."))
    await cases.until(handle, lambda s: s.callback_attempt == 1)

    await cases.sleep(HOUR)

    assert await sids(cases, RESIDENT_PHONE, handle.id) == told_before
    for phone in TEAM_LEADS:
        assert await sids(cases, phone, handle.id) == []
    refused = await twilio.refused(RESIDENT_PHONE)
    assert {(r["path"].rsplit("/", 1)[-1], r["code"]) for r in refused} == {("Messages.json", 20500)}
    assert 5 <= len(refused) < HOUR / MINUTE, "backing off: several tries, fewer than one a minute"
    held = of(cases.sent(handle.id), "callback_request") + of(cases.sent(handle.id), "escalation")
    assert held and all(n.sid is None for n in held)
    state = await cases.state(handle)
    assert (state.status, state.callback_attempt) == (Status.callback, 1)

    await twilio.down(False)
    await cases.sleep(6 * MINUTE)  # the backoff is capped at 5 minutes, however long the outage was
    await cases.reply(handle, satisfied=True)  # once the callback SMS has gone out
    summary = await cases.result(handle)

    assert summary.status is Status.closed and summary.callback is not None
    assert (summary.callback.result, summary.callback.channel, summary.callback.attempts) == (
        CallbackResult.satisfied, Channel.sms, 1
    )
    sent = await cases.sent_eventually(handle.id, lambda s: all(n.sid for n in s))
    assert {n.to for n in of(sent, "escalation")} == TEAM_LEADS
    told = {phone: [m["body"] for m in await cases.sandbox_messages(phone, handle.id)]
            for phone in (RESIDENT_PHONE, *TEAM_LEADS)}
    assert len([body for body in told[RESIDENT_PHONE] if CALLBACK_SMS in body]) == 1
    for phone in TEAM_LEADS:
        assert len(told[phone]) == 1, told[phone]
    for phone, bodies in told.items():
        assert len(bodies) == len(set(bodies)), f"{phone} was told something twice: {bodies}"


async def test_an_outage_longer_than_the_budget_fails_over_to_voice_then_to_a_manual_callback(
    short_budget: RepairCases, twilio: Twilio
) -> None:
    cases = short_budget
    handle = await started_and_told(cases)
    await handle.execute_update(RepairWorkflow.acknowledge, Acknowledge(actor=HANDLER))
    await twilio.down(True)
    await handle.execute_update(RepairWorkflow.resolve, Resolve(actor=HANDLER, note="Washer replaced."))

    for attempt in (1, 2, 3):
        await cases.until(handle, lambda s, n=attempt: s.callback_attempt == n)
        await cases.sleep(SHORT_BUDGET + MINUTE)
    state = await cases.until(handle, lambda s: s.status is Status.manual_callback)
    timeline = [(e.event, e.detail) for e in state.timeline]
    assert [d["channel"] for e, d in timeline if e == "callback_attempt"] == ["sms", "voice", "sms"]
    assert [(d["attempt"], d["error"]) for e, d in timeline if e == "callback_failed"] == [
        (1, "TwilioUnavailable"), (2, "TwilioUnavailable"), (3, "TwilioUnavailable")
    ]
    assert ("manual_callback", {"reason": "unreachable"}) in timeline
    refused = await twilio.refused(RESIDENT_PHONE)
    assert {r["path"].rsplit("/", 1)[-1] for r in refused} == {"Messages.json", "Calls.json"}

    # The manual task's notice to the owner and the pages up the ladder run out of budget too: they are
    # logged, the case waits on for the record.
    await cases.sleep(2 * SHORT_BUDGET)
    state = await cases.until(handle, lambda s: s.tier >= Tier.team_lead)
    assert state.status is Status.manual_callback and state.callback is None
    description = await handle.describe()
    assert description.status is WorkflowExecutionStatus.RUNNING
    row, events = cases.projected(handle.id)
    assert row.status != "closed" and "closed" not in [e.event for e in events]
    # The plumber resolved the work, so their team leads are asked to call back, not them.
    assert {n.to for n in of(cases.sent(handle.id), "manual_callback_task")} == TEAM_LEADS

    await twilio.down(False)
    await handle.execute_update(
        RepairWorkflow.record_callback,
        RecordCallback(actor=TEAM_LEAD, result=CallbackResult.satisfied, note="Visited; the tap is fine.",
                       reached_by=ReachedBy.visit),
    )
    summary = await cases.result(handle)

    assert summary.status is Status.closed and summary.callback is not None
    assert (summary.callback.recorded_by, summary.callback.channel, summary.callback.attempts) == (
        TEAM_LEAD, None, 3
    )
    row = await cases.projection_caught_up(handle)
    _, events = cases.projected(handle.id)
    order = [e.event for e in events]
    assert row.status == "closed"
    assert order.index("manual_callback") < order.index("manual_callback_recorded") \
        < order.index("callback_recorded") < order.index("closed")
    history = await handle.fetch_history()
    assert not [e for e in history.events if e.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED]
    gave_up = [e.activity_task_failed_event_attributes for e in history.events
               if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_FAILED]
    assert gave_up and {a.retry_state for a in gave_up} == {RetryState.RETRY_STATE_TIMEOUT}
    # Every notice not sent belongs to a send whose budget ran out (a page's are `key:person:channel`),
    # and every send that gave up left a notice unsent.
    scheduled = {e.event_id: e.activity_task_scheduled_event_attributes for e in history.events
                 if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED}
    given_up = {json.loads(scheduled[a.scheduled_event_id].input.payloads[0].data)["key"] for a in gave_up}
    with cases.database.sessions() as session:
        never_sent = {row.key: row.template for row in session.scalars(
            select(Notification).where(Notification.case_id == handle.id, Notification.sid.is_(None)))}
    assert all(any(key == up or key.startswith(f"{up}:") for up in given_up) for key in never_sent)
    assert all(any(key == up or key.startswith(f"{up}:") for key in never_sent) for up in given_up)
    assert "manual_callback_task" in never_sent.values()
