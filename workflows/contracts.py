"""The typed contracts that cross every boundary: API ↔ workflow ↔ activity.

Defined once here and imported everywhere (the API, the activities, the tests), so a field has one
name and one meaning in the whole system. Nothing here does I/O: workflows import this module.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import IntEnum, StrEnum
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, model_validator


class Contract(BaseModel):
    """Base of every contract: unknown fields are refused so a typo never silently does nothing."""

    model_config = ConfigDict(extra="forbid")


class Kind(StrEnum):
    repair = "repair"
    complaint = "complaint"
    hearing = "hearing"
    drill = "drill"
    question = "question"


class ComplaintCategory(StrEnum):
    """What a complaint is about; `CaseInput.category` of a complaint is one of these."""

    noise = "noise"
    sanitation = "sanitation"
    security = "security"
    staff_conduct = "staff_conduct"
    fees = "fees"
    other = "other"


class Severity(StrEnum):
    emergency = "emergency"
    urgent = "urgent"
    normal = "normal"
    low = "low"

    @property
    def rank(self) -> int:
        """Higher is more severe; used to tell a raise from a lowering."""
        return {"low": 0, "normal": 1, "urgent": 2, "emergency": 3}[self.value]


class Tier(IntEnum):
    handler = 0
    team_lead = 1
    property_manager = 2
    general_manager = 3


class Channel(StrEnum):
    sms = "sms"
    voice = "voice"
    app = "app"


class Locale(StrEnum):
    zh_cn = "zh-CN"
    en = "en"


class Role(StrEnum):
    resident = "resident"
    staff = "staff"
    supervisor = "supervisor"
    admin = "admin"
    system = "system"


class Status(StrEnum):
    submitted = "submitted"
    dispatched = "dispatched"
    acknowledged = "acknowledged"
    in_progress = "in_progress"
    resolved = "resolved"
    callback = "callback"
    manual_callback = "manual_callback"
    closed = "closed"


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("a time must carry its UTC offset, e.g. 2026-11-26T10:00:00+08:00")
    return value


AwareDatetime = Annotated[datetime, AfterValidator(_aware)]
ShortText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
LongText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4000)]
Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=500)]
Detail = dict[str, str | int | bool | list[str] | None]
"""What a timeline entry says beyond its event: ids, counts, notes, and a note's photo ids."""
ActionId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{8,64}$")]
PHOTO_ID = r"^PH-[A-Za-z0-9_-]{8,36}$"
PhotoId = Annotated[str, StringConstraints(pattern=PHOTO_ID)]
Photos = Annotated[list[PhotoId], Field(default_factory=list, max_length=10,
                                        description="Ids from POST /photos, for this case.")]
PositiveDuration = Annotated[timedelta, Field(gt=timedelta(0))]


# --- the published policy, snapshotted into each workflow at start -----------------------------


class SeverityPolicy(Contract):
    response: PositiveDuration
    resolution: PositiveDuration
    first_tier: Tier
    staff_channel: Channel


class CallbackPolicy(Contract):
    wait: PositiveDuration = timedelta(hours=4)
    attempts: Annotated[int, Field(ge=1, le=10)] = 3
    manual_response: PositiveDuration = timedelta(minutes=30)


class QuietHours(Contract):
    """Community-local window in which non-urgent resident messages wait; may wrap midnight."""

    start: str = "22:00"
    end: str = "08:00"


class DeliveryPolicy(Contract):
    """How long a message Twilio cannot take (an outage, a rate limit) is retried, backing off
    exponentially up to `max_backoff`, before it counts as not delivered: a callback attempt then
    moves to the other channel and finally to a manual callback; a staff notice is logged."""

    retry_for: PositiveDuration = timedelta(hours=6)
    max_backoff: PositiveDuration = timedelta(minutes=5)
    app_unread_sms_after: PositiveDuration = Field(
        default=timedelta(minutes=10), description="An app notice not opened in this time (never longer "
        "than the case's response window) also goes by SMS.")

    @model_validator(mode="after")
    def _backoff_within_budget(self) -> DeliveryPolicy:
        if self.max_backoff > self.retry_for:
            raise ValueError("delivery.max_backoff must not be longer than delivery.retry_for")
        return self


class RateLimit(Contract):
    """At most `count` in any window of `per`."""

    count: Annotated[int, Field(ge=1)]
    per: PositiveDuration


