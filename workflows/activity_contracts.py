"""What the activities take and give: contacts, dispatch, notices, and the household batches."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from workflows.case_contracts import CaseEvents
from workflows.contracts import Channel, Contract, Kind, Locale, Tier
from workflows.policy import SlaPolicy

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


class Carrying(Contract):
    """An activity of a case (a send, the callback step's contact look-up) that first writes the case's
    transitions of the same workflow task to the read model: one activity where there were two
    (`workflows/case_projection.py`)."""

    carried: CaseEvents | None = None


class ContactLookup(Carrying):
    """A resident's contact as it is now: what the callback step reads before its attempts."""

    resident_id: str


class Notice(Carrying):
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


class ResidentNotice(Carrying):
    """A notice to a resident whose contact the send reads as it is now, choosing the channel by the one
    rule (`workflows/messenger.py resident_channel`): one activity instead of a look-up and a send."""

    case_id: str
    key: str = Field(description="Idempotency key: one send per key, whatever the retries.")
    resident_id: str
    template: str
    params: dict[str, str] = {}


class StaffNotices(Carrying):
    """One notice to staff whose contacts the send reads as they are then: these people and the staff on
    duty in a tier; each person's is `{key}:{staff_id}:{channel}` (a voice page also goes by SMS)."""

    case_id: str
    key: str
    staff_ids: list[str] = []
    tier: TierRequest | None = None
    channel: Channel = Field(description="sms or voice: an app notice waits for its reading in the workflow.")
    template: str
    params: dict[str, str] = {}
    gather: str | None = None


class SendResult(Contract):
    sid: str | None
    status: str


# --- every household of some buildings, in batches (hearing notices, drill notices and surveys) ---


class ResidentPages(Contract):
    building_ids: list[str]
    size: Annotated[int, Field(ge=1)]
    units: list[str] | None = Field(default=None, description="Only these units (an incident's).")


class ResidentRange(Contract):
    """Residents of these buildings with `after` < id ≤ `through` (either end open when None)."""

    building_ids: list[str]
    after: str | None = None
    through: str | None = None
    units: list[str] | None = Field(default=None, description="Only these units (an incident's).")


class NoticeBatch(Contract):
    """One message (`template`, `params`) to a batch of residents on behalf of case `case_id`."""

    case_id: str
    template: str
    residents: ResidentRange
    params: dict[str, str]
    policy: SlaPolicy
    urgent: bool = Field(default=False, description="Sent in quiet hours too (an emergency's notice).")


class BatchResult(Contract):
    residents: int
    sent: int
    unreachable: int


class SendManyResult(Contract):
    sent: int
    failed: list[str] = Field(default=[], description="Keys that could not be delivered, with why.")
