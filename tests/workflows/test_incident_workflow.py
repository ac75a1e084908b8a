"""A building-wide incident on the time-skipping server with the real worker, sandbox and database: reports
that join it neither dispatch nor page, staff attach an open case, validators refuse the wrong people and
places, restoration releases every held case into its own callback, and the households hear twice. The
recorded histories (an incident restored, a repair that joined one) replay against today's code."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from temporalio.client import WorkflowHandle, WorkflowHistory, WorkflowUpdateFailedError
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from steward.store.community_models import IncidentRow
from steward.store.models import Notification
from tests.workflows.harness import HANDLER, HISTORIES, RESIDENT, SUPERVISOR, RepairCases
from workflows.case_contracts import CaseInput, IncidentHold
from workflows.contracts import Actor, Role, Severity, Status
from workflows.incident import IncidentWorkflow
from workflows.incident_contracts import (
    AttachCase,
    IncidentInput,
    IncidentScope,
    IncidentState,
    IncidentStatus,
    JoinIncident,
    RestoreIncident,
)
from workflows.names import CaseUpdate, IncidentUpdate
from workflows.repair import RepairWorkflow

B1_RESIDENTS = 12


async def open_incident(cases: RepairCases, **fields) -> WorkflowHandle:
    now = await cases.now()
    incident = IncidentInput(**{
        "building_id": "B1", "category": "plumbing", "title": "No water",
        "message": "A water main burst under the courtyard.",
        "expected_restoration": now + timedelta(hours=4),
        "opened_by": SUPERVISOR, "opened_at": now, "policy": cases.settings.policy} | fields)
    return await cases.env.client.start_workflow(IncidentWorkflow.run, incident,
                                                 id=f"INC-{uuid.uuid4().hex[:10].upper()}",
                                                 task_queue=cases.task_queue)


async def report(cases: RepairCases, resident: str, unit: str, hold: IncidentHold | None = None,
                 building: str = "B1") -> WorkflowHandle:
    case = CaseInput(category="plumbing", title="No water", description="Nothing from the taps.",
                     building_id=building, unit=unit, resident_id=resident,
                     submitted_by=Actor(id=resident, role=Role.resident), submitted_at=await cases.now(),
                     policy=cases.settings.policy, held_by=hold)
    return await cases.env.client.start_workflow(
        RepairWorkflow.run, case, id=f"RP-{uuid.uuid4().hex[:10].upper()}", task_queue=cases.task_queue)


async def incident_until(handle: WorkflowHandle, check, within: float = 15) -> IncidentState:
    deadline = asyncio.get_running_loop().time() + within
    while not check(state := await handle.query(IncidentWorkflow.state)):
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"incident not as expected: {state.model_dump_json(indent=1)}")
        await asyncio.sleep(0.05)
    return state


def templates(cases: RepairCases, case_id: str) -> list[str]:
    return [sent.template for sent in cases.sent(case_id)]


async def refused(handle: WorkflowHandle, update: str, action) -> str:
    with pytest.raises(WorkflowUpdateFailedError) as refusal:
        await handle.execute_update(update, action)
    return str(refusal.value.cause)


@pytest.mark.timeout(120)
async def test_reports_join_the_incident_and_are_released_into_their_callbacks(cases: RepairCases) -> None:
    incident = await open_incident(cases)
    hold = IncidentHold(incident_id=incident.id, title="No water",
                        expected_restoration=(await cases.now()) + timedelta(hours=4))
    joined = [await report(cases, f"R00{n}", f"10{n}", hold) for n in (1, 2, 3)]
    for handle in joined:
        await cases.until(handle, lambda s: s.incident_id == incident.id and
                          any(e.event == "joined_incident" for e in s.timeline))
    state = await incident_until(incident, lambda s: len(s.cases) == 3 and s.notice is not None)
    assert state.notice.residents == B1_RESIDENTS, "every household of the building, once"

    own = await report(cases, "R004", "104")  # filed before anyone knew: dispatched, paging on its own
    await cases.until(own, lambda s: s.dispatched_at is not None)
    scope = IncidentScope(building_id="B1", units=[], category="plumbing")
    attach = AttachCase(actor=HANDLER, case_id=own.id, building_id="B1", unit="104")
    assert "only staff" in await refused(incident, IncidentUpdate.ATTACH,
                                         attach.model_copy(update={"actor": RESIDENT}))
    elsewhere = attach.model_copy(update={"building_id": "B2", "unit": "201"})
    assert "outside this incident" in await refused(incident, IncidentUpdate.ATTACH, elsewhere)
    await incident.execute_update(IncidentUpdate.ATTACH, attach)
    await own.execute_update(CaseUpdate.JOIN_INCIDENT, JoinIncident(actor=HANDLER, hold=hold, scope=scope))
    assert "already joined" in await refused(own, CaseUpdate.JOIN_INCIDENT,
                                             JoinIncident(actor=HANDLER, hold=hold, scope=scope))

    await cases.sleep(timedelta(hours=2))  # past every response window: a held case pages nobody
    for handle in [*joined, own]:
        state = await cases.state(handle)
        assert not any(e.event == "escalated" for e in state.timeline) and state.status is not Status.resolved
    for handle in joined:
        told = templates(cases, handle.id)
        assert "incident_known" in told and "dispatch" not in told and "case_received" not in told

    assert "only staff" in await refused(incident, IncidentUpdate.RESTORE,
                                         RestoreIncident(actor=RESIDENT, root_cause="a burst main"))
    await incident.execute_update(IncidentUpdate.RESTORE,
                                  RestoreIncident(actor=SUPERVISOR, root_cause="a corroded main valve"))
    for handle in [*joined, own]:
        state = await cases.until(handle, lambda s: s.status is Status.callback and s.callback_attempt > 0)
        assert state.resolved_at is not None
        resolved = next(e for e in state.timeline if e.event == "resolved")
        assert resolved.detail["note"] == "a corroded main valve"
        await cases.reply(handle, satisfied=True)
    # Only once every case has its answer: waiting for a result lets the test server skip time, and the
    # callback waits of cases not yet answered would run out (each case then goes to a person).
    for handle in [*joined, own]:
        await cases.result(handle)
        assert "callback_request" in templates(cases, handle.id)

    final = await asyncio.wait_for(incident.result(), 30)
    assert final.status is IncidentStatus.closed and final.root_cause == "a corroded main valve"
    assert final.restoration_notice.residents == B1_RESIDENTS
    sent = cases.sent(incident.id)
    for template in ("incident_notice", "incident_restored"):
        per_resident = [s for s in sent if s.template == template]
        assert len(per_resident) == len({s.to for s in per_resident}) == final.notice.sent
    pages = [s for s in sent if s.template == "incident_opened"]
    assert len(pages) == 2 and {s.to for s in pages} == {"+8613900000101", "+8613900000102"}, "tier 1 once"
    with cases.database.sessions() as session:
        row = session.get(IncidentRow, incident.id)
        assert (row.status, row.cases, row.root_cause) == ("closed", 4, "a corroded main valve")
        staff_notices = session.scalars(select(Notification).where(
            Notification.case_id.in_([h.id for h in joined]), Notification.recipient_id.like("S%"))).all()
        assert staff_notices == [], "a report that joined pages nobody (and nobody owns it)"
    await cases.save_history(incident, "incident_restored")
    await cases.save_history(joined[0], "repair_joined_incident")
    await cases.save_history(own, "repair_attached_to_incident")


@pytest.mark.timeout(60)
async def test_an_incident_past_its_resolution_deadline_climbs_its_own_ladder(cases: RepairCases) -> None:
    incident = await open_incident(cases, units=["101", "102"], severity=Severity.urgent)
    state = await incident_until(incident, lambda s: s.notice is not None)
    assert state.notice.residents == 2, "only the units it names"
    await cases.sleep(timedelta(hours=13))
    state = await incident_until(incident, lambda s: s.breached)
    assert state.warned and state.tier == 2 and state.escalations == 1
    await incident.execute_update(IncidentUpdate.RESTORE, RestoreIncident(actor=HANDLER, root_cause="valve"))
    await asyncio.wait_for(incident.result(), 30)


def load(name: str) -> WorkflowHistory:
    path: Path = HISTORIES / f"{name}.json"
    if not path.exists():
        pytest.skip("recorded by the test above on its first run")
    saved = json.loads(path.read_text(encoding="utf-8"))
    return WorkflowHistory.from_json(saved.pop("workflow_id"), saved)


RECORDED = ["incident_restored", "repair_joined_incident", "repair_attached_to_incident"]


@pytest.mark.parametrize("name", RECORDED)
async def test_recorded_incident_histories_replay(name: str) -> None:
    history = load(name)
    replayer = Replayer(workflows=[IncidentWorkflow, RepairWorkflow], data_converter=pydantic_data_converter)
    await replayer.replay_workflow(history)


@pytest.mark.timeout(60)
async def test_quiet_hours_hold_the_households_notice_unless_it_is_an_emergency(cases: RepairCases) -> None:
    await cases.skip_to_local(23)
    emergency = await open_incident(cases, severity=Severity.emergency, units=["101"])
    urgent = await open_incident(cases, units=["102"])
    state = await incident_until(emergency, lambda s: s.notice is not None)
    assert state.notice.sent == 1, "an emergency is told at once, at night too"
    await asyncio.sleep(1)
    assert [s.template for s in cases.sent(urgent.id) if s.template == "incident_notice"] == []
    await cases.skip_to_local(8, 1)
    state = await incident_until(urgent, lambda s: s.notice is not None)
    assert state.notice.sent == 1, "the others in the morning"
    for handle in (emergency, urgent):
        await handle.execute_update(IncidentUpdate.RESTORE, RestoreIncident(actor=HANDLER, root_cause="fuse"))
        await asyncio.wait_for(handle.result(), 30)
