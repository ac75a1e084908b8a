"""The vocabulary every boundary shares (API ↔ workflow ↔ activity): kinds, severities, tiers, roles,
channels, the people who act, and the checked text and time types.

Defined once and imported everywhere, so a field has one name and one meaning in the whole system; the
contracts built from it live beside it by concern: `policy` (the published SLA policy), `actions`
(people's updates and signals), `case_contracts` (a case's input, timeline and state),
`activity_contracts` (what activities take and give), and one module per other kind. Nothing here does
I/O: workflows import these modules.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import IntEnum, StrEnum
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints


class Contract(BaseModel):
    """Base of every contract: unknown fields are refused so a typo never silently does nothing."""

    model_config = ConfigDict(extra="forbid")


class Kind(StrEnum):
    repair = "repair"
    complaint = "complaint"
    hearing = "hearing"
    drill = "drill"
    question = "question"
    inspection = "inspection"


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


# --- who acts --------------------------------------------------------------------------------


class Actor(Contract):
    """The person behind an action; always taken from the bearer token, never from a request body."""

    id: ShortText
    role: Role


SYSTEM = Actor(id="steward", role=Role.system)


# --- how a callback ends ------------------------------------------------------------------


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
