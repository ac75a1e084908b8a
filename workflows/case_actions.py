"""What staff and residents do to a case: each action an update whose validator decides who may take it.

Mixed into `CaseLifecycle` (the SDK collects handlers from base classes): the validators read the
case's state and refuse with a reason the person is shown; the update then changes state at once and
leaves notices and projection to background work, so the person gets their answer straight away.
"""

from __future__ import annotations

from temporalio import workflow
from temporalio.exceptions import ApplicationError

from workflows.names import CaseUpdate

with workflow.unsafe.imports_passed_through():
    from workflows.actions import (
        Acknowledge,
        Action,
        AgreePlan,
        ChangeSeverity,
        Extend,
        HandOn,
        Pause,
        Reassign,
        Resolve,
        Resume,
        Withdraw,
    )
    from workflows.case_contracts import CaseState
    from workflows.contracts import Actor, Role, Status, Tier
    from workflows.ladder import EscalationReason
    from workflows.rules import (
        CALLING_BACK,
        STAFF,
        SUPERVISORS,
        Detail,
        require,
        require_not_closed,
        with_photos,
    )

# Cases withdrawn by staff before this change did not tell the resident why; they replay as they ran.
TELL_WITHDRAWAL = "staff-withdrawal-told"


class CaseActions:
    # --- ownership and the pause --------------------------------------------------------------

    def _take(self, action: Action) -> None:
        self.acknowledged = True
        self.owner_id = self.owner_id or action.actor.id
        self.handler_id = action.actor.id
        self.ladder.stop_paging()
        self.times[Status.acknowledged] = workflow.now()
        if self.status in (Status.submitted, Status.dispatched):
            self.status = Status.acknowledged

    def _resume(self, actor: Actor, action: Action | None) -> None:
        paused_for = self.clock.resume(workflow.now())
        self.note(
            "resumed", {"paused_minutes": int(paused_for.total_seconds() // 60)}, actor=actor, action=action
        )
        self.tell_resident("case_resumed", {"resolution_due": self.clock.resolution_due.isoformat()})

    # --- updates: staff and resident actions ---------------------------------------------------

    def _require_open(self) -> None:
        require_not_closed(self.status is Status.closed)
        require(self.status not in CALLING_BACK, "the case is in its callback; record the callback instead")
        require(self.status is not Status.resolved, "the case is already resolved")
        require(not self.withdrawn, "the case was withdrawn")

    def _require_staff_or_resident(self, action: Action, refusal: str) -> None:
        is_resident = action.actor.role is Role.resident and action.actor.id == self.case.resident_id
        require(action.actor.role in STAFF or is_resident, refusal)

    @staticmethod
    def _require_staff(action: Action, doing: str) -> None:
        require(action.actor.role in STAFF, f"only staff can {doing}")

    def _require_acting_staff(self, action: Action, doing: str) -> None:
        """Staff, allowed on this case, acting while it is open."""
        self._require_staff(action, doing)
        self._require_may_act(action)
        self._require_open()

    def barred(self, staff_id: str, tier: Tier | None = None) -> str | None:
        """Why this staff member may not handle the case (a complaint about them), or None."""
        return None

    def _require_may_handle(self, staff_id: str, tier: Tier | None = None) -> None:
        reason = self.barred(staff_id, tier)
        require(reason is None, reason or "")

    def _require_may_act(self, action: Action) -> None:
        """Staff act on the case only where it allows them (a complaint: above its subject's tier)."""
        if action.actor.role in STAFF:
            self._require_may_handle(action.actor.id, action.actor_tier)

    @workflow.update(name=CaseUpdate.ACKNOWLEDGE)
    def acknowledge(self, action: Acknowledge) -> CaseState:
        self._take(action)
        self.note("acknowledged", {"owner": self.owner_id}, action=action)
        self.tell_resident("case_acknowledged", {})
        return self.state()

    @acknowledge.validator
    def _validate_acknowledge(self, action: Acknowledge) -> None:
        self._require_staff(action, "acknowledge a case")
        require(not self.acknowledged, f"the case was already acknowledged by {self.owner_id}")
        self._require_open()
        self._require_may_act(action)

    @workflow.update(name=CaseUpdate.PAUSE)
    def pause(self, action: Pause) -> CaseState:
        self.clock.pause(workflow.now(), action.resume_at)
        self.note(
            "paused",
            {
                "reason": action.reason,
                "resume_at": action.resume_at.isoformat() if action.resume_at else None,
            },
            action=action,
        )
        self.tell_resident(
            "case_paused",
            {
                "reason": action.reason,
                "resume_at": action.resume_at.isoformat() if action.resume_at else "",
            },
        )
        return self.state()

    @pause.validator
    def _validate_pause(self, action: Pause) -> None:
        self._require_acting_staff(action, "pause a case")
        require(self.acknowledged, "acknowledge the case before pausing it")
        require(not self.clock.paused, "the case is already paused")
        require(
            action.resume_at is None or action.resume_at > workflow.now(), "resume_at must be in the future"
        )

    @workflow.update(name=CaseUpdate.RESUME)
    def resume(self, action: Resume) -> CaseState:
        self._resume(action.actor, action)
        return self.state()

    @resume.validator
    def _validate_resume(self, action: Resume) -> None:
        self._require_staff_or_resident(action, "only staff or the resident of this case can resume it")
        self._require_may_act(action)
        require(self.clock.paused, "the case is not paused")

    @workflow.update(name=CaseUpdate.REASSIGN)
    async def reassign(self, action: Reassign) -> CaseState:
        contact = await self.messenger.staff(action.handler_id)
        if contact is None:
            raise ApplicationError(f"there is no staff member {action.handler_id}", type="UnknownStaff")
        if barred := self.barred(contact.staff_id, contact.tier):
            raise ApplicationError(barred, type="Barred")
        if self.work_done():
            raise ApplicationError("the case was finished while reassigning", type="CaseFinished")
        previous = self.handler_id
        self.handler_id = contact.staff_id
        self.note(
            "reassigned", {"from": previous, "to": contact.staff_id, "reason": action.reason}, action=action
        )
        self.messenger.tell_staff(
            [contact.staff_id],
            self.staff_channel,
            "dispatch",
            self.dispatch_params(),
            gather="ack",
        )
        return self.state()

    @reassign.validator
    def _validate_reassign(self, action: Reassign) -> None:
        self._require_acting_staff(action, "reassign a case")
        require(action.handler_id != self.handler_id, f"{action.handler_id} already handles the case")
        self._require_may_handle(action.handler_id)

    @workflow.update(name=CaseUpdate.HAND_ON)
    async def hand_on(self, action: HandOn) -> CaseState:
        """The handler or owner left: dispatch again without them (the new handler owns what they owned),
        or with nobody fitting, one tier up the ladder; the tier above theirs is told either way."""
        request = self.dispatch_request()
        request.exclude_staff_ids = [*request.exclude_staff_ids, action.staff_id]
        found = await self.find_handler(request, "choose a handler instead of one who left")
        if self.status is Status.closed:
            raise ApplicationError("the case was closed while handing it on", type="CaseFinished")
        successor = found.handler.staff_id if found.handler else None
        if self.handler_id == action.staff_id:
            self.handler_id = successor
        if self.owner_id == action.staff_id:
            self.owner_id = successor
        self.note("handed_on", {"from": action.staff_id, "to": successor, "reason": found.reason},
                  action=action)
        self.messenger.tell_staff(
            [], self.staff_channel, "staff_left",
            {"code": self.case_id, "staff": action.staff_id, "handler": successor or ""},
            tier=(self.case.building_id, Tier(min(int(action.tier) + 1, int(Tier.general_manager)))),
        )
        if successor is None:
            self.ladder.escalate(EscalationReason.other)
        elif self.status is Status.manual_callback:
            self.messenger.tell_staff([successor], self.staff_channel, "manual_callback_task",
                                      {"code": self.case_id, "reason": "handed_on"})
        elif not self.work_done():
            self.messenger.tell_staff([successor], self.staff_channel, "dispatch", self.dispatch_params(),
                                      gather="ack")
        return self.state()

    @hand_on.validator
    def _validate_hand_on(self, action: HandOn) -> None:
        require(action.actor.role is Role.admin, "only an admin hands on the work of someone who left")
        require_not_closed(self.status is Status.closed)
        require(action.staff_id in (self.handler_id, self.owner_id),
                f"{action.staff_id} neither handles nor owns the case")

    @workflow.update(name=CaseUpdate.CHANGE_SEVERITY)
    def change_severity(self, action: ChangeSeverity) -> CaseState:
        now = workflow.now()
        previous = self.severity
        self.severity = action.severity
        if action.severity.rank > previous.rank:
            self.clock.raise_severity(action.severity, now, self.acknowledged)
            self.ladder.tighten_paging(self.clock.response_due, self.clock.response_window)
        else:
            self.clock.lower_severity(action.severity, now, self.acknowledged)
        self.note(
            "severity_changed",
            {"from": previous.value, "to": action.severity.value, "reason": action.reason},
            action=action,
        )
        first = self.policy.for_severity(action.severity).first_tier
        if self.ladder.climb_to(first):
            self._tell_escalation(EscalationReason.other)
        self.tell_resident(
            "deadline_changed",
            {
                "reason": action.reason or f"severity {previous.value} -> {action.severity.value}",
                "resolution_due": self.clock.resolution_due.isoformat(),
            },
        )
        return self.state()

    @change_severity.validator
    def _validate_change_severity(self, action: ChangeSeverity) -> None:
        require(
            action.actor.role is not Role.resident, "residents cannot change a case's severity; ask staff"
        )
        self._require_acting_staff(action, "change severity")
        require(action.severity is not self.severity, f"the severity is already {self.severity.value}")
        if action.severity.rank < self.severity.rank:
            require(action.actor.role in SUPERVISORS, "only a supervisor can lower the severity")
            require(action.reason is not None, "lowering the severity needs a reason")

    def move_resolution_due(self, action: Extend | AgreePlan, event: str, detail: Detail) -> None:
        """Move the resolution deadline to the action's, noting `event` with where it moved from and to."""
        previous = self.clock.resolution_due
        self.clock.extend(action.resolution_due, workflow.now())
        moved = {"from": previous.isoformat(), "to": self.clock.resolution_due.isoformat()}
        self.note(event, moved | detail, action=action)

    @workflow.update(name=CaseUpdate.EXTEND)
    def extend(self, action: Extend) -> CaseState:
        self.move_resolution_due(action, "extended", {"reason": action.reason})
        self.tell_resident(
            "deadline_changed",
            {
                "reason": action.reason or "",
                "resolution_due": self.clock.resolution_due.isoformat(),
            },
        )
        return self.state()

    @extend.validator
    def _validate_extend(self, action: Extend) -> None:
        require(action.actor.role in SUPERVISORS, "only a supervisor can extend a resolution deadline")
        require(action.reason is not None, "an extension needs a reason, which the resident is told")
        self._require_may_act(action)
        self._require_open()
        current = self.clock.resolution_due_at(workflow.now())
        require(
            action.resolution_due > current,
            f"an extension must be later than the current deadline {current.isoformat()}",
        )

    @workflow.update(name=CaseUpdate.RESOLVE)
    def resolve(self, action: Resolve) -> CaseState:
        self._resolve(action, with_photos({"note": action.note}, action.photos))
        return self.state()

    def _resolve(self, action: Action, detail: Detail) -> None:
        """The work is done (acknowledging it on the spot if nobody had): the clock stops."""
        if not self.acknowledged:
            self._take(action)
            self.note("acknowledged", {"owner": self.owner_id, "on_the_spot": True}, action=action)
        self.clock.stop(workflow.now())
        self.status = Status.resolved
        self.resolved_by = action.actor.id
        self.times[Status.resolved] = workflow.now()
        self.note("resolved", detail, action=action)

    @resolve.validator
    def _validate_resolve(self, action: Resolve) -> None:
        self._require_staff(action, "resolve a case")
        self._require_open()
        self._require_may_act(action)
        self._require_may_resolve(action)

    def _require_may_resolve(self, action: Resolve) -> None:
        """Whether a kind takes a plain resolution (an inspection is resolved by its report instead)."""

    @workflow.update(name=CaseUpdate.WITHDRAW)
    def withdraw(self, action: Withdraw) -> CaseState:
        self.withdrawn = True
        self.clock.stop(workflow.now())
        self.ladder.stop_paging()
        self.note("withdrawn", {"reason": action.reason}, action=action)
        if action.actor.role is not Role.resident and action.reason and workflow.patched(TELL_WITHDRAWAL):
            self.tell_resident("case_withdrawn", {"reason": action.reason})
        return self.state()

    def _require_may_withdraw(self, action: Withdraw) -> None:
        """Who besides the resident may withdraw; a complaint about staff narrows it."""

    @withdraw.validator
    def _validate_withdraw(self, action: Withdraw) -> None:
        self._require_staff_or_resident(action, "only the resident of this case or staff can withdraw it")
        self._require_may_withdraw(action)
        self._require_may_act(action)
        self._require_open()