class AbuseLimits(Contract):
    """What one resident may start before the API answers 429 (`[limits]` of the policy file).

    Counted per resident (submissions), per household (emergencies: each pages a property manager by
    voice) and per resident and hearing (objections: each pages staff). Staff filing for a resident
    are not counted."""

    submissions: RateLimit = RateLimit(count=10, per=timedelta(hours=1))
    emergencies: RateLimit = RateLimit(count=3, per=timedelta(days=1))
    objections: RateLimit = RateLimit(count=20, per=timedelta(days=365))


class SlaPolicy(Contract):
    severities: dict[Severity, SeverityPolicy]
    callback: CallbackPolicy = CallbackPolicy()
    delivery: DeliveryPolicy = DeliveryPolicy()
    limits: AbuseLimits = AbuseLimits()
    warning_ratio: Annotated[float, Field(gt=0, lt=1)] = 0.75
    timezone: str = "Asia/Shanghai"
    quiet_hours: QuietHours = QuietHours()

    def for_severity(self, severity: Severity) -> SeverityPolicy:
        return self.severities[severity]


DEFAULT_SEVERITIES: dict[Severity, SeverityPolicy] = {
    Severity.emergency: SeverityPolicy(
        response=timedelta(minutes=5), resolution=timedelta(hours=4),
        first_tier=Tier.property_manager, staff_channel=Channel.voice,
    ),
    Severity.urgent: SeverityPolicy(
        response=timedelta(minutes=15), resolution=timedelta(hours=12),
        first_tier=Tier.team_lead, staff_channel=Channel.sms,
    ),
    Severity.normal: SeverityPolicy(
        response=timedelta(minutes=30), resolution=timedelta(hours=24),
        first_tier=Tier.handler, staff_channel=Channel.sms,
    ),
    Severity.low: SeverityPolicy(
        response=timedelta(minutes=30), resolution=timedelta(hours=72),
        first_tier=Tier.handler, staff_channel=Channel.app,
    ),
}


# --- who acts --------------------------------------------------------------------------------


class Actor(Contract):
    """The person behind an action; always taken from the bearer token, never from a request body."""

    id: ShortText
    role: Role


SYSTEM = Actor(id="steward", role=Role.system)


# --- starting a case -------------------------------------------------------------------------


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


# --- staff and resident actions (Temporal updates and signals) -------------------------------


class Action(Contract):
    actor: Actor
    occurred_at: AwareDatetime | None = Field(
        default=None, description="When it happened on the device, for actions made offline."
    )
    action_id: ActionId | None = Field(
        default=None, description="The device's id for this action (the Temporal update id): the same "
        "action sent again acts once and is answered as the first was.",
    )
    actor_tier: Tier | None = Field(
        default=None,
        description="The acting staff member's tier, looked up in the directory by the API (never sent "
        "by a client), so a validator can keep a complaint above the tier of the person it is about.",
    )


class Acknowledge(Action):
    pass


class ProgressNote(Action):
    note: LongText
    photos: Photos


class ResidentMessage(Contract):
    """More from the resident about their open case, e.g. a second SMS after the one that opened it."""

    actor: Actor
    text: LongText
    channel: Channel


class Pause(Action):
    reason: Reason
    resume_at: AwareDatetime | None = None


class Resume(Action):
    pass


class Reassign(Action):
    handler_id: ShortText
    reason: Reason


class ChangeSeverity(Action):
    severity: Severity
    reason: Reason | None = None


class Extend(Action):
    resolution_due: AwareDatetime
    reason: Reason | None = Field(
        default=None, description="Required; optional here so the workflow can refuse it with a clear reason."
    )


class AgreePlan(Action):
    """A longer resolution plan a supervisor agreed with the resident of a complaint."""

    resolution_due: AwareDatetime
    reason: Reason
    plan: LongText = Field(description="What was agreed with the resident: the steps and who does them.")


class Resolve(Action):
    note: LongText
    photos: Photos


class Withdraw(Action):
    reason: Reason | None = None


RESIDENT_PHOTOS = 4
"""How many photos a resident may add to their own case (the report page's limit)."""


class AddPhotos(Action):
    """Photos the resident took of what they report, added to their own case after uploading them."""

    photos: Annotated[list[PhotoId], Field(min_length=1, max_length=RESIDENT_PHOTOS,
                                           description="Ids from POST /requests/{id}/photos.")]


Comment = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=1000)]


