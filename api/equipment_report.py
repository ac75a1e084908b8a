"""The equipment report: which devices fail, how often they raise alarms themselves, how fast an alarm
is taken up, how long a device's fault keeps it from service (alarm or report → repair resolved), and
whether its planned inspections are kept, from the read model.

Downtime is counted from a repair's submission to its resolution (or to the end of the period while it
is unresolved): the time residents were without the device, as far as Steward knows it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from api.reports import ReportBase, median_hours, table
from steward.store.deadlines import aware
from steward.store.models import Case
from steward.store.reports import Period, device_cases
from workflows.contracts import Kind
from workflows.device_alarm import raised_by


class DeviceFaults(BaseModel):
    equipment_id: str
    equipment_type: str
    building_id: str
    location: str
    status: str
    repairs: int = Field(description="Repair cases naming the device, submitted in the period.")
    raised_by_device: int = Field(description="Of those, opened by the device's own alarm.")
    open: int = Field(description="Not closed yet.")
    breached: int = Field(description="Missed a response or resolution deadline.")
    median_hours_to_resolve: float | None = Field(description="Submission (or alarm) to resolution.")
    downtime_hours: float = Field(description="Summed submission to resolution, or to the period's end.")
    median_hours_alarm_to_taken: float | None = Field(
        description="For repairs its alarms raised: the alarm to a person taking the repair.")
    inspections: int = Field(description="Planned inspections started in the period.")
    inspections_on_time: int = Field(description="Of those, resolved with no deadline missed.")
    inspections_overdue: int = Field(description="Of those, not resolved and past a deadline (maintenance "
                                                 "overdue).")


class EquipmentReport(ReportBase):
    items: list[DeviceFaults] = Field(description="Most repairs first; devices with no case are left out.")

    def table(self) -> tuple[list[str], list[list[Any]]]:
        return table(DeviceFaults, self.items)


def equipment_report(session: Session, period: Period, building: str | None = None) -> EquipmentReport:
    end = min(period.end, datetime.now(UTC))
    items = []
    for device, cases in device_cases(session, period, building):
        repairs = [c for c in cases if c.kind == Kind.repair.value]
        inspections = [c for c in cases if c.kind == Kind.inspection.value]
        raised = [c for c in repairs if raised_by(c.case_id, device.id)]
        down = [(aware(c.resolved_at) if c.resolved_at else end) - aware(c.submitted_at) for c in repairs]
        items.append(DeviceFaults(
            equipment_id=device.id, equipment_type=device.equipment_type, building_id=device.building_id,
            location=device.location, status=device.status, repairs=len(repairs),
            raised_by_device=len(raised),
            open=sum(c.closed_at is None for c in repairs),
            breached=sum(_late(c) for c in repairs),
            median_hours_to_resolve=median_hours(_spans(repairs, "resolved_at")),
            downtime_hours=round(sum(down, timedelta()).total_seconds() / 3600, 2),
            median_hours_alarm_to_taken=median_hours(_spans(raised, "acknowledged_at")),
            inspections=len(inspections),
            inspections_on_time=sum(c.resolved_at is not None and not _late(c) for c in inspections),
            inspections_overdue=sum(c.resolved_at is None and _late(c) for c in inspections),
        ))
    items.sort(key=lambda item: (-item.repairs, -item.inspections, item.equipment_id))
    return EquipmentReport.over(period, items=items)


def _late(case: Case) -> bool:
    return bool(case.response_breached or case.resolution_breached)


def _spans(cases: list[Case], until: str) -> list[float]:
    """Seconds from each case's submission to its `until` time, where it has one."""
    return [(aware(getattr(c, until)) - aware(c.submitted_at)).total_seconds()
            for c in cases if getattr(c, until)]
