"""The contracts of a public hearing (SPEC §3): what a supervisor schedules, what residents send, what
the hearing records and answers with, and what its objector callbacks exchange.

Like `workflows.contracts` (whose building blocks these reuse) nothing here does I/O.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, Field, StringConstraints, model_validator

from workflows.actions import Action
from workflows.case_contracts import TimelineEntry
from workflows.contracts import (
    Actor,
    AwareDatetime,
    CallbackResult,
    Channel,
    Contract,
    LongText,
    PositiveDuration,
    Reason,
    ShortText,
)
from workflows.policy import SlaPolicy

DirectoryId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,32}$")]
MessageText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=1000)]
Amount = Annotated[Decimal, Field(ge=0, max_digits=14, decimal_places=2)]


def _distinct(values: list[str]) -> list[str]:
    if len(set(values)) != len(values):
        raise ValueError("list each building once")
    return values


class HearingStatus(StrEnum):
    scheduled = "scheduled"
    """Created; the notice is going out."""
    noticed = "noticed"
    """Every affected household was sent the notice; objections and questions are open."""
    held = "held"
    decided = "decided"
    """The decision is being published."""
    callback = "callback"
    """Published; every objector is being called back."""
    closed = "closed"


class Outcome(StrEnum):
    approved = "approved"
    rejected = "rejected"
    revised = "revised"


class Phase(StrEnum):
    """What a broadcast to every affected household says (and the template it uses)."""

    notice = "hearing_notice"
    reminder = "hearing_reminder"
    decision = "hearing_decision"


class CostItem(Contract):
    item: ShortText
    amount: Amount = Field(description="In yuan, two decimals at most.")


class HearingPlan(Contract):
    """A hearing as a supervisor schedules it."""

    title: ShortText
    reason: LongText = Field(description="Why: the fee increase or the major repair and what it buys.")
    costs: list[CostItem] = Field(min_length=1, max_length=50, description="The cost breakdown.")
    building_ids: Annotated[list[DirectoryId], AfterValidator(_distinct)] = Field(
        min_length=1, max_length=200, description="The buildings whose households are affected."
    )
    hearing_at: AwareDatetime = Field(
        description="When the hearing is held; at least the notice period ahead."
    )
    place: ShortText


# --- what people send ----------------------------------------------------------------------------


class Objection(Action):
    """An objection or question of a resident of an affected building (app or SMS)."""

    building_id: ShortText = Field(description="The resident's building, from the directory.")
    unit: ShortText | None = None
    text: MessageText
    channel: Channel = Channel.app


class AnswerObjection(Action):
    number: Annotated[int, Field(ge=1)]
    answer: MessageText


class RecordHearing(Action):
    minutes: LongText
    attendance: Annotated[int, Field(ge=0, description="Households present or represented.")]
    votes_for: Annotated[int, Field(ge=0)]
    votes_against: Annotated[int, Field(ge=0)]
    abstentions: Annotated[int, Field(ge=0)]


class Decide(Action):
    outcome: Outcome
    reason: Reason
    revised_costs: list[CostItem] | None = Field(
        default=None, min_length=1, max_length=50, description="The new breakdown; required for revised."
    )

    @model_validator(mode="after")
    def _costs_only_when_revised(self) -> Decide:
        if (self.outcome is Outcome.revised) != (self.revised_costs is not None):
            raise ValueError("revised_costs is given exactly when the outcome is revised")
        return self


# --- what the hearing records ----------------------------------------------------------------


class ObjectionReceipt(Contract):
    hearing_id: str
    number: int
    answer_due: datetime


class ObjectionRecord(Contract):
    number: int
    resident_id: str
    building_id: str
    unit: str | None
    text: str | None = Field(description="The objection; null in a hearing's state once it continued as new "
                             "(kept in the database, where the API reads it).")
    channel: Channel
    received_at: datetime
    answer_due: datetime
    tier: int = Field(description="Who is answerable for it now (escalation tier).")
    escalations: int = 0
    next_page_at: datetime | None = Field(default=None, description="When it escalates next if unanswered.")
    answer: str | None = None
    answered_by: str | None = None
    answered_at: datetime | None = None
    kept: bool = Field(default=False, description="Its text and answer are kept in the database, so the "
                       "hearing carries neither when it continues as new.")

    @property
    def answered(self) -> bool:
        return self.answered_at is not None


class KeptObjection(Contract):
    """An objection's text on receipt, or its answer once given, for the database."""

    hearing_id: str
    number: int
    resident_id: str
    text: str | None = None
    received_at: datetime | None = None
    answer: str | None = None
    answered_by: str | None = None
    answered_at: datetime | None = None


