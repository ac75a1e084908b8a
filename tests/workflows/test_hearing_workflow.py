"""The public hearing (issue 6), one test per path: notice and reminder, objections answered or escalated,
the decision to every household, the callback to every objector, and continue-as-new on a long history.

The real worker against the time-skipping test server, on SQLite and PostgreSQL, from 10:00 community
time; every hearing has a building of its own (`tests.workflows.hearings.community`).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, time, timedelta

import pytest
from sqlalchemy import select
from temporalio import activity
from temporalio.client import WorkflowExecutionStatus, WorkflowHandle, WorkflowUpdateFailedError
from temporalio.worker import Worker

from activities.directory import Directory
from activities.notify import Notifier
from activities.projection import Projection
from steward.store.community_models import HearingObjectionRow, HearingRow
from steward.store.deadlines import aware
from steward.store.hearings_and_drills import objection_figures
from steward.store.models import Resident
from tests.api.conftest import quiet_hours_away_from
from tests.conftest import make_settings
from tests.workflows.harness import HANDLER, SHANGHAI, SUPERVISOR, RepairCases
from tests.workflows.hearings import (
    community,
    count_notices,
    hearing_state,
    keys_sent,
    notices,
    objection,
    save_history,
    start_hearing,
    until,
)
from workers.worker import WORKFLOWS
from workflows.actions import CallbackReply, RecordCallback
from workflows.activity_contracts import Notice, SendManyResult
from workflows.contracts import CallbackResult, Channel, ReachedBy
from workflows.hearing import HearingWorkflow
from workflows.hearing_callback import HearingCallbackWorkflow
from workflows.hearing_contracts import (
    AnswerObjection,
    Decide,
    HearingInput,
    HearingStatus,
    ObjectionFigures,
    Outcome,
    Phase,
    RecordHearing,
)
from workflows.names import Activity
from workflows.projected import HearingEvent

MINUTE = timedelta(minutes=1)
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
ORGANISER_PHONE = "+8613900000201"
HELD = RecordHearing(
    actor=SUPERVISOR,
    minutes="The fund's auditor presented the costs; residents asked about the lift.",
    attendance=9,
    votes_for=6,
    votes_against=2,
    abstentions=1,
)


def sent(state, phase: Phase):
    return next((b for b in state.broadcasts if b.phase is phase), None)


async def held_and_decided(cases: RepairCases, handle: WorkflowHandle, outcome: Outcome = Outcome.approved):
    state = await hearing_state(handle)
    await cases.sleep_until(state.hearing_at + MINUTE)
    await handle.execute_update(HearingWorkflow.record_hearing, HELD)
    return await handle.execute_update(
        HearingWorkflow.decide, Decide(actor=SUPERVISOR, outcome=outcome, reason="Most households agreed.")
    )


async def test_notice_to_every_household_at_once_and_a_reminder_the_day_before(cases: RepairCases) -> None:
    place = community(cases, 12)
    handle = await start_hearing(cases, place, 8 * DAY, batch_size=5)
    state = await until(handle, lambda s: s.status is HearingStatus.noticed)
    notice = sent(state, Phase.notice)
    assert (notice.batches, notice.residents, notice.sent, notice.unreachable) == (3, 12, 12, 0)
    assert notice.finished_at - state.created_at < MINUTE
    rows = {row.to: row for row in notices(cases, handle.id, "hearing_notice")}
    assert set(rows) == set(place.phones.values())
    first, third, fifth = (rows[place.phones[place.resident_ids[i]]] for i in (0, 2, 4))
    assert (first.channel, first.locale) == ("sms", "en") and (third.channel, third.locale) == (
        "voice",
        "zh-CN",
    )
    assert (
        fifth.locale == "en"
        and "total 1,000,000.50 yuan" in fifth.body
        and "Roof waterproofing" in fifth.body
    )

    await cases.sleep_until(state.reminder_at - MINUTE)
    assert sent(await hearing_state(handle), Phase.reminder) is None
    assert count_notices(cases, handle.id, "hearing_reminder") == 0
    await cases.sleep_until(state.reminder_at + MINUTE)
    state = await until(
        handle, lambda s: (b := sent(s, Phase.reminder)) is not None and b.finished_at is not None
    )
    reminder = sent(state, Phase.reminder)
    assert reminder.started_at - state.reminder_at < MINUTE and reminder.sent == 12
    assert state.reminder_at == state.hearing_at - DAY
    assert count_notices(cases, handle.id, "hearing_reminder") == 12


async def test_a_hearing_created_at_23_00_is_announced_at_08_00(cases: RepairCases) -> None:
    place = community(cases, 4)
    late = await cases.skip_to_local(23)
    handle = await start_hearing(cases, place, 8 * DAY)
    await asyncio.sleep(1)
    state = await hearing_state(handle)
    assert state.status is HearingStatus.scheduled and count_notices(cases, handle.id, "hearing_notice") == 0
    await cases.skip_to_local(8, 1)
    state = await until(handle, lambda s: s.status is HearingStatus.noticed)
    morning = datetime.combine(late.astimezone(SHANGHAI).date() + DAY, time(8), SHANGHAI)
    assert morning <= sent(state, Phase.notice).finished_at < morning + MINUTE
    assert count_notices(cases, handle.id, "hearing_notice") == 4


async def test_objection_unanswered_for_24_hours_escalates_up_the_ladder(cases: RepairCases) -> None:
    place = community(cases, 3)
    handle = await start_hearing(cases, place, 8 * DAY)
    await until(handle, lambda s: s.status is HearingStatus.noticed)
    receipt = await handle.execute_update(HearingWorkflow.register_objection, objection(place, 0))
    assert receipt.number == 1 and receipt.answer_due - (await cases.now()) <= DAY
    staff = await cases.sent_eventually(
        handle.id, lambda s: sum(n.template == "objection_task" for n in s) == 2
    )
    assert {n.to for n in staff if n.template == "objection_task"} == {ORGANISER_PHONE, place.team_lead_phone}
    told = await cases.sent_eventually(
        handle.id, lambda s: any(n.template == "objection_received" for n in s)
    )
    assert (
        next(n for n in told if n.template == "objection_received").to == place.phones[place.resident_ids[0]]
    )

    await cases.sleep_until(receipt.answer_due - MINUTE)
    assert (await hearing_state(handle)).objections[0].tier == 1
    await cases.sleep_until(receipt.answer_due + MINUTE)
    state = await until(handle, lambda s: s.objections[0].tier == 2)
    assert state.objections[0].escalations == 1 and state.next_deadline == receipt.answer_due + DAY
    await cases.sleep_until(receipt.answer_due + DAY + MINUTE)
    state = await until(handle, lambda s: s.objections[0].tier == 3)
    escalations = await cases.sent_eventually(
        handle.id, lambda s: sum(n.template == "objection_escalation" for n in s) >= 3
    )
    assert {n.to for n in escalations if n.template == "objection_escalation"} >= {
        ORGANISER_PHONE,
        place.general_manager_phone,
    }
    answer = AnswerObjection(actor=HANDLER, number=1, answer="The fund pays for both; see the minutes.")
    record = await handle.execute_update(HearingWorkflow.answer_objection, answer)
    assert record.answered_by == "S001" and record.next_page_at is None
    await cases.sleep(3 * DAY)
    assert len([e for e in (await hearing_state(handle)).timeline if e.event == "escalated"]) == 2
    answered = await cases.sent_eventually(
        handle.id, lambda s: any(n.template == "objection_answer" for n in s)
    )
    assert next(n for n in answered if n.template == "objection_answer").params["answer"] == answer.answer


async def test_objections_and_hearing_actions_are_validated(cases: RepairCases) -> None:
    place = community(cases, 2)
    handle = await start_hearing(cases, place, 8 * DAY)
    await until(handle, lambda s: s.status is HearingStatus.noticed)
    stranger = objection(place, 0).model_copy(update={"building_id": "B2"})
    staff = objection(place, 0).model_copy(update={"actor": HANDLER})
    refusals = [
        (HearingWorkflow.register_objection, stranger, "not affected"),
        (HearingWorkflow.register_objection, staff, "only residents"),
        (
            HearingWorkflow.answer_objection,
            AnswerObjection(actor=HANDLER, number=1, answer="?"),
            "no objection 1",
        ),
        (HearingWorkflow.record_hearing, HELD, "record it once it has been held"),
        (HearingWorkflow.record_hearing, HELD.model_copy(update={"actor": HANDLER}), "only a supervisor"),
        (
            HearingWorkflow.decide,
            Decide(actor=SUPERVISOR, outcome=Outcome.approved, reason="fine"),
            "record the hearing",
        ),
    ]
    for update, action, reason in refusals:
        with pytest.raises(WorkflowUpdateFailedError) as refused:
            await handle.execute_update(update, action)
        assert reason in str(refused.value.cause), (reason, refused.value.cause)
    await handle.execute_update(HearingWorkflow.register_objection, objection(place, 1))
    state = await hearing_state(handle)
    await cases.sleep_until(state.hearing_at + MINUTE)
    await handle.execute_update(HearingWorkflow.record_hearing, HELD)
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await handle.execute_update(
            HearingWorkflow.decide, Decide(actor=SUPERVISOR, outcome=Outcome.approved, reason="fine")
        )
    assert "unanswered: 1" in str(refused.value.cause)
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await handle.execute_update(HearingWorkflow.register_objection, objection(place, 0))
    assert "objections are closed" in str(refused.value.cause)


async def test_a_projection_stays_the_same_size_however_many_objections_the_hearing_has(
    cases: RepairCases,
) -> None:
    """Every transition projects the objections and callbacks as figures, never as records: with every
    objection's record in every projection, a hearing's history grew with the square of its objections
    (3,000 ran the dev server out of memory). The row still counts what the whole state lists."""
    place = community(cases, 4)
    handle = await start_hearing(cases, place, 8 * DAY)
    await until(handle, lambda s: s.status is HearingStatus.noticed)
    for n in range(24):
        await handle.execute_update(HearingWorkflow.register_objection, objection(place, n % 4, f"Q {n}"))
    for number in (1, 2, 3):
        await handle.execute_update(
            HearingWorkflow.answer_objection, AnswerObjection(actor=HANDLER, number=number, answer="Online.")
        )
    received = [size for event, size in await projections(cases, handle) if event == "objection_received"]
    assert len(received) == 24 and max(received) - min(received) < 64, received

    state = await hearing_state(handle)
    row = await projected_row(cases, handle.id, len(state.timeline))
    assert objection_figures(row) == ObjectionFigures.of(state.objections, state.callbacks)
    assert (row.objections, row.objections_open, row.callbacks_pending) == (24, 21, 0)
    assert aware(row.next_answer_due) == state.objections[3].answer_due


async def projections(cases: RepairCases, handle: WorkflowHandle) -> list[tuple[str, int]]:
    """Each projection of the hearing's transitions: its event and the bytes of its input."""
    found = []
    async for event in handle.fetch_history_events():
        scheduled = event.activity_task_scheduled_event_attributes
        if event.HasField("activity_task_scheduled_event_attributes") and \
                scheduled.activity_type.name == Activity.PROJECT_HEARING:
            (payload,) = scheduled.input.payloads
            (projected,) = await cases.env.client.data_converter.decode([payload], [HearingEvent])
            found.append((projected.event, len(payload.data)))
    return found


