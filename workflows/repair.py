"""A resident's repair request, from submission to the callback that closes it (SPEC §3)."""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from workflows.case import CaseLifecycle
    from workflows.case_contracts import CaseInput, CaseSummary


@workflow.defn(name="RepairWorkflow")
class RepairWorkflow(CaseLifecycle):
    @workflow.run
    async def run(self, case: CaseInput) -> CaseSummary:
        await self.receive()
        await self.dispatch()
        await self.keep_deadlines_until(self.taken, "acknowledgement")
        return await self.work_until_satisfied("the work to be resolved")
