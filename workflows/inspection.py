"""A device's inspection (设备巡检): an occurrence of its maintenance plan, on the clock of a repair.

started by the plan's Temporal Schedule → dispatched by the device type's skill → taken by an
inspector within the response deadline, else paged up the ladder → the inspector's report against the
plan's checklist resolves it → each finding becomes a repair case of its own → verified by a second
person, the building's team lead or above, never the inspector: the inspection's callback. A
verification that finds the work wanting reopens it one tier up, as a dissatisfied resident would.

The case's "resident" is the device (`resident_id` is its id): nobody is called, so the callback step
goes straight to the manual task, addressed to the team lead's tier as a verification.
"""

from __future__ import annotations

import asyncio

from temporalio import workflow

from workflows.names import InspectionUpdate

with workflow.unsafe.imports_passed_through():
    from workflows import search
    from workflows.actions import RecordCallback, Resolve
    from workflows.case import CaseLifecycle
    from workflows.case_contracts import CaseInput, CaseSummary
    from workflows.contracts import Status, Tier
    from workflows.drill_contracts import FindingRecord
    from workflows.findings import finding_case_id, open_finding_case, plain_code
    from workflows.inspection_contracts import InspectionReport, InspectionState
    from workflows.rules import SUPERVISORS, require, with_photos

VERIFICATION = "verification"


@workflow.defn(name="InspectionWorkflow")
class InspectionWorkflow(CaseLifecycle):
    @workflow.init
    def __init__(self, case: CaseInput) -> None:
        info = workflow.info()
        fired = info.typed_search_attributes.get(search.SCHEDULED_START) or info.start_time
        super().__init__(case.model_copy(update={"submitted_at": fired}))  # the plan's input is fixed
        self.code = plain_code(self.case_id)
        self.report: InspectionReport | None = None
        self.findings: list[FindingRecord] = []
        self.opened: set[str] = set()

    @workflow.run
    async def run(self, case: CaseInput) -> CaseSummary:
        await self.receive()
        await self.dispatch()
        await self.keep_deadlines_until(self.taken, "an inspector to take it")
        return await self.work_until_satisfied("the inspection report")

    async def before_callback(self) -> None:
        """Each finding not yet opened becomes a repair case on the device."""
        inspector = self.report.actor if self.report else self.case.submitted_by
        waiting = [f for f in self.findings if f.case_id not in self.opened]
        self.opened.update(f.case_id for f in waiting)
        opened = await asyncio.gather(*(
            open_finding_case(self.case.building_id, self.policy, f"inspection {self.code}", finding,
                              inspector, self.case.resident_id, self.case.equipment_id)
            for finding in waiting
        ))
        for finding, new in zip(waiting, opened, strict=True):
            self.note("repair_case_opened" if new else "repair_case_exists",
                      {"finding": finding.number, "case": finding.case_id})

    # --- the callback step is a verification ------------------------------------------------

    def manual_callback_needed(self, reason: str) -> None:
        self.status = Status.manual_callback
        self.note("manual_callback", {"reason": VERIFICATION})
        self.messenger.tell_staff(
            [], self.staff_channel, "manual_callback_task", {"code": self.case_id, "reason": VERIFICATION},
            tier=(self.case.building_id, max(self.ladder.tier, Tier.team_lead)),
        )

    def _require_may_record(self, action: RecordCallback) -> None:
        tier = action.actor_tier if action.actor_tier is not None else Tier.handler
        require(action.actor.role in SUPERVISORS or tier >= Tier.team_lead,
                "an inspection is verified by the building's team lead or a supervisor")
        require(action.actor.id not in (self.handler_id, self.resolved_by),
                f"{action.actor.id} did the inspection and may not verify it; a second person does")

    def _require_may_resolve(self, action: Resolve) -> None:
        require(False, "an inspection is resolved by its report (POST /inspections/{id}/report)")

    # --- the report -------------------------------------------------------------------------

    @workflow.update(name=InspectionUpdate.FILE_REPORT)
    def file_report(self, report: InspectionReport) -> InspectionState:
        self.report = report
        self.findings = [
            FindingRecord(**dict(finding), number=n, case_id=finding_case_id(self.code, n))
            for n, finding in enumerate(report.findings, 1)
        ]
        failed = [step.step for step in report.checklist if not step.ok]
        self._resolve(report, with_photos(
            {"note": report.note, "failed_steps": failed, "findings": len(self.findings)}, report.photos
        ))
        return self.inspection()

    @file_report.validator
    def _validate_file_report(self, report: InspectionReport) -> None:
        self._require_staff(report, "file an inspection report")
        self._require_open()
        self._require_may_act(report)
        checked = [step.step for step in report.checklist]
        missing = [step for step in self.case.checklist if step not in checked]
        require(not missing, f"report every checklist step; missing: {', '.join(missing)}")
        failed = [step for step in report.checklist if not step.ok]
        require(not failed or bool(report.findings) or report.note is not None,
                "a failed step needs a finding or a note")

    @workflow.query
    def inspection(self) -> InspectionState:
        return InspectionState(case=self.state(), equipment_id=self.case.equipment_id,
                               checklist=list(self.case.checklist), report=self.report,
                               findings=list(self.findings))