async def projected_row(cases: RepairCases, hearing_id: str, seq: int) -> HearingRow:
    """The hearing's row once its projection has caught up with transition `seq`."""
    for _ in range(100):
        with cases.database.sessions() as session:
            row = session.get(HearingRow, hearing_id)
        if row is not None and row.last_seq == seq:
            return row
        await asyncio.sleep(0.1)
    raise AssertionError(f"the row of {hearing_id} did not reach transition {seq}")


async def test_hearing_not_closed_while_an_objectors_callback_is_missing(cases: RepairCases) -> None:
    place = community(cases, 6)
    quiet, reachable = place.resident_ids[1], place.resident_ids[0]
    with cases.database.sessions.begin() as session:
        session.get(Resident, quiet).opted_out = True
    handle = await start_hearing(cases, place, 8 * DAY, batch_size=4)
    await until(handle, lambda s: s.status is HearingStatus.noticed)
    for index in (0, 1, 0):
        receipt = await handle.execute_update(HearingWorkflow.register_objection, objection(place, index))
        await handle.execute_update(
            HearingWorkflow.answer_objection,
            AnswerObjection(
                actor=SUPERVISOR, number=receipt.number, answer="The auditor's report is online."
            ),
        )
    await held_and_decided(cases, handle, Outcome.approved)
    state = await until(handle, lambda s: any(e.event == "callbacks_started" for e in s.timeline))
    assert state.status is HearingStatus.callback
    decision = sent(state, Phase.decision)
    assert (decision.residents, decision.sent, decision.unreachable) == (6, 5, 1)
    assert {c.resident_id for c in state.callbacks} == {quiet, reachable}

    first = cases.env.client.get_workflow_handle(f"{handle.id}-CB-{reachable}")
    second = cases.env.client.get_workflow_handle(f"{handle.id}-CB-{quiet}")
    await cases.until(first, lambda s: s.callback_attempt == 1 and s.next_deadline_kind == "callback_reply")
    request = next(n for n in cases.sent(first.id) if n.template == "callback_request")
    assert request.params["code"] == handle.id and request.params["purpose"] == "hearing"
    await first.signal(
        HearingCallbackWorkflow.callback_reply,
        CallbackReply(attempt=1, satisfied=True, channel=Channel.sms, received_at=await cases.now()),
    )
    state = await until(handle, lambda s: sum(c.result is not None for c in s.callbacks) == 1)
    await cases.until(second, lambda s: s.status.value == "manual_callback")
    await cases.sleep(6 * HOUR)
    state = await hearing_state(handle)
    assert state.status is HearingStatus.callback
    assert (await handle.describe()).status == WorkflowExecutionStatus.RUNNING

    await second.execute_update(
        HearingCallbackWorkflow.record_callback,
        RecordCallback(actor=SUPERVISOR, result=CallbackResult.not_satisfied, note="Visited; still objects.",
                       reached_by=ReachedBy.visit),
    )
    final = await asyncio.wait_for(handle.result(), 30)
    assert final.status is HearingStatus.closed
    assert {c.resident_id: c.result for c in final.callbacks} == {
        reachable: CallbackResult.satisfied,
        quiet: CallbackResult.not_satisfied,
    }
    await save_history(cases, handle, "hearing_closed")
    await save_history(cases, first, "hearing_callback")
    batch = cases.env.client.get_workflow_handle(f"{handle.id}-decision-1")
    await save_history(cases, batch, "hearing_notice_batch")


