"""A fire, flood or security drill (SPEC §3), from its announcement to the survey that closes it.

announced to every household (at least the notice period ahead) → reminded the day before → started
by staff within 30 minutes of the scheduled time, else the ladder pages up every 30 minutes → the
checklist's steps signalled done → completed with participation and findings, each finding a repair
case of its own (a child workflow that outlives the drill) → report due within 24 hours, else the
ladder pages up, while every household is asked "did you hear the alarm?" → closed once the report
is in and the survey window has ended.

A drill started by its building's Temporal Schedule takes its time from the schedule: the action fires
`lead_days` before the drill, at the drill's community-local time. Households are told and asked in
batches, each a child workflow (`NoticeBatchWorkflow`, `DrillSurveyWorkflow`), so a large building never
bloats the drill's own history.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
from collections.abc import Callable
from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.common import SearchAttributeKey
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.workflow import ParentClosePolicy

from workflows.names import Activity

with workflow.unsafe.imports_passed_through():
    from workflows import search
    from workflows.background import Background
    from workflows.callback import UNREACHABLE, Callbacks, Unanswered
    from workflows.case import CASE_CLOSED, STAFF, Detail, require
    from workflows.clock import Deadline, deadline_summary, wait_for
    from workflows.contracts import (
        SYSTEM,
        Action,
        Actor,
        BatchResult,
        CallbackPurpose,
        CallbackReply,
        CaseInput,
        Channel,
        DeliveryFailed,
        Kind,
        ResidentContact,
        ResidentRange,
        Role,
        TimelineEntry,
    )
    from workflows.drill_contracts import (
        AnswerSurvey,
        CompleteDrill,
        DrillInput,
        DrillState,
        DrillStatus,
        FileReport,
        FindingRecord,
        StartDrill,
        StepDone,
        StepRecord,
        SurveyAnswered,
        SurveyBatch,
        SurveyTally,
        community_time,
    )
    from workflows.households import resident_ranges, residents_in, tell_every_household
    from workflows.ladder import EscalationLadder, EscalationReason
    from workflows.messenger import Messenger
    from workflows.projected import DrillEvent, Transition, project
    from workflows.repair import RepairWorkflow

SCHEDULED_START = SearchAttributeKey.for_datetime("TemporalScheduledStartTime")
SURVEY_TEMPLATE = "drill_survey"
OVERDUE = {EscalationReason.start_missed: "start", EscalationReason.report_missed: "report"}


def drill_code(drill_id: str) -> str:
    """The id without what a phone keypad or an SMS reply cannot carry (a schedule's `:` in its time)."""
    return re.sub(r"[^A-Za-z0-9_-]", "", drill_id)


def finding_case_id(code: str, number: int) -> str:
    return f"RP-{code}-F{number}"


# A finding's repair case names the drill as its resident (nobody to call: staff record its callback).
# A schedule-made drill's code is longer than a directory id column, so it is cut to fit, made unique
# again by a hash of the whole code.
FINDING_RESIDENT_FITS = "finding-resident-fits"
DIRECTORY_ID_WIDTH = 32


def fitted_id(text: str, width: int = DIRECTORY_ID_WIDTH) -> str:
    """`text` if it fits `width` characters, else its start and a hash of all of it, `width` long."""
    if len(text) <= width:
        return text
    digest = hashlib.sha256(text.encode()).hexdigest()[:10]
    return f"{text[:width - len(digest) - 1]}-{digest}"


@workflow.defn(name="DrillWorkflow")
class DrillWorkflow:
    @workflow.init
    def __init__(self, drill: DrillInput) -> None:
        info = workflow.info()
        self.drill = drill
        self.rules = drill.rules
        self.drill_id = info.workflow_id
        self.code = drill_code(self.drill_id)
        fired = info.typed_search_attributes.get(SCHEDULED_START) or info.start_time
        self.scheduled_at = drill.scheduled_at or self.rules.drill_at(fired, drill.policy.timezone)
        self.start_due = self.scheduled_at + self.rules.start_within
        self.reminder_at = self.scheduled_at - self.rules.reminder_before
        self.status = DrillStatus.planned
        self.steps = [StepRecord(number=n, text=text) for n, text in enumerate(drill.steps, 1)]
        self.findings: list[FindingRecord] = []
        self.ladder = EscalationLadder(self.rules.first_tier, self._tell_escalation)
        self.background = Background()
        self.messenger = Messenger(self.drill_id, drill.policy, self.background)
        self.times: dict[str, datetime] = {}
        self.owner_id: str | None = None
        self.completed_by = SYSTEM
        self.participation: int | None = None
        self.report: str | None = None
        self.start_missed = False
        self.report_missed = False
        self.announcement: BatchResult | None = None
        self.reminder: BatchResult | None = None
        self.survey = SurveyTally()
        self.survey_batches = 0
        self.survey_batches_done = 0
        self.timeline: list[TimelineEntry] = []

    @workflow.run
    async def run(self, drill: DrillInput) -> DrillState:
        await self.announce()
        await self.remind()
        self.page_unless(self.started, self.start_due, self.rules.start_within, EscalationReason.start_missed)
        await self.keep_deadlines_until(self.started, "staff to start the drill")
        await self.keep_deadlines_until(self.completed, "the drill's checklist and completion")
        await self.open_repair_cases()
        await self.survey_households()
        self.page_unless(
            self.reported, self.report_due, self.rules.report_within, EscalationReason.report_missed
        )
        await self.keep_deadlines_until(self.finished, "the report and the end of the survey")
        return await self.close()

    # --- predicates and moments ----------------------------------------------------------------

    def started(self) -> bool:
        return "started" in self.times

    def completed(self) -> bool:
        return "completed" in self.times

    def reported(self) -> bool:
        return "reported" in self.times

    def finished(self) -> bool:
        return self.reported() and self.survey_batches_done == self.survey_batches

    @property
    def report_due(self) -> datetime:
        return self.times.get("completed", self.scheduled_at) + self.rules.report_within

    @property
    def survey_closes_at(self) -> datetime:
        return self.times.get("completed", self.scheduled_at) + self.rules.survey_window

    # --- steps ------------------------------------------------------------------------------------

    async def announce(self) -> None:
        workflow.upsert_search_attributes(
            [
                search.KIND.value_set(Kind.drill.value),
                search.BUILDING.value_set(self.drill.building_id),
                search.TIER.value_set(int(self.ladder.tier)),
            ]
        )
        self.note(
            "planned",
            {"scheduled_at": self.scheduled_at.isoformat(), "schedule": self.drill.schedule_id},
            actor=self.drill.created_by,
        )
        self.tell_staff("drill_planned", tier=True)
        self.set_status(DrillStatus.announced)
        self.announcement = await self.tell_households("drill_announcement")
        self.times["announced"] = workflow.now()
        self.note("announced", self.announcement.model_dump())

    async def remind(self) -> None:
        """The day before; skipped when the announcement itself went out later than that."""
        if self.times["announced"] >= self.reminder_at:
            self.note("reminder_skipped", {"reason": "the announcement went out less than a day before"})
            return
        workflow.set_current_details(
            f"Waiting to remind households at {community_time(self.reminder_at, self.tz)}."
        )
        await workflow.sleep(
            self.reminder_at - workflow.now(), summary=deadline_summary("reminder", self.reminder_at)
        )
        self.tell_staff("drill_planned", tier=True)
        self.reminder = await self.tell_households("drill_reminder")
        self.times["reminded"] = workflow.now()
        self.note("reminded", self.reminder.model_dump())

    def page_unless(
        self, done: Callable[[], bool], due: datetime, every: timedelta, reason: EscalationReason
    ) -> None:
        """Unless already done, missing `due` pages one tier up, and again every `every` up to tier 3."""
        if not done():
            self.ladder.start_paging(due, every, reason)

    async def keep_deadlines_until(self, done: Callable[[], bool], waiting_for: str) -> None:
        """Wait for `done()`, paging up the ladder each time the deadline being missed passes."""
        while (passed := await wait_for(done, self.ladder.page_deadline, waiting_for)) is not None:
            if passed.kind == EscalationReason.start_missed:
                self.start_missed = True
            else:
                self.report_missed = True
            self.ladder.page()

    async def open_repair_cases(self) -> None:
        """Each finding becomes a repair case that lives on after the drill (parent close: abandon)."""
        await asyncio.gather(*(self._open_repair_case(finding) for finding in self.findings))
        if self.owner_id:
            self.tell_staff(
                "drill_report_due", {"report_due": self.report_due.isoformat()}, to=[self.owner_id]
            )

    async def survey_households(self) -> None:
        """Every household is asked, a batch per child workflow; the answers add up as batches end."""
        ranges = await resident_ranges([self.drill.building_id], self.rules.batch_size)
        self.survey_batches = len(ranges)
        closes_at = self.survey_closes_at
        self.note("survey_started", {"batches": len(ranges), "closes_at": closes_at.isoformat()})
        for number, residents in enumerate(ranges, 1):
            self.background.start(self._survey(number, residents, closes_at))

    async def close(self) -> DrillState:
        self.times["closed"] = workflow.now()
        self.set_status(DrillStatus.closed)
        self.note("closed", {"heard": self.survey.heard, "not_heard": self.survey.not_heard})
        workflow.set_current_details("Closed; finishing notices.")
        await workflow.wait_condition(lambda: workflow.all_handlers_finished() and not self.background.busy)
        return self.state()

    # --- deadlines ----------------------------------------------------------------------------------

    def deadline_ahead(self) -> Deadline | None:
        """What staff are held to next: the start until someone starts the drill, then the report."""
        if self.ladder.paging:
            return self.ladder.page_deadline()
        if not self.started():
            return Deadline(self.start_due, EscalationReason.start_missed.value)
        if self.completed() and not self.reported():
            return Deadline(self.report_due, EscalationReason.report_missed.value)
        return None

    def _tell_escalation(self, reason: EscalationReason, due: datetime | None = None) -> None:
        tier = self.ladder.tier
        self.note(
            "escalated", {"tier": int(tier), "reason": reason.value, "due": due.isoformat() if due else None}
        )
        workflow.upsert_search_attributes([search.TIER.value_set(int(tier)), search.BREACHED.value_set(True)])
        self.tell_staff("drill_escalation", {"tier": str(int(tier)), "overdue": OVERDUE[reason]}, tier=True)
        if self.owner_id:
            self.tell_staff("owner_update", {"event": "escalated"}, to=[self.owner_id])

    # --- telling people -------------------------------------------------------------------------------

    @property
    def tz(self) -> str:
        return self.drill.policy.timezone

    def params(self) -> dict[str, str]:
        return {
            "code": self.code,
            "drill_type": self.drill.drill_type.value,
            "building": self.drill.building_id,
            "scheduled_at": self.scheduled_at.isoformat(),
            "start_due": self.start_due.isoformat(),
        }

    def tell_staff(
        self,
        template: str,
        params: dict[str, str] | None = None,
        to: list[str] | None = None,
        tier: bool = False,
    ) -> None:
        """To these staff members and, with `tier`, to the building's on-duty staff of the ladder's tier."""
        self.messenger.tell_staff(
            to or [],
            self.rules.staff_channel,
            template,
            self.params() | (params or {}),
            tier=(self.drill.building_id, self.ladder.tier) if tier else None,
        )

    async def tell_households(self, template: str) -> BatchResult:
        return await tell_every_household(
            self.drill_id, [self.drill.building_id], self.rules.batch_size, template, self.params(),
            self.drill.policy,
        )

    # --- the children -----------------------------------------------------------------------------

    def _finding_resident(self) -> str:
        return fitted_id(self.code) if workflow.patched(FINDING_RESIDENT_FITS) else self.code

    async def _open_repair_case(self, finding: FindingRecord) -> None:
        try:
            await workflow.start_child_workflow(
                RepairWorkflow.run,
                CaseInput(
                    kind=Kind.repair,
                    severity=finding.severity,
                    category=finding.category,
                    title=finding.title,
                    description=finding.description,
                    building_id=self.drill.building_id,
                    unit=finding.unit,
                    resident_id=self._finding_resident(),
                    submitted_by=self.completed_by,
                    submitted_at=workflow.now(),
                    policy=self.drill.policy,
                ),
                id=finding.case_id,
                parent_close_policy=ParentClosePolicy.ABANDON,
                static_summary=f"repair · {finding.category} · drill {self.code} finding {finding.number}",
            )
        except WorkflowAlreadyStartedError:
            self.note("repair_case_exists", {"finding": finding.number, "case": finding.case_id})
            return
        self.note("repair_case_opened", {"finding": finding.number, "case": finding.case_id})

    async def _survey(self, number: int, residents: ResidentRange, closes_at: datetime) -> None:
        tally = await workflow.execute_child_workflow(
            DrillSurveyWorkflow.run,
            SurveyBatch(
                drill_id=self.drill_id,
                residents=residents,
                params={
                    "code": self.code,
                    "drill_type": self.drill.drill_type.value,
                    "building": self.drill.building_id,
                    "closes_at": closes_at.isoformat(),
                },
                policy=self.drill.policy,
                closes_at=closes_at,
            ),
            id=f"{self.drill_id}/survey-{number}",
            static_summary=f"alarm survey of {self.code}: batch {number} of {self.survey_batches}",
        )
        self.survey += tally
        self.survey_batches_done += 1
        if self.survey_batches_done == self.survey_batches:
            self.note("surveyed", self.survey.model_dump(exclude={"not_heard_by"}))

    # --- recording ------------------------------------------------------------------------------------

    def set_status(self, status: DrillStatus) -> None:
        self.status = status
        workflow.upsert_search_attributes([search.STATUS.value_set(status.value)])

    def note(
        self, event: str, detail: Detail | None = None, actor: Actor = SYSTEM, action: Action | None = None
    ) -> None:
        entry = TimelineEntry.recorded(workflow.now(), event, detail, actor, action)
        self.timeline.append(entry)
        state = self.state()
        survey = state.survey.model_copy(update={"not_heard_by": []})  # ids of every household: kept here
        state = state.model_copy(update={"timeline": [], "survey": survey})
        project(self.background, Activity.PROJECT_DRILL,
                DrillEvent(**Transition.of(self.drill_id, len(self.timeline), entry), state=state))

    # --- query ----------------------------------------------------------------------------------------

    @workflow.query
    def state(self) -> DrillState:
        ahead = self.deadline_ahead()
        return DrillState(
            drill_id=self.drill_id,
            code=self.code,
            drill_type=self.drill.drill_type,
            building_id=self.drill.building_id,
            title=self.drill.title,
            status=self.status,
            schedule_id=self.drill.schedule_id,
            created_by=self.drill.created_by.id,
            scheduled_at=self.scheduled_at,
            start_due=self.start_due,
            reminder_at=self.reminder_at,
            announced_at=self.times.get("announced"),
            reminded_at=self.times.get("reminded"),
            started_at=self.times.get("started"),
            owner_id=self.owner_id,
            completed_at=self.times.get("completed"),
            participation=self.participation,
            steps=self.steps,
            findings=self.findings,
            report_due=self.report_due if self.completed() else None,
            report=self.report,
            reported_at=self.times.get("reported"),
            tier=self.ladder.tier,
            escalations=self.ladder.escalations,
            start_missed=self.start_missed,
            report_missed=self.report_missed,
            announcement=self.announcement,
            reminder=self.reminder,
            survey=self.survey,
            survey_closes_at=self.survey_closes_at if self.completed() else None,
            survey_batches=self.survey_batches,
            survey_batches_done=self.survey_batches_done,
            closed_at=self.times.get("closed"),
            next_deadline=ahead.at if ahead else None,
            next_deadline_kind=ahead.kind if ahead else None,
            timeline=self.timeline,
        )

    # --- updates and signals: staff actions -------------------------------------------------------------

    def _require_staff(self, action: Action, doing: str) -> None:
        require(self.status is not DrillStatus.closed, "the drill is closed", CASE_CLOSED)
        require(action.actor.role in STAFF, f"only staff can {doing}")

    @workflow.update
    def start(self, action: StartDrill) -> DrillState:
        now = workflow.now()
        self.times["started"] = now
        self.owner_id = action.actor.id
        self.ladder.stop_paging()
        self.set_status(DrillStatus.started)
        workflow.upsert_search_attributes([search.OWNER.value_set(action.actor.id)])
        self.note("started", {"late": now > self.start_due}, action=action)
        return self.state()

    @start.validator
    def _validate_start(self, action: StartDrill) -> None:
        self._require_staff(action, "start a drill")
        require(not self.started(), f"the drill was already started by {self.owner_id}")
        opens = self.scheduled_at - self.rules.start_within
        require(workflow.now() >= opens, f"the drill can be started from {community_time(opens, self.tz)}")

    @workflow.signal
    def step_done(self, step: StepDone) -> None:
        """A checklist step done; one that cannot be (not started, unknown, already done) is noted only."""
        record = self.steps[step.number - 1] if step.number <= len(self.steps) else None
        why = (
            "the drill is not running"
            if self.status is not DrillStatus.started
            else f"there is no step {step.number}"
            if record is None
            else "the step was already done"
            if record.done_at
            else None
        )
        if why or record is None:
            self.note("step_ignored", {"number": step.number, "reason": why}, action=step)
            return
        record.done_at, record.done_by, record.note = workflow.now(), step.actor.id, step.note
        self.note("step_done", {"number": step.number}, action=step)

    @workflow.update
    def complete(self, action: CompleteDrill) -> DrillState:
        self.times["completed"] = workflow.now()
        self.completed_by = action.actor
        self.participation = action.participation
        self.findings = [
            FindingRecord(**dict(finding), number=n, case_id=finding_case_id(self.code, n))
            for n, finding in enumerate(action.findings, 1)
        ]
        self.set_status(DrillStatus.completed)
        self.note(
            "completed",
            {"participation": action.participation, "findings": len(self.findings)},
            action=action,
        )
        return self.state()

    @complete.validator
    def _validate_complete(self, action: CompleteDrill) -> None:
        self._require_staff(action, "complete a drill")
        require(self.started(), "start the drill before completing it")
        require(not self.completed(), "the drill was already completed")
        left = [str(step.number) for step in self.steps if step.done_at is None]
        require(not left, f"checklist steps not done yet: {', '.join(left)}")

    @workflow.update
    def file_report(self, action: FileReport) -> DrillState:
        self.times["reported"] = workflow.now()
        self.report = action.summary
        self.ladder.stop_paging()
        self.note("reported", {"late": self.report_missed}, action=action)
        return self.state()

    @file_report.validator
    def _validate_file_report(self, action: FileReport) -> None:
        self._require_staff(action, "file a drill report")
        require(self.completed(), "complete the drill before filing its report")
        require(not self.reported(), "the report was already filed")


@workflow.defn(name="DrillSurveyWorkflow")
class DrillSurveyWorkflow:
    """One batch of the alarm survey: every resident of the range is asked at once with the callback
    step's automatic attempts (preferred channel first, the other after a failure, quiet hours waited
    out). It stays open until the survey window closes, so a late answer to any attempt still counts;
    whoever has not answered by then counts as no answer."""

    @workflow.init
    def __init__(self, batch: SurveyBatch) -> None:
        self.case_id = workflow.info().workflow_id
        self.drill_id = batch.drill_id
        self.policy = batch.policy
        self.messenger = Messenger(self.case_id, batch.policy, Background())
        self.callbacks = Callbacks()
        self.timeline: list[TimelineEntry] = []

    @workflow.run
    async def run(self, batch: SurveyBatch) -> SurveyTally:
        residents = await residents_in(batch.residents)
        asking = [
            asyncio.ensure_future(
                self.callbacks.ask(self, contact, CallbackPurpose.drill, batch.params, SURVEY_TEMPLATE)
            )
            for contact in residents
        ]
        left = batch.closes_at - workflow.now()
        if left > timedelta(0):
            workflow.set_current_details(f"Asking {len(residents)} residents until the survey closes.")
            await workflow.sleep(left, summary=f"survey closes {batch.closes_at:%Y-%m-%d %H:%M} UTC")
        for question in asking:
            question.cancel()
        asked = await asyncio.gather(*asking, return_exceptions=True)
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self.tally(residents, asked)

    def tally(self, residents: list[ResidentContact], asked: list[object]) -> SurveyTally:
        """1 (heard) or 2 (not heard), the latest answer of each resident to any of their attempts;
        no working phone is unreachable; anything else, no answer."""
        answers = {
            self.callbacks.asked[n]: reply.satisfied for n, reply in sorted(self.callbacks.replies.items())
        }
        counts = SurveyTally(asked=len(residents))
        for contact, outcome in zip(residents, asked, strict=True):
            heard = answers.get(contact.resident_id)
            if heard is True:
                counts.heard += 1
            elif heard is False:
                counts.not_heard += 1
                counts.not_heard_by.append(contact.resident_id)
            elif isinstance(outcome, Unanswered) and outcome.reason in UNREACHABLE:
                counts.unreachable += 1
            else:
                counts.no_answer += 1
        return counts

    def note(self, event: str, detail: Detail | None = None) -> None:
        self.timeline.append(TimelineEntry.recorded(workflow.now(), event, detail))

    @workflow.query
    def progress(self) -> list[TimelineEntry]:
        return self.timeline

    @workflow.signal
    def callback_reply(self, reply: CallbackReply) -> None:
        accepted = self.callbacks.reply(reply)
        self.note(
            "callback_reply", {"attempt": reply.attempt, "heard": reply.satisfied, "accepted": accepted}
        )

    def _last_attempt_to(self, resident_id: str) -> int | None:
        return max((n for n, asked in self.callbacks.asked.items() if asked == resident_id), default=None)

    @workflow.query
    def answered(self, resident_id: str) -> bool:
        """Whether this resident has answered the latest attempt made to them, so their page stops asking."""
        attempt = self._last_attempt_to(resident_id)
        return attempt is not None and attempt in self.callbacks.replies

    @workflow.update
    def answer_survey(self, answer: AnswerSurvey) -> SurveyAnswered:
        """The page answers the latest attempt made to this resident, under the rule of SMS and keypad."""
        attempt = self._last_attempt_to(answer.actor.id)
        assert attempt is not None
        now = workflow.now()
        self.callback_reply(CallbackReply(attempt=attempt, satisfied=answer.heard, channel=Channel.app,
                                          received_at=now))
        return SurveyAnswered(drill_id=self.drill_id, heard=answer.heard, at=now)

    @answer_survey.validator
    def _validate_answer_survey(self, answer: AnswerSurvey) -> None:
        """Only a resident this batch asked, once: the first answer to an attempt counts."""
        require(answer.actor.role is Role.resident, "only a resident asked in the survey can answer it")
        attempt = self._last_attempt_to(answer.actor.id)
        require(attempt is not None, "the survey has not asked you (yet)")
        require(attempt not in self.callbacks.replies, "you have already answered the survey")

    @workflow.signal
    def delivery_failed(self, failure: DeliveryFailed) -> None:
        accepted = self.callbacks.delivery_failed(failure)
        self.note(
            "delivery_failed", {"attempt": failure.attempt, "status": failure.status, "accepted": accepted}
        )
