"""One objector's callback once a hearing's decision is published, as a child of the hearing."""

from __future__ import annotations

from temporalio import workflow
from temporalio.exceptions import FailureError
from temporalio.workflow import ParentClosePolicy

from workflows.names import HearingSignal

with workflow.unsafe.imports_passed_through():
    from workflows.case import CaseLifecycle
    from workflows.case_contracts import CallbackRecord, CaseInput, CaseSummary
    from workflows.contracts import CallbackPurpose, Kind
    from workflows.hearing_contracts import DecisionRecord, HearingInput, ObjectionRecord, ObjectorCallback

CALLBACK_SUFFIX = "-CB-"


def callback_case_id(hearing_id: str, resident_id: str) -> str:
    return f"{hearing_id}{CALLBACK_SUFFIX}{resident_id}"


async def start_objector_callback(
    hearing_id: str, hearing: HearingInput, decision: DecisionRecord, record: ObjectionRecord
) -> None:
    """A callback case for the objector, a child that outlives the hearing if it must."""
    await workflow.start_child_workflow(
        HearingCallbackWorkflow.run,
        CaseInput(
            kind=Kind.hearing,
            category="hearing",
            title=hearing.title,
            description=decision.reason,
            building_id=record.building_id,
            unit=record.unit,
            resident_id=record.resident_id,
            submitted_by=hearing.created_by,
            submitted_at=workflow.now(),
            policy=hearing.policy,
        ),
        id=callback_case_id(hearing_id, record.resident_id),
        parent_close_policy=ParentClosePolicy.ABANDON,
        static_summary=f"callback of an objector to hearing {hearing_id}",
    )


@workflow.defn(name="HearingCallbackWorkflow")
class HearingCallbackWorkflow(CaseLifecycle):
    """One objector's callback once the decision is published: the callback step of a case (the
    resident's channel, attempts, quiet hours, the manual task) and nothing before it. Its outcome is
    signalled to the hearing, which closes when every objector's has come in."""

    @workflow.run
    async def run(self, case: CaseInput) -> CaseSummary:
        self.owner_id = case.submitted_by.id
        record = await self.call_back()
        await self.tell_hearing(record)
        return await self.close(record)

    @property
    def hearing_id(self) -> str:
        return self.case_id.rsplit(CALLBACK_SUFFIX, 1)[0]

    def callback_request(self) -> tuple[CallbackPurpose, dict[str, str]]:
        return CallbackPurpose.hearing, {"code": self.hearing_id, "title": self.case.title}

    def tell_resident(self, template: str, params: dict[str, str]) -> None:
        super().tell_resident(template, {"code": self.hearing_id} | params)

    async def tell_hearing(self, record: CallbackRecord) -> None:
        outcome = ObjectorCallback(
            resident_id=self.case.resident_id,
            case_id=self.case_id,
            result=record.result,
            recorded_by=record.recorded_by.id,
            at=record.at,
        )
        try:
            await workflow.get_external_workflow_handle(self.hearing_id).signal(
                HearingSignal.OBJECTOR_CALLED_BACK, outcome
            )
        except FailureError as error:
            workflow.logger.warning("hearing %s not told of %s: %s", self.hearing_id, self.case_id, error)
