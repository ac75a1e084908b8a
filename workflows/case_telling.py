"""Who hears what about a case: the resident, its owner, the handler and the tiers the ladder pages.

Mixed into `CaseLifecycle`; each notice goes through the case's `Messenger` as background work.
"""

from __future__ import annotations

from datetime import datetime

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from workflows.contracts import Severity, Status, Tier
    from workflows.ladder import EscalationReason

# Manual callback tasks went to the owner even when they had resolved the work themselves.
MANUAL_TASK_NOT_TO_RESOLVER = "manual-task-not-to-resolver"


class CaseTelling:
    def dispatch_params(self) -> dict[str, str]:
        """What a handler is told on dispatch and on reassignment."""
        return {
            "code": self.case_id,
            "title": self.case.title,
            "building": self.case.building_id,
            "unit": self.case.unit or "",
            "response_due": self.clock.response_due.isoformat(),
        }

    def _tell_escalation(self, reason: EscalationReason, due: datetime | None = None) -> None:
        """The ladder moved (or was asked to speak at the top): record it and page the tier."""
        tier = self.ladder.tier
        self.note(
            "escalated", {"tier": int(tier), "reason": reason.value, "due": due.isoformat() if due else None}
        )
        self.messenger.tell_staff(
            [],
            self.staff_channel,
            "escalation",
            {"code": self.case_id, "tier": str(int(tier)), "reason": reason.value},
            tier=(self.case.building_id, tier),
        )
        if reason is not EscalationReason.reopened:
            self.tell_owner("escalated")

    @property
    def staff_channel(self):
        return self.policy.for_severity(self.severity).staff_channel

    # --- the callback step's host: a callback no machine could finish

    def manual_callback_needed(self, reason: str) -> None:
        self.status = Status.manual_callback
        self.note("manual_callback", {"reason": reason})
        to = self.owner_id or self.handler_id
        if to is not None and to == self.resolved_by and workflow.patched(MANUAL_TASK_NOT_TO_RESOLVER):
            to = None  # whoever resolved the work may not record its callback: their team lead calls
        self.messenger.tell_staff(
            [to] if to else [],
            self.staff_channel,
            "manual_callback_task",
            {"code": self.case_id, "reason": reason},
            tier=None if to else (self.case.building_id, max(self.ladder.tier, Tier.team_lead)),
        )

    # --- telling people ---------------------------------------------------------------------

    def tell_resident(self, template: str, params: dict[str, str]) -> None:
        self.messenger.tell_resident(
            self.case.resident_id,
            template,
            {"code": self.case_id} | params,
            urgent=self.severity is Severity.emergency,
        )

    def tell_owner(self, event: str) -> None:
        if self.owner_id:
            self.messenger.tell_staff(
                [self.owner_id], self.staff_channel, "owner_update", {"code": self.case_id, "event": event}
            )

