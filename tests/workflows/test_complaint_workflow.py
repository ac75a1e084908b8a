"""The complaint case (issue 6): routed to customer service, above the person it is about, with a plan a
supervisor may agree with the resident, and reopened one tier up when the resident is not satisfied.

The real worker against the time-skipping test server, on SQLite and PostgreSQL, at 10:00 community
time, like the repair tests.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError

from tests.workflows.harness import RESIDENT, SUPERVISOR, RepairCases
from workflows.actions import Acknowledge, AgreePlan, Reassign, Resolve
from workflows.case_contracts import CaseInput
from workflows.complaint import ComplaintWorkflow
from workflows.contracts import Actor, CallbackResult, Kind, Role, Status, Tier

HOUR = timedelta(hours=1)
CUSTOMER_SERVICE = Actor(id="S005", role=Role.staff)
TEAM_LEAD = Actor(id="S102", role=Role.staff)
CUSTOMER_SERVICE_PHONE = "+8613900000005"


async def complaint(
    cases: RepairCases, category: str = "noise", subject: str | None = None
) -> WorkflowHandle:
    case = CaseInput(
        kind=Kind.complaint,
        category=category,
        title="Loud music after midnight" if subject is None else "Rude reply at the front desk",
        description="Every night this week.",
        building_id="B1",
        unit="101",
        resident_id="R001",
        submitted_by=RESIDENT,
        submitted_at=await cases.now(),
        policy=cases.settings.policy,
        subject_staff_id=subject,
    )
    handle = await cases.env.client.start_workflow(
        ComplaintWorkflow.run, case, id=f"CP-{uuid.uuid4().hex[:10]}", task_queue=cases.task_queue
    )
    await cases.until(handle, lambda s: s.dispatched_at is not None)
    return handle


async def test_complaint_goes_to_customer_service(cases: RepairCases) -> None:
    handle = await complaint(cases)
    state = await cases.state(handle)
    assert state.kind is Kind.complaint and state.handler_id == "S005" and state.tier is Tier.handler
    sent = await cases.sent_eventually(handle.id, lambda s: any(n.template == "dispatch" for n in s))
    assert [n.to for n in sent if n.template == "dispatch"] == [CUSTOMER_SERVICE_PHONE]


async def test_complaint_about_staff_is_handled_above_them_and_never_by_them(cases: RepairCases) -> None:
    handle = await complaint(cases, category="staff_conduct", subject="S005")
    state = await cases.state(handle)
    assert state.tier is Tier.team_lead and state.handler_id in {"S101", "S102"}
    sent = await cases.sent_eventually(handle.id, lambda s: any(n.template == "dispatch" for n in s))
    assert CUSTOMER_SERVICE_PHONE not in {n.to for n in sent}

    refusals = [
        (ComplaintWorkflow.acknowledge, Acknowledge(actor=CUSTOMER_SERVICE), "about S005"),
        (ComplaintWorkflow.resolve, Resolve(actor=CUSTOMER_SERVICE, note="Nothing happened."), "about S005"),
        (
            ComplaintWorkflow.reassign,
            Reassign(actor=TEAM_LEAD, handler_id="S005", reason="she knows"),
            "S005",
        ),
        (ComplaintWorkflow.reassign, Reassign(actor=TEAM_LEAD, handler_id="S001", reason="free"), "tier 1"),
    ]
    for update, action, reason in refusals:
        with pytest.raises(WorkflowUpdateFailedError) as refused:
            await handle.execute_update(update, action)
        assert reason in str(refused.value.cause), refused.value.cause

    state = await handle.execute_update(ComplaintWorkflow.acknowledge, Acknowledge(actor=TEAM_LEAD))
    assert state.owner_id == "S102"
    await cases.sleep(25 * HOUR)
    state = await cases.state(handle)
    assert state.resolution_breached and state.tier is Tier.property_manager
    sent = await cases.sent_eventually(handle.id, lambda s: any(n.template == "escalation" for n in s))
    assert CUSTOMER_SERVICE_PHONE not in {n.to for n in sent}


async def test_supervisor_agrees_a_longer_plan_the_resident_is_told(cases: RepairCases) -> None:
    handle = await complaint(cases, category="sanitation")
    await handle.execute_update(ComplaintWorkflow.acknowledge, Acknowledge(actor=CUSTOMER_SERVICE))
    submitted = (await cases.state(handle)).submitted_at
    due = submitted + 72 * HOUR
    plan = AgreePlan(
        actor=SUPERVISOR,
        resolution_due=due,
        reason="the bins need a new contractor",
        plan="Extra collection on Monday; a new contractor from Wednesday.",
    )
    for change, reason in (
        ({"actor": TEAM_LEAD}, "only a supervisor"),
        ({"resolution_due": submitted + HOUR}, "later than the current deadline"),
    ):
        with pytest.raises(WorkflowUpdateFailedError) as refused:
            await handle.execute_update(ComplaintWorkflow.agree_plan, plan.model_copy(update=change))
        assert reason in str(refused.value.cause)
    state = await handle.execute_update(ComplaintWorkflow.agree_plan, plan)
    assert state.resolution_due == due
    agreed = next(e for e in state.timeline if e.event == "plan_agreed")
    assert agreed.actor == SUPERVISOR and agreed.detail["plan"] == plan.plan
    assert agreed.detail["reason"] == plan.reason
    sent = await cases.sent_eventually(
        handle.id, lambda s: any(n.template == "complaint_plan_agreed" for n in s)
    )
    told = next(n for n in sent if n.template == "complaint_plan_agreed")
    assert told.params["plan"] == plan.plan and told.params["reason"] == plan.reason

    await cases.sleep_until(submitted + 30 * HOUR)
    state = await cases.state(handle)
    assert not state.resolution_breached and state.tier is Tier.handler and state.warned is False
    await cases.sleep_until(submitted + 73 * HOUR)
    state = await cases.until(handle, lambda s: s.resolution_breached)
    assert state.tier is Tier.team_lead
    _, events = cases.projected(handle.id)
    assert "plan_agreed" in [e.event for e in events]
    await cases.save_history(handle, "complaint_plan")


async def test_unsatisfied_complaint_reopens_one_tier_up_and_feeds_the_hotspot_read_model(
    cases: RepairCases,
) -> None:
    handle = await complaint(cases)
    await handle.execute_update(
        ComplaintWorkflow.resolve, Resolve(actor=CUSTOMER_SERVICE, note="Spoke to 102.")
    )
    await cases.reply(handle, satisfied=False)
    state = await cases.until(handle, lambda s: s.reopen_count == 1)
    assert state.status is Status.in_progress and state.tier is Tier.team_lead
    assert state.owner_id == "S005"
    await handle.execute_update(
        ComplaintWorkflow.resolve, Resolve(actor=CUSTOMER_SERVICE, note="Warning given.")
    )
    await cases.reply(handle, satisfied=True)
    summary = await cases.result(handle)
    assert summary.status is Status.closed and summary.callback.result is CallbackResult.satisfied
    row = await cases.projection_caught_up(handle)
    assert (row.kind, row.category, row.building_id, row.unit) == ("complaint", "noise", "B1", "101")
    assert row.reopen_count == 1 and row.status == "closed"
    await cases.save_history(handle, "complaint_reopened")
