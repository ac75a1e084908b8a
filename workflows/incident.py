"""A building-wide incident (issue 22), from the page that opens it to the restoration that ends it.

opened by staff (who own it) → one page to the building's on-duty staff of the severity's first tier →
one notice to every affected household (after quiet hours, unless an emergency) → while open, reports
of the same outage from its units join it (held: they neither dispatch nor page on their own) and staff
attach open cases → its own deadline clock and ladder (a warning at 75 %, a breach climbs a tier) →
restored with its root cause: every held case is released into its own callback, and the households
are told it is restored → closed.
"""

from __future__ import annotations

from datetime import datetime

from temporalio import workflow
from temporalio.exceptions import FailureError

from workflows.names import Activity, CaseSignal, IncidentSignal, IncidentUpdate

with workflow.unsafe.imports_passed_through():
    from workflows import search
    from workflows.actions import Action
    from workflows.activity_contracts import BatchResult
    from workflows.background import Background
    from workflows.case_contracts import TimelineEntry, Transition
    from workflows.clock import Deadline, DeadlineClock, earliest, wait_for
    from workflows.contracts import SYSTEM, Actor, Severity, Tier
    from workflows.incident_contracts import (
        AttachCase,
        CaseJoined,
        ChangeRestoration,
        HeldCase,
        IncidentEvent,
        IncidentInput,
        IncidentRestored,
        IncidentState,
        IncidentStatus,
        RestoreIncident,
    )
    from workflows.ladder import EscalationLadder, EscalationReason
    from workflows.messenger import Messenger
    from workflows.notice_batches import resident_ranges, tell_batches
    from workflows.projected import PROJECT_TIMEOUT
    from workflows.rules import STAFF, Detail, require, require_not_closed

INCIDENT_KIND = "incident"
BATCH_SIZE = 200


