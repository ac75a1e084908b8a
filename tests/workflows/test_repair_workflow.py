"""The repair case, one test per path of its lifecycle (issue 3).

Every test runs the real worker (real directory, projection and notification activities) against the
time-skipping test server, on SQLite and PostgreSQL, and starts at 10:00 community time.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowUpdateFailedError
from temporalio.service import RPCError

from steward.store.models import Resident
from tests.workflows.harness import (
    COLLEAGUE,
    HANDLER,
    RESIDENT,
    SHANGHAI,
    SUPERVISOR,
    RepairCases,
    near,
    projection_writes,
)
from workflows import search
from workflows.actions import (
    Acknowledge,
    ChangeSeverity,
    Extend,
    Pause,
    Reassign,
    RecordCallback,
    Resolve,
    Resume,
    Withdraw,
)
from workflows.contracts import Actor, CallbackResult, ReachedBy, Role, Severity, Status, Tier
from workflows.names import Activity
from workflows.repair import RepairWorkflow

MINUTE = timedelta(minutes=1)
HOUR = timedelta(hours=1)
TEAM_LEADS = {"+8613900000101", "+8613900000102"}
TEAM_LEAD = Actor(id="S101", role=Role.staff)
PROPERTY_MANAGER = "+8613900000201"
GENERAL_MANAGER = "+8613900000301"
PLUMBER = "+8613900000001"


def escalations(state) -> list[dict]:
    return [
        {"tier": e.detail["tier"], "reason": e.detail["reason"]}
        for e in state.timeline
        if e.event == "escalated"
    ]


async def acknowledged_case(cases: RepairCases, **start):
    handle = await cases.start(**start)
    await handle.execute_update(RepairWorkflow.acknowledge, Acknowledge(actor=HANDLER))
    return handle


async def test_acknowledged_in_time_is_never_escalated(cases: RepairCases) -> None:
    handle = await cases.start()
    await cases.sleep(20 * MINUTE)
    state = await handle.execute_update(RepairWorkflow.acknowledge, Acknowledge(actor=HANDLER))
    assert state.owner_id == "S001" and state.status is Status.acknowledged
    await cases.sleep(3 * HOUR)
    state = await cases.state(handle)
    assert state.tier is Tier.handler and escalations(state) == [] and not state.response_breached
    sent = await cases.sent_eventually(handle.id, lambda s: any(n.template == "case_acknowledged" for n in s))
    assert [n.to for n in sent if n.template == "dispatch"] == [PLUMBER]
    assert not [n for n in sent if n.template == "escalation"]


async def test_unacknowledged_repair_escalates_every_window_up_to_tier_3(cases: RepairCases) -> None:
    handle = await cases.start()
    submitted = (await cases.state(handle)).submitted_at
    await cases.sleep_until(submitted + 29 * MINUTE)
    assert (await cases.state(handle)).tier is Tier.handler
    for minutes, tier in ((31, Tier.team_lead), (61, Tier.property_manager), (91, Tier.general_manager)):
        await cases.sleep_until(submitted + minutes * MINUTE)
        state = await cases.until(handle, lambda s, tier=tier: s.tier is tier)
        assert state.escalations == tier
    await cases.sleep_until(submitted + 5 * HOUR)
    state = await cases.state(handle)
    assert state.tier is Tier.general_manager and state.response_breached
    assert [e["reason"] for e in escalations(state)] == ["response_missed"] * 3
    times = [e.at - submitted for e in state.timeline if e.event == "escalated"]
    assert [round(t / MINUTE) for t in times] == [30, 60, 90], times
    sent = await cases.sent_eventually(
        handle.id, lambda s: sum(n.template == "escalation" for n in s) == len(TEAM_LEADS) + 2
    )
    assert {n.to for n in sent if n.template == "escalation"} == TEAM_LEADS | {
        PROPERTY_MANAGER,
        GENERAL_MANAGER,
    }
    description = await handle.describe()
    assert description.typed_search_attributes.get(search.TIER) == 3
    assert description.typed_search_attributes.get(search.BREACHED) is True


async def test_acknowledgement_stops_paging(cases: RepairCases) -> None:
    handle = await cases.start()
    submitted = (await cases.state(handle)).submitted_at
    await cases.sleep_until(submitted + 35 * MINUTE)
    await cases.until(handle, lambda s: s.tier is Tier.team_lead)
    state = await handle.execute_update(RepairWorkflow.acknowledge, Acknowledge(actor=HANDLER))
    assert state.next_deadline_kind == "resolution"
    await cases.sleep_until(submitted + 4 * HOUR)
    state = await cases.state(handle)
    assert state.tier is Tier.team_lead and len(escalations(state)) == 1


async def test_warning_goes_to_handler_and_team_lead_at_18_hours(cases: RepairCases) -> None:
    handle = await acknowledged_case(cases)
    submitted = (await cases.state(handle)).submitted_at
    await cases.sleep_until(submitted + 18 * HOUR - MINUTE)
    assert not (await cases.state(handle)).warned
    await cases.sleep_until(submitted + 18 * HOUR + MINUTE)
    state = await cases.until(handle, lambda s: s.warned)
    warned = next(e for e in state.timeline if e.event == "warned")
    assert near(warned.at, submitted + 18 * HOUR)
    assert state.tier is Tier.handler and not state.resolution_breached
    sent = await cases.sent_eventually(handle.id, lambda s: sum(n.template == "warning" for n in s) == 3)
    assert {n.to for n in sent if n.template == "warning"} == {PLUMBER} | TEAM_LEADS


async def test_resolution_breach_at_24_hours_escalates_and_marks_breached(cases: RepairCases) -> None:
    handle = await acknowledged_case(cases)
    submitted = (await cases.state(handle)).submitted_at
    await cases.sleep_until(submitted + 24 * HOUR - MINUTE)
    assert not (await cases.state(handle)).resolution_breached
    await cases.sleep_until(submitted + 24 * HOUR + MINUTE)
    state = await cases.until(handle, lambda s: s.resolution_breached)
    assert state.tier is Tier.team_lead
    assert escalations(state) == [{"tier": 1, "reason": "resolution_breached"}]
    assert (await handle.describe()).typed_search_attributes.get(search.BREACHED) is True
    row = await cases.projection_caught_up(handle)
    assert row.resolution_breached and row.tier == 1 and row.warned
    sent = await cases.sent_eventually(handle.id, lambda s: any(n.template == "owner_update" for n in s))
    assert {n.to for n in sent if n.template == "escalation"} == TEAM_LEADS
    assert [n.params["event"] for n in sent if n.template == "owner_update"] == ["escalated"]


async def test_emergency_starts_at_tier_2_with_a_voice_call(cases: RepairCases) -> None:
    handle = await cases.start(severity=Severity.emergency)
    state = await cases.state(handle)
    assert state.tier is Tier.property_manager
    assert state.response_due - state.submitted_at == 5 * MINUTE
    assert state.resolution_due - state.submitted_at == 4 * HOUR
    sent = await cases.sent_eventually(  # the four go out together: wait for every SID
        handle.id, lambda s: sum(n.template == "dispatch" and bool(n.sid) for n in s) == 4
    )
    dispatched = {(n.to, n.channel) for n in sent if n.template == "dispatch"}
    assert dispatched == {
        (PLUMBER, "voice"),
        (PLUMBER, "sms"),
        (PROPERTY_MANAGER, "voice"),
        (PROPERTY_MANAGER, "sms"),
    }
    assert all(n.params.get("code") == handle.id for n in sent)
    called = {c["sid"] for c in await cases.sandbox_calls(PROPERTY_MANAGER)}
    assert next(n.sid for n in sent if (n.to, n.channel) == (PROPERTY_MANAGER, "voice")) in called
    await cases.sleep(6 * MINUTE)
    state = await cases.until(handle, lambda s: s.tier is Tier.general_manager)
    await cases.sleep(30 * MINUTE)
    assert (await cases.state(handle)).escalations == 1


async def test_no_fitting_handler_goes_straight_to_tier_1(cases: RepairCases) -> None:
    handle = await cases.start(category="lift", building_id="B9")
    state = await cases.state(handle)
    assert state.handler_id is None and state.tier is Tier.team_lead
    dispatched = next(e for e in state.timeline if e.event == "dispatched")
    assert "nobody on duty" in dispatched.detail["reason"]


async def test_severity_raise_tightens_the_deadlines(cases: RepairCases) -> None:
    handle = await cases.start()
    submitted = (await cases.state(handle)).submitted_at
    await cases.sleep_until(submitted + 5 * MINUTE)
    state = await handle.execute_update(
        RepairWorkflow.change_severity,
        ChangeSeverity(
            actor=HANDLER,
            severity=Severity.urgent,
            reason="Water is coming through the ceiling below",
        ),
    )
    assert state.severity is Severity.urgent
    assert near(state.response_due, submitted + 20 * MINUTE)
    assert near(state.resolution_due, submitted + 5 * MINUTE + 12 * HOUR)
    assert state.tier is Tier.team_lead
    await cases.sleep_until(submitted + 21 * MINUTE)
    state = await cases.until(handle, lambda s: s.tier is Tier.property_manager)
    assert [e["reason"] for e in escalations(state)] == ["other", "response_missed"]
    assert (await handle.describe()).typed_search_attributes.get(
        search.RESOLUTION_DUE
    ) == state.resolution_due


async def test_supervisor_extension_moves_the_deadline_with_its_reason(cases: RepairCases) -> None:
    handle = await acknowledged_case(cases)
    submitted = (await cases.state(handle)).submitted_at
    new_due = submitted + 48 * HOUR
    state = await handle.execute_update(
        RepairWorkflow.extend,
        Extend(
            actor=SUPERVISOR,
            resolution_due=new_due,
            reason="Replacement pump arrives on Friday",
        ),
    )
    assert state.resolution_due == new_due
    extended = next(e for e in state.timeline if e.event == "extended")
    assert extended.detail["reason"] == "Replacement pump arrives on Friday" and extended.actor == SUPERVISOR
    await cases.sleep_until(submitted + 30 * HOUR)
    state = await cases.state(handle)
    assert not state.resolution_breached and not state.warned
    sent = await cases.sent_eventually(handle.id, lambda s: any(n.template == "deadline_changed" for n in s))
    changed = next(n for n in sent if n.template == "deadline_changed")
    assert changed.to == "+8613800000101" and changed.params["reason"] == "Replacement pump arrives on Friday"


async def test_pause_3h_then_resume_shifts_the_deadline_even_after_a_severity_change(
    cases: RepairCases,
) -> None:
    handle = await acknowledged_case(cases)
    submitted = (await cases.state(handle)).submitted_at
    await cases.sleep_until(submitted + HOUR)
    state = await handle.execute_update(RepairWorkflow.pause, Pause(actor=HANDLER, reason="Awaiting parts"))
    assert state.paused and state.next_deadline is None
    await cases.sleep(3 * HOUR)
    state = await handle.execute_update(RepairWorkflow.resume, Resume(actor=HANDLER))
    assert not state.paused and near(submitted + state.paused_total, submitted + 3 * HOUR)
    assert near(state.resolution_due, submitted + 27 * HOUR)
    state = await handle.execute_update(
        RepairWorkflow.change_severity,
        ChangeSeverity(
            actor=SUPERVISOR,
            severity=Severity.low,
            reason="Cosmetic only after inspection",
        ),
    )
    assert near(state.resolution_due, submitted + 75 * HOUR)
    row = await cases.projection_caught_up(handle)
    assert row.paused_seconds == int(state.paused_total.total_seconds())
    sent = await cases.sent_eventually(handle.id, lambda s: any(n.template == "case_resumed" for n in s))
    assert any(n.template == "case_paused" and n.params["reason"] == "Awaiting parts" for n in sent)
    await cases.save_history(handle, "repair_paused")


async def test_pause_resumes_by_itself_at_resume_at(cases: RepairCases) -> None:
    handle = await acknowledged_case(cases)
    submitted = (await cases.state(handle)).submitted_at
    await handle.execute_update(
        RepairWorkflow.pause,
        Pause(
            actor=HANDLER,
            reason="Resident not at home",
            resume_at=submitted + 2 * HOUR,
        ),
    )
    await cases.sleep_until(submitted + 2 * HOUR + MINUTE)
    state = await cases.until(handle, lambda s: not s.paused)
    resumed = next(e for e in state.timeline if e.event == "resumed")
    assert resumed.actor.role is Role.system and near(resumed.at, submitted + 2 * HOUR)
    assert near(state.resolution_due, submitted + 26 * HOUR)


async def test_reassignment_keeps_the_owner(cases: RepairCases) -> None:
    handle = await acknowledged_case(cases)
    state = await handle.execute_update(
        RepairWorkflow.reassign,
        Reassign(
            actor=SUPERVISOR,
            handler_id="S003",
            reason="S001 is off sick",
        ),
    )
    assert state.handler_id == "S003" and state.owner_id == "S001"
    sent = await cases.sent_eventually(handle.id, lambda s: sum(n.template == "dispatch" for n in s) == 2)
    assert [n.to for n in sent if n.template == "dispatch"] == [PLUMBER, "+8613900000003"]
    with pytest.raises(WorkflowUpdateFailedError) as failed:
        await handle.execute_update(
            RepairWorkflow.reassign, Reassign(actor=SUPERVISOR, handler_id="S999", reason="nobody")
        )
    assert "no staff member S999" in str(failed.value.cause)
    row = await cases.projection_caught_up(handle)
    assert (row.owner_id, row.handler_id) == ("S001", "S003")


async def test_resolve_without_acknowledge_makes_the_resolver_owner(cases: RepairCases) -> None:
    handle = await cases.start()
    state = await handle.execute_update(
        RepairWorkflow.resolve, Resolve(actor=COLLEAGUE, note="Tightened it.")
    )
    assert state.owner_id == "S003" and state.acknowledged_at is not None
    assert state.status in (Status.resolved, Status.callback)
    assert [e.event for e in state.timeline][-2:] == ["acknowledged", "resolved"]
    await cases.sleep(2 * HOUR)
    assert escalations(await cases.state(handle)) == []


async def test_satisfied_resident_closes_the_case(cases: RepairCases) -> None:
    handle = await acknowledged_case(cases)
    await handle.execute_update(RepairWorkflow.resolve, Resolve(actor=HANDLER, note="Washer replaced."))
    await cases.reply(handle, satisfied=True)
    summary = await cases.result(handle)
    assert summary.status is Status.closed and summary.callback.result is CallbackResult.satisfied
    row = await cases.projection_caught_up(handle)
    assert row.status == "closed" and row.satisfaction == "satisfied" and row.closed_at is not None
    sent = await cases.sent_eventually(handle.id, lambda s: any(n.template == "case_closed" for n in s))
    request = next(n for n in sent if n.template == "callback_request")
    assert (request.to, request.channel, request.attempt) == ("+8613800000101", "sms", 1)
    assert request.params["purpose"] == "resolved"
    assert [n.params["event"] for n in sent if n.template == "owner_update"] == ["callback_satisfied"]
    await cases.sandbox_messages_eventually(
        "+8613800000101", handle.id, lambda ms: any("Reply 1 if you are satisfied" in m["body"] for m in ms)
        and any("is closed" in m["body"] for m in ms))
    history = await handle.fetch_history()
    writes = projection_writes(history)
    assert writes[-1:] == [["callback_reply", "callback_recorded", "closed"]]
    # Every write rode in a send or the callback step's contact look-up (the resolve's): none on its own.
    assert [event for write in writes for event in write] == [e.event for e in cases.projected(handle.id)[1]]
    scheduled = [e.activity_task_scheduled_event_attributes.activity_type.name for e in history.events
                 if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED]
    assert Activity.PROJECT_CASE_EVENTS not in scheduled and len(scheduled) <= 10, scheduled
    await cases.save_history(handle, "repair_satisfied")


async def test_unsatisfied_resident_reopens_one_tier_up_with_a_fresh_deadline_and_a_second_callback(
    cases: RepairCases,
) -> None:
    handle = await acknowledged_case(cases)
    await handle.execute_update(RepairWorkflow.resolve, Resolve(actor=HANDLER, note="Washer replaced."))
    await cases.sleep(HOUR)
    await cases.reply(handle, satisfied=False)
    state = await cases.until(handle, lambda s: s.reopen_count == 1)
    reopened = next(e for e in state.timeline if e.event == "reopened")
    assert state.status is Status.in_progress and state.tier is Tier.team_lead
    assert near(state.resolution_due, reopened.at + 24 * HOUR) and state.callback is None
    await handle.execute_update(
        RepairWorkflow.resolve, Resolve(actor=HANDLER, note="Replaced the whole tap.")
    )
    await cases.reply(handle, satisfied=True)
    summary = await cases.result(handle)
    assert summary.status is Status.closed and summary.callback_attempt == 2 and summary.reopen_count == 1
    sent = await cases.sent_eventually(handle.id, lambda s: any(n.template == "case_closed" for n in s))
    assert [n.attempt for n in sent if n.template == "callback_request"] == [1, 2]
    assert any(n.template == "case_reopened" for n in sent)
    assert {
        n.to for n in sent if n.template == "escalation" and n.params["reason"] == "reopened"
    } == TEAM_LEADS
    events = sorted(n.params["event"] for n in sent if n.template == "owner_update")
    assert events == ["callback_not_satisfied", "callback_satisfied", "reopened"]
    await cases.save_history(handle, "repair_reopened")


async def test_three_unanswered_attempts_become_a_manual_callback_that_escalates_after_30_minutes(
    cases: RepairCases,
) -> None:
    handle = await acknowledged_case(cases)
    await handle.execute_update(RepairWorkflow.resolve, Resolve(actor=HANDLER, note="Washer replaced."))
    await cases.until(handle, lambda s: s.callback_attempt == 1)
    for attempt in (2, 3):
        await cases.sleep(4 * HOUR + MINUTE)
        await cases.until(handle, lambda s, attempt=attempt: s.callback_attempt == attempt)
    await cases.sleep(4 * HOUR + MINUTE)
    state = await cases.until(handle, lambda s: s.status is Status.manual_callback)
    task_at = next(e.at for e in state.timeline if e.event == "manual_callback")
    assert near(state.next_deadline, task_at + 30 * MINUTE) and state.tier is Tier.handler
    await cases.sleep(31 * MINUTE)
    state = await cases.until(handle, lambda s: s.tier is Tier.team_lead)
    assert escalations(state)[-1] == {"tier": 1, "reason": "manual_callback_missed"}
    await handle.execute_update(
        RepairWorkflow.record_callback,
        RecordCallback(
            actor=TEAM_LEAD,
            result=CallbackResult.satisfied,
            note="Visited; resident happy with the new washer.",
            reached_by=ReachedBy.visit,
        ),
    )
    summary = await cases.result(handle)
    assert summary.status is Status.closed
    assert summary.callback.recorded_by == TEAM_LEAD and summary.callback.attempts == 3
    sent = await cases.sent_eventually(handle.id, lambda s: any(n.template == "case_closed" for n in s))
    assert [n.channel for n in sent if n.template == "callback_request"] == ["sms", "voice", "sms"]
    tasks = [n for n in sent if n.template == "manual_callback_task"]
    assert {n.to for n in tasks} == TEAM_LEADS and tasks[0].params["reason"] == "unreachable"
    await cases.save_history(handle, "repair_manual_callback")


async def test_opted_out_resident_gets_a_manual_callback(cases: RepairCases) -> None:
    resident_id = "R9" + handle_suffix()
    with cases.database.sessions.begin() as session:
        session.add(
            Resident(
                id=resident_id,
                household_id="H-B1-102",
                name="Opted out",
                phone="+8613899990001",
                locale="zh-CN",
                preferred_channel="sms",
                opted_out=True,
                bad_channels=[],
            )
        )
    handle = await acknowledged_case(cases, resident_id=resident_id)
    await handle.execute_update(RepairWorkflow.resolve, Resolve(actor=HANDLER, note="Fixed."))
    state = await cases.until(handle, lambda s: s.status is Status.manual_callback)
    assert state.callback_attempt == 0
    assert next(e for e in state.timeline if e.event == "manual_callback").detail["reason"] == "opted_out"
    await handle.execute_update(
        RepairWorkflow.record_callback,
        RecordCallback(
            actor=COLLEAGUE,
            result=CallbackResult.satisfied,
            note="Phoned from the office.",
            reached_by=ReachedBy.phone,
        ),
    )
    assert (await cases.result(handle)).status is Status.closed
    assert not [n for n in cases.sent(handle.id) if n.to == "+8613899990001"]
    with cases.database.sessions.begin() as session:  # the database is shared: B1's households stay as seeded
        session.delete(session.get(Resident, resident_id))


async def test_callback_due_at_23_00_goes_out_at_08_00(cases: RepairCases) -> None:
    handle = await acknowledged_case(cases)
    late = (await cases.skip_to_local(23)).astimezone(SHANGHAI)
    await handle.execute_update(RepairWorkflow.resolve, Resolve(actor=HANDLER, note="Done late."))
    morning = datetime.combine(late.date() + timedelta(days=1), time(8), SHANGHAI).astimezone(UTC)
    state = await cases.until(handle, lambda s: s.next_deadline_kind == "quiet_hours")
    assert near(state.next_deadline, morning) and state.callback_attempt == 0
    await cases.sleep_until(morning - MINUTE)
    assert (await cases.state(handle)).callback_attempt == 0
    await cases.sleep_until(morning + MINUTE)
    state = await cases.until(handle, lambda s: s.callback_attempt == 1)
    attempt = next(e for e in state.timeline if e.event == "callback_attempt")
    assert near(attempt.at, morning)
    await cases.reply(handle, satisfied=True)
    assert (await cases.result(handle)).status is Status.closed


async def test_withdrawal_ends_through_a_confirmation_callback(cases: RepairCases) -> None:
    handle = await cases.start()
    state = await handle.execute_update(
        RepairWorkflow.withdraw, Withdraw(actor=RESIDENT, reason="Fixed it myself")
    )
    assert state.withdrawn
    await cases.reply(handle, satisfied=True)
    summary = await cases.result(handle)
    assert summary.status is Status.closed and summary.withdrawn and summary.callback is not None
    sent = await cases.sent_eventually(handle.id, lambda s: any(n.template == "case_closed" for n in s))
    assert next(n for n in sent if n.template == "callback_request").params["purpose"] == "withdrawn"
    row = await cases.projection_caught_up(handle)
    assert row.withdrawn and row.status == "closed"
    await cases.save_history(handle, "repair_withdrawn")


async def test_invalid_actions_are_rejected_by_validators_and_change_nothing(cases: RepairCases) -> None:
    handle = await acknowledged_case(cases)
    staff = Actor(id="S003", role=Role.staff)
    refused = [
        (RepairWorkflow.acknowledge, Acknowledge(actor=staff), "already acknowledged by S001"),
        (
            RepairWorkflow.change_severity,
            ChangeSeverity(actor=RESIDENT, severity=Severity.low, reason="Not urgent"),
            "residents cannot change",
        ),
        (
            RepairWorkflow.change_severity,
            ChangeSeverity(actor=staff, severity=Severity.low, reason="Not urgent"),
            "only a supervisor can lower",
        ),
        (
            RepairWorkflow.change_severity,
            ChangeSeverity(actor=SUPERVISOR, severity=Severity.low),
            "needs a reason",
        ),
        (
            RepairWorkflow.extend,
            Extend(actor=SUPERVISOR, resolution_due=(await cases.now()) + 48 * HOUR),
            "needs a reason",
        ),
        (
            RepairWorkflow.extend,
            Extend(actor=SUPERVISOR, resolution_due=await cases.now(), reason="Earlier"),
            "must be later than the current deadline",
        ),
        (
            RepairWorkflow.extend,
            Extend(actor=staff, resolution_due=(await cases.now()) + 48 * HOUR, reason="More time"),
            "only a supervisor",
        ),
        (RepairWorkflow.resume, Resume(actor=HANDLER), "not paused"),
        (RepairWorkflow.resolve, Resolve(actor=RESIDENT, note="I fixed it"), "only staff"),
        (
            RepairWorkflow.record_callback,
            RecordCallback(actor=HANDLER, result=CallbackResult.satisfied, note="Called"),
            "no callback to record",
        ),
        (RepairWorkflow.withdraw, Withdraw(actor=Actor(id="R002", role=Role.resident)), "only the resident"),
    ]
    for update, action, reason in refused:
        before = await cases.state(handle)
        with pytest.raises(WorkflowUpdateFailedError) as rejected:
            await handle.execute_update(update, action)
        assert reason in str(rejected.value.cause), (update, rejected.value.cause)
        assert rejected.value.cause.type == "Rejected"
        assert await cases.state(handle) == before
    await handle.execute_update(RepairWorkflow.resolve, Resolve(actor=HANDLER, note="Fixed."))
    with pytest.raises(WorkflowUpdateFailedError) as rejected:
        await handle.execute_update(RepairWorkflow.resolve, Resolve(actor=HANDLER, note="Again"))
    assert "callback" in str(rejected.value.cause) or "already resolved" in str(rejected.value.cause)
    await cases.reply(handle, satisfied=True)
    await cases.result(handle)
    closed = await cases.state(handle)
    with pytest.raises((WorkflowUpdateFailedError, RPCError)):
        await handle.execute_update(RepairWorkflow.resolve, Resolve(actor=HANDLER, note="Once more"))
    assert await cases.state(handle) == closed
    history = await handle.fetch_history()
    accepted = [
        e for e in history.events if e.HasField("workflow_execution_update_accepted_event_attributes")
    ]
    assert len(accepted) == 2


def handle_suffix() -> str:
    import uuid

    return uuid.uuid4().hex[:6]