class HeldRecord(Contract):
    minutes: str
    attendance: int
    votes_for: int
    votes_against: int
    abstentions: int
    recorded_by: str
    at: datetime


class DecisionRecord(Contract):
    outcome: Outcome
    reason: str
    revised_costs: list[CostItem] | None
    decided_by: str
    at: datetime


class Broadcast(Contract):
    """One message to every affected household, sent in batches."""

    phase: Phase
    batches: int
    residents: int = 0
    sent: int = 0
    unreachable: int = Field(default=0, description="Opted out, no phone, or the number failed.")
    started_at: datetime
    finished_at: datetime | None = None


class ObjectorCallback(Contract):
    resident_id: str
    case_id: str = Field(description="The callback case (a child workflow) of this objector.")
    result: CallbackResult | None = None
    recorded_by: str | None = None
    at: datetime | None = None


class ObjectionFigures(Contract):
    """A hearing's objections and objector callbacks in figures: all the read model keeps of them (the
    hearings list's columns, the hearings report). Projected instead of the records, whose list made
    every projection's input grow by one record per objection, and so a hearing's history quadratic."""

    objections: int = 0
    open: int = Field(default=0, description="Objections still waiting for their written answer.")
    next_answer_due: datetime | None = Field(default=None, description="The earliest open one's deadline.")
    answered: int = 0
    answered_in_time: int = Field(default=0, description="Answered by the objection's answer deadline.")
    median_answer_seconds: float | None = Field(default=None, description="Receipt to answer, answered ones.")
    callbacks: int = Field(default=0, description="Objectors to call back about the decision.")
    called_back: int = 0

    @classmethod
    def of(
        cls, objections: Iterable[ObjectionRecord], callbacks: Iterable[ObjectorCallback]
    ) -> ObjectionFigures:
        count, due, spans, in_time = 0, [], [], 0
        for record in objections:
            count += 1
            if record.answered_at is None:
                due.append(record.answer_due)
                continue
            spans.append((record.answered_at - record.received_at).total_seconds())
            in_time += record.answered_at <= record.answer_due
        results = [callback.result for callback in callbacks]
        return cls(
            objections=count, open=len(due), next_answer_due=min(due, default=None), answered=len(spans),
            answered_in_time=in_time, median_answer_seconds=statistics.median(spans) if spans else None,
            callbacks=len(results), called_back=sum(result is not None for result in results),
        )


class HearingProgress(Contract):
    """Everything a hearing has done so far; handed to the next run when it continues as new."""

    status: HearingStatus = HearingStatus.scheduled
    broadcasts: list[Broadcast] = []
    reminder_skipped: bool = False
    objections: list[ObjectionRecord] = []
    held: HeldRecord | None = None
    decision: DecisionRecord | None = None
    callbacks: list[ObjectorCallback] = []
    timeline: list[TimelineEntry] = []
    keys_sent: int = 0
    runs: int = 1


class HearingInput(HearingPlan):
    created_by: Actor
    created_at: AwareDatetime
    policy: SlaPolicy
    answer_within: PositiveDuration = timedelta(hours=24)
    batch_size: Annotated[int, Field(ge=1, le=1000)] = 250
    history_limit: Annotated[int, Field(ge=100)] = 10_000
    carried: HearingProgress | None = Field(
        default=None, description="Set when the hearing continues as new."
    )


class HearingState(Contract):
    """What `GET /hearings/{id}` answers, from the workflow query."""

    hearing_id: str
    status: HearingStatus
    title: str
    reason: str
    costs: list[CostItem]
    total: Decimal
    building_ids: list[str]
    hearing_at: datetime
    place: str
    created_by: str
    created_at: datetime
    reminder_at: datetime
    broadcasts: list[Broadcast]
    objections: list[ObjectionRecord]
    held: HeldRecord | None
    decision: DecisionRecord | None
    callbacks: list[ObjectorCallback]
    next_deadline: datetime | None
    next_deadline_kind: str | None
    runs: int = Field(description="Runs of the workflow so far (it continues as new on a long history).")
    timeline: list[TimelineEntry]
