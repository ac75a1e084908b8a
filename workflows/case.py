"""What every resident case (repair, complaint) shares: its state, its messages and its steps.

`CaseLifecycle` is a base class, not a workflow: a subclass adds `@workflow.defn` and a `@workflow.run`
method that strings the steps together (`receive`, `dispatch`, `keep_deadlines_until`, `call_back`,
`reopen`, `close`). Temporal's Python SDK collects queries, signals and updates from base classes:
the actions people take are in `case_actions`, what residents, devices and Twilio send in `case_inbox`,
who is told what in `case_telling`.

Updates validate first (a rejected update changes nothing and writes nothing to history) and then
change state synchronously; notices and read-model projections run as background work, so an update
answers at once. Every transition goes through `note`: timeline, search attributes, projection.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from temporalio import workflow

from workflows.names import Activity

with workflow.unsafe.imports_passed_through():
    from workflows import search
    from workflows.actions import Action
    from workflows.activity_contracts import DispatchRequest, DispatchResult
    from workflows.background import Background
    from workflows.callback import CallbackDesk
    from workflows.case_actions import CaseActions
    from workflows.case_contracts import (
        CallbackRecord,
        CaseEvent,
        CaseInput,
        CaseState,
        CaseSummary,
        TimelineEntry,
    )
    from workflows.case_inbox import CaseInbox
    from workflows.case_incident import CaseIncident
    from workflows.case_projection import CaseProjection
    from workflows.case_telling import CaseTelling
    from workflows.clock import Deadline, DeadlineClock, earliest, wait_for
    from workflows.contracts import SYSTEM, Actor, CallbackPurpose, CallbackResult, Status, Tier
    from workflows.ladder import EscalationLadder, EscalationReason
    from workflows.messenger import Messenger
    from workflows.rules import CALLING_BACK, OPEN, STAFF, Detail

DISPATCH_TIMEOUT = timedelta(seconds=30)

# Cases filed by staff were owned by whoever acknowledged them, not by the staff member who filed them.
STAFF_FILER_OWNS = "staff-filer-owns"


class CaseLifecycle(CaseActions, CaseInbox, CaseTelling, CaseIncident):
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
        self.projection = CaseProjection(self.case_id, self.background)
        self.messenger = Messenger(
            self.case_id, self.policy, self.background,
            response_window=lambda: self.policy.for_severity(self.severity).response,
            finished=lambda: self.status is Status.closed,
            carrier=self.projection.carrying,
        )
        self.callbacks = CallbackDesk()
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
        self.held_by = case.held_by
        self.released_by_incident = False

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
            incident_id=self.held_by.incident_id if self.held_by else None,
        )

    def deadline_ahead(self) -> Deadline | None:
        """The next deadline someone is held to (what `/at-risk` orders by); warnings are not one."""
        if self.status in CALLING_BACK:
            return self.callbacks.next_deadline()
        if self.held():
            return None
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
        if await self.join_at_filing():
            return
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

    async def find_handler(self, request: DispatchRequest, summary: str) -> DispatchResult:
        return await workflow.execute_activity(
            Activity.DISPATCH, request, result_type=DispatchResult, start_to_close_timeout=DISPATCH_TIMEOUT,
            summary=summary,
        )

    async def dispatch(self) -> None:
        """Choose the handler; with nobody fitting, the case starts at tier 1 and says so. A case an
        incident holds waits for it instead."""
        if self.held():
            return
        found = await self.find_handler(
            self.dispatch_request(), "choose a handler by skill, building and load"
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

    async def work_until_satisfied(self, waiting_for: str) -> CaseSummary:
        """The work, then the callback; a resident not satisfied reopens the case for another round."""
        while True:
            await self.keep_deadlines_until(self.work_done, waiting_for)
            await self.before_callback()
            record = await self.call_back()
            if not self.needs_reopening(record):
                return await self.close(record)
            self.reopen()

    async def before_callback(self) -> None:
        """What a kind does once the work is done, before the callback asks (a question sends its answer)."""

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
        await self.background.drain()
        return self.summary()

    # --- deadlines --------------------------------------------------------------------------

    def _next_deadline(self) -> Deadline | None:
        if self.held():
            return None
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

    # --- recording --------------------------------------------------------------------------

    def note(
        self, event: str, detail: Detail | None = None, actor: Actor = SYSTEM, action: Action | None = None
    ) -> None:
        """One transition: into the timeline, the search attributes and (with the task's others) SQL."""
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
        self.projection.add(projected)

    def _upsert_search_attributes(self) -> None:
        search.upsert_changed(self._search, (
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
        ))

