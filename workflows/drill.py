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
from collections.abc import Callable
from datetime import datetime, timedelta

from temporalio import workflow

from workflows.names import Activity

with workflow.unsafe.imports_passed_through():
    from workflows import search
    from workflows.actions import Action
    from workflows.activity_contracts import BatchResult, ResidentRange
    from workflows.background import Background
    from workflows.case_contracts import TimelineEntry, Transition
    from workflows.clock import Deadline, deadline_summary, wait_for
    from workflows.contracts import SYSTEM, Actor, Kind
    from workflows.drill_actions import DrillActions
    from workflows.drill_contracts import (
        DrillInput,
        DrillState,
        DrillStatus,
        FindingRecord,
        StepRecord,
        SurveyBatch,
        SurveyTally,
        community_time,
    )
    from workflows.drill_survey import DrillSurveyWorkflow
    from workflows.findings import FINDING_RESIDENT_FITS, fitted_id, open_finding_case, plain_code
    from workflows.ladder import EscalationLadder, EscalationReason
    from workflows.messenger import Messenger
    from workflows.notice_batches import resident_ranges, tell_every_household
    from workflows.projected import DrillEvent, project
    from workflows.rules import Detail

SURVEY_TEMPLATE = "drill_survey"
OVERDUE = {EscalationReason.start_missed: "start", EscalationReason.report_missed: "report"}


@workflow.defn(name="DrillWorkflow")
class DrillWorkflow(DrillActions):
    @workflow.init
    def __init__(self, drill: DrillInput) -> None:
        info = workflow.info()
        self.drill = drill
        self.rules = drill.rules
        self.drill_id = info.workflow_id
        self.code = plain_code(self.drill_id)
        fired = info.typed_search_attributes.get(search.SCHEDULED_START) or info.start_time
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
        await self.background.drain()
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

    async def _open_repair_case(self, finding: FindingRecord) -> None:
        resident = fitted_id(self.code) if workflow.patched(FINDING_RESIDENT_FITS) else self.code
        opened = await open_finding_case(
            self.drill.building_id, self.drill.policy, f"drill {self.code}", finding, self.completed_by,
            resident,
        )
        event = "repair_case_opened" if opened else "repair_case_exists"
        self.note(event, {"finding": finding.number, "case": finding.case_id})

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
