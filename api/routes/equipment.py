"""Equipment records (设备档案): every lift, pump, fire system, camera and gate the company looks after.

Admins and supervisors keep the records; every member of staff reads them (a handler names the device
when filing its repair). A device's page lists the repair cases that named it, from the read model.
Lists are ordered by id and paged by the last id seen, like the directory's.
"""

from __future__ import annotations

import secrets
from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, Path, Query
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from api.auth import AdminOrSupervisor, Staffer
from api.context import ClientDep, SessionsDep, SettingsDep
from api.devices import stop_watching, watch
from api.errors import ERROR_RESPONSES, ApiError, ErrorBody
from api.maintenance_plans import PlanView, follow_status, view_if_any
from api.models import DIRECTORY_ID, STORED, DirectoryId, Page, RequestBody
from api.routes.directory import must_exist
from steward.store.deadlines import aware
from steward.store.models import Building, Case, Equipment
from workflows.contracts import Kind, ShortText
from workflows.equipment_contracts import EquipmentStatus, EquipmentType

router = APIRouter(prefix="/equipment", tags=["equipment"], responses=ERROR_RESPONSES | {
    409: {"model": ErrorBody, "description": "A device with this id already exists."},
})

Text = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)]
EquipmentId = Annotated[str, Path(pattern=DIRECTORY_ID, examples=["EQ-B1-LIFT1"])]
CASES_SHOWN = 100


class EquipmentEntry(RequestBody):
    model_config = ConfigDict(from_attributes=True, json_schema_extra={"examples": [
        {"id": "EQ-B1-LIFT1", "equipment_type": "lift", "building_id": "B1", "location": "East stair core",
         "model": "Schindler 3300", "installed_on": "2012-05-01", "contractor": "Shanghai Lift Service Co.",
         "status": "in_service"}]})

    id: DirectoryId
    equipment_type: EquipmentType
    building_id: DirectoryId
    location: ShortText
    model: Text = ""
    installed_on: date | None = None
    contractor: Text = ""
    status: EquipmentStatus = EquipmentStatus.in_service
    heartbeat_seconds: int | None = Field(
        default=None, ge=5, le=7 * 86_400,
        description="The device reports at least this often; silent longer, it raises an alarm itself.")


class RecordedDevice(EquipmentEntry):
    alarm_key: str = Field(description="The key the device signs its alarms with (HMAC-SHA256). Shown "
                                       "this once: keep it in the device.")


