"""Maintenance plans (保养计划): one Temporal Schedule per device (`plan-EQ-B1-LIFT1`), whose every
occurrence starts an `InspectionWorkflow` (`IN-EQ-B1-LIFT1-<time>`) routed by the device type's skill.

A plan is a calendar (days of the week or of the month, some months: monthly, quarterly, yearly) or an
interval (every N days from a first inspection), in community time, with the checklist its inspections
follow. A device taken out of service pauses its plan, so its occurrences are skipped rather than made
up; back in service resumes it; a retired device's plan is deleted. Inspections already started go on.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, model_validator
from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleDescription,
    ScheduleSpec,
    ScheduleState,
)
from temporalio.common import SearchAttributePair, TypedSearchAttributes

from api import schedules
from api.cases import RPC_TIMEOUT, temporal_answers
from api.drill_schedules import DrillCalendar, DrillInterval, calendar_spec, interval_spec
from api.errors import ApiError
from api.models import RequestBody
from api.schedules import POLICY, create_or_replace, describe_schedule, started_ids
from steward.settings import Settings
from steward.store.models import Equipment
from workflows import search
from workflows.case_contracts import CaseInput
from workflows.contracts import Actor, Contract, Kind, Severity, ShortText
from workflows.equipment_contracts import REPAIR_CATEGORY, EquipmentType

PREFIX = "plan-"
MEMO = "maintenance_plan"
Checklist = Annotated[list[ShortText], Field(min_length=1, max_length=30)]


class PlanRequest(RequestBody):
    """When the device is inspected, and what the inspector checks each time."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"calendar": {"days_of_month": [5], "hour": 9},
         "checklist": ["Brakes hold at full load", "Alarm button calls the service centre"]},
        {"calendar": {"days_of_month": [10], "months": [1, 4, 7, 10], "hour": 14},
         "checklist": ["Pump pressure in range"], "severity": "urgent"},
        {"interval": {"every": "30d", "first_at": "2027-01-04T09:00:00+08:00"}, "checklist": ["Camera view"]},
    ]})

    calendar: DrillCalendar | None = None
    interval: DrillInterval | None = None
    checklist: Checklist
    severity: Severity = Field(default=Severity.normal, description="Sets the inspection's deadlines.")

    @model_validator(mode="after")
    def _one_kind_of_time(self) -> PlanRequest:
        if (self.calendar is None) == (self.interval is None):
            raise ValueError("give either a calendar or an interval")
        return self


class StoredPlan(Contract):
    """Kept in the schedule's memo: what was asked for, where, and by whom."""

    request: PlanRequest
    equipment_id: str
    timezone: str
    set_by: str


class PlanView(BaseModel):
    schedule_id: str
    equipment_id: str
    calendar: DrillCalendar | None
    interval: DrillInterval | None
    checklist: list[str]
    severity: Severity
    timezone: str
    paused: bool
    note: str | None
    set_by: str
    next_inspections: list[datetime] = Field(description="When the next inspections start; none if paused.")
    recent_inspections: list[str] = Field(description="Inspections it started lately (their case ids).")


def plan_id(equipment_id: str) -> str:
    return f"{PREFIX}{equipment_id}"


def _spec(request: PlanRequest, timezone: str) -> ScheduleSpec:
    if request.interval is not None:
        if request.interval.first_at <= datetime.now(UTC):
            raise ApiError(422, "interval.first_at must be in the future")
        return interval_spec(request.interval.every, request.interval.first_at, timezone)
    assert request.calendar is not None
    return ScheduleSpec(calendars=[calendar_spec(request.calendar)], time_zone_name=timezone)


def _schedule(device: Equipment, request: PlanRequest, settings: Settings, caller: Actor,
              state: ScheduleState) -> Schedule:
    kind = EquipmentType(device.equipment_type)
    inspection = CaseInput(
        kind=Kind.inspection, severity=request.severity, category=REPAIR_CATEGORY[kind],
        title=f"{kind.value.replace('_', ' ')} inspection · {device.location}"[:200],
        description=f"Planned inspection of {device.id} ({device.model or kind.value}, {device.location}).",
        building_id=device.building_id, resident_id=device.id, equipment_id=device.id,
        submitted_by=caller, submitted_at=datetime.now(UTC), policy=settings.policy,
        checklist=request.checklist,
    )
    return Schedule(
        action=ScheduleActionStartWorkflow(
            "InspectionWorkflow", inspection, id=f"IN-{device.id}", task_queue=settings.task_queue,
            typed_search_attributes=TypedSearchAttributes([
                SearchAttributePair(search.KIND, Kind.inspection.value),
                SearchAttributePair(search.BUILDING, device.building_id),
            ]),
            static_summary=f"inspection · {device.id} · building {device.building_id}",
        ),
        spec=_spec(request, settings.timezone),
        policy=POLICY,
        state=state,
    )


async def set_plan(client: Client, device: Equipment, request: PlanRequest, settings: Settings,
                   caller: Actor) -> tuple[PlanView, bool]:
    """Create the device's plan, or replace it (keeping whether it was paused); True when it is new. A
    new plan of a device out of service starts paused."""
    memo = {MEMO: StoredPlan(request=request, equipment_id=device.id, timezone=settings.timezone,
                             set_by=caller.id)}
    idle = device.status != "in_service"
    created = await create_or_replace(
        client, plan_id(device.id), lambda state: _schedule(device, request, settings, caller, state), memo,
        ScheduleState(paused=idle, note="the device is out of service" if idle else None),
    )
    return await view(client, device.id), created


async def describe(client: Client, equipment_id: str) -> ScheduleDescription:
    return await describe_schedule(client, plan_id(equipment_id),
                                   f"device {equipment_id} has no maintenance plan")


async def view(client: Client, equipment_id: str) -> PlanView:
    description = await describe(client, equipment_id)
    stored = await description.memo_value(MEMO, type_hint=StoredPlan)
    state, info = description.schedule.state, description.info
    request = stored.request
    return PlanView(
        schedule_id=description.id, equipment_id=stored.equipment_id, calendar=request.calendar,
        interval=request.interval, checklist=request.checklist, severity=request.severity,
        timezone=stored.timezone, paused=state.paused, note=state.note or None, set_by=stored.set_by,
        next_inspections=[] if state.paused else list(info.next_action_times),
        recent_inspections=started_ids(info.recent_actions),
    )


async def view_if_any(client: Client, equipment_id: str) -> PlanView | None:
    try:
        return await view(client, equipment_id)
    except ApiError as error:
        if error.status == 404:
            return None
        raise


async def set_paused(client: Client, equipment_id: str, paused: bool, note: str) -> None:
    await describe(client, equipment_id)
    await schedules.set_paused(client, plan_id(equipment_id), paused, note)


async def delete(client: Client, equipment_id: str) -> None:
    await describe(client, equipment_id)
    with temporal_answers(plan_id(equipment_id)):
        await client.get_schedule_handle(plan_id(equipment_id)).delete(rpc_timeout=RPC_TIMEOUT)


async def follow_status(client: Client, equipment_id: str, status: str) -> None:
    """Out of service pauses the plan, back in service resumes it, retired deletes it (no plan: nothing)."""
    actions = {
        "out_of_service": lambda: set_paused(client, equipment_id, True, "the device is out of service"),
        "in_service": lambda: set_paused(client, equipment_id, False, "the device is back in service"),
        "retired": lambda: delete(client, equipment_id),
    }
    try:
        await actions[status]()
    except ApiError as error:
        if error.status != 404:
            raise
