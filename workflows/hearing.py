"""A public hearing (SPEC §3): a fee increase or a major repair paid from the maintenance fund.

notice to every affected household → objections and questions, each answered within 24 h or escalated
→ reminder the day before → hearing held → decision → decision to every affected household →
callback to every objector → closed once every objector's callback is recorded.

A hearing may reach thousands of households, so its own history stays small: every message to all
households goes out through `NoticeBatchWorkflow` children (one per few hundred residents, each sending
a few dozen notices per activity), every objector's callback is a `HearingCallbackWorkflow` child (the
callback step of a case, reused whole), and the hearing continues as new whenever Temporal suggests
it or its history passes `history_limit` events, carrying what it has done in `HearingProgress`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal

from temporalio import workflow
from temporalio.exceptions import FailureError
from temporalio.workflow import ParentClosePolicy

from workflows.names import Activity

with workflow.unsafe.imports_passed_through():
    from workflows import search
    from workflows.background import Background
    from workflows.case import CaseLifecycle
    from workflows.clock import Deadline, earliest, wait_for
    from workflows.contracts import (
        SYSTEM,
        Action,
        Actor,
        CallbackPurpose,
        CallbackRecord,
        CaseInput,
        CaseSummary,
        Channel,
        Kind,
        NoticeBatch,
        Role,
        Tier,
        TimelineEntry,
    )
    from workflows.hearing_contracts import (
        AnswerObjection,
        Broadcast,
        CostItem,
        Decide,
        DecisionRecord,
        HearingInput,
        HearingProgress,
        HearingState,
        HearingStatus,
        HeldRecord,
        KeptObjection,
        Objection,
        ObjectionReceipt,
        ObjectionRecord,
        ObjectorCallback,
        Phase,
        RecordHearing,
    )
    from workflows.households import NoticeBatchWorkflow, resident_ranges
    from workflows.ladder import EscalationLadder, EscalationReason
    from workflows.messenger import Messenger
    from workflows.projected import HearingEvent, Transition, project
    from workflows.rules import STAFF, SUPERVISORS, Detail, require

REMINDER_AHEAD = timedelta(days=1)
ANSWER_FIRST_TIER = Tier.team_lead
CALLBACK_SUFFIX = "-CB-"
OPEN_FOR_OBJECTIONS = frozenset({HearingStatus.scheduled, HearingStatus.noticed})
KEEP_TIMEOUT = timedelta(seconds=30)
BUSY = "Busy"  # refused for a few seconds while continuing as new; the API answers 503 with Retry-After
# Hearings before this change carried every objection's text and answer whole when continuing as new.
OBJECTIONS_KEPT = "objections-kept-in-store"
# Hearings before this change did not project a kept objection's receipt or answer to the read model.
KEPT_PROJECTED = "kept-objections-projected"


def money(amount: Decimal) -> str:
    return f"{amount:,.2f}"


def cost_summary(costs: list[CostItem]) -> str:
    return "; ".join(f"{cost.item} {money(cost.amount)}" for cost in costs)


def callback_case_id(hearing_id: str, resident_id: str) -> str:
    return f"{hearing_id}{CALLBACK_SUFFIX}{resident_id}"


def kept_count(objections: list[ObjectionRecord]) -> int:
    """How many timeline entries `kept_entries` makes, without making them."""
    return sum(1 + (r.answered_at is not None and r.answered_by is not None) for r in objections if r.kept)


def kept_entries(objections: list[ObjectionRecord]) -> list[TimelineEntry]:
    """The timeline entries of objections kept in the database, made from their records rather than
    carried: a hearing with thousands of objections would otherwise carry thousands of entries."""
    entries = []
    for record in (r for r in objections if r.kept):
        entries.append(TimelineEntry(
            at=record.received_at, actor=Actor(id=record.resident_id, role=Role.resident),
            event="objection_received",
            detail={
                "objection": record.number, "building": record.building_id, "channel": record.channel.value
            },
        ))
        if record.answered_at is not None and record.answered_by is not None:
            entries.append(TimelineEntry(
                at=record.answered_at, actor=Actor(id=record.answered_by, role=Role.staff),
                event="objection_answered", detail={"objection": record.number},
            ))
    return entries


@workflow.defn(name="HearingWorkflow")
class HearingWorkflow:
    @workflow.init
    def __init__(self, hearing: HearingInput) -> None:
        self.hearing = hearing
        self.hearing_id = workflow.info().workflow_id
        self.progress = hearing.carried or HearingProgress()
        self.background = Background()
        self.messenger = Messenger(
            self.hearing_id, hearing.policy, self.background, sent=self.progress.keys_sent
        )
        self.draining = False
        self._ladder_changes = 0
        self._next_page: tuple[int, Deadline | None] = (-1, None)
        self.ladders = {
            record.number: self._ladder(record)
            for record in self.progress.objections
            if not record.answered
        }

    @workflow.run
    async def run(self, hearing: HearingInput) -> HearingState:
        if self.broadcast(Phase.notice) is None:
            self.note("created", {"buildings": len(hearing.building_ids)}, actor=hearing.created_by)
            await self.announce(Phase.notice, then=HearingStatus.noticed)
        await self.answer_objections_until(self.held, "the day before the hearing", at=self.reminder_at)
        await self.remind()
        await self.answer_objections_until(self.held, "the hearing to be held")
        await self.answer_objections_until(self.decided, "the decision")
        if self.broadcast(Phase.decision) is None:
            await self.announce(Phase.decision, then=HearingStatus.callback)
        await self.call_back_objectors()
        await self.answer_objections_until(self.everyone_called_back, "every objector's callback")
        return await self.close()

    # --- predicates and moments ---------------------------------------------------------------

    @property
    def status(self) -> HearingStatus:
        return self.progress.status

    @property
    def reminder_at(self) -> datetime:
        return self.hearing.hearing_at - REMINDER_AHEAD

    def held(self) -> bool:
        return self.progress.held is not None

    def decided(self) -> bool:
        return self.progress.decision is not None

    def everyone_called_back(self) -> bool:
        return all(callback.result is not None for callback in self.progress.callbacks)

    def broadcast(self, phase: Phase) -> Broadcast | None:
        return next((b for b in self.progress.broadcasts if b.phase is phase), None)

    # --- steps ----------------------------------------------------------------------------------

    async def announce(self, phase: Phase, then: HearingStatus | None = None) -> None:
        """Tell every resident of the affected buildings, a batch of residents per child workflow; once
        told, the hearing moves to `then`, if given (before the note, so its projection carries it)."""
        ranges = await resident_ranges(self.hearing.building_ids, self.hearing.batch_size)
        broadcast = Broadcast(phase=phase, batches=len(ranges), started_at=workflow.now())
        self.progress.broadcasts.append(broadcast)
        self.note(f"{phase.name}_started", {"batches": len(ranges)})
        workflow.set_current_details(f"Sending the {phase.name} to {len(ranges)} batches of households.")
        results = await asyncio.gather(
            *(
                workflow.execute_child_workflow(
                    NoticeBatchWorkflow.run,
                    NoticeBatch(
                        case_id=self.hearing_id,
                        template=phase.value,
                        residents=residents,
                        params=self.params_for(phase),
                        policy=self.hearing.policy,
                    ),
                    id=f"{self.hearing_id}-{phase.name}-{number}",
                    static_summary=f"{phase.name} of {self.hearing_id}: batch {number} of {len(ranges)}",
                )
                for number, residents in enumerate(ranges, 1)
            )
        )
        broadcast.residents = sum(r.residents for r in results)
        broadcast.sent = sum(r.sent for r in results)
        broadcast.unreachable = sum(r.unreachable for r in results)
        broadcast.finished_at = workflow.now()
        if then is not None:
            self.set_status(then)
        self.note(
            f"{phase.name}_sent",
            {"residents": broadcast.residents, "sent": broadcast.sent, "unreachable": broadcast.unreachable},
        )

    async def remind(self) -> None:
        """The day before, unless the hearing was already held or the notice itself went out that late."""
        notice = self.broadcast(Phase.notice)
        if self.held() or self.broadcast(Phase.reminder) or self.progress.reminder_skipped:
            return
        if notice is None or notice.finished_at is None or notice.finished_at >= self.reminder_at:
            self.progress.reminder_skipped = True
            self.note("reminder_skipped", {"reason": "the notice went out less than a day before"})
            return
        await self.announce(Phase.reminder)

    async def call_back_objectors(self) -> None:
        """One callback case per objector (their first objection names the building and unit)."""
        started = {callback.resident_id for callback in self.progress.callbacks}
        first: dict[str, ObjectionRecord] = {}
        for record in self.progress.objections:
            first.setdefault(record.resident_id, record)
        waiting = [record for resident, record in first.items() if resident not in started]
        self.progress.callbacks.extend(
            ObjectorCallback(
                resident_id=r.resident_id, case_id=callback_case_id(self.hearing_id, r.resident_id)
            )
            for r in waiting
        )
        await asyncio.gather(*(self._start_callback(record) for record in waiting))
        if waiting:
            self.note("callbacks_started", {"objectors": len(waiting)})

    async def _start_callback(self, record: ObjectionRecord) -> None:
        decision = self.progress.decision
        assert decision is not None
        await workflow.start_child_workflow(
            HearingCallbackWorkflow.run,
            CaseInput(
                kind=Kind.hearing,
                category="hearing",
                title=self.hearing.title,
                description=decision.reason,
                building_id=record.building_id,
                unit=record.unit,
                resident_id=record.resident_id,
                submitted_by=self.hearing.created_by,
                submitted_at=workflow.now(),
                policy=self.hearing.policy,
            ),
            id=callback_case_id(self.hearing_id, record.resident_id),
            parent_close_policy=ParentClosePolicy.ABANDON,
            static_summary=f"callback of an objector to hearing {self.hearing_id}",
        )

    async def close(self) -> HearingState:
        self.set_status(HearingStatus.closed)
        self.note("closed", {"objectors": len(self.progress.callbacks)})
        workflow.set_current_details("Closed; finishing notices.")
        await self.background.drain()
        return self.state()

    # --- waiting: objections answered or escalated, continue-as-new on a long history ---------

    async def answer_objections_until(
        self, done: Callable[[], bool], waiting_for: str, at: datetime | None = None
    ) -> None:
        """Wait for `done()` (or the moment `at`), escalating every objection left unanswered."""
        moment = Deadline(at, "reminder") if at else None
        while True:
            passed = await wait_for(
                lambda: done() or self.history_is_long(),
                lambda: earliest(moment, self.next_page()),
                waiting_for,
            )
            if passed is None and done():
                return
            if passed is None:
                await self.continue_as_new()
            elif passed == moment:
                return
            else:
                self._answer_missed(passed)

    def history_is_long(self) -> bool:
        info = workflow.info()
        return (
            info.is_continue_as_new_suggested()
            or info.get_current_history_length() >= self.hearing.history_limit
        )

    async def continue_as_new(self) -> None:
        events = workflow.info().get_current_history_length()
        workflow.set_current_details("Continuing as new: finishing handlers and notices first.")
        self.draining = True  # a steady stream of objections must not keep the notices busy forever
        await self.background.drain()
        self.note("continued_as_new", {"events": events, "run": self.progress.runs})
        self.progress.runs += 1
        self.progress.keys_sent = self.messenger.sent
        carried = self.progress.model_copy(update={"objections": [
            record.model_copy(update={"text": None, "answer": None}) if record.kept else record
            for record in self.progress.objections
        ]})
        workflow.continue_as_new(self.hearing.model_copy(update={"carried": carried}))

    # --- objections --------------------------------------------------------------------------

    def _ladder(self, record: ObjectionRecord) -> EscalationLadder:
        ladder = EscalationLadder(
            Tier(record.tier), lambda reason, due, number=record.number: self._tell_escalation(number, due)
        )
        ladder.escalations = record.escalations
        if record.next_page_at is not None:
            ladder.start_paging(
                record.next_page_at, self.hearing.answer_within, EscalationReason.answer_missed
            )
        return ladder

    def _keep(self, objection: KeptObjection) -> None:
        self.background.start(
            workflow.start_activity(
                Activity.KEEP_OBJECTION,
                objection,
                start_to_close_timeout=KEEP_TIMEOUT,
                summary=f"keep objection {objection.number}",
            )
        )

    def next_page(self) -> Deadline | None:
        """The earliest objection's escalation, recomputed only when a ladder changed: wait conditions
        read it after every event, and a hearing may have thousands of objections open."""
        if self._next_page[0] != self._ladder_changes:
            pages = (ladder.page_deadline() for ladder in self.ladders.values())
            self._next_page = (self._ladder_changes, earliest(*pages))
        return self._next_page[1]

    def _objection(self, number: int) -> ObjectionRecord | None:
        return next((o for o in self.progress.objections if o.number == number), None)

    def _answer_missed(self, passed: Deadline) -> None:
        number = next(n for n, ladder in self.ladders.items() if ladder.page_deadline() == passed)
        ladder = self.ladders[number]
        ladder.page()
        self._ladder_changes += 1
        record = self._objection(number)
        assert record is not None
        record.tier, record.escalations = int(ladder.tier), ladder.escalations
        following = ladder.page_deadline()
        record.next_page_at = following.at if following else None

    def _tell_escalation(self, number: int, due: datetime | None) -> None:
        record = self._objection(number)
        assert record is not None
        tier = self.ladders[number].tier
        self.note(
            "escalated", {"objection": number, "tier": int(tier), "due": due.isoformat() if due else None}
        )
        self.messenger.tell_staff(
            [self.hearing.created_by.id],
            Channel.sms,
            "objection_escalation",
            {
                "code": self.hearing_id,
                "number": str(number),
                "tier": str(int(tier)),
                "answer_due": record.answer_due.isoformat(),
            },
            tier=(record.building_id, tier),
        )

    # --- what the broadcasts say -------------------------------------------------------------

    def params_for(self, phase: Phase) -> dict[str, str]:
        params = {
            "code": self.hearing_id,
            "title": self.hearing.title,
            "hearing_at": self.hearing.hearing_at.isoformat(),
            "place": self.hearing.place,
        }
        if phase is Phase.notice:
            costs = self.hearing.costs
            return params | {"costs": cost_summary(costs), "total": money(sum(c.amount for c in costs))}
        if phase is Phase.decision:
            decision = self.progress.decision
            assert decision is not None
            costs = decision.revised_costs or self.hearing.costs
            return {
                "code": self.hearing_id,
                "title": self.hearing.title,
                "outcome": decision.outcome.value,
                "reason": decision.reason,
                "total": money(sum(c.amount for c in costs)),
            }
        return params

    # --- recording ---------------------------------------------------------------------------

    def set_status(self, status: HearingStatus) -> None:
        self.progress.status = status
        workflow.upsert_search_attributes([search.STATUS.value_set(status.value)])

    def note(
        self, event: str, detail: Detail | None = None, actor: Actor = SYSTEM, action: Action | None = None
    ) -> None:
        entry = TimelineEntry.recorded(workflow.now(), event, detail, actor, action)
        self.progress.timeline.append(entry)
        self._project(entry)

    def _project_kept(self, event: str, detail: Detail, action: Action) -> None:
        """A kept objection's receipt or answer reaches the read model like a note, its entry made from
        the record (never carried), so lists of hearings see objections awaiting answers."""
        if workflow.patched(KEPT_PROJECTED):
            self._project(TimelineEntry.recorded(workflow.now(), event, detail, SYSTEM, action))

    def _project(self, entry: TimelineEntry) -> None:
        seq = len(self.progress.timeline) + kept_count(self.progress.objections)
        state = self.state()
        # Counts and times are what the read model needs; the texts stay in the workflow, so a hearing
        # with thousands of objections does not repeat them in every projection's input.
        brief = [objection.model_copy(update={"text": "", "answer": None}) for objection in state.objections]
        state = state.model_copy(update={"timeline": [], "objections": brief})
        project(self.background, Activity.PROJECT_HEARING,
                HearingEvent(**Transition.of(self.hearing_id, seq, entry), state=state))

    # --- query -----------------------------------------------------------------------------------

    @workflow.query
    def state(self) -> HearingState:
        reminder = (
            None
            if self.held() or self.broadcast(Phase.reminder) or self.progress.reminder_skipped
            else Deadline(self.reminder_at, "reminder")
        )
        ahead = earliest(reminder, self.next_page())
        return HearingState(
            hearing_id=self.hearing_id,
            status=self.status,
            title=self.hearing.title,
            reason=self.hearing.reason,
            costs=self.hearing.costs,
            total=sum(c.amount for c in self.hearing.costs),
            building_ids=self.hearing.building_ids,
            hearing_at=self.hearing.hearing_at,
            place=self.hearing.place,
            created_by=self.hearing.created_by.id,
            created_at=self.hearing.created_at,
            reminder_at=self.reminder_at,
            broadcasts=self.progress.broadcasts,
            objections=self.progress.objections,
            held=self.progress.held,
            decision=self.progress.decision,
            callbacks=self.progress.callbacks,
            next_deadline=ahead.at if ahead else None,
            next_deadline_kind=ahead.kind if ahead else None,
            runs=self.progress.runs,
            timeline=sorted(
                self.progress.timeline + kept_entries(self.progress.objections), key=lambda e: e.at
            ),
        )

    # --- updates ------------------------------------------------------------------------------

    @workflow.update
    def register_objection(self, objection: Objection) -> ObjectionReceipt:
        now = workflow.now()
        due = now + self.hearing.answer_within
        kept = workflow.patched(OBJECTIONS_KEPT)
        record = ObjectionRecord(
            number=len(self.progress.objections) + 1,
            resident_id=objection.actor.id,
            building_id=objection.building_id,
            unit=objection.unit,
            text=objection.text,
            channel=objection.channel,
            received_at=now,
            answer_due=due,
            tier=int(ANSWER_FIRST_TIER),
            next_page_at=due,
            kept=kept,
        )
        self.progress.objections.append(record)
        self.ladders[record.number] = self._ladder(record)
        self._ladder_changes += 1
        if kept:
            self._keep(KeptObjection(hearing_id=self.hearing_id, number=record.number,
                                     resident_id=record.resident_id, text=objection.text, received_at=now))
            self._project_kept(
                "objection_received",
                {"objection": record.number, "building": record.building_id, "channel": record.channel.value},
                objection,
            )
        else:
            self.note(
                "objection_received",
                {"objection": record.number, "building": record.building_id, "channel": record.channel.value},
                action=objection,
            )
        params = {"code": self.hearing_id, "number": str(record.number), "answer_due": due.isoformat()}
        self.messenger.tell_resident(record.resident_id, "objection_received", params)
        self.messenger.tell_staff(
            [self.hearing.created_by.id],
            Channel.sms,
            "objection_task",
            params | {"building": record.building_id},
            tier=(record.building_id, ANSWER_FIRST_TIER),
        )
        return ObjectionReceipt(hearing_id=self.hearing_id, number=record.number, answer_due=due)

    def _require_not_draining(self) -> None:
        require(not self.draining, "the hearing is carrying its state into a new run; try again in a few "
                "seconds", BUSY)

    @register_objection.validator
    def _validate_objection(self, objection: Objection) -> None:
        self._require_not_draining()
        require(objection.actor.role is Role.resident, "only residents of the affected buildings can object")
        require(
            objection.building_id in self.hearing.building_ids,
            f"building {objection.building_id} is not affected by this hearing",
        )
        require(self.status in OPEN_FOR_OBJECTIONS, "objections are closed: the hearing has been held")

    @workflow.update
    def answer_objection(self, action: AnswerObjection) -> ObjectionRecord:
        record = self._objection(action.number)
        assert record is not None
        record.answer, record.answered_by, record.answered_at = action.answer, action.actor.id, workflow.now()
        record.next_page_at = None
        self.ladders.pop(action.number).stop_paging()
        self._ladder_changes += 1
        if record.kept:
            self._keep(KeptObjection(hearing_id=self.hearing_id, number=record.number,
                                     resident_id=record.resident_id, answer=action.answer,
                                     answered_by=action.actor.id, answered_at=record.answered_at))
            self._project_kept("objection_answered", {"objection": action.number}, action)
        else:
            self.note("objection_answered", {"objection": action.number}, action=action)
        self.messenger.tell_resident(
            record.resident_id,
            "objection_answer",
            {"code": self.hearing_id, "number": str(action.number), "answer": action.answer},
        )
        return record

    @answer_objection.validator
    def _validate_answer(self, action: AnswerObjection) -> None:
        self._require_not_draining()
        require(action.actor.role in STAFF, "only staff can answer an objection")
        record = self._objection(action.number)
        require(record is not None, f"there is no objection {action.number}")
        require(record is None or not record.answered, f"objection {action.number} was already answered")

    @workflow.update
    def record_hearing(self, action: RecordHearing) -> HearingState:
        self.progress.held = HeldRecord(
            minutes=action.minutes,
            attendance=action.attendance,
            votes_for=action.votes_for,
            votes_against=action.votes_against,
            abstentions=action.abstentions,
            recorded_by=action.actor.id,
            at=workflow.now(),
        )
        self.set_status(HearingStatus.held)
        self.note(
            "held",
            {
                "attendance": action.attendance,
                "for": action.votes_for,
                "against": action.votes_against,
                "abstain": action.abstentions,
            },
            action=action,
        )
        return self.state()

    @record_hearing.validator
    def _validate_record_hearing(self, action: RecordHearing) -> None:
        require(action.actor.role in SUPERVISORS, "only a supervisor can record the hearing")
        require(self.status is not HearingStatus.scheduled, "the notice is still going out")
        require(self.status is HearingStatus.noticed, "the hearing was already recorded")
        require(
            workflow.now() >= self.hearing.hearing_at,
            f"the hearing is at {self.hearing.hearing_at.isoformat()}; record it once it has been held",
        )

    @workflow.update
    def decide(self, action: Decide) -> HearingState:
        self.progress.decision = DecisionRecord(
            outcome=action.outcome,
            reason=action.reason,
            revised_costs=action.revised_costs,
            decided_by=action.actor.id,
            at=workflow.now(),
        )
        self.set_status(HearingStatus.decided)
        self.note("decided", {"outcome": action.outcome.value, "reason": action.reason}, action=action)
        return self.state()

    @decide.validator
    def _validate_decide(self, action: Decide) -> None:
        require(action.actor.role in SUPERVISORS, "only a supervisor can decide")
        require(self.status is not HearingStatus.noticed, "record the hearing before deciding")
        require(self.status is HearingStatus.held, "the decision was already made")
        unanswered = [str(o.number) for o in self.progress.objections if not o.answered]
        require(
            not unanswered, f"answer every objection before deciding; unanswered: {', '.join(unanswered)}"
        )

    # --- signals ---------------------------------------------------------------------------------

    @workflow.signal
    def objector_called_back(self, outcome: ObjectorCallback) -> None:
        callback = next((c for c in self.progress.callbacks if c.resident_id == outcome.resident_id), None)
        if callback is None or callback.result is not None:
            return
        callback.result, callback.recorded_by, callback.at = outcome.result, outcome.recorded_by, outcome.at
        self.note(
            "objector_called_back",
            {"resident": outcome.resident_id, "result": outcome.result.value if outcome.result else None},
        )


# --- the children ----------------------------------------------------------------------------------


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
                HearingWorkflow.objector_called_back, outcome
            )
        except FailureError as error:
            workflow.logger.warning("hearing %s not told of %s: %s", self.hearing_id, self.case_id, error)
