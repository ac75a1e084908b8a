"""Filing a case, whatever door it comes through: where it may be filed (a resident for their own home
or a common area of their building, staff for anyone: the member of staff who takes a resident's call
and files it is its first contact), what the directory must know, and the one start.

`building_id` and `unit` left out are the household's of the resident the case is for; a resident who
names another building, or another household's unit, is refused before anything starts.
"""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi.concurrency import run_in_threadpool
from sqlalchemy import and_, exists, select
from sqlalchemy.orm import Session, sessionmaker
from temporalio.client import Client

from api.abuse_limits import start_counted
from api.cases import case_id_for, request_digest, start_case, workflow_exists
from api.errors import ApiError
from api.incidents import first_running
from api.models import Submission, SubmitRequest
from steward.settings import Settings
from steward.store.homes import home_of
from steward.store.incidents import open_incidents_for
from steward.store.models import Building, Equipment, Household, Resident, Staff
from workflows.case_contracts import CaseInput, IncidentHold
from workflows.contracts import Actor, ComplaintCategory, Kind, Role
from workflows.equipment_contracts import EquipmentStatus


def _looked_up(sessions: sessionmaker[Session], request: SubmitRequest,
               caller: Actor) -> tuple[SubmitRequest, list[IncidentHold]]:
    """Everything filing asks the database, in one session (issue 18): where the case is filed, that
    the directory knows what it names, and, for a repair, the open incidents it may join."""
    with sessions() as session:
        request = filed_where(session, request, caller)
        _check_directory(session, request)
        if request.kind is not Kind.repair:
            return request, []
        assert request.building_id is not None  # settled by filed_where
        return request, open_incidents_for(session, request.building_id, request.unit, request.category)


def filed_where(session: Session, request: SubmitRequest, caller: Actor) -> SubmitRequest:
    """The request with its building and unit settled: defaults from the household, a resident's own
    home or building checked (403 otherwise)."""
    home = home_of(session, request.resident_id)
    if home is None:
        if request.building_id is None:
            raise ApiError(422, "building_id: the resident has no household in the directory; name one")
        return request
    if request.building_id is None:
        settled = request.model_copy(update={
            "building_id": home.building_id,
            "unit": home.unit if "unit" not in request.model_fields_set else request.unit,
        })
    else:
        settled = request
    if caller.role is Role.resident and (
        settled.building_id != home.building_id or settled.unit not in (None, home.unit)
    ):
        raise ApiError(403, "a resident files only for their own home or a common area of their building "
                       f"({home.building_id}, unit {home.unit} or none)")
    return settled


def _check_directory(session: Session, request: SubmitRequest) -> None:
    """The building, unit and people named must exist: 422 otherwise. One round trip to the database."""
    checks = {f"no building {request.building_id} in the directory": Building.id == request.building_id}
    if request.unit is not None:
        checks[f"no unit {request.unit} in building {request.building_id}"] = and_(
            Household.building_id == request.building_id, Household.unit == request.unit)
    checks[f"no resident {request.resident_id} in the directory (or they moved out)"] = and_(
        Resident.id == request.resident_id, Resident.active)
    if request.subject_staff_id is not None:
        checks[f"no staff member {request.subject_staff_id} in the directory"] = (
            Staff.id == request.subject_staff_id)
    if request.equipment_id is not None:
        checks[f"no device {request.equipment_id} in service in building {request.building_id}"] = and_(
            Equipment.id == request.equipment_id, Equipment.building_id == request.building_id,
            Equipment.status != EquipmentStatus.retired.value)
    found = session.execute(select(*(exists().where(check) for check in checks.values()))).one()
    for message, present in zip(checks, found, strict=True):
        if not present:
            raise ApiError(422, message)


def _check_kind(request: SubmitRequest) -> None:
    """A complaint's category is one of the published ones; only a complaint names a staff member, only
    a repair a device."""
    if request.kind is Kind.complaint and request.category not in set(ComplaintCategory):
        raise ApiError(422, f"category: a complaint is about one of {', '.join(ComplaintCategory)}")
    if request.kind is not Kind.complaint and request.subject_staff_id is not None:
        raise ApiError(422, "subject_staff_id: only a complaint names a staff member")
    if request.kind is not Kind.repair and request.equipment_id is not None:
        raise ApiError(422, "equipment_id: only a repair names a device")


def _for_whom(body: SubmitRequest, caller: Actor) -> SubmitRequest:
    if caller.role is Role.resident:
        if body.resident_id not in (None, caller.id):
            raise ApiError(403, "a resident submits requests only for themself")
        if body.equipment_id is not None:
            raise ApiError(403, "staff name the device a repair is about (equipment_id)")
        return body.model_copy(update={"resident_id": caller.id})
    if body.resident_id is None:
        raise ApiError(422, "resident_id: staff must say whom the request is for")
    return body


async def file_case(client: Client, sessions: sessionmaker[Session], settings: Settings, body: SubmitRequest,
                    caller: Actor, idempotency_key: str) -> Submission:
    """Start the case a person files, whatever door it came through (the API, the resident's page, an
    SMS or call to the service centre): checked, counted against the abuse limits, started once per
    `idempotency_key` of that caller."""
    request = _for_whom(body, caller)
    _check_kind(request)
    request, incidents = await run_in_threadpool(_looked_up, sessions, request, caller)
    case_id = case_id_for(request.kind, caller, idempotency_key)
    held_by = await first_running(client, incidents)  # a repair of an outage joins its incident (issue 22)
    case = CaseInput(**request.model_dump(), submitted_by=caller, submitted_at=datetime.now(UTC),
                     policy=settings.policy, held_by=held_by)
    created = await start_counted(
        sessions, settings.policy.limits, caller, request.severity,
        lambda: start_case(client, settings.task_queue, case_id, case, request_digest(request)),
        lambda: workflow_exists(client, case_id),
    )
    return Submission(case_id=case_id, created=created, url=f"/requests/{case_id}")
