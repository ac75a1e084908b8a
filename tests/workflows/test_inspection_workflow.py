"""An inspection (issue 21) on the time-skipping server with the real worker, directory and sandbox: held to
the repair's clock, its findings opened as repair cases, verified by a second person of a team lead's tier
or above, never by the inspector."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError

from tests.workflows.harness import SUPERVISOR, RepairCases
from workflows.actions import Acknowledge, RecordCallback, Resolve
from workflows.case_contracts import CaseInput
from workflows.contracts import Actor, CallbackResult, Kind, ReachedBy, Role, Status, Tier
from workflows.drill_contracts import Finding
from workflows.inspection import InspectionWorkflow
from workflows.inspection_contracts import CheckedStep, InspectionReport

pytestmark = pytest.mark.timeout(300)

LIFT = "EQ-B1-LIFT1"
INSPECTOR = Actor(id="S002", role=Role.staff)  # the lift skill, tier 0
COLLEAGUE = Actor(id="S004", role=Role.staff)  # tier 0
TEAM_LEAD = Actor(id="S101", role=Role.staff)  # tier 1
STEPS = ["Brakes hold at full load", "Alarm button calls the service centre"]


async def start(cases: RepairCases) -> WorkflowHandle:
    case = CaseInput(
        kind=Kind.inspection, category="lift", title="lift inspection · East stair core",
        description="Monthly maintenance plan", building_id="B1", resident_id=LIFT, equipment_id=LIFT,
        submitted_by=SUPERVISOR, submitted_at=await cases.now() - timedelta(days=40),
        policy=cases.settings.policy, checklist=STEPS,
    )
    handle = await cases.env.client.start_workflow(
        InspectionWorkflow.run, case, id=f"IN-{LIFT}-{uuid.uuid4().hex[:8]}", task_queue=cases.task_queue
    )
    await cases.until(handle, lambda s: s.dispatched_at is not None)
    return handle


def report(by: Actor = INSPECTOR, findings: int = 1) -> InspectionReport:
    return InspectionReport(
        actor=by, actor_tier=Tier.handler,
        checklist=[CheckedStep(step=STEPS[0], ok=findings == 0), CheckedStep(step=STEPS[1], ok=True)],
        findings=[Finding(title="Brake pads worn", description="Slips 3 cm at full load", category="lift")
                  ][:findings],
    )


async def refused(handle: WorkflowHandle, update, argument) -> str:
    """The validator's reason for refusing the update (the workflow is left as it was)."""
    with pytest.raises(WorkflowUpdateFailedError) as failed:
        await handle.execute_update(update, argument)
    return str(failed.value.cause)


def verification(by: Actor, tier: Tier, result: CallbackResult = CallbackResult.satisfied) -> RecordCallback:
    return RecordCallback(actor=by, actor_tier=tier, result=result, reached_by=ReachedBy.visit,
                          note="Checked on site")


async def test_an_inspection_takes_its_time_from_its_start_and_nobody_taking_it_pages_up(
    cases: RepairCases,
) -> None:
    handle = await start(cases)
    state = await cases.state(handle)
    assert state.kind is Kind.inspection and state.handler_id == INSPECTOR.id
    assert state.submitted_at >= await cases.now() - timedelta(minutes=1)  # not the plan's creation time
    await cases.sleep_until(state.response_due + timedelta(minutes=1))
    state = await cases.until(handle, lambda s: s.tier is Tier.team_lead)
    assert state.response_breached and state.escalations == 1
    sent = await cases.sent_eventually(
        handle.id, lambda s: any(n.template == "escalation" and n.to == "+8613900000101" for n in s)
    )
    assert {n.params["reason"] for n in sent if n.template == "escalation"} == {"response_missed"}


async def test_the_report_resolves_it_findings_become_repairs_and_a_team_lead_verifies(
    cases: RepairCases,
) -> None:
    handle = await start(cases)
    await handle.execute_update(InspectionWorkflow.acknowledge, Acknowledge(actor=INSPECTOR))
    plain = Resolve(actor=INSPECTOR, note="done")
    assert "resolved by its report" in await refused(handle, InspectionWorkflow.resolve, plain)
    incomplete = report().model_copy(update={"checklist": [CheckedStep(step=STEPS[1], ok=True)]})
    assert "missing: Brakes hold" in await refused(handle, InspectionWorkflow.file_report, incomplete)
    filed = await handle.execute_update(InspectionWorkflow.file_report, report())
    assert filed.case.status is Status.resolved and [f.case_id for f in filed.findings] == [
        f"RP-{handle.id}-F1"
    ]
    await cases.until(handle, lambda s: s.status is Status.manual_callback)
    repair = await cases.env.client.get_workflow_handle(filed.findings[0].case_id).describe()
    assert repair.workflow_type == "RepairWorkflow"
    repair_state = await cases.env.client.get_workflow_handle(filed.findings[0].case_id).query("state")
    assert repair_state["equipment_id"] == LIFT and repair_state["title"] == "Brake pads worn"
    sent = await cases.sent_eventually(  # to every team lead of the building, one notice each
        handle.id, lambda s: any(n.template == "manual_callback_task" and n.to == "+8613900000101" for n in s)
    )
    task = [n for n in sent if n.template == "manual_callback_task"]
    assert {n.params["reason"] for n in task} == {"verification"} and "+8613900000101" in {n.to for n in task}
    for actor, reason in ((INSPECTOR, "may not record its callback"), (COLLEAGUE, "team lead")):
        by_them = verification(actor, Tier.handler)
        assert reason in await refused(handle, InspectionWorkflow.record_callback, by_them)
    await handle.execute_update(InspectionWorkflow.record_callback, verification(TEAM_LEAD, Tier.team_lead))
    summary = await cases.result(handle)
    assert summary.status is Status.closed and summary.callback.recorded_by == TEAM_LEAD
    await cases.save_history(handle, "inspection_verified")


async def test_whoever_took_the_inspection_cannot_verify_it_and_a_failed_verification_reopens(
    cases: RepairCases,
) -> None:
    handle = await start(cases)
    await handle.execute_update(InspectionWorkflow.acknowledge, Acknowledge(actor=TEAM_LEAD))
    await handle.execute_update(InspectionWorkflow.file_report, report(findings=0))
    await cases.until(handle, lambda s: s.status is Status.manual_callback)
    own = verification(TEAM_LEAD, Tier.team_lead)
    reason = await refused(handle, InspectionWorkflow.record_callback, own)
    assert "did the inspection and may not verify it" in reason
    await handle.execute_update(
        InspectionWorkflow.record_callback,
        verification(SUPERVISOR, Tier.property_manager, CallbackResult.not_satisfied),
    )
    state = await cases.until(handle, lambda s: s.status is Status.in_progress)
    assert state.reopen_count == 1 and state.tier >= Tier.team_lead
