"""The contracts of a drill (SPEC §3): what a supervisor plans, what staff report, what the drill records,
and what its survey batches return.

Like `workflows.contracts` (whose building blocks these reuse) nothing here does I/O.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Annotated
from zoneinfo import ZoneInfo

from pydantic import Field

from workflows.actions import Action
from workflows.activity_contracts import BatchResult, ResidentRange
from workflows.case_contracts import TimelineEntry
from workflows.contracts import (
    Actor,
    AwareDatetime,
    Channel,
    Contract,
    LongText,
    PositiveDuration,
    Severity,
    ShortText,
    Tier,
)
from workflows.policy import SlaPolicy

DAY = timedelta(days=1)


def community_time(moment: datetime, timezone: str) -> str:
    """A moment as people in the community read it, e.g. `2026-11-30 10:00 (Asia/Shanghai)`."""
    return f"{moment.astimezone(ZoneInfo(timezone)):%Y-%m-%d %H:%M} ({timezone})"


class DrillType(StrEnum):
    fire = "fire"
    flood = "flood"
    security = "security"


DEFAULT_STEPS: dict[DrillType, list[str]] = {
    DrillType.fire: [
        "Sound the fire alarm on every floor",
        "Open every stairwell door and fire exit",
        "Guide residents down the stairs to the assembly point",
        "Count residents at the assembly point",
        "Check extinguishers, hydrants and emergency lighting",
        "Sound the all-clear",
    ],
    DrillType.flood: [
        "Sound the flood warning",
        "Close the basement and garage flood barriers",
        "Start and test the sump pumps",
        "Move vehicles out of the basement garage",
        "Check the drains and gullies around the building",
        "Stand down",
    ],
    DrillType.security: [
        "Sound the security alert",
        "Lock the entrances and check access control",
        "Check CCTV coverage of the entrances and lifts",
        "Patrol every floor and stairwell",
        "Test the intercoms and emergency call points",
        "Stand down",
    ],
}

Steps = Annotated[list[ShortText], Field(min_length=1, max_length=30)]


class DrillRules(Contract):
    """The drill's deadlines, snapshotted into each drill when it starts (like the SLA policy)."""

    notice_period: PositiveDuration = Field(
        default=timedelta(days=3), description="Residents are told at least this long before the drill."
    )
    reminder_before: PositiveDuration = Field(default=DAY, description="The reminder: the day before.")
    start_within: PositiveDuration = Field(
        default=timedelta(minutes=30), description="Staff start the drill within this of the scheduled time."
    )
    report_within: PositiveDuration = Field(
        default=timedelta(hours=24), description="The report is due this long after completion."
    )
    survey_window: PositiveDuration = Field(
        default=timedelta(hours=24), description="How long residents are asked whether they heard the alarm."
    )
    batch_size: Annotated[int, Field(ge=1, le=1000)] = Field(
        default=200, description="Residents per notice or survey batch (one child workflow each)."
    )
    first_tier: Tier = Tier.team_lead
    staff_channel: Channel = Channel.sms

    @property
    def lead_days(self) -> int:
        """Whole days between a schedule's action and its drill: the notice period, rounded up."""
        return max(1, math.ceil(self.notice_period / DAY))

    def drill_at(self, fired: datetime, timezone: str) -> datetime:
        """The drill a schedule's action is for: `lead_days` later, at the same community-local time
        (a change of clocks in between moves it in UTC, not on the wall)."""
        local = fired.astimezone(ZoneInfo(timezone))
        return (local + timedelta(days=self.lead_days)).astimezone(UTC)

    def fires_at(self, drill_at: datetime, timezone: str) -> datetime:
        """When a schedule acts for the drill at `drill_at`: the inverse of `drill_at`."""
        local = drill_at.astimezone(ZoneInfo(timezone))
        return (local - timedelta(days=self.lead_days)).astimezone(UTC)