@pytest.fixture
async def real_time(dev_env, sqlite_database, sandbox, api_port, worker_for) -> AsyncIterator[RepairCases]:
    """The real worker on the dev server (a real Temporal server, real time), quiet hours well away;
    SQLite only, as what is tested here is the workflow, not the read model."""
    now = await dev_env.get_current_time()
    quiet = quiet_hours_away_from(now, "Asia/Shanghai")
    settings = make_settings(sqlite_database, sandbox, api_port, quiet_hours=quiet)
    async with worker_for(dev_env, settings, sqlite_database):
        yield RepairCases(dev_env, settings, sqlite_database, settings.task_queue, sandbox.base_url)


async def test_a_long_hearing_continues_as_new_and_keeps_everything(real_time: RepairCases) -> None:
    """On the dev server: the time-skipping server now and then loses a task sent as a run continues as
    new, and then stops skipping time. Answers are due within seconds here instead of 24 hours."""
    cases = real_time
    place = community(cases, 4)
    handle = await start_hearing(
        cases, place, timedelta(seconds=8), history_limit=100, answer_within=timedelta(seconds=2)
    )
    await until(handle, lambda s: s.status is HearingStatus.noticed)
    for n in range(8):
        await accepted(handle, HearingWorkflow.register_objection, objection(place, n % 4, f"Question {n}"))
    state = await until(handle, lambda s: s.runs >= 2 and all(o.tier == 3 for o in s.objections))
    assert all(o.kept for o in state.objections)
    assert objection_store(cases, handle.id) == [(f"Question {n}", None) for n in range(8)]
    assert all(o.escalations == 2 and o.next_page_at is None for o in state.objections)
    for record in state.objections:
        await accepted(
            handle,
            HearingWorkflow.answer_objection,
            AnswerObjection(actor=HANDLER, number=record.number, answer=f"Answer {record.number}"),
        )
    await cases.sleep_until(state.hearing_at + timedelta(seconds=1))
    await handle.execute_update(HearingWorkflow.record_hearing, HELD)
    await handle.execute_update(
        HearingWorkflow.decide, Decide(actor=SUPERVISOR, outcome=Outcome.rejected, reason="Too expensive.")
    )
    state = await until(handle, lambda s: any(e.event == "callbacks_started" for e in s.timeline))
    assert len(state.callbacks) == 4
    for callback in state.callbacks:
        child = cases.env.client.get_workflow_handle(callback.case_id)
        await cases.until(
            child, lambda s: s.callback_attempt >= 1 and s.next_deadline_kind == "callback_reply"
        )
        await child.signal(
            HearingCallbackWorkflow.callback_reply,
            CallbackReply(attempt=1, satisfied=True, channel=Channel.sms, received_at=await cases.now()),
        )
    final = await asyncio.wait_for(handle.result(), 30)
    assert final.status is HearingStatus.closed and final.runs >= 2
    assert final.reminder_at < final.broadcasts[0].finished_at and sent(final, Phase.reminder) is None
    assert objection_store(cases, handle.id) == [(f"Question {n}", f"Answer {n + 1}") for n in range(8)]
    assert all(o.answered_by == HANDLER.id for o in final.objections)
    # What each run carried into the next: every objection's number and people, never its text or answer.
    history = await cases.env.client.get_workflow_handle(handle.id).fetch_history()
    started = history.events[0].workflow_execution_started_event_attributes
    (carried,) = await cases.env.client.data_converter.decode(started.input.payloads, [HearingInput])
    assert [o.number for o in carried.carried.objections] == list(range(1, 9))
    assert all(o.text is None and o.answer is None for o in carried.carried.objections)
    assert len([e for e in final.timeline if e.event == "continued_as_new"]) == final.runs - 1
    assert len([e for e in final.timeline if e.event == "escalated"]) == 16
    keys = keys_sent(cases, handle.id)
    assert len(keys) > 30 and len(keys) == len(set(keys))


