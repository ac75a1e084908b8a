"""A resident's complaint (SPEC §3): the repair's lifecycle and clocks, routed to customer service.

A complaint about a named staff member is confidential and handled at least one tier above that person:
dispatch looks above their tier and leaves them out, nobody at or below their tier (nor they) may take,
be handed or act on it in any way (each update's validator checks the actor's tier, which the API looks
up), and only the resident withdraws it (a supervisor may, with a reason the resident is told).

A supervisor may agree a longer resolution plan with the resident: a new deadline with its reason and
the plan itself, recorded and told to the resident.
"""

from __future__ import annotations

from temporalio import workflow

from workflows.names import CaseUpdate

with workflow.unsafe.imports_passed_through():
    from workflows.actions import AgreePlan, Extend, Withdraw
    from workflows.activity_contracts import DispatchRequest
    from workflows.case import CaseLifecycle
    from workflows.case_contracts import CaseInput, CaseState, CaseSummary
    from workflows.contracts import Role, Tier
    from workflows.ladder import TOP
    from workflows.rules import SUPERVISORS, require


@workflow.defn(name="ComplaintWorkflow")
class ComplaintWorkflow(CaseLifecycle):
    @workflow.init
    def __init__(self, case: CaseInput) -> None:
        super().__init__(case)
        self.subject_tier: Tier | None = None

    @workflow.run
    async def run(self, case: CaseInput) -> CaseSummary:
        await self.receive()
        await self.find_subject()
        await self.dispatch()
        await self.keep_deadlines_until(self.taken, "acknowledgement")
        return await self.work_until_satisfied("the complaint to be resolved")

    # --- a complaint about a staff member ---------------------------------------------------

    async def find_subject(self) -> None:
        """The tier of the person complained about; the case starts at least one tier above them."""
        if self.case.subject_staff_id is None:
            return
        subject = await self.messenger.staff(self.case.subject_staff_id)
        self.subject_tier = subject.tier if subject else Tier.handler
        self.ladder.tier = max(self.ladder.tier, self.handling_tier)
        self.note(
            "subject_found", {"subject": self.case.subject_staff_id, "above_tier": int(self.subject_tier)}
        )

    @property
    def handling_tier(self) -> Tier:
        return Tier(min(self.subject_tier + 1, TOP)) if self.subject_tier is not None else Tier.handler

    def dispatch_request(self) -> DispatchRequest:
        request = super().dispatch_request()
        if self.case.subject_staff_id is None:
            return request
        return request.model_copy(
            update={"exclude_staff_ids": [self.case.subject_staff_id], "min_tier": self.handling_tier}
        )

    def barred(self, staff_id: str, tier: Tier | None = None) -> str | None:
        subject = self.case.subject_staff_id
        if subject is None:
            return None
        if staff_id == subject:
            return f"this complaint is about {subject}, who may not handle it"
        if tier is not None and self.subject_tier is not None and tier < self.handling_tier:
            return f"a complaint about {subject} is handled at tier {int(self.handling_tier)} or above"
        return None

    def _require_may_withdraw(self, action: Withdraw) -> None:
        if self.case.subject_staff_id is None or action.actor.role is Role.resident:
            return
        require(
            action.actor.role in SUPERVISORS,
            "only the resident withdraws a complaint about staff (or a supervisor, with a reason)",
        )
        require(action.reason is not None, "a supervisor withdrawing a complaint must give a reason")

    # --- a longer plan agreed with the resident ------------------------------------------------

    @workflow.update(name=CaseUpdate.AGREE_PLAN)
    def agree_plan(self, action: AgreePlan) -> CaseState:
        self.move_resolution_due(action, "plan_agreed", {"reason": action.reason, "plan": action.plan})
        self.tell_resident(
            "complaint_plan_agreed",
            {
                "plan": action.plan,
                "reason": action.reason,
                "resolution_due": self.clock.resolution_due.isoformat(),
            },
        )
        self.tell_owner("plan_agreed")
        return self.state()

    @agree_plan.validator
    def _validate_agree_plan(self, action: AgreePlan) -> None:
        require(action.actor.role in SUPERVISORS, "only a supervisor can agree a resolution plan")
        self._require_may_act(action)
        self._validate_extend(
            Extend(actor=action.actor, resolution_due=action.resolution_due, reason=action.reason)
        )
