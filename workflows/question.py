"""A resident's question (咨询, SPEC §3): routed to customer service, answered in writing, closed through
the callback like every case.

The written answer is the resolution note: resolving a question sends that note to the resident on
their channel before the callback asks whether it answered them. Not satisfied reopens the question one
tier up with a fresh deadline for a better answer, as for a repair.
"""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from workflows.case import CaseLifecycle
    from workflows.case_contracts import CaseInput, CaseSummary


@workflow.defn(name="QuestionWorkflow")
class QuestionWorkflow(CaseLifecycle):
    @workflow.run
    async def run(self, case: CaseInput) -> CaseSummary:
        await self.receive()
        await self.dispatch()
        await self.keep_deadlines_until(self.taken, "acknowledgement")
        return await self.work_until_satisfied("the question to be answered")

    async def before_callback(self) -> None:
        """The latest resolution note goes to the resident as the written answer (not on a withdrawal)."""
        answer = next((str(e.detail["note"]) for e in reversed(self.timeline) if e.event == "resolved"), None)
        if self.withdrawn or answer is None:
            return
        self.note("answer_sent", {"answer": answer})
        self.tell_resident("question_answered", {"answer": answer})