async def accepted(handle: WorkflowHandle, update, arg) -> object:
    """The update's answer, sent again while the hearing refuses it for continuing as new (`Busy`)."""
    for _ in range(50):
        try:
            return await handle.execute_update(update, arg)
        except WorkflowUpdateFailedError as error:
            if getattr(error.cause, "type", None) != "Busy":
                raise
        await asyncio.sleep(0.2)
    raise AssertionError("the hearing stayed busy continuing as new")


def objection_store(cases: RepairCases, hearing_id: str) -> list[tuple[str, str | None]]:
    with cases.database.sessions() as session:
        rows = session.scalars(select(HearingObjectionRow).where(HearingObjectionRow.hearing_id == hearing_id)
                               .order_by(HearingObjectionRow.number))
        return [(row.text, row.answer) for row in rows]


class CountingSender:
    """`notify.send_many` that only counts: 2,000 households through the real notifier and the in-process
    Twilio sandbox take about a minute per message (every other test here sends through them), and what
    this test is about is the hearing's history, not Twilio's."""

    def __init__(self) -> None:
        self.keys: list[str] = []

    @activity.defn(name="notify.send_many")
    async def send_many(self, notices: list[Notice]) -> SendManyResult:
        self.keys += [notice.key for notice in notices]
        return SendManyResult(sent=len(notices))


