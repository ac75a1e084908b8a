"""What every resident case (repair, complaint) shares: its state, its messages and its steps.

`CaseWorkflow` is a base class, not a workflow: a subclass adds `@workflow.defn` and a `@workflow.run`
method that strings the steps together (`receive`, `dispatch`, `keep_deadlines_until`, `call_back`,
`reopen`, `close`). Temporal's Python SDK collects queries, signals and updates from base classes.

Updates validate first (a rejected update changes nothing and writes nothing to history) and then
change state synchronously; notices and read-model projections run as background work, so an update
answers at once. Every transition goes through `note`: timeline, search attributes, projection.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.exceptions import ApplicationError

from workflows.names import Activity

with workflow.unsafe.imports_passed_through():
    from workflows import search
    from workflows.background import Background
    from workflows.callback import Callbacks
    from workflows.clock import Deadline, DeadlineClock, earliest, wait_for
    from workflows.contracts import (
        RESIDENT_PHOTOS,
        SYSTEM,
        Acknowledge,
        Action,
        Actor,
        AddPhotos,
        AnswerCallback,
        CallbackPurpose,
        CallbackRecord,
        CallbackReply,
        CallbackResult,
        CaseEvent,
        CaseInput,
        CaseState,
        CaseSummary,
        ChangeSeverity,
        Channel,
        DeliveryFailed,
        DispatchRequest,
        DispatchResult,
        Extend,
        HandOn,
        Pause,
        ProgressNote,
        Reassign,
        RecordCallback,
        ResidentMessage,
        Resolve,
        Resume,
        Role,
        Severity,
        Status,
        Tier,
        TimelineEntry,
        Withdraw,
    )
    from workflows.equipment_contracts import DeviceMessage
    from workflows.ladder import EscalationLadder, EscalationReason
    from workflows.messenger import Messenger

Detail = dict[str, str | int | bool | list[str] | None]

STAFF = frozenset({Role.staff, Role.supervisor, Role.admin})
SUPERVISORS = frozenset({Role.supervisor, Role.admin})
OPEN = frozenset({Status.submitted, Status.dispatched, Status.acknowledged, Status.in_progress})
CALLING_BACK = frozenset({Status.callback, Status.manual_callback})
PROJECT_TIMEOUT = timedelta(seconds=30)
DISPATCH_TIMEOUT = timedelta(seconds=30)


# Cases withdrawn by staff before this change did not tell the resident why; they replay as they ran.
TELL_WITHDRAWAL = "staff-withdrawal-told"
# Cases filed by staff were owned by whoever acknowledged them, not by the staff member who filed them.
STAFF_FILER_OWNS = "staff-filer-owns"
# Manual callback tasks went to the owner even when they had resolved the work themselves.
MANUAL_TASK_NOT_TO_RESOLVER = "manual-task-not-to-resolver"
# Notes from someone a complaint bars were kept before this change.
BARRED_NOTES_DROPPED = "barred-notes-dropped"

REJECTED = "Rejected"
CASE_CLOSED = "CaseClosed"


def with_photos(detail: Detail, photos: list[str]) -> Detail:
    """A note's detail names its photos (ids only) when it has any; older entries stay as they were."""
    return {**detail, "photos": list(photos)} if photos else detail


def require(condition: bool, reason: str, kind: str = REJECTED) -> None:
    """Refuse an update from its validator: `reason` is shown to the person; `kind` is the failure type
    (`CaseClosed` for any action on a closed case, so the API can answer "closed")."""
    if not condition:
        raise ApplicationError(reason, type=kind, non_retryable=True)


