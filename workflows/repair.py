"""A resident's repair request, from submission to the callback that closes it (SPEC §3).

A repair a device raised (its alarm, or an inspection's finding: the device stands where the resident
would) fixes the fault for everyone who reported it: once resolved, the residents' open repairs naming
the same device are resolved with it, so each of them is called back.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.exceptions import FailureError

from workflows.names import Activity, CaseSignal

with workflow.unsafe.imports_passed_through():
    from workflows.case import CaseLifecycle
    from workflows.case_contracts import CaseInput, CaseSummary
    from workflows.contracts import Actor, Role
    from workflows.equipment_contracts import FaultFixed, OpenReports

# Repairs a device raised before this change left the residents' reports of the same fault open.
REPORTERS_CALLED_BACK = "device-reporters-called-back"
LOOKUP_TIMEOUT = timedelta(seconds=30)


@workflow.defn(name="RepairWorkflow")
class RepairWorkflow(CaseLifecycle):
    @workflow.run
    async def run(self, case: CaseInput) -> CaseSummary:
        await self.receive()
        await self.dispatch()
        await self.keep_deadlines_until(self.taken, "acknowledgement")
        return await self.work_until_satisfied("the work to be resolved")

    async def before_callback(self) -> None:
        device = self.case.equipment_id
        if self.withdrawn or device is None or device != self.case.resident_id:
            return
        if not workflow.patched(REPORTERS_CALLED_BACK):
            return
        reports = await workflow.execute_activity(
            Activity.OPEN_REPORTS,
            OpenReports(equipment_id=device, building_id=self.case.building_id, but=self.case_id),
            result_type=list[str], start_to_close_timeout=LOOKUP_TIMEOUT,
            summary="the residents' open reports of this device",
        )
        resolved = next((e for e in reversed(self.timeline) if e.event == "resolved"), None)
        note = str(resolved.detail.get("note") or "") if resolved else ""
        fixed = FaultFixed(actor=Actor(id=self.resolved_by or self.case_id, role=Role.staff),
                           fixed_with=self.case_id, note=note or None)
        told = []
        for case_id in reports:
            try:
                await workflow.get_external_workflow_handle(case_id).signal(CaseSignal.FAULT_FIXED, fixed)
                told.append(case_id)
            except FailureError:
                continue  # closed meanwhile: nothing left to resolve
        if told:
            self.note("reporters_resolved", {"cases": told})