@pytest.fixture
async def fanout(ts_env, settings, database, sandbox) -> AsyncIterator[tuple[RepairCases, CountingSender]]:
    harness = RepairCases(ts_env, settings, database, settings.task_queue, sandbox.base_url)
    projection = Projection(database.sessions)
    directory, notifier, sender = (
        Directory(database.sessions),
        Notifier(settings, database.sessions),
        CountingSender(),
    )
    worker = Worker(
        ts_env.client,
        task_queue=settings.task_queue,
        workflows=WORKFLOWS,
        activities=[
            directory.dispatch,
            directory.on_duty_for_tier,
            directory.resident_contact,
            directory.staff_contact,
            directory.resident_pages,
            directory.residents_in,
            projection.project,
            projection.project_case_events,
            projection.project_hearing,
            notifier.send,
            notifier.send_to_resident,
            sender.send_many,
        ],
        activity_executor=ThreadPoolExecutor(max_workers=8),
    )
    async with worker:
        await harness.skip_to_local(10)
        yield harness, sender
    await notifier.close()


async def test_decision_fans_out_to_2000_households_within_temporals_history_limits(fanout) -> None:
    cases, sender = fanout
    place = community(cases, 2000)
    handle = await start_hearing(cases, place, 8 * DAY)
    state = await until(handle, lambda s: s.status is HearingStatus.noticed)
    assert sent(state, Phase.notice).sent == 2000
    await held_and_decided(cases, handle)
    final = await asyncio.wait_for(handle.result(), 60)
    decision = sent(final, Phase.decision)
    assert (decision.batches, decision.residents, decision.sent) == (8, 2000, 2000)
    decided = [key for key in sender.keys if ":hearing_decision:" in key]
    assert len(decided) == len(set(decided)) == 2000
    assert {key.rsplit(":", 1)[1] for key in decided} == set(place.resident_ids)
    assert len(sender.keys) == 3 * 2000

    info = (await handle.describe()).raw_description.workflow_execution_info
    assert info.history_length < 300, info.history_length
    assert info.history_size_bytes < 512 * 1024, info.history_size_bytes
    for phase in ("notice", "reminder", "decision"):
        batch = await cases.env.client.get_workflow_handle(f"{handle.id}-{phase}-8").describe()
        assert batch.raw_description.workflow_execution_info.history_length < 100
    # Temporal suggests continuing as new at 4,096 events or 4 MB and warns at 10,240 events or 10 MB.
