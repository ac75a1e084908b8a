"""Inspections: read one, file its report (the inspector), verify it (a second person, team lead or above).

An inspection is also a case: staff take it (`/requests/{id}/acknowledge`), note progress and are paged
up the ladder like on any repair; it is resolved only by its report, and closed only by its
verification, whose rules (never the inspector, a team lead or above) the workflow's validator keeps.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path
from fastapi.concurrency import run_in_threadpool
from pydantic import ConfigDict, Field
from sqlalchemy.orm import Session, sessionmaker
from temporalio.client import Client

from api.auth import Staffer, StaffMember
from api.case_access import check_photos
from api.cases import state_of_kind, update_case
from api.confidential import tier_of
from api.context import ClientDep, SessionsDep
from api.errors import ERROR_RESPONSES
from api.models import RequestBody
from workflows.actions import RecordCallback
from workflows.contracts import Actor, CallbackResult, Kind, LongText, Photos, ReachedBy
from workflows.drill_contracts import Finding
from workflows.inspection_contracts import CheckedStep, InspectionReport, InspectionState
from workflows.names import CaseUpdate, InspectionUpdate

router = APIRouter(prefix="/inspections", tags=["equipment"], responses=ERROR_RESPONSES)

InspectionId = Annotated[str, Path(pattern=r"^IN-[A-Za-z0-9_.:-]{1,96}$",
                                   examples=["IN-EQ-B1-LIFT1-2027-01-05T01:00:00Z"])]


class ReportBody(RequestBody):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "checklist": [{"step": "Brakes hold at full load", "ok": False},
                      {"step": "Alarm button calls the service centre", "ok": True}],
        "findings": [{"title": "Brake pads worn", "description": "Slips 3 cm at full load",
                      "category": "lift", "severity": "urgent"}]}]})

    checklist: Annotated[list[CheckedStep], Field(max_length=30)]
    findings: Annotated[list[Finding], Field(max_length=20)] = []
    note: LongText | None = None
    photos: Photos


class VerifyBody(RequestBody):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"satisfied": True, "note": "Brakes re-tested on site with the contractor."}]})

    satisfied: bool = Field(description="Done as reported; false sends it back to be done again, a tier up.")
    note: LongText


async def _inspection(client: Client, inspection_id: str) -> InspectionState:
    """The inspection's live state; 404 for anything that is not an inspection."""
    state, _ = await state_of_kind(client, inspection_id, Kind.inspection, InspectionState, "inspection")
    return state


def _acting(sessions: sessionmaker[Session], caller: Actor) -> dict:
    return {"actor": caller, "actor_tier": tier_of(sessions, caller)}


@router.get("/{inspection_id}", response_model=InspectionState, summary="An inspection (staff)")
async def get_inspection(inspection_id: InspectionId, _: Staffer, client: ClientDep) -> InspectionState:
    return await _inspection(client, inspection_id)


@router.post("/{inspection_id}/report", response_model=InspectionState,
             summary="File the inspection's report: every checklist step, and what needs repairing (staff)")
async def file_report(inspection_id: InspectionId, caller: StaffMember, body: ReportBody, client: ClientDep,
                      sessions: SessionsDep) -> InspectionState:
    """Resolves the inspection; each finding becomes a repair case on the device."""
    await _inspection(client, inspection_id)
    await run_in_threadpool(check_photos, sessions, inspection_id, caller, body.photos)
    report = InspectionReport(**body.model_dump(), **await run_in_threadpool(_acting, sessions, caller))
    return await update_case(client, inspection_id, InspectionUpdate.FILE_REPORT, report, InspectionState)


@router.post("/{inspection_id}/verify", response_model=InspectionState,
             summary="Verify an inspection on site (the building's team lead or a supervisor; never the "
                     "inspector)")
async def verify(inspection_id: InspectionId, caller: StaffMember, body: VerifyBody, client: ClientDep,
                 sessions: SessionsDep) -> InspectionState:
    """The inspection's closing step, like a case's callback: recorded once, by a second person."""
    await _inspection(client, inspection_id)
    result = CallbackResult.satisfied if body.satisfied else CallbackResult.not_satisfied
    action = RecordCallback(result=result, note=body.note, reached_by=ReachedBy.visit,
                            **await run_in_threadpool(_acting, sessions, caller))
    await update_case(client, inspection_id, CaseUpdate.RECORD_CALLBACK, action)
    return await _inspection(client, inspection_id)
