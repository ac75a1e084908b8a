"""A case: what starts it, its timeline, its callback record and the state it shows the world."""

from __future__ import annotations

from datetime import datetime, timedelta

from pydantic import Field

from workflows.actions import Action
from workflows.contracts import (
    SYSTEM,
    Actor,
    AwareDatetime,
    CallbackResult,
    Channel,
    Contract,
    Detail,
    Kind,
    LongText,
    Severity,
    ShortText,
    Status,
    Tier,
)
from workflows.policy import SlaPolicy

# --- starting a case -------------------------------------------------------------------------


class IncidentHold(Contract):
    """The building-wide incident holding a case (issue 22): given at its start when it was filed while
    the incident was open, or when staff attach it."""

    incident_id: ShortText
    title: ShortText
    expected_restoration: AwareDatetime


class CaseInput(Contract):
    kind: Kind = Kind.repair
    severity: Severity = Severity.normal
    category: ShortText
    title: ShortText
    description: LongText
    building_id: ShortText
    unit: ShortText | None = None
    resident_id: ShortText
    origin: Channel = Channel.app
    submitted_by: Actor
    submitted_at: AwareDatetime
    policy: SlaPolicy
    subject_staff_id: ShortText | None = Field(
        default=None, description="For a complaint about a staff member: who it is about."
    )
    equipment_id: ShortText | None = Field(
        default=None, description="For a repair of a device in the equipment records (named by staff)."
    )
    checklist: list[ShortText] = Field(
        default_factory=list, max_length=30, description="An inspection's steps, from its maintenance plan."
    )
    held_by: IncidentHold | None = Field(
        default=None, description="The open incident this report joins (set by the filing, never a client)."
    )


# --- what the workflow tells the world -------------------------------------------------------


class TimelineEntry(Contract):
    at: datetime
    device_at: datetime | None = None
    actor: Actor | None = None
    event: str
    detail: Detail = {}

    @classmethod
    def recorded(cls, at: datetime, event: str, detail: Detail | None = None,
                 actor: Actor = SYSTEM, action: Action | None = None) -> TimelineEntry:
        """An entry as every workflow keeps one: a person's action names its actor and device time."""
        return cls(at=at, device_at=action.occurred_at if action else None,
                   actor=action.actor if action else actor, event=event, detail=detail or {})


class CallbackRecord(Contract):
    result: CallbackResult
    channel: Channel | None
    attempts: int
    recorded_by: Actor
    at: datetime
    note: str | None = None


class CaseSummary(Contract):
    """The live state of a case without its timeline: what the read model and lists need."""

    case_id: str
    kind: Kind
    status: Status
    severity: Severity
    category: str
    title: str
    building_id: str
    unit: str | None
    resident_id: str
    tier: Tier
    handler_id: str | None
    owner_id: str | None
    submitted_at: datetime
    response_due: datetime | None
    resolution_due: datetime
    warned: bool
    response_breached: bool
    resolution_breached: bool
    paused: bool
    paused_total: timedelta
    reopen_count: int
    withdrawn: bool
    callback: CallbackRecord | None
    callback_attempt: int
    next_deadline: datetime | None
    next_deadline_kind: str | None
    escalations: int = 0
    dispatched_at: datetime | None = None
    acknowledged_at: datetime | None = None
    resolved_at: datetime | None = None
    callback_at: datetime | None = None
    closed_at: datetime | None = None
    parent_case_id: str | None = Field(
        default=None, description="The case this one was opened by, e.g. the drill whose finding it is."
    )
    subject_staff_id: str | None = Field(
        default=None, description="The staff member a complaint is about, kept out of their lists."
    )
    equipment_id: str | None = Field(default=None, description="The device a repair is about.")
    incident_id: str | None = Field(default=None, description="The building-wide incident holding it.")


class CaseState(CaseSummary):
    """What `GET /requests/{id}` answers, from the workflow query."""

    timeline: list[TimelineEntry]
    description: str | None = Field(default=None, description="What the resident reported.")


class Transition(Contract):
    """One timeline entry projected into the SQL read model; (case_id, seq) makes its write idempotent."""

    case_id: str
    seq: int
    event: str
    at: datetime
    actor_id: str | None = None
    device_at: datetime | None = None
    detail: Detail = {}

    @classmethod
    def of(cls, case_id: str, seq: int, entry: TimelineEntry) -> dict:
        return {"case_id": case_id, "seq": seq, "event": entry.event, "at": entry.at,
                "actor_id": entry.actor.id if entry.actor else None, "device_at": entry.device_at,
                "detail": entry.detail}


class CaseEvent(Transition):
    state: CaseSummary


class CaseEvents(Contract):
    """The transitions of one workflow task, written together with the case's state after the last."""

    case_id: str
    transitions: list[Transition]
    state: CaseSummary
