"""The devices Steward looks after, as every floor names them, and what a device tells its alarm
workflow (`DeviceAlarmWorkflow`)."""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from workflows.actions import Action
from workflows.contracts import AwareDatetime, Contract, LongText, Severity, ShortText
from workflows.policy import SlaPolicy


class EquipmentType(StrEnum):
    lift = "lift"
    water_pump = "water_pump"
    fire_system = "fire_system"
    camera = "camera"
    gate = "gate"
    other = "other"


class EquipmentStatus(StrEnum):
    """A device out of service still takes repairs and alarms; a retired one takes nothing."""

    in_service = "in_service"
    out_of_service = "out_of_service"
    retired = "retired"


REPAIR_CATEGORY: dict[EquipmentType, str] = {
    EquipmentType.lift: "lift",
    EquipmentType.water_pump: "plumbing",
    EquipmentType.fire_system: "electrical",
    EquipmentType.camera: "security",
    EquipmentType.gate: "security",
    EquipmentType.other: "general",
}
"""The repair category, and so the skill dispatched, of a device's alarm."""

OUTAGES: dict[EquipmentType, tuple[str, str]] = {
    EquipmentType.water_pump: (
        "停水 · No water",
        "供水泵报警，正在抢修，无需另行报修。The water pump raised an alarm; it is being repaired, "
        "there is no need to report it.",
    ),
}
"""Equipment whose emergency alarm means an outage for every household of its building: besides its
repair, the alarm opens a building-wide incident (title, message for residents: both languages, since
one text reaches households of either) that the residents' reports of it join."""

ReadingName = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,31}$")]
SILENT = "silent"


class DeviceMessage(Contract):
    """An alarm (or a reading back to normal) as the device signed it, or the silence the workflow notes
    itself when the device's heartbeat stops."""

    kind: Literal["alarm", "normal"]
    alarm_type: ShortText | None = Field(default=None, description="e.g. stuck_between_floors, low_pressure")
    severity: Literal[Severity.emergency, Severity.urgent] = Severity.urgent
    readings: dict[ReadingName, float] = Field(default_factory=dict, max_length=20)
    at: AwareDatetime = Field(description="When the device says it happened.")
    received_at: datetime | None = Field(default=None, description="When Steward received it (set by it).")

    def describe(self) -> str:
        what = self.alarm_type or ("back to normal" if self.kind == "normal" else "alarm")
        readings = ", ".join(f"{name}={value:g}" for name, value in sorted(self.readings.items()))
        return f"{what} ({readings})" if readings else what


class DeviceWatch(Contract):
    """The alarm workflow's input, carried over continue-as-new."""

    device_id: str
    building_id: str
    equipment_type: EquipmentType
    location: str
    heartbeat: timedelta | None = Field(description="Silent this long, the device raises an alarm itself.")
    policy: SlaPolicy
    open_case_id: str | None = None
    cases_opened: int = 0
    last_heard: datetime | None = None


class DeviceState(Contract):
    """What `state` answers: the case an alarm holds open, and what was heard last."""

    device_id: str
    open_case_id: str | None
    cases_opened: int
    last_heard: datetime | None
    silent: bool
    recent: list[DeviceMessage]


class OpenReports(Contract):
    """The residents' open repairs naming a device, but the case that asks."""

    equipment_id: str
    building_id: str
    but: str


class FaultFixed(Action):
    """The fault a resident reported was fixed with the device's own case: resolve theirs with it."""

    fixed_with: ShortText = Field(description="The device's case whose resolution fixed the fault.")
    note: LongText | None = None
