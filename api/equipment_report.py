"""The equipment report: which devices fail, how often they raise alarms themselves, and how long a
device's fault keeps it from service (alarm or report → repair resolved), from the read model.

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
from steward.store.reports import Period, device_repairs


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


class EquipmentReport(ReportBase):
    items: list[DeviceFaults] = Field(description="Most repairs first; devices without any are left out.")

    def table(self) -> tuple[list[str], list[list[Any]]]:
        return table(DeviceFaults, self.items)


def equipment_report(session: Session, period: Period, building: str | None = None) -> EquipmentReport:
    end = min(period.end, datetime.now(UTC))
    items = []
    for device, repairs in device_repairs(session, period, building):
        resolved = [(aware(c.resolved_at) - aware(c.submitted_at)).total_seconds()
                    for c in repairs if c.resolved_at]
        down = [(aware(c.resolved_at) if c.resolved_at else end) - aware(c.submitted_at) for c in repairs]
        items.append(DeviceFaults(
            equipment_id=device.id, equipment_type=device.equipment_type, building_id=device.building_id,
            location=device.location, status=device.status, repairs=len(repairs),
            raised_by_device=sum(c.resident_id == device.id for c in repairs),
            open=sum(c.closed_at is None for c in repairs),
            breached=sum(bool(c.response_breached or c.resolution_breached) for c in repairs),
            median_hours_to_resolve=median_hours(resolved),
            downtime_hours=round(sum(down, timedelta()).total_seconds() / 3600, 2),
        ))
    items.sort(key=lambda item: (-item.repairs, item.equipment_id))
    return EquipmentReport.over(period, items=items)