class CaseWorkflow:
    @workflow.init
    def __init__(self, case: CaseInput) -> None:
        self.case = case
        self.case_id = workflow.info().workflow_id
        self.policy = case.policy
        self.severity = case.severity
        self.status = Status.submitted
        self.submitted_at = min(case.submitted_at, workflow.now())
        self.clock = DeadlineClock(case.policy, case.severity, self.submitted_at)
        self.ladder = EscalationLadder(
            self.policy.for_severity(case.severity).first_tier, self._tell_escalation
        )
        self.background = Background()
        self.messenger = Messenger(
            self.case_id, self.policy, self.background,
            response_window=lambda: self.policy.for_severity(self.severity).response,
            finished=lambda: self.status is Status.closed,
        )
        self.callbacks = Callbacks()
        self.handler_id: str | None = None
        self.owner_id: str | None = None
        self.resolved_by: str | None = None
        self.acknowledged = False
        self.withdrawn = False
        self.response_breached = False
        self.reopen_count = 0
        self.callback_record: CallbackRecord | None = None
        self.times: dict[Status, datetime] = {}
        self.timeline: list[TimelineEntry] = []
        self._seq = 0
        self._search: dict[str, object] = {}
        self._notes_taken: set[str] = set()

    # --- queries --------------------------------------------------------------------------

    @workflow.query
    def state(self) -> CaseState:
        return CaseState(
            **dict(self.summary()), timeline=list(self.timeline), description=self.case.description
        )

    def summary(self) -> CaseSummary:
        now = workflow.now()
        ahead = self.deadline_ahead()
        return CaseSummary(
            case_id=self.case_id,
            kind=self.case.kind,
            status=self.status,
            severity=self.severity,
            category=self.case.category,
            title=self.case.title,
            building_id=self.case.building_id,
            unit=self.case.unit,
            resident_id=self.case.resident_id,
            tier=self.ladder.tier,
            handler_id=self.handler_id,
            owner_id=self.owner_id,
            submitted_at=self.submitted_at,
            response_due=self.clock.response_due,
            resolution_due=self.clock.resolution_due_at(now),
            warned=self.clock.warned,
            response_breached=self.response_breached,
            resolution_breached=self.clock.resolution_breached,
            paused=self.clock.paused,
            paused_total=self.clock.paused_total,
            reopen_count=self.reopen_count,
            withdrawn=self.withdrawn,
            callback=self.callback_record,
            callback_attempt=self.callbacks.attempt,
            next_deadline=ahead.at if ahead else None,
            next_deadline_kind=ahead.kind if ahead else None,
            escalations=self.ladder.escalations,
            dispatched_at=self.times.get(Status.dispatched),
            acknowledged_at=self.times.get(Status.acknowledged),
            resolved_at=self.times.get(Status.resolved),
            callback_at=self.times.get(Status.callback),
            closed_at=self.times.get(Status.closed),
            parent_case_id=parent.workflow_id if (parent := workflow.info().parent) else None,
            subject_staff_id=self.case.subject_staff_id,
            equipment_id=self.case.equipment_id,
        )

    def deadline_ahead(self) -> Deadline | None:
        """The next deadline someone is held to (what `/at-risk` orders by); warnings are not one."""
        if self.status in CALLING_BACK:
            return self.callbacks.next_deadline()
        return earliest(self.ladder.page_deadline(), self.clock.breach_deadline())

    # --- predicates the run method waits on ------------------------------------------------

    def taken(self) -> bool:
        return self.acknowledged or self.work_done()

    def work_done(self) -> bool:
        return self.status not in OPEN or self.withdrawn

    # --- steps ----------------------------------------------------------------------------

    async def receive(self) -> None:
        filer = self.case.submitted_by
        first_contact = filer.role in STAFF and workflow.info().parent is None and not self.barred(filer.id)
        if first_contact and workflow.patched(STAFF_FILER_OWNS):
            self.owner_id = filer.id  # 首问负责制: who took the resident's call owns the case
        self.note("submitted", {"origin": self.case.origin.value}, actor=filer)
        self.tell_resident(
            "case_received",
            {
                "title": self.case.title,
                "response_due": self.clock.response_due.isoformat(),
                "resolution_due": self.clock.resolution_due.isoformat(),
            },
        )

    def dispatch_request(self) -> DispatchRequest:
        return DispatchRequest(
            case_id=self.case_id,
            kind=self.case.kind,
            category=self.case.category,
            building_id=self.case.building_id,
        )

    async def dispatch(self) -> None:
        """Choose the handler; with nobody fitting, the case starts at tier 1 and says so."""
        found = await workflow.execute_activity(
            Activity.DISPATCH,
            self.dispatch_request(),
            result_type=DispatchResult,
            start_to_close_timeout=DISPATCH_TIMEOUT,
            summary="choose a handler by skill, building and load",
        )
        first = self.policy.for_severity(self.severity).first_tier
        start = first if found.handler else max(first, Tier.team_lead)
        self.ladder.tier = max(self.ladder.tier, start)
        if self.handler_id is None and found.handler:
            self.handler_id = found.handler.staff_id
        if self.status is Status.submitted:
            self.status = Status.dispatched
        self.times[Status.dispatched] = workflow.now()
        if not self.taken():  # paging starts before the note, so the projection carries its deadline
            self.ladder.start_paging(
                self.clock.response_due, self.clock.response_window, EscalationReason.response_missed
            )
        self.note(
            "dispatched", {"handler": self.handler_id, "tier": int(self.ladder.tier), "reason": found.reason}
        )
        if self.taken():
            return
        self.messenger.tell_staff(
            [self.handler_id] if self.handler_id else [],
            self.staff_channel,
            "dispatch",
            self.dispatch_params(),
            tier=(self.case.building_id, self.ladder.tier) if self.ladder.tier > Tier.handler else None,
            gather="ack",
        )

    def dispatch_params(self) -> dict[str, str]:
        """What a handler is told on dispatch and on reassignment."""
        return {
            "code": self.case_id,
            "title": self.case.title,
            "building": self.case.building_id,
            "unit": self.case.unit or "",
            "response_due": self.clock.response_due.isoformat(),
        }

    async def keep_deadlines_until(self, done: Callable[[], bool], waiting_for: str) -> None:
        """Wait for `done()`, acting on every deadline that passes first (page, warn, breach, resume)."""
        while (passed := await wait_for(done, self._next_deadline, waiting_for)) is not None:
            self._deadline_passed(passed)

    def callback_request(self) -> tuple[CallbackPurpose, dict[str, str]]:
        """Why the resident is called back and the `callback_request` params; kinds may say otherwise."""
        purpose = CallbackPurpose.withdrawn if self.withdrawn else CallbackPurpose.resolved
        return purpose, {"code": self.case_id, "title": self.case.title}

    async def call_back(self) -> CallbackRecord:
        purpose, params = self.callback_request()
        self.status = Status.callback
        self.times[Status.callback] = workflow.now()
        self.note("callback_started", {"purpose": purpose.value})
        record = await self.callbacks.call_back(self, self.case.resident_id, purpose, params)
        self.callback_record = record
        self.note(
            "callback_recorded",
            {
                "result": record.result.value,
                "channel": record.channel.value if record.channel else None,
                "attempts": record.attempts,
                "by": record.recorded_by.id,
                "by_role": record.recorded_by.role.value,
            },
            actor=record.recorded_by,
        )
        if record.recorded_by == SYSTEM:
            self.tell_resident("callback_thanks", {})
        self.tell_owner(f"callback_{record.result.value}")
        return record

    def needs_reopening(self, record: CallbackRecord) -> bool:
        return not self.withdrawn and record.result is CallbackResult.not_satisfied

    def reopen(self) -> None:
        """Not satisfied: one tier up, a fresh resolution window, and another callback after it."""
        now = workflow.now()
        self.reopen_count += 1
        self.callback_record = None
        self.times.pop(Status.resolved, None)
        self.clock.restart(now)
        self.status = Status.in_progress
        self.note("reopened", {"reopen_count": self.reopen_count})
        self.ladder.escalate(EscalationReason.reopened)
        self.tell_owner("reopened")
        self.tell_resident("case_reopened", {"resolution_due": self.clock.resolution_due.isoformat()})

    async def close(self, record: CallbackRecord) -> CaseSummary:
        """The only way a case ends: with the callback record that closes it."""
        self.callback_record = record
        self.status = Status.closed
        self.times[Status.closed] = workflow.now()
        self.note("closed", {"result": record.result.value, "withdrawn": self.withdrawn})
        self.tell_resident("case_closed", {})
        workflow.set_current_details("Closed; finishing notices and projections.")
        await workflow.wait_condition(lambda: workflow.all_handlers_finished() and not self.background.busy)
        return self.summary()

    # --- deadlines --------------------------------------------------------------------------

    def _next_deadline(self) -> Deadline | None:
        return earliest(
            self.ladder.page_deadline(),
            self.clock.resume_deadline(),
            self.clock.warning_deadline(),
            self.clock.breach_deadline(),
        )

    def _deadline_passed(self, deadline: Deadline) -> None:
        if deadline.kind == EscalationReason.response_missed:
            self.response_breached = True
            self.ladder.page()
        elif deadline.kind == "resume":
            self._resume(SYSTEM, None)
        elif deadline.kind == "warning":
            self.clock.warning_sent = self.clock.warned = True
            self.note("warned", {"resolution_due": self.clock.resolution_due.isoformat()})
            self.messenger.tell_staff(
                [self.handler_id] if self.handler_id else [],
                self.staff_channel,
                "warning",
                {"code": self.case_id, "resolution_due": self.clock.resolution_due.isoformat()},
                tier=(self.case.building_id, Tier.team_lead),
            )
        elif deadline.kind == "resolution":
            self.clock.breach_sent = self.clock.resolution_breached = True
            self.note("breached", {"resolution_due": self.clock.resolution_due.isoformat()})
            self.ladder.escalate(EscalationReason.resolution_breached, deadline.at)

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

    # --- the callback step's host -----------------------------------------------------------

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

    # --- recording --------------------------------------------------------------------------

    def note(
        self, event: str, detail: Detail | None = None, actor: Actor = SYSTEM, action: Action | None = None
    ) -> None:
        """One transition: into the timeline, the search attributes and (in the background) SQL."""
        entry = TimelineEntry.recorded(workflow.now(), event, detail, actor, action)
        self._seq += 1
        self.timeline.append(entry)
        self._upsert_search_attributes()
        assert entry.actor is not None
        projected = CaseEvent(
            case_id=self.case_id,
            seq=self._seq,
            event=event,
            at=entry.at,
            actor_id=entry.actor.id,
            device_at=entry.device_at,
            detail=entry.detail,
            state=self.summary(),
        )
        self.background.start(
            workflow.start_activity(
                Activity.PROJECT_CASE,
                projected,
                start_to_close_timeout=PROJECT_TIMEOUT,
                summary=f"project {event}",
            )
        )

    def _upsert_search_attributes(self) -> None:
        values: dict[str, tuple[object, object]] = {
            key.name: (key, value)
            for key, value in (
                (search.KIND, self.case.kind.value),
                (search.SEVERITY, self.severity.value),
                (search.STATUS, self.status.value),
                (search.BUILDING, self.case.building_id),
                (search.TIER, int(self.ladder.tier)),
                (search.BREACHED, self.response_breached or self.clock.resolution_breached),
                (search.OWNER, self.owner_id),
                (search.RESIDENT, self.case.resident_id),
                (search.RESPONSE_DUE, self.clock.response_due),
                (search.RESOLUTION_DUE, self.clock.resolution_due),
            )
        }
        updates = []
        for name, (key, value) in values.items():
            if self._search.get(name, ...) != value:
                self._search[name] = value
                updates.append(key.value_set(value) if value is not None else key.value_unset())
        if updates:
            workflow.upsert_search_attributes(updates)

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
        require(self.status is not Status.closed, "the case is closed", CASE_CLOSED)
        require(self.status not in CALLING_BACK, "the case is in its callback; record the callback instead")
        require(self.status is not Status.resolved, "the case is already resolved")
        require(not self.withdrawn, "the case was withdrawn")

    @staticmethod
    def _require_staff(action: Action, doing: str) -> None:
        require(action.actor.role in STAFF, f"only staff can {doing}")

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

    @workflow.update
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

    @workflow.update
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
        self._require_staff(action, "pause a case")
        self._require_may_act(action)
        self._require_open()
        require(self.acknowledged, "acknowledge the case before pausing it")
        require(not self.clock.paused, "the case is already paused")
        require(
            action.resume_at is None or action.resume_at > workflow.now(), "resume_at must be in the future"
        )

    @workflow.update
    def resume(self, action: Resume) -> CaseState:
        self._resume(action.actor, action)
        return self.state()

    @resume.validator
    def _validate_resume(self, action: Resume) -> None:
        require(
            action.actor.role in STAFF
            or (action.actor.role is Role.resident and action.actor.id == self.case.resident_id),
            "only staff or the resident of this case can resume it",
        )
        self._require_may_act(action)
        require(self.clock.paused, "the case is not paused")

    @workflow.update
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
        self._require_staff(action, "reassign a case")
        self._require_may_act(action)
        self._require_open()
        require(action.handler_id != self.handler_id, f"{action.handler_id} already handles the case")
        self._require_may_handle(action.handler_id)

    @workflow.update
    async def hand_on(self, action: HandOn) -> CaseState:
        """The handler or owner left: dispatch again without them (the new handler owns what they owned),
        or with nobody fitting, one tier up the ladder; the tier above theirs is told either way."""
        request = self.dispatch_request()
        request.exclude_staff_ids = [*request.exclude_staff_ids, action.staff_id]
        found = await workflow.execute_activity(
            Activity.DISPATCH, request, result_type=DispatchResult,
            start_to_close_timeout=DISPATCH_TIMEOUT, summary="choose a handler instead of one who left",
        )
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
        require(self.status is not Status.closed, "the case is closed", CASE_CLOSED)
        require(action.staff_id in (self.handler_id, self.owner_id),
                f"{action.staff_id} neither handles nor owns the case")

    @workflow.update
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
        self._require_staff(action, "change severity")
        self._require_may_act(action)
        self._require_open()
        require(action.severity is not self.severity, f"the severity is already {self.severity.value}")
        if action.severity.rank < self.severity.rank:
            require(action.actor.role in SUPERVISORS, "only a supervisor can lower the severity")
            require(action.reason is not None, "lowering the severity needs a reason")

    @workflow.update
    def extend(self, action: Extend) -> CaseState:
        previous = self.clock.resolution_due
        self.clock.extend(action.resolution_due, workflow.now())
        self.note(
            "extended",
            {
                "from": previous.isoformat(),
                "to": self.clock.resolution_due.isoformat(),
                "reason": action.reason,
            },
            action=action,
        )
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

    @workflow.update
    def resolve(self, action: Resolve) -> CaseState:
        if not self.acknowledged:
            self._take(action)
            self.note("acknowledged", {"owner": self.owner_id, "on_the_spot": True}, action=action)
        self.clock.stop(workflow.now())
        self.status = Status.resolved
        self.resolved_by = action.actor.id
        self.times[Status.resolved] = workflow.now()
        self.note("resolved", with_photos({"note": action.note}, action.photos), action=action)
        return self.state()

    @resolve.validator
    def _validate_resolve(self, action: Resolve) -> None:
        self._require_staff(action, "resolve a case")
        self._require_open()
        self._require_may_act(action)

    @workflow.update
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
        require(
            action.actor.role in STAFF
            or (action.actor.role is Role.resident and action.actor.id == self.case.resident_id),
            "only the resident of this case or staff can withdraw it",
        )
        self._require_may_withdraw(action)
        self._require_may_act(action)
        self._require_open()

    # --- updates: the resident in the app ----------------------------------------------------

    def _require_resident(self, action: Action, doing: str) -> None:
        require(
            action.actor.role is Role.resident and action.actor.id == self.case.resident_id,
            f"only the resident of this case can {doing}",
        )

    def _resident_photos(self) -> int:
        return sum(len(e.detail.get("photos") or []) for e in self.timeline if e.event == "photos_added")

    @workflow.update
    def add_photos(self, action: AddPhotos) -> CaseState:
        self.note("photos_added", {"photos": list(action.photos)}, action=action)
        return self.state()

    @add_photos.validator
    def _validate_add_photos(self, action: AddPhotos) -> None:
        self._require_resident(action, "add photos to it")
        require(self.status is not Status.closed, "the case is closed", CASE_CLOSED)
        require(
            self._resident_photos() + len(action.photos) <= RESIDENT_PHOTOS,
            f"a case takes at most {RESIDENT_PHOTOS} photos from the resident",
        )

    @workflow.update
    def answer_callback(self, action: AnswerCallback) -> CaseState:
        """The same rule as an SMS or keypad answer: the first answer to the attempt counts."""
        reply = CallbackReply(
            attempt=self.callbacks.attempt,
            satisfied=action.satisfied,
            channel=Channel.app,
            received_at=workflow.now(),
        )
        accepted = self.callbacks.reply(reply)
        self.note(
            "callback_reply",
            {
                "attempt": reply.attempt,
                "satisfied": reply.satisfied,
                "channel": reply.channel.value,
                "accepted": accepted,
                "comment": action.comment,
            },
            action=action,
        )
        return self.state()

    @answer_callback.validator
    def _validate_answer_callback(self, action: AnswerCallback) -> None:
        self._require_resident(action, "answer its callback")
        require(self.status is not Status.closed, "the case is closed", CASE_CLOSED)
        require(
            self.status is Status.callback and self.callbacks.attempt > 0,
            "the case is not waiting for your answer",
        )
        require(
            self.callbacks.attempt not in self.callbacks.replies, "this callback was already answered"
        )

    @workflow.update
    def record_callback(self, action: RecordCallback) -> CaseState:
        self.callbacks.record(action)
        detail: Detail = {"result": action.result.value}
        if action.reached_by is not None:
            detail |= {"reached_by": action.reached_by.value, "reason": action.reason}
        self.note("manual_callback_recorded", detail, action=action)
        return self.state()

    @record_callback.validator
    def _validate_record_callback(self, action: RecordCallback) -> None:
        """回访 is not self-assessment: the resident's own answer decides. Staff record an outcome only
        when the case asks for a manual callback; while the automatic callback asks, only a supervisor
        may, with a reason; never the person who resolved the work or whom a complaint is about."""
        self._require_staff(action, "record a callback")
        require(
            self.status in CALLING_BACK, "there is no callback to record: the case is not in its callback"
        )
        require(self.callbacks.manual is None, "a callback outcome was already recorded")
        if self.status is Status.callback:
            require(
                action.actor.role in SUPERVISORS,
                "the automatic callback is still asking the resident; their answer decides (only a "
                "supervisor may record an outcome now, with a reason)",
            )
            require(action.reason is not None, "a supervisor recording an outcome now must give a reason")
        require(
            action.actor.id != self.resolved_by,
            f"{action.actor.id} resolved the work and may not record its callback; a colleague calls back",
        )
        require(action.reached_by is not None, "reached_by: say how the resident was reached (phone, visit)")
        self._require_may_act(action)

    # --- signals: notes and callback answers ----------------------------------------------

    @workflow.signal
    def progress(self, note: ProgressNote) -> None:
        """A note sent again with the same action id (an offline device retrying) is kept once."""
        if self.status is Status.closed or note.action_id in self._notes_taken:
            return
        barred = note.actor.role in STAFF and self.barred(note.actor.id, note.actor_tier)
        if barred and workflow.patched(BARRED_NOTES_DROPPED):
            return
        if note.action_id:
            self._notes_taken.add(note.action_id)
        if self.status is Status.acknowledged:
            self.status = Status.in_progress
        self.note("progress", with_photos({"note": note.note}, note.photos), action=note)

    @workflow.signal
    def resident_message(self, message: ResidentMessage) -> None:
        """Kept in the timeline for staff; from anyone but this case's resident it is dropped."""
        if self.status is not Status.closed and message.actor.id == self.case.resident_id:
            self.note("resident_message", {"text": message.text, "channel": message.channel.value},
                      actor=message.actor)

    @workflow.signal
    def device_reading(self, message: DeviceMessage) -> None:
        """What the device a case was raised by says while the case is open: noted, never acted on — a
        reading back to normal does not close the case, a person does."""
        if self.status is not Status.closed:
            self.note("device_reading", {"kind": message.kind, "reading": message.describe(),
                                         "at": message.at.isoformat()})

    @workflow.signal
    def callback_reply(self, reply: CallbackReply) -> None:
        accepted = self.callbacks.reply(reply)
        self.note(
            "callback_reply",
            {
                "attempt": reply.attempt,
                "satisfied": reply.satisfied,
                "channel": reply.channel.value,
                "accepted": accepted,
            },
        )

    @workflow.signal
    def delivery_failed(self, failure: DeliveryFailed) -> None:
        accepted = self.callbacks.delivery_failed(failure)
        self.note(
            "delivery_failed",
            {
                "attempt": failure.attempt,
                "channel": failure.channel.value,
                "status": failure.status,
                "accepted": accepted,
            },
        )
