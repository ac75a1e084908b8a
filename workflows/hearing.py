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

from temporalio import workflow

from workflows.names import Activity, HearingSignal, HearingUpdate

with workflow.unsafe.imports_passed_through():
    from workflows import search
    from workflows.actions import Action
    from workflows.background import Background
    from workflows.case_contracts import TimelineEntry, Transition
    from workflows.clock import Deadline, earliest, wait_for
    from workflows.contracts import SYSTEM, Actor, Role
    from workflows.hearing_broadcasts import broadcast_params
    from workflows.hearing_callback import callback_case_id, start_objector_callback
    from workflows.hearing_contracts import (
        AnswerObjection,
        Broadcast,
        Decide,
        DecisionRecord,
        HearingInput,
        HearingProgress,
        HearingState,
        HearingStatus,
        HeldRecord,
        Objection,
        ObjectionFigures,
        ObjectionReceipt,
        ObjectionRecord,
        ObjectorCallback,
        Phase,
        RecordHearing,
    )
    from workflows.messenger import Messenger
    from workflows.notice_batches import resident_ranges, tell_batches
    from workflows.objection_desk import ObjectionDesk, kept_count, kept_entries
    from workflows.projected import HearingEvent, project
    from workflows.rules import STAFF, SUPERVISORS, Detail, require

REMINDER_AHEAD = timedelta(days=1)
OPEN_FOR_OBJECTIONS = frozenset({HearingStatus.scheduled, HearingStatus.noticed})
BUSY = "Busy"  # refused for a few seconds while continuing as new; the API answers 503 with Retry-After
# Hearings before this change did not project a kept objection's receipt or answer to the read model.
KEPT_PROJECTED = "kept-objections-projected"
# Hearings before this change projected every objection's record and callback with each transition: each
# projection's input grew with the objections, and so a hearing's history with their square.
FIGURES_PROJECTED = "objection-figures-projected"


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
        self.desk = ObjectionDesk(self)

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
        params = broadcast_params(self.hearing_id, self.hearing, self.progress.decision, phase)
        result = await tell_batches(
            self.hearing_id, ranges, phase.value, params, self.hearing.policy,
            label=phase.name, child_id=f"{self.hearing_id}-{phase.name}",
        )
        broadcast.residents, broadcast.sent = result.residents, result.sent
        broadcast.unreachable = result.unreachable
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
        decision = self.progress.decision
        assert decision is not None
        await asyncio.gather(
            *(start_objector_callback(self.hearing_id, self.hearing, decision, record) for record in waiting)
        )
        if waiting:
            self.note("callbacks_started", {"objectors": len(waiting)})

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
                lambda: earliest(moment, self.desk.next_page()),
                waiting_for,
            )
            if passed is None and done():
                return
            if passed is None:
                await self.continue_as_new()
            elif passed == moment:
                return
            else:
                self.desk.answer_missed(passed)

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

    def project_kept(self, event: str, detail: Detail, action: Action) -> None:
        """A kept objection's receipt or answer reaches the read model like a note, its entry made from
        the record (never carried), so lists of hearings see objections awaiting answers."""
        if workflow.patched(KEPT_PROJECTED):
            self._project(TimelineEntry.recorded(workflow.now(), event, detail, SYSTEM, action))

    def _project(self, entry: TimelineEntry) -> None:
        seq = len(self.progress.timeline) + kept_count(self.progress.objections)
        transition = Transition.of(self.hearing_id, seq, entry)
        if workflow.patched(FIGURES_PROJECTED):
            # The read model keeps the objections and callbacks as figures: a projection the same size
            # whether the hearing has three objections or thousands.
            figures = ObjectionFigures.of(self.progress.objections, self.progress.callbacks)
            event = HearingEvent(**transition, state=self._state([], [], []), figures=figures)
        else:
            state = self.state()
            brief = [record.model_copy(update={"text": "", "answer": None}) for record in state.objections]
            event = HearingEvent(
                **transition, state=state.model_copy(update={"timeline": [], "objections": brief})
            )
        project(self.background, Activity.PROJECT_HEARING, event)

    # --- query -----------------------------------------------------------------------------------

    @workflow.query
    def state(self) -> HearingState:
        timeline = sorted(self.progress.timeline + kept_entries(self.progress.objections), key=lambda e: e.at)
        return self._state(self.progress.objections, self.progress.callbacks, timeline)

    def _state(
        self,
        objections: list[ObjectionRecord],
        callbacks: list[ObjectorCallback],
        timeline: list[TimelineEntry],
    ) -> HearingState:
        reminder = (
            None
            if self.held() or self.broadcast(Phase.reminder) or self.progress.reminder_skipped
            else Deadline(self.reminder_at, "reminder")
        )
        ahead = earliest(reminder, self.desk.next_page())
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
            objections=objections,
            held=self.progress.held,
            decision=self.progress.decision,
            callbacks=callbacks,
            next_deadline=ahead.at if ahead else None,
            next_deadline_kind=ahead.kind if ahead else None,
            runs=self.progress.runs,
            timeline=timeline,
        )

    # --- updates ------------------------------------------------------------------------------

    @workflow.update(name=HearingUpdate.REGISTER_OBJECTION)
    def register_objection(self, objection: Objection) -> ObjectionReceipt:
        return self.desk.receive(objection)

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

    @workflow.update(name=HearingUpdate.ANSWER_OBJECTION)
    def answer_objection(self, action: AnswerObjection) -> ObjectionRecord:
        return self.desk.answer(action)

    @answer_objection.validator
    def _validate_answer(self, action: AnswerObjection) -> None:
        self._require_not_draining()
        require(action.actor.role in STAFF, "only staff can answer an objection")
        record = self.desk.find(action.number)
        require(record is not None, f"there is no objection {action.number}")
        require(record is None or not record.answered, f"objection {action.number} was already answered")

    @workflow.update(name=HearingUpdate.RECORD_HEARING)
    def record_hearing(self, action: RecordHearing) -> HearingState:
        self.progress.held = HeldRecord(**action.own_fields(), recorded_by=action.actor.id, at=workflow.now())
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

    @workflow.update(name=HearingUpdate.DECIDE)
    def decide(self, action: Decide) -> HearingState:
        self.progress.decision = DecisionRecord(**action.own_fields(), decided_by=action.actor.id,
                                                at=workflow.now())
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

    @workflow.signal(name=HearingSignal.OBJECTOR_CALLED_BACK)
    def objector_called_back(self, outcome: ObjectorCallback) -> None:
        callback = next((c for c in self.progress.callbacks if c.resident_id == outcome.resident_id), None)
        if callback is None or callback.result is not None:
            return
        callback.result, callback.recorded_by, callback.at = outcome.result, outcome.recorded_by, outcome.at
        self.note(
            "objector_called_back",
            {"resident": outcome.resident_id, "result": outcome.result.value if outcome.result else None},
        )
