"""The published SLA policy, snapshotted into each workflow when it starts (SPEC §2)."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from pydantic import Field, model_validator

from workflows.contracts import Channel, Contract, PositiveDuration, Severity, Tier

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
