"""Building-wide incidents (issue 22): staff open one on a building or some of its units, list and read
them, attach open cases, move the expected restoration, and restore it with its root cause.

Who may act and on what is decided by the incident's (and the attached case's) update validators; a
refusal is 409 with its reason. A resident is refused by the route too (403), before anything starts.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Body, Path, Query, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field
from sqlalchemy import select
from temporalio.client import Client
from temporalio.common import SearchAttributePair, TypedSearchAttributes

from api import cursor
from api.auth import StaffMember
from api.cases import case_state, code_for, request_digest, start_once, temporal_answers, update_case
from api.context import ClientDep, SessionsDep, SettingsDep
from api.errors import ApiError, workflow_responses
from api.incidents import incident_state
from api.models import action_body, idempotency_header, request_body, started_answer
from steward.store.deadlines import aware
from steward.store.incidents import IncidentKey, gathered_cases, incidents_page
from steward.store.models import Building, Household
from workflows import search
from workflows.contracts import Actor
from workflows.incident_contracts import (
    INCIDENT_PREFIX,
    AttachCase,
    ChangeRestoration,
    IncidentInput,
    IncidentScope,
    IncidentState,
    IncidentStatus,
    JoinIncident,
    RestoreIncident,
)
from workflows.names import CaseUpdate, IncidentSignal, IncidentUpdate
from workflows.rules import OPEN

router = APIRouter(prefix="/incidents", tags=["incidents"],
                   responses=workflow_responses(
                       "The incident (or the case) refused the action; the reason says why."))

# Staff's incidents have a code; a device's outage alarm names its incident after the device's repair.
IncidentId = Annotated[str, Path(pattern=r"^INC-(?:[A-Z2-7]{10}|[A-Za-z0-9_-]{1,32}-A[0-9]{1,9})$",
                                 examples=["INC-4QZ7N2WK4M", "INC-EQ-B1-PUMP1-A3"])]
OpenBody = request_body(IncidentInput, "IncidentOpen", frozenset({"opened_by", "opened_at", "policy"}),
                        doc="An outage as staff open it: where, what, until when, and what residents hear.")
AttachBody = request_body(AttachCase, "AttachBody", frozenset({"actor", "actor_tier", "building_id", "unit",
                                                               "open"}))
RestoreBody = action_body(RestoreIncident)
RestorationBody = action_body(ChangeRestoration)
EXAMPLES = {
    "open": {"building": {"summary": "No water in building B1", "value": {
        "building_id": "B1", "category": "plumbing", "title": "No water", "severity": "urgent",
        "message": "A water main burst under the courtyard; the water company is on site.",
        "expected_restoration": "2026-12-04T18:00:00+08:00"}},
        "units": {"summary": "No power on two flats", "value": {
            "building_id": "B2", "units": ["201", "202"], "category": "electrical", "title": "No power",
            "message": "A breaker in the riser tripped.",
            "expected_restoration": "2026-12-04T15:00:00+08:00"}}},
    "attach": {"case": {"summary": "Attach an open case", "value": {"case_id": "RP-3MZQ7N2WK4"}}},
    "restore": {"cause": {"summary": "Restored, with its root cause", "value": {
        "root_cause": "A corroded valve on the main; replaced, and the other valves of its age scheduled."}}},
    "restoration": {"later": {"summary": "Later than said", "value": {
        "expected_restoration": "2026-12-04T21:00:00+08:00", "reason": "The valve must be fetched."}}},
}
OpenIn = Annotated[OpenBody, Body(openapi_examples=EXAMPLES["open"])]
AttachIn = Annotated[AttachBody, Body(openapi_examples=EXAMPLES["attach"])]
RestoreIn = Annotated[RestoreBody, Body(openapi_examples=EXAMPLES["restore"])]
RestorationIn = Annotated[RestorationBody, Body(openapi_examples=EXAMPLES["restoration"])]
IncidentCreated = started_answer("IncidentCreated", "incident_id", "/incidents/INC-4QZ7N2WK4M",
                                 "The workflow id.", "False when this Idempotency-Key had already opened it.")


class GatheredCase(BaseModel):
    case_id: str
    how: str = Field(description="filed (a report that joined) or attached (by staff).")
    joined_at: datetime
    unit: str | None = None
    resident_id: str | None = None
    status: str | None = Field(default=None, description="From the read model; null until projected.")
    satisfaction: str | None = None


class IncidentDetail(IncidentState):
    gathered: list[GatheredCase] = Field(description="The cases it holds, as the read model has them.")


class IncidentItem(BaseModel):
    incident_id: str
    building_id: str
    units: list[str]
    category: str
    title: str
    status: str
    opened_at: datetime
    expected_restoration: datetime
    restored_at: datetime | None
    root_cause: str | None
    cases: int
    breached: bool


class IncidentPage(BaseModel):
    items: list[IncidentItem]
    next_page_token: str | None = Field(description="Give as `page_token` for the next page; null at end.")


# --- opening --------------------------------------------------------------------------------------


def _check_where(sessions, building_id: str, units: list[str]) -> None:
    with sessions() as session:
        if session.get(Building, building_id) is None:
            raise ApiError(422, f"no building {building_id} in the directory")
        known = set(session.scalars(select(Household.unit).where(Household.building_id == building_id,
                                                                  Household.unit.in_(units))))
        if missing := sorted(set(units) - known):
            raise ApiError(422, f"units: no unit {', '.join(missing)} in building {building_id}")


@router.post("", status_code=201, response_model=IncidentCreated,
             summary="Open a building-wide incident (staff)",
             responses={200: {"model": IncidentCreated, "description": "This Idempotency-Key opened it."}})
async def open_incident(
    body: OpenIn, caller: StaffMember, client: ClientDep, sessions: SessionsDep, settings: SettingsDep,
    response: Response,
    idempotency_key: Annotated[str | None, idempotency_header(
        "Optional: the same key opens the same incident, never a second one.")] = None,
) -> IncidentCreated:
    """Staff on duty for the building are paged once; every affected household is told once (after quiet
    hours, unless an emergency). Reports of the same category from its units join it from now on."""
    now = datetime.now(UTC)
    if body.expected_restoration <= now:
        raise ApiError(422, "expected_restoration must be ahead")
    await run_in_threadpool(_check_where, sessions, body.building_id, list(body.units))
    incident_id = code_for(INCIDENT_PREFIX, caller, idempotency_key or uuid.uuid4().hex)
    incident = IncidentInput(**body.model_dump(), opened_by=caller, opened_at=now, policy=settings.policy)
    attributes = TypedSearchAttributes([SearchAttributePair(search.KIND, "incident"),
                                        SearchAttributePair(search.BUILDING, body.building_id)])
    created = await start_once(client, "IncidentWorkflow", incident, incident_id, settings.task_queue,
                               request_digest(body), attributes,
                               f"incident · {body.category} · building {body.building_id}", what="incident")
    if not created:
        response.status_code = 200
    return IncidentCreated(incident_id=incident_id, created=created, url=f"/incidents/{incident_id}")


# --- reading --------------------------------------------------------------------------------------


@router.get("", response_model=IncidentPage, summary="Incidents, newest first (staff; read model)")
async def list_incidents(
    caller: StaffMember, sessions: SessionsDep,
    building: Annotated[str | None, Query(pattern=r"^[A-Za-z0-9_-]{1,32}$")] = None,
    status: IncidentStatus | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    page_token: Annotated[str | None, Query(max_length=400)] = None,
) -> IncidentPage:
    scope = cursor.scope_of("incidents", {"building": building, "status": status, "limit": limit})
    after = cursor.decode(scope, page_token, IncidentKey)

    def read() -> tuple[list, IncidentKey | None]:
        with sessions() as session:
            return incidents_page(session, building, status.value if status else None, after, limit)

    rows, following = await run_in_threadpool(read)
    items = [IncidentItem(**{name: aware(v) if isinstance(v := getattr(row, name), datetime) else v
                             for name in IncidentItem.model_fields}) for row in rows]
    return IncidentPage(items=items, next_page_token=cursor.encode(scope, following))


@router.get("/{incident_id}", response_model=IncidentDetail,
            summary="An incident's live state, with the cases it gathered (staff)")
async def get_incident(incident_id: IncidentId, caller: StaffMember, client: ClientDep,
                       sessions: SessionsDep) -> IncidentDetail:
    state, _ = await incident_state(client, incident_id)
    return await _detail(sessions, state)


async def _detail(sessions, state: IncidentState) -> IncidentDetail:
    def read() -> dict:
        with sessions() as session:
            return {row.case_id: row for row in gathered_cases(session, [c.case_id for c in state.cases])}

    rows = await run_in_threadpool(read)
    gathered = []
    for held in state.cases:
        row = rows.get(held.case_id)
        gathered.append(GatheredCase(
            case_id=held.case_id, how=held.how, joined_at=held.joined_at, unit=row.unit if row else None,
            resident_id=row.resident_id if row else None, status=row.status if row else None,
            satisfaction=row.satisfaction if row else None))
    return IncidentDetail(**dict(state), gathered=gathered)


# --- acting ---------------------------------------------------------------------------------------


async def _running_incident(client: Client, incident_id: str) -> IncidentState:
    state, running = await incident_state(client, incident_id)
    if not running:
        raise ApiError(409, f"incident {incident_id} is closed", "closed")
    return state


@router.post("/{incident_id}/attach", response_model=IncidentDetail,
             summary="Attach an open case of the incident's units (staff)")
async def attach(incident_id: IncidentId, body: AttachIn, caller: StaffMember, client: ClientDep,
                 sessions: SessionsDep) -> IncidentDetail:
    """The incident's validator checks the case is open and in its units, then the case's own validator
    agrees to be held: from then on it pages nobody, and is called back when the incident is restored."""
    state = await _running_incident(client, incident_id)
    case = await case_state(client, body.case_id)
    attach_case = AttachCase(actor=caller, case_id=case.case_id, building_id=case.building_id,
                             unit=case.unit, open=case.status in OPEN and not case.withdrawn)
    await update_case(client, incident_id, IncidentUpdate.ATTACH, attach_case, IncidentState)
    join = JoinIncident(
        actor=caller, hold={"incident_id": incident_id, "title": state.title,
                            "expected_restoration": state.expected_restoration},
        scope=IncidentScope(building_id=state.building_id, units=state.units, category=state.category))
    try:
        await update_case(client, case.case_id, CaseUpdate.JOIN_INCIDENT, join)
    except ApiError:  # the case refused (it closed meanwhile): the incident lets it go again
        with temporal_answers(incident_id):
            await client.get_workflow_handle(incident_id).signal(IncidentSignal.DETACH, case.case_id)
        raise
    state, _ = await incident_state(client, incident_id)
    return await _detail(sessions, state)


@router.post("/{incident_id}/restore", response_model=IncidentDetail,
             summary="Restore the incident with its root cause (staff); every held case is called back")
async def restore(incident_id: IncidentId, body: RestoreIn, caller: StaffMember, client: ClientDep,
                  sessions: SessionsDep) -> IncidentDetail:
    await _running_incident(client, incident_id)
    action = _by(caller, RestoreIncident, body)
    state = await update_case(client, incident_id, IncidentUpdate.RESTORE, action, IncidentState)
    return await _detail(sessions, state)


@router.post("/{incident_id}/expected-restoration", response_model=IncidentDetail,
             summary="Move the expected restoration, with a reason (staff)")
async def change_restoration(incident_id: IncidentId, body: RestorationIn, caller: StaffMember,
                             client: ClientDep, sessions: SessionsDep) -> IncidentDetail:
    await _running_incident(client, incident_id)
    action = _by(caller, ChangeRestoration, body)
    state = await update_case(client, incident_id, IncidentUpdate.CHANGE_RESTORATION, action, IncidentState)
    return await _detail(sessions, state)


def _by(caller: Actor, action: type[BaseModel], body: BaseModel) -> BaseModel:
    return action.model_validate({**body.model_dump(), "actor": caller})