@workflow.defn(name="IncidentWorkflow")
class IncidentWorkflow:
    @workflow.init
    def __init__(self, incident: IncidentInput) -> None:
        self.incident = incident
        self.incident_id = workflow.info().workflow_id
        self.policy = incident.policy
        self.opened_at = min(incident.opened_at, workflow.now())
        self.expected_restoration = incident.expected_restoration
        self.status = IncidentStatus.open
        self.clock = DeadlineClock(incident.policy, incident.severity, self.opened_at)
        windows = incident.policy.for_severity(incident.severity)
        self.ladder = EscalationLadder(windows.first_tier, self._tell_escalation)
        self.background = Background()
        self.messenger = Messenger(self.incident_id, incident.policy, self.background)
        self.cases: list[HeldCase] = []
        self.notice: BatchResult | None = None
        self.restoration_notice: BatchResult | None = None
        self.restored: RestoreIncident | None = None
        self.times: dict[str, datetime] = {}
        self.timeline: list[TimelineEntry] = []

    @workflow.run
    async def run(self, incident: IncidentInput) -> IncidentState:
        self.open()
        self.background.start(self._tell_households())
        while (passed := await wait_for(self.is_restored, self._next_deadline, "the restoration")):
            self._deadline_passed(passed)
        await self.release_cases()
        await workflow.wait_condition(lambda: self.notice is not None)
        self.restoration_notice = await self.tell_households("incident_restored")
        self.note("households_told_restored", self.restoration_notice.model_dump())
        return await self.close()

    # --- steps ------------------------------------------------------------------------------------

    def is_restored(self) -> bool:
        return self.restored is not None

    def open(self) -> None:
        workflow.upsert_search_attributes([
            search.KIND.value_set(INCIDENT_KIND), search.BUILDING.value_set(self.incident.building_id),
            search.STATUS.value_set(self.status.value), search.TIER.value_set(int(self.ladder.tier)),
            search.OWNER.value_set(self.incident.opened_by.id),
        ])
        self.note("opened", {"category": self.incident.category, "units": list(self.incident.units),
                             "expected_restoration": self.expected_restoration.isoformat()},
                  actor=self.incident.opened_by)
        self.tell_staff("incident_opened", tier=True)  # the one page for the whole outage

    async def _tell_households(self) -> None:
        self.notice = await self.tell_households("incident_notice")
        self.note("households_told", self.notice.model_dump())

    async def release_cases(self) -> None:
        """Each held case is resolved with the root cause and goes on to its own callback."""
        assert self.restored is not None
        released = IncidentRestored(actor=self.restored.actor, incident_id=self.incident_id,
                                    root_cause=self.restored.root_cause)
        told: list[str] = []
        self.times["released"] = workflow.now()  # a case joining from now on is released as it joins
        for held in list(self.cases):
            try:
                handle = workflow.get_external_workflow_handle(held.case_id)
                await handle.signal(CaseSignal.INCIDENT_RESTORED, released)
                told.append(held.case_id)
            except FailureError:
                continue  # closed meanwhile: nothing left to release
        self.note("cases_released", {"cases": told})

    async def close(self) -> IncidentState:
        self.times["closed"] = workflow.now()
        self.set_status(IncidentStatus.closed)
        self.note("closed", {"cases": len(self.cases)})
        workflow.set_current_details("Closed; finishing notices and projections.")
        await self.background.drain()
        return self.state()

    # --- deadlines: its own clock and ladder ---------------------------------------------------------

    def _next_deadline(self) -> Deadline | None:
        return earliest(self.clock.warning_deadline(), self.clock.breach_deadline())

    def _deadline_passed(self, deadline: Deadline) -> None:
        if deadline.kind == "warning":
            self.clock.warning_sent = self.clock.warned = True
            self.note("warned", {"resolution_due": self.clock.resolution_due.isoformat()})
            if self.incident.opened_by.role in STAFF:
                self.tell_staff("incident_warning", to=[self.incident.opened_by.id])
            else:  # a device opened it: its building's staff of the current tier are warned
                self.tell_staff("incident_warning", tier=True)
        else:
            self.clock.breach_sent = self.clock.resolution_breached = True
            self.note("breached", {"resolution_due": self.clock.resolution_due.isoformat()})
            self.ladder.escalate(EscalationReason.resolution_breached, deadline.at)

    def _tell_escalation(self, reason: EscalationReason, due: datetime | None = None) -> None:
        tier = self.ladder.tier
        self.note("escalated", {"tier": int(tier), "reason": reason.value,
                                "due": due.isoformat() if due else None})
        workflow.upsert_search_attributes([search.TIER.value_set(int(tier)), search.BREACHED.value_set(True)])
        self.messenger.tell_staff([], self.staff_channel, "escalation",
                                  {"code": self.incident_id, "tier": str(int(tier)), "reason": reason.value},
                                  tier=(self.incident.building_id, tier))

    # --- updates: staff ---------------------------------------------------------------------------

    def _require_staff_while_open(self, action: Action, doing: str) -> None:
        require(action.actor.role in STAFF, f"only staff can {doing}")
        require_not_closed(self.status is IncidentStatus.closed, "incident")
        require(self.status is IncidentStatus.open, "the incident is already restored")

    @workflow.update(name=IncidentUpdate.ATTACH)
    def attach(self, action: AttachCase) -> IncidentState:
        self._hold(action.case_id, "attached")
        self.note("case_attached", {"case": action.case_id}, action=action)
        return self.state()

    @attach.validator
    def _validate_attach(self, action: AttachCase) -> None:
        self._require_staff_while_open(action, "attach a case to an incident")
        require(action.open, f"case {action.case_id} is not open: only open cases join an incident")
        require(self.incident.covers(action.building_id, action.unit),
                f"case {action.case_id} is in {action.building_id} unit {action.unit or '(common area)'}, "
                f"outside this incident ({self.incident.where()})")
        require(not self.holds(action.case_id), f"case {action.case_id} is already attached")

    @workflow.update(name=IncidentUpdate.RESTORE)
    def restore(self, action: RestoreIncident) -> IncidentState:
        self.restored = action
        self.times["restored"] = workflow.now()
        self.clock.stop(workflow.now())
        self.set_status(IncidentStatus.restored)
        self.note("restored", {"root_cause": action.root_cause, "note": action.note,
                               "cases": len(self.cases)}, action=action)
        return self.state()

    @restore.validator
    def _validate_restore(self, action: RestoreIncident) -> None:
        self._require_staff_while_open(action, "restore an incident")
        require(len(action.root_cause.strip()) >= 3, "restoring an incident records its root cause")

    @workflow.update(name=IncidentUpdate.CHANGE_RESTORATION)
    def change_restoration(self, action: ChangeRestoration) -> IncidentState:
        before = self.expected_restoration
        self.expected_restoration = action.expected_restoration
        self.note("restoration_moved", {"from": before.isoformat(), "reason": action.reason,
                                        "to": action.expected_restoration.isoformat()}, action=action)
        return self.state()

    @change_restoration.validator
    def _validate_change_restoration(self, action: ChangeRestoration) -> None:
        self._require_staff_while_open(action, "change an incident's expected restoration")
        require(action.expected_restoration > workflow.now(), "the expected restoration must be ahead")

    # --- signals: the cases ------------------------------------------------------------------------

    @workflow.signal(name=IncidentSignal.CASE_JOINED)
    async def case_joined(self, joined: CaseJoined) -> None:
        """A report filed while open joined; one arriving after the restoration is released at once."""
        if self.holds(joined.case_id):
            return
        self._hold(joined.case_id, "filed")
        self.note("case_joined", {"case": joined.case_id, "unit": joined.unit})
        if self.restored is not None and "released" in self.times:
            released = IncidentRestored(actor=self.restored.actor, incident_id=self.incident_id,
                                        root_cause=self.restored.root_cause)
            await workflow.get_external_workflow_handle(joined.case_id).signal(
                CaseSignal.INCIDENT_RESTORED, released)

    @workflow.signal(name=IncidentSignal.DETACH)
    def detach(self, case_id: str) -> None:
        """An attachment the case itself refused (it closed meanwhile): it is not held after all."""
        if self.holds(case_id):
            self.cases = [held for held in self.cases if held.case_id != case_id]
            self.note("case_detached", {"case": case_id})

    def holds(self, case_id: str) -> bool:
        return any(held.case_id == case_id for held in self.cases)

    def _hold(self, case_id: str, how: str) -> None:
        self.cases.append(HeldCase(case_id=case_id, joined_at=workflow.now(), how=how))

    # --- telling people -----------------------------------------------------------------------------

    @property
    def staff_channel(self):
        return self.policy.for_severity(self.incident.severity).staff_channel

    def params(self) -> dict[str, str]:
        return {"code": self.incident_id, "title": self.incident.title, "building": self.incident.building_id,
                "message": self.incident.message,
                "expected_restoration_at": self.expected_restoration.isoformat(),
                "root_cause": self.restored.root_cause if self.restored else ""}

    def tell_staff(self, template: str, to: list[str] | None = None, tier: bool = False) -> None:
        self.messenger.tell_staff(to or [], self.staff_channel, template, self.params(),
                                  tier=(self.incident.building_id, self.ladder.tier) if tier else None)

    async def tell_households(self, template: str) -> BatchResult:
        ranges = await resident_ranges([self.incident.building_id], BATCH_SIZE, self.incident.units or None)
        return await tell_batches(self.incident_id, ranges, template, self.params(), self.policy,
                                  urgent=self.incident.severity is Severity.emergency)

    # --- recording ----------------------------------------------------------------------------------

    def set_status(self, status: IncidentStatus) -> None:
        self.status = status
        workflow.upsert_search_attributes([search.STATUS.value_set(status.value)])

    def note(self, event: str, detail: Detail | None = None, actor: Actor = SYSTEM,
             action: Action | None = None) -> None:
        entry = TimelineEntry.recorded(workflow.now(), event, detail, actor, action)
        self.timeline.append(entry)
        state = self.state().model_copy(update={"timeline": []})
        event_row = IncidentEvent(**Transition.of(self.incident_id, len(self.timeline), entry), state=state)
        self.background.start(workflow.start_activity(
            Activity.PROJECT_INCIDENT, event_row, start_to_close_timeout=PROJECT_TIMEOUT,
            summary=f"project {event}"))

    @workflow.query
    def state(self) -> IncidentState:
        ahead = self._next_deadline()
        restored = self.restored
        return IncidentState(
            incident_id=self.incident_id, status=self.status, title=self.incident.title,
            category=self.incident.category, building_id=self.incident.building_id,
            units=list(self.incident.units), severity=self.incident.severity, message=self.incident.message,
            expected_restoration=self.expected_restoration, opened_by=self.incident.opened_by.id,
            opened_at=self.opened_at, tier=Tier(self.ladder.tier), escalations=self.ladder.escalations,
            response_due=self.clock.response_due, resolution_due=self.clock.resolution_due,
            warned=self.clock.warned, breached=self.clock.resolution_breached, cases=list(self.cases),
            notice=self.notice, restoration_notice=self.restoration_notice,
            restored_at=self.times.get("restored"), restored_by=restored.actor.id if restored else None,
            root_cause=restored.root_cause if restored else None, closed_at=self.times.get("closed"),
            next_deadline=ahead.at if ahead else None, next_deadline_kind=ahead.kind if ahead else None,
            timeline=list(self.timeline),
        )