class AnswerCallback(Action):
    """The resident's answer to the running callback, given in the app instead of by SMS or keypad."""

    satisfied: bool
    comment: Comment | None = None


class CallbackPurpose(StrEnum):
    """Why the resident is being called back; chooses the wording of `callback_request`."""

    resolved = "resolved"
    withdrawn = "withdrawn"
    hearing = "hearing"
    drill = "drill"


class CallbackResult(StrEnum):
    satisfied = "satisfied"
    not_satisfied = "not_satisfied"
    unreachable = "unreachable"


class ReachedBy(StrEnum):
    """How staff reached the resident for a manual callback."""

    phone = "phone"
    visit = "visit"


class RecordCallback(Action):
    """A callback outcome recorded by staff after phoning or visiting the resident: when the case asks
    for a manual callback, or by a supervisor (with a reason) while the automatic callback still asks."""

    result: CallbackResult
    note: LongText
    reached_by: ReachedBy | None = Field(
        default=None, description="How the resident was reached: a phone call or a visit (required)."
    )
    reason: Reason | None = Field(
        default=None,
        description="Why a supervisor records the outcome while the automatic callback is still asking.",
    )


class CallbackReply(Contract):
    """The resident's answer to an automatic callback, from the SMS or voice webhook."""

    attempt: int
    satisfied: bool
    channel: Channel
    received_at: AwareDatetime


class DeliveryFailed(Contract):
    """Twilio reported a message or call for a callback attempt as failed or unanswered."""

    attempt: int
    channel: Channel
    status: str
    error_code: int | None = None


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


class CaseState(CaseSummary):
    """What `GET /requests/{id}` answers, from the workflow query."""

    timeline: list[TimelineEntry]
    description: str | None = Field(default=None, description="What the resident reported.")


# --- activity inputs and outputs -------------------------------------------------------------


class StaffContact(Contract):
    staff_id: str
    name: str
    tier: Tier
    phone: str | None
    locale: Locale


class ResidentContact(Contract):
    resident_id: str
    phone: str | None
    locale: Locale
    preferred_channel: Channel
    opted_out: bool
    bad_channels: list[Channel] = []


class DispatchRequest(Contract):
    case_id: str
    kind: Kind = Kind.repair
    category: str
    building_id: str
    exclude_staff_ids: list[str] = []
    min_tier: Tier = Tier.handler


class DispatchResult(Contract):
    handler: StaffContact | None
    reason: str


class TierRequest(Contract):
    building_id: str
    tier: Tier


class Notice(Contract):
    """One message or call. The text is rendered by the activity from `template` in `locale`."""

    case_id: str
    key: str = Field(description="Idempotency key: one send per key, whatever the retries.")
    to: str
    channel: Channel
    locale: Locale
    template: str
    params: dict[str, str] = {}
    attempt: int | None = Field(default=None, description="Callback attempt this notice belongs to.")
    gather: str | None = Field(default=None, description="Keypad menu for a call: satisfaction or ack.")
    recipient_id: str | None = Field(default=None, description="The staff or resident id it is for.")


class SendResult(Contract):
    sid: str | None
    status: str


class CaseEvent(Contract):
    """One transition projected into the SQL read model; (case_id, seq) makes the write idempotent."""

    case_id: str
    seq: int
    event: str
    at: datetime
    actor_id: str | None = None
    device_at: datetime | None = None
    detail: Detail = {}
    state: CaseSummary


# --- every household of some buildings, in batches (hearing notices, drill notices and surveys) ---


class ResidentPages(Contract):
    building_ids: list[str]
    size: Annotated[int, Field(ge=1)]


class ResidentRange(Contract):
    """Residents of these buildings with `after` < id ≤ `through` (either end open when None)."""

    building_ids: list[str]
    after: str | None = None
    through: str | None = None


class NoticeBatch(Contract):
    """One message (`template`, `params`) to a batch of residents on behalf of case `case_id`."""

    case_id: str
    template: str
    residents: ResidentRange
    params: dict[str, str]
    policy: SlaPolicy


class BatchResult(Contract):
    residents: int
    sent: int
    unreachable: int


class SendManyResult(Contract):
    sent: int
    failed: list[str] = Field(default=[], description="Keys that could not be delivered, with why.")


class HandOn(Action):
    """A staff member left the directory: their open work goes on without them (an admin's action)."""

    staff_id: ShortText
    tier: Tier = Field(description="Their tier: the tier above it is told (the owner's supervisor).")
