"""A case held by a building-wide incident (issue 22): it neither dispatches nor pages on its own.

Mixed into `CaseLifecycle`. A report filed while an incident covers its unit and category starts held
(`CaseInput.held_by`): it tells the incident it joined, and its receipt tells the resident that the
problem is known and when it should be restored (after quiet hours like any receipt, unless an
emergency). Staff attach an open case with the `join_incident` update. When the incident is restored it
signals `incident_restored`: the case is resolved with the root cause and goes on to its own callback,
like any resolved case.
"""

from __future__ import annotations

from temporalio import workflow
from temporalio.exceptions import FailureError

from workflows.names import CaseSignal, CaseUpdate, IncidentSignal

with workflow.unsafe.imports_passed_through():
    from workflows.case_contracts import CaseState, IncidentHold
    from workflows.contracts import Kind, Severity, Status
    from workflows.incident_contracts import CaseJoined, IncidentRestored, JoinIncident
    from workflows.rules import OPEN, require

# Cases started before this change never joined an incident; their histories replay as they ran.
JOINS_INCIDENT = "joins-incident"


class CaseIncident:
    def held(self) -> bool:
        """Held by an incident that has not released it yet: no deadline of its own pages anyone."""
        return self.held_by is not None and not self.released_by_incident

    async def join_at_filing(self) -> bool:
        """A report filed into an open incident joins it; False when it does not (or no longer can)."""
        hold = self.case.held_by
        if hold is None or not workflow.patched(JOINS_INCIDENT):
            return False
        joined = CaseJoined(case_id=self.case_id, unit=self.case.unit, resident_id=self.case.resident_id)
        try:
            await workflow.get_external_workflow_handle(hold.incident_id).signal(IncidentSignal.CASE_JOINED,
                                                                                 joined)
        except FailureError:
            self.held_by = None  # the incident ended meanwhile: the case goes its own way
            self.note("incident_ended", {"incident": hold.incident_id})
            return False
        self.note("joined_incident", {"incident": hold.incident_id,
                                      "expected_restoration": hold.expected_restoration.isoformat()})
        self._tell_held(hold)
        return True

    def _tell_held(self, hold: IncidentHold) -> None:
        """The problem is known, and when it should be restored: the case's receipt, in place of
        `case_received` (after quiet hours like it, unless an emergency)."""
        self.messenger.tell_resident(
            self.case.resident_id, "incident_known",
            {"code": self.case_id, "incident": hold.incident_id, "title": hold.title,
             "expected_restoration_at": hold.expected_restoration.isoformat()},
            urgent=self.severity is Severity.emergency,
        )

    @workflow.update(name=CaseUpdate.JOIN_INCIDENT)
    def join_incident(self, action: JoinIncident) -> CaseState:
        self.held_by = action.hold
        self.ladder.stop_paging()
        self.note("joined_incident", {"incident": action.hold.incident_id, "attached": True,
                                      "expected_restoration": action.hold.expected_restoration.isoformat()},
                  action=action)
        self._tell_held(action.hold)
        return self.state()

    @join_incident.validator
    def _validate_join_incident(self, action: JoinIncident) -> None:
        self._require_staff(action, "attach a case to an incident")
        self._require_open()
        require(self.case.kind is Kind.repair, "only a repair joins an incident")
        require(self.held_by is None, f"the case already joined incident "
                f"{self.held_by.incident_id if self.held_by else ''}")
        require(action.scope.covers(self.case.building_id, self.case.unit),
                f"the case is in {self.case.building_id} unit {self.case.unit or '(common area)'}, outside "
                f"the incident ({action.scope.where()})")
        self._require_may_act(action)

    @workflow.signal(name=CaseSignal.INCIDENT_RESTORED)
    def incident_restored(self, restored: IncidentRestored) -> None:
        """Restored: resolved with the root cause by its restorer, then the callback. Nobody took the case,
        so nobody becomes its owner (a manual callback goes to the building's team leads)."""
        hold = self.held_by
        if hold is None or hold.incident_id != restored.incident_id or self.released_by_incident:
            return
        self.released_by_incident = True
        if self.status not in OPEN or self.withdrawn:
            return
        self.clock.stop(workflow.now())
        self.status = Status.resolved
        self.resolved_by = restored.actor.id
        self.times[Status.resolved] = workflow.now()
        self.note("resolved", {"note": restored.root_cause, "incident": restored.incident_id},
                  action=restored)
