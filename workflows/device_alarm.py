"""One alarm workflow per device (`device-EQ-B1-LIFT1`): what a lift, pump or gate says turns into at
most one open repair case at a time.

The webhook signals-with-start every signed message. The first alarm opens an emergency or urgent
repair on the device (a child that outlives this workflow, like a drill's findings: its "resident" is
the device, so nobody is called and a person records its callback); while that case is open, every
later alarm or reading is added to it instead of opening another, and a reading back to normal is
noted there but never closes it — a person resolves it. A device with a heartbeat that stays silent
past it raises an alarm of its own, once, until it is heard again. An emergency alarm of equipment
whose failure is an outage for the whole building (a water pump: `OUTAGES`) also opens a building-wide
incident, so residents' reports of it join that instead of each paging staff; staff restore it with its
root cause, as any incident.
"""

from __future__ import annotations

from temporalio import workflow
from temporalio.exceptions import FailureError, WorkflowAlreadyStartedError
from temporalio.workflow import ParentClosePolicy

from workflows.names import CaseSignal, DeviceSignal

with workflow.unsafe.imports_passed_through():
    from workflows.case_contracts import CaseInput
    from workflows.contracts import Actor, Kind, Role, Severity
    from workflows.equipment_contracts import (
        OUTAGES,
        REPAIR_CATEGORY,
        SILENT,
        DeviceMessage,
        DeviceState,
        DeviceWatch,
    )
    from workflows.incident import IncidentWorkflow
    from workflows.incident_contracts import INCIDENT_PREFIX, IncidentInput
    from workflows.repair import RepairWorkflow

RECENT = 20
# Alarms before this change opened a repair only, never an incident.
DEVICE_OPENS_INCIDENT = "device-opens-incident"


def device_workflow_id(device_id: str) -> str:
    return f"device-{device_id}"


def device_case_id(device_id: str, number: int) -> str:
    return f"RP-{device_id}-A{number}"


def device_incident_id(device_id: str, number: int) -> str:
    """The incident an outage alarm opened beside its repair `number`."""
    return f"{INCIDENT_PREFIX}-{device_id}-A{number}"


def raised_by(case_id: str, device_id: str) -> bool:
    """Whether the device's own alarm opened the case (its inspections' findings name it too)."""
    return case_id.startswith(f"RP-{device_id}-A")


@workflow.defn
class DeviceAlarmWorkflow:
    @workflow.init
    def __init__(self, watch: DeviceWatch) -> None:
        self.watch = watch
        self.inbox: list[DeviceMessage] = []
        self.recent: list[DeviceMessage] = []
        self.silent = False
        self.retired = False

    @workflow.run
    async def run(self, watch: DeviceWatch) -> None:
        """Until the device is retired: an open case it raised goes on without it."""
        while not (self.retired and not self.inbox):
            if not self.inbox and workflow.info().is_continue_as_new_suggested():
                workflow.continue_as_new(self.watch)
            try:
                await workflow.wait_condition(
                    lambda: bool(self.inbox) or self.retired,
                    timeout=None if self.silent else self.watch.heartbeat,
                    timeout_summary="the device's heartbeat")
            except TimeoutError:
                self.silent = True
                now = workflow.now()
                await self.heard(DeviceMessage(kind="alarm", alarm_type=SILENT, at=now, received_at=now))
                continue
            if not self.inbox:
                continue  # retired
            self.silent = False
            message = self.inbox.pop(0)
            self.watch.last_heard = message.received_at or workflow.now()
            await self.heard(message)

    async def heard(self, message: DeviceMessage) -> None:
        """Added to the open case; an alarm with no case open opens one."""
        self.recent = [*self.recent, message][-RECENT:]
        if self.watch.open_case_id is not None and await self.tell_case(message):
            return
        self.watch.open_case_id = None
        if message.kind == "alarm":
            await self.open_case(message)
            if self.is_outage(message) and workflow.patched(DEVICE_OPENS_INCIDENT):
                await self.open_incident(message)

    def is_outage(self, alarm: DeviceMessage) -> bool:
        return alarm.severity is Severity.emergency and self.watch.equipment_type in OUTAGES

    async def tell_case(self, message: DeviceMessage) -> bool:
        """False once the case has closed (Temporal refuses a signal to a closed workflow)."""
        assert self.watch.open_case_id is not None
        try:
            await workflow.get_external_workflow_handle(self.watch.open_case_id).signal(
                CaseSignal.DEVICE_READING, message)
        except FailureError:
            return False
        return True

    async def open_case(self, alarm: DeviceMessage) -> None:
        self.watch.cases_opened += 1
        case_id = device_case_id(self.watch.device_id, self.watch.cases_opened)
        kind = self.watch.equipment_type
        try:
            await workflow.start_child_workflow(
                RepairWorkflow.run,
                CaseInput(
                    kind=Kind.repair,
                    severity=Severity(alarm.severity),
                    category=REPAIR_CATEGORY[kind],
                    title=f"{kind.value.replace('_', ' ')} alarm: {alarm.describe()}"[:200],
                    description=f"Raised by the device {self.watch.device_id} ({self.watch.location}): "
                                f"{alarm.describe()}, at {alarm.at:%Y-%m-%d %H:%M:%S} UTC.",
                    building_id=self.watch.building_id,
                    resident_id=self.watch.device_id,
                    submitted_by=Actor(id=self.watch.device_id, role=Role.system),
                    submitted_at=workflow.now(),
                    policy=self.watch.policy,
                    equipment_id=self.watch.device_id,
                ),
                id=case_id,
                parent_close_policy=ParentClosePolicy.ABANDON,
                static_summary=f"repair · raised by device {self.watch.device_id}",
            )
        except WorkflowAlreadyStartedError:
            pass  # started by this workflow before a continue-as-new lost the answer: it is the case
        self.watch.open_case_id = case_id

    async def open_incident(self, alarm: DeviceMessage) -> None:
        """The building's outage, expected back within the emergency resolution window."""
        title, message = OUTAGES[self.watch.equipment_type]
        now = workflow.now()
        try:
            await workflow.start_child_workflow(
                IncidentWorkflow.run,
                IncidentInput(
                    building_id=self.watch.building_id,
                    category=REPAIR_CATEGORY[self.watch.equipment_type],
                    title=title, message=message, severity=Severity.emergency,
                    expected_restoration=now + self.watch.policy.for_severity(Severity.emergency).resolution,
                    opened_by=Actor(id=self.watch.device_id, role=Role.system), opened_at=now,
                    policy=self.watch.policy,
                ),
                id=device_incident_id(self.watch.device_id, self.watch.cases_opened),
                parent_close_policy=ParentClosePolicy.ABANDON,
                static_summary=f"incident · {alarm.describe()}"[:120] + f" · device {self.watch.device_id}",
            )
        except WorkflowAlreadyStartedError:
            pass  # started before a continue-as-new lost the answer

    @workflow.signal(name=DeviceSignal.MESSAGE)
    def message(self, message: DeviceMessage) -> None:
        self.inbox.append(message)

    @workflow.signal(name=DeviceSignal.RETIRE)
    def retire(self) -> None:
        self.retired = True

    @workflow.query
    def state(self) -> DeviceState:
        return DeviceState(device_id=self.watch.device_id, open_case_id=self.watch.open_case_id,
                           cases_opened=self.watch.cases_opened, last_heard=self.watch.last_heard,
                           silent=self.silent, recent=self.recent)