class EquipmentChange(RequestBody):
    """Only what is given changes; a device never moves building (retire it and record a new one)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"status": "out_of_service"}, {"contractor": "Pudong Lift Maintenance Ltd."}]})

    location: ShortText | None = None
    model: Text | None = None
    installed_on: date | None = None
    contractor: Text | None = None
    status: EquipmentStatus | None = None


class DeviceRepair(BaseModel):
    case_id: str
    status: str
    severity: str
    title: str
    submitted_at: datetime
    closed_at: datetime | None


class DevicePage(BaseModel):
    device: EquipmentEntry
    repairs: list[DeviceRepair] = Field(description=f"The repair cases naming it, newest first (at most "
                                        f"{CASES_SHOWN}).")
    open_repairs: int = Field(description="Of those, the ones not closed.")
    inspections: list[DeviceRepair] = Field(description="Its inspections, newest first (at most "
                                            f"{CASES_SHOWN}).")
    open_inspections: int = Field(description="Of those, the ones not closed (overdue: on the board).")
    plan: PlanView | None = Field(default=None, description="Its maintenance plan and next inspections.")


def _entry(row: Equipment) -> EquipmentEntry:
    return EquipmentEntry.model_validate(row, context=STORED)


def _list(sessions: sessionmaker[Session], filters: dict, after: str | None,
          limit: int) -> Page[EquipmentEntry]:
    query = select(Equipment).order_by(Equipment.id).limit(limit)
    for column, value in filters.items():
        if value is not None:
            query = query.where(getattr(Equipment, column) == value)
    if after is not None:
        query = query.where(Equipment.id > after)
    with sessions() as session:
        rows = [_entry(row) for row in session.scalars(query)]
    return Page[EquipmentEntry](items=rows, next_page_token=rows[-1].id if len(rows) == limit else None)


@router.get("", response_model=Page[EquipmentEntry], summary="Equipment records (staff)")
async def list_equipment(
    _: Staffer, sessions: SessionsDep,
    building: Annotated[str | None, Query(pattern=DIRECTORY_ID)] = None,
    equipment_type: EquipmentType | None = None,
    status: EquipmentStatus | None = None,
    page_token: Annotated[str | None, Query(pattern=DIRECTORY_ID, description="The last id seen.")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> Page[EquipmentEntry]:
    filters = {"building_id": building, "equipment_type": equipment_type and equipment_type.value,
               "status": status and status.value}
    return await run_in_threadpool(_list, sessions, filters, page_token, limit)


def _add(sessions: sessionmaker[Session], entry: EquipmentEntry) -> Equipment:
    with sessions.begin() as session:
        if session.get(Equipment, entry.id) is not None:
            raise ApiError(409, f"{entry.id} already exists", "already_exists")
        must_exist(session, Building, entry.building_id, "building")
        device = Equipment(**entry.model_dump(mode="python"), alarm_key=secrets.token_hex(32))
        session.add(device)
        session.flush()
        session.expunge(device)
        return device


@router.post("", status_code=201, response_model=RecordedDevice,
             summary="Record a device (admin or supervisor)")
async def add_equipment(_: AdminOrSupervisor, sessions: SessionsDep, client: ClientDep, settings: SettingsDep,
                        entry: EquipmentEntry) -> RecordedDevice:
    """A device with a heartbeat is watched from now on: silent past it, it raises an alarm itself."""
    device = await run_in_threadpool(_add, sessions, entry)
    if device.heartbeat_seconds:
        await watch(client, settings, device)
    return RecordedDevice(**entry.model_dump(), alarm_key=device.alarm_key)


def _change(sessions: sessionmaker[Session], equipment_id: str, change: EquipmentChange) -> EquipmentEntry:
    with sessions.begin() as session:
        row = session.get(Equipment, equipment_id)
        if row is None:
            raise ApiError(404, f"no device {equipment_id}")
        for field, value in change.model_dump(exclude_unset=True, mode="python").items():
            if value is None and field != "installed_on":
                raise ApiError(422, f"{field}: give a value or leave it out")
            setattr(row, field, value)
        return _entry(row)


@router.patch("/{equipment_id}", response_model=EquipmentEntry,
              summary="Change a device's record (admin or supervisor)")
async def change_equipment(equipment_id: EquipmentId, _: AdminOrSupervisor, sessions: SessionsDep,
                           client: ClientDep, change: EquipmentChange) -> EquipmentEntry:
    """Retiring a device ends its watch (it raises no alarm, its messages are refused) and deletes its
    maintenance plan; out of service pauses the plan, back in service resumes it."""
    entry = await run_in_threadpool(_change, sessions, equipment_id, change)
    if entry.status is EquipmentStatus.retired:
        await stop_watching(client, equipment_id)
    if change.status is not None:
        await follow_status(client, equipment_id, entry.status.value)
    return entry


def _device(sessions: sessionmaker[Session], equipment_id: str) -> DevicePage:
    with sessions() as session:
        row = session.get(Equipment, equipment_id)
        if row is None:
            raise ApiError(404, f"no device {equipment_id}")
        repairs = _cases(session, equipment_id, Kind.repair)
        inspections = _cases(session, equipment_id, Kind.inspection)
        return DevicePage(device=_entry(row), repairs=repairs,
                          open_repairs=sum(repair.closed_at is None for repair in repairs),
                          inspections=inspections,
                          open_inspections=sum(inspection.closed_at is None for inspection in inspections))


def _cases(session: Session, equipment_id: str, kind: Kind) -> list[DeviceRepair]:
    cases = session.scalars(select(Case).where(Case.equipment_id == equipment_id, Case.kind == kind.value)
                            .order_by(Case.submitted_at.desc()).limit(CASES_SHOWN))
    return [DeviceRepair(case_id=case.case_id, status=case.status, severity=case.severity, title=case.title,
                         submitted_at=aware(case.submitted_at), closed_at=aware(case.closed_at))
            for case in cases]


@router.get("/{equipment_id}", response_model=DevicePage,
            summary="A device's page: its record, plan, inspections and the repair cases naming it (staff)")
async def device_page(equipment_id: EquipmentId, _: Staffer, sessions: SessionsDep,
                      client: ClientDep) -> DevicePage:
    page = await run_in_threadpool(_device, sessions, equipment_id)
    return page.model_copy(update={"plan": await view_if_any(client, equipment_id)})
