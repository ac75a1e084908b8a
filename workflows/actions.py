"""What staff and residents do to a case (Temporal updates and signals), and Twilio's answers."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, StringConstraints

from workflows.contracts import (
    ActionId,
    Actor,
    AwareDatetime,
    CallbackResult,
    Channel,
    Contract,
    LongText,
    PhotoId,
    Photos,
    ReachedBy,
    Reason,
    Severity,
    ShortText,
    Tier,
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

    def own_fields(self) -> dict[str, object]:
        """What this kind of action says beyond who acted, when and under which id: what its record keeps."""
        return {name: value for name, value in self if name not in Action.model_fields}


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


class HandOn(Action):
    """A staff member left the directory: their open work goes on without them (an admin's action)."""

    staff_id: ShortText
    tier: Tier = Field(description="Their tier: the tier above it is told (the owner's supervisor).")