class DrillInput(Contract):
    drill_type: DrillType
    building_id: ShortText
    title: ShortText
    scheduled_at: AwareDatetime | None = Field(
        default=None,
        description="None when a schedule starts the drill: it is then `lead_days` after the schedule's "
        "action, at the same community-local time.",
    )
    steps: Steps
    created_by: Actor
    schedule_id: ShortText | None = None
    policy: SlaPolicy
    rules: DrillRules


# --- staff actions ----------------------------------------------------------------------------


class StartDrill(Action):
    pass


class StepDone(Action):
    number: Annotated[int, Field(ge=1, description="The step's number in the checklist, from 1.")]
    note: LongText | None = None


class Finding(Contract):
    """Something the drill showed to be broken; it becomes a repair case."""

    title: ShortText
    description: LongText
    category: ShortText = "general"
    severity: Severity = Severity.normal
    unit: ShortText | None = None


class CompleteDrill(Action):
    participation: Annotated[int, Field(ge=0, description="Residents who took part.")]
    findings: Annotated[list[Finding], Field(max_length=50)] = []
    note: LongText | None = None


class FileReport(Action):
    summary: LongText


class AnswerSurvey(Action):
    """A resident's answer to "did you hear the alarm?" from their page, beside SMS and keypad."""

    heard: bool


# --- what the drill records ---------------------------------------------------------------------


class DrillStatus(StrEnum):
    planned = "planned"
    announced = "announced"
    started = "started"
    completed = "completed"
    closed = "closed"


class StepRecord(Contract):
    number: int
    text: str
    done_at: datetime | None = None
    done_by: str | None = None
    note: str | None = None


class FindingRecord(Finding):
    number: int
    case_id: str = Field(description="The repair case it became (a child workflow that outlives the drill).")


class SurveyTally(Contract):
    """Answers to "did you hear the alarm?"; residents who said no are listed by id."""

    asked: int = 0
    heard: int = 0
    not_heard: int = 0
    no_answer: int = 0
    unreachable: int = Field(default=0, description="Opted out, no phone, or no number that works.")
    not_heard_by: list[str] = []

    def __add__(self, other: SurveyTally) -> SurveyTally:
        return SurveyTally(
            asked=self.asked + other.asked,
            heard=self.heard + other.heard,
            not_heard=self.not_heard + other.not_heard,
            no_answer=self.no_answer + other.no_answer,
            unreachable=self.unreachable + other.unreachable,
            not_heard_by=sorted([*self.not_heard_by, *other.not_heard_by]),
        )


class SurveyAnswered(Contract):
    drill_id: str
    heard: bool
    at: datetime


class SurveyBatch(Contract):
    drill_id: str
    residents: ResidentRange
    params: dict[str, str]
    policy: SlaPolicy
    closes_at: datetime


class DrillState(Contract):
    drill_id: str
    code: str = Field(description="What residents and staff type: the id without characters a phone mangles.")
    drill_type: DrillType
    building_id: str
    title: str
    status: DrillStatus
    schedule_id: str | None
    created_by: str
    scheduled_at: datetime
    start_due: datetime
    reminder_at: datetime
    announced_at: datetime | None
    reminded_at: datetime | None
    started_at: datetime | None
    owner_id: str | None = Field(description="Who started the drill: told of every escalation after.")
    completed_at: datetime | None
    participation: int | None
    steps: list[StepRecord]
    findings: list[FindingRecord]
    report_due: datetime | None
    report: str | None
    reported_at: datetime | None
    tier: Tier
    escalations: int
    start_missed: bool
    report_missed: bool
    announcement: BatchResult | None = Field(description="Households told of the drill; null until sent.")
    reminder: BatchResult | None = Field(description="Households reminded the day before; null until then.")
    survey: SurveyTally
    survey_closes_at: datetime | None
    survey_batches: int
    survey_batches_done: int
    closed_at: datetime | None
    next_deadline: datetime | None
    next_deadline_kind: str | None
    timeline: list[TimelineEntry]
