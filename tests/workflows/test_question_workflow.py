"""The question case (issue 20): routed to customer service on the repair's clock, answered in writing on
the resident's channel, and closed only through the callback (reopened one tier up when the answer did
not help). The real worker against the time-skipping test server, on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from datetime import timedelta

from temporalio.client import WorkflowHandle

from tests.workflows.harness import RESIDENT, RepairCases
from workflows.actions import Resolve
from workflows.case_contracts import CaseInput
from workflows.contracts import Actor, CallbackResult, Kind, Role, Status, Tier
from workflows.question import QuestionWorkflow

CUSTOMER_SERVICE = Actor(id="S005", role=Role.staff)
CUSTOMER_SERVICE_PHONE = "+8613900000005"
RESIDENT_PHONE = "+8613800000101"


async def question(cases: RepairCases) -> WorkflowHandle:
    case = CaseInput(
        kind=Kind.question,
        category="fees",
        title="When is the parking fee due?",
        description="I could not find the date on the notice board.",
        building_id="B1",
        unit="101",
        resident_id="R001",
        submitted_by=RESIDENT,
        submitted_at=await cases.now(),
        policy=cases.settings.policy,
    )
    handle = await cases.env.client.start_workflow(
        QuestionWorkflow.run, case, id=f"QS-{uuid.uuid4().hex[:10]}", task_queue=cases.task_queue
    )
    await cases.until(handle, lambda s: s.dispatched_at is not None)
    return handle


async def test_a_question_is_answered_in_writing_and_closes_through_its_callback(cases: RepairCases) -> None:
    handle = await question(cases)
    state = await cases.state(handle)
    assert state.kind is Kind.question and state.handler_id == "S005" and state.tier is Tier.handler
    sent = await cases.sent_eventually(handle.id, lambda s: any(n.template == "dispatch" for n in s))
    assert [n.to for n in sent if n.template == "dispatch"] == [CUSTOMER_SERVICE_PHONE]

    answer = "The parking fee is due on the 5th of each month, at the service centre or in the app."
    await handle.execute_update(QuestionWorkflow.resolve, Resolve(actor=CUSTOMER_SERVICE, note=answer))
    sent = await cases.sent_eventually(handle.id, lambda s: any(n.template == "question_answered" for n in s))
    told = next(n for n in sent if n.template == "question_answered")
    assert told.to == RESIDENT_PHONE and told.params["answer"] == answer
    await cases.sandbox_messages_eventually(RESIDENT_PHONE, handle.id,
                                            lambda ms: any(answer in m["body"] for m in ms))

    await cases.reply(handle, satisfied=False)
    state = await cases.until(handle, lambda s: s.reopen_count == 1)
    assert state.status is Status.in_progress and state.tier is Tier.team_lead
    better = "Sorry: from January it is due on the 10th; the notice will be corrected."
    await handle.execute_update(QuestionWorkflow.resolve, Resolve(actor=CUSTOMER_SERVICE, note=better))
    await cases.reply(handle, satisfied=True)
    summary = await cases.result(handle)
    assert summary.status is Status.closed and summary.callback.result is CallbackResult.satisfied
    answers = [e.detail["answer"] for e in (await cases.state(handle)).timeline if e.event == "answer_sent"]
    assert answers == [answer, better]
    row = await cases.projection_caught_up(handle)
    assert (row.kind, row.status, row.reopen_count) == ("question", "closed", 1)
    await cases.save_history(handle, "question_answered")


async def test_a_question_nobody_takes_escalates_like_any_case(cases: RepairCases) -> None:
    handle = await question(cases)
    await cases.sleep(timedelta(minutes=31))
    state = await cases.until(handle, lambda s: s.response_breached)
    assert state.tier is Tier.team_lead
