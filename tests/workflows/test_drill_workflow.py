"""The drill (issue 7), one test per path of its lifecycle, on the time-skipping server with the real
worker (directory, notices through the Twilio sandbox), in a building of its own, from 10:00 community
time. Drills from schedules are tested on the dev server (tests/api/test_drill_schedules.py).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from temporalio.client import WorkflowExecutionStatus, WorkflowUpdateFailedError

from tests.conftest import make_settings
from tests.workflows.drills import DAY, Drills, building
from tests.workflows.harness import SHANGHAI, near
from workflows import search
from workflows.case_contracts import CaseState
from workflows.contracts import Kind, Severity, Status, Tier
from workflows.drill import DrillWorkflow
from workflows.drill_contracts import DrillRules, DrillStatus, FileReport, Finding, StartDrill
from workflows.findings import plain_code
from workflows.repair import RepairWorkflow

MINUTE = timedelta(minutes=1)
HOUR = timedelta(hours=1)

BLOCKED_EXIT = Finding(
    title="Fire exit on floor 3 blocked by bicycles",
    description="The stairwell door on floor 3 could not be opened fully.",
    category="security",
    severity=Severity.urgent,
    unit="301",
)
SILENT_ALARM = Finding(
    title="Alarm silent on floor 5",
    description="Residents on floor 5 did not hear the alarm.",
    category="electrical",
)


@pytest.fixture
async def drills(ts_env, sqlite_database, sandbox, api_port, worker_for) -> AsyncIterator[Drills]:
    """The real worker on a fresh task queue, at 10:00 community time (SQLite: drills keep no rows)."""
    settings = make_settings(sqlite_database, sandbox, api_port)
    harness = Drills(ts_env, settings, sqlite_database, settings.task_queue, sandbox.base_url)
    async with worker_for(ts_env, settings, sqlite_database):
        await harness.skip_to_local(10)
        yield harness


def escalations(state) -> list[tuple[int, str]]:
    return [(e.detail["tier"], e.detail["reason"]) for e in state.timeline if e.event == "escalated"]


async def test_announcement_goes_to_every_household_at_once_and_the_reminder_the_day_before(
    drills: Drills,
) -> None:
    place = building(drills.database, households=10, opted_out=1)
    planned_at = await drills.now()
    handle = await drills.plan(place)
    state = await drills.drill(handle)
    assert state.status is DrillStatus.announced and near(state.announced_at, planned_at, MINUTE)
    assert state.scheduled_at - state.announced_at > drills.settings.drill_rules.notice_period - MINUTE
    assert state.announcement.model_dump() == {"residents": 10, "sent": 9, "unreachable": 1}
    announced = drills.notices(handle.id, "drill_announcement")
    assert {n.to for n in announced} == {place.phones[r] for r in place.residents[1:]}
    by_phone = {n.to: n for n in announced}
    english_by_call = place.phones[place.residents[8]]  # the 9th: speaks English, prefers a call
    assert (by_phone[english_by_call].locale, by_phone[english_by_call].channel) == ("en", "voice")
    assert (
        by_phone[place.phones[place.residents[1]]].locale,
        by_phone[place.phones[place.residents[1]]].channel,
    ) == ("zh-CN", "sms")
    assert [n.to for n in drills.notices(handle.id, "drill_planned")] == [place.staff_phones[1]]

    await drills.sleep_until(state.reminder_at - MINUTE)
    assert drills.notices(handle.id, "drill_reminder") == []
    await drills.sleep_until(state.reminder_at + MINUTE)
    state = await drills.drill_until(handle, lambda s: s.reminded_at is not None)
    assert near(state.reminded_at, state.scheduled_at - DAY, MINUTE)
    assert state.reminder.sent == 9 and len(drills.notices(handle.id, "drill_reminder")) == 9
    assert len(drills.notices(handle.id, "drill_planned")) == 2
    description = await handle.describe()
    assert description.typed_search_attributes.get(search.KIND) == Kind.drill.value
    assert description.typed_search_attributes.get(search.STATUS) == DrillStatus.announced.value


async def test_a_reminder_that_falls_in_quiet_hours_waits_for_the_morning(drills: Drills) -> None:
    place = building(drills.database, households=3)
    handle = await drills.plan(place, ahead=3 * DAY + 12 * HOUR + 30 * MINUTE)  # a drill at 22:30
    state = await drills.drill(handle)
    assert f"{state.scheduled_at.astimezone(SHANGHAI):%H:%M}" == "22:30"
    await drills.sleep_until(state.reminder_at + 5 * MINUTE)
    assert drills.notices(handle.id, "drill_reminder") == []
    await drills.sleep_until(state.reminder_at + 10 * HOUR)
    state = await drills.drill_until(handle, lambda s: s.reminded_at is not None)
    assert f"{state.reminded_at.astimezone(SHANGHAI):%H:%M}" == "08:00"
    assert len(drills.notices(handle.id, "drill_reminder")) == 3


async def test_a_drill_cannot_be_started_long_before_its_time(drills: Drills) -> None:
    place = building(drills.database, households=2)
    handle = await drills.plan(place)
    state = await drills.drill(handle)
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await handle.execute_update(DrillWorkflow.start, StartDrill(actor=place.staff[1]))
    assert "can be started from" in str(refused.value.cause)
    await drills.sleep_until(state.scheduled_at - 29 * MINUTE)
    started = await handle.execute_update(DrillWorkflow.start, StartDrill(actor=place.staff[1]))
    assert started.status is DrillStatus.started and started.owner_id == place.staff[1].id


async def test_late_start_escalates_every_30_minutes_up_to_tier_3(drills: Drills) -> None:
    place = building(drills.database, households=2)
    handle = await drills.plan(place)
    scheduled = (await drills.drill(handle)).scheduled_at
    await drills.sleep_until(scheduled + 29 * MINUTE)
    state = await drills.drill(handle)
    assert state.tier is Tier.team_lead and not state.start_missed
    assert state.next_deadline == scheduled + 30 * MINUTE and state.next_deadline_kind == "start_missed"
    for minutes, tier in ((31, Tier.property_manager), (61, Tier.general_manager)):
        await drills.sleep_until(scheduled + minutes * MINUTE)
        state = await drills.drill_until(handle, lambda s, tier=tier: s.tier is tier)
    await drills.sleep_until(scheduled + 3 * HOUR)
    state = await drills.drill(handle)
    assert state.start_missed and escalations(state) == [(2, "start_missed"), (3, "start_missed")]
    assert [round((e.at - scheduled) / MINUTE) for e in state.timeline if e.event == "escalated"] == [30, 60]
    paged = await drills.notices_eventually(handle.id, "drill_escalation", 2)
    assert [n.to for n in paged] == [place.staff_phones[2], place.staff_phones[3]]
    assert {n.params["overdue"] for n in paged} == {"start"}

    started = await handle.execute_update(DrillWorkflow.start, StartDrill(actor=place.staff[3]))
    assert started.timeline[-1].detail == {"late": True} and started.next_deadline is None
    assert (await handle.describe()).typed_search_attributes.get(search.BREACHED) is True


async def test_findings_start_repair_cases_that_keep_running_after_the_drill_closes(drills: Drills) -> None:
    place = building(drills.database, households=3)
    handle = await drills.plan(place)
    completed = await drills.run_to_completion(handle, place, findings=[BLOCKED_EXIT, SILENT_ALARM])
    code = plain_code(handle.id)
    assert [f.case_id for f in completed.findings] == [f"RP-{code}-F1", f"RP-{code}-F2"]
    assert completed.participation == 9 and completed.status is DrillStatus.completed

    repairs = [drills.env.client.get_workflow_handle(f.case_id) for f in completed.findings]
    for repair in repairs:
        await drills.drill_until(handle, lambda s: True)
        description = await _eventually(repair.describe)
        assert description.parent_id == handle.id
    exit_case: CaseState = await _eventually(lambda: repairs[0].query(RepairWorkflow.state))
    assert (exit_case.title, exit_case.severity) == (BLOCKED_EXIT.title, Severity.urgent)
    assert exit_case.unit == "301"
    assert exit_case.building_id == place.building_id and exit_case.kind is Kind.repair
    assert exit_case.parent_case_id == handle.id, "linked both ways"

    await handle.execute_update(DrillWorkflow.file_report, FileReport(actor=place.staff[1], summary="Good."))
    await drills.sleep_until(completed.survey_closes_at + MINUTE)
    closed = await drills.closed(handle)
    assert closed.status is DrillStatus.closed and closed.closed_at >= completed.survey_closes_at
    for repair in repairs:
        assert (await repair.describe()).status == WorkflowExecutionStatus.RUNNING
    still_open = await repairs[1].query(RepairWorkflow.state)
    assert still_open.status in (Status.dispatched, Status.submitted) and still_open.tier > Tier.handler
    for repair in repairs:
        await repair.terminate("test finished")


async def test_missing_report_escalates_until_it_is_filed(drills: Drills) -> None:
    place = building(drills.database, households=2)
    handle = await drills.plan(place)
    completed = await drills.run_to_completion(handle, place)
    assert completed.next_deadline == completed.report_due
    assert completed.report_due == completed.completed_at + 24 * HOUR
    report_due_notice = await drills.notices_eventually(handle.id, "drill_report_due", 1)
    assert [n.to for n in report_due_notice] == [place.staff_phones[1]]

    await drills.sleep_until(completed.report_due - MINUTE)
    assert not (await drills.drill(handle)).report_missed
    await drills.sleep_until(completed.report_due + MINUTE)
    state = await drills.drill_until(handle, lambda s: s.report_missed)
    assert state.tier is Tier.property_manager and escalations(state) == [(2, "report_missed")]
    paged = await drills.notices_eventually(handle.id, "drill_escalation", 1)
    assert [(n.to, n.params["overdue"]) for n in paged] == [(place.staff_phones[2], "report")]
    owner = await drills.notices_eventually(handle.id, "owner_update", 1)
    assert [n.to for n in owner] == [place.staff_phones[1]]

    await drills.sleep_until(completed.report_due + 24 * HOUR + MINUTE)
    state = await drills.drill_until(handle, lambda s: s.tier is Tier.general_manager)
    assert state.status is DrillStatus.completed, "no report, no closing"
    reported = await handle.execute_update(
        DrillWorkflow.file_report, FileReport(actor=place.staff[1], summary="Late, sorry.")
    )
    assert reported.report == "Late, sorry." and reported.next_deadline is None
    closed = await drills.closed(handle)
    assert closed.status is DrillStatus.closed and len(escalations(closed)) == 2
    await drills.save_history(handle, "drill_report_missed")


async def test_survey_answers_are_added_up_in_the_drill_record(drills: Drills) -> None:
    place = building(drills.database, households=10, opted_out=1, no_phone=1)
    handle = await drills.plan(place)
    completed = await drills.run_to_completion(handle, place)
    state = await drills.drill_until(handle, lambda s: s.survey_batches == 3)
    assert state.survey_closes_at == completed.completed_at + 24 * HOUR
    asked = await drills.notices_eventually(handle.id, "drill_survey", 8)
    assert {n.case_id for n in asked} == {f"{handle.id}/survey-{k}" for k in (1, 2, 3)}
    assert all(n.params["code"] == plain_code(handle.id) for n in asked)
    r = place.residents
    for resident, heard in ((r[2], True), (r[3], True), (r[4], False), (r[6], True), (r[9], False)):
        await drills.answer_survey(handle.id, place.phones[resident], heard)

    await handle.execute_update(DrillWorkflow.file_report, FileReport(actor=place.staff[1], summary="Done."))
    await drills.sleep_until(completed.survey_closes_at + MINUTE)
    closed = await drills.closed(handle)
    assert closed.survey.model_dump() == {
        "asked": 10,
        "heard": 3,
        "not_heard": 2,
        "no_answer": 3,
        "unreachable": 2,
        "not_heard_by": [r[4], r[9]],
    }
    assert closed.survey_batches_done == 3
    unanswered = [n for n in drills.notices(handle.id, "drill_survey") if n.to == place.phones[r[5]]]
    assert [n.attempt is not None for n in unanswered] == [True] * 3, "three attempts, then no answer"
    assert {n.channel for n in unanswered} == {"sms", "voice"}
    await drills.save_history(handle, "drill_closed")
    survey = drills.env.client.get_workflow_handle(f"{handle.id}/survey-1")
    await drills.save_history(survey, "drill_survey_batch")


def test_a_scheduled_drill_keeps_its_local_time_across_a_change_of_clocks() -> None:
    rules = DrillRules()
    fired = datetime(2027, 3, 25, 10, 0, tzinfo=UTC)  # Thursday 10:00 in London (GMT)
    drill = rules.drill_at(fired, "Europe/London")  # Sunday 28 March: clocks go forward at 01:00
    assert drill == datetime(2027, 3, 28, 9, 0, tzinfo=UTC)  # 10:00 BST
    assert rules.fires_at(drill, "Europe/London") == fired
    shanghai = datetime(2027, 3, 25, 2, 0, tzinfo=UTC)
    assert rules.drill_at(shanghai, "Asia/Shanghai") == shanghai + 3 * DAY
    assert DrillRules(notice_period=timedelta(hours=60)).lead_days == 3
    assert plain_code("DR-B1-fire-2027-03-25T02:00:00Z") == "DR-B1-fire-2027-03-25T020000Z"


async def _eventually(read, within: float = 10):
    deadline = asyncio.get_running_loop().time() + within
    while True:
        try:
            return await read()
        except Exception:
            if asyncio.get_running_loop().time() > deadline:
                raise
            await asyncio.sleep(0.1)
