"""How a case workflow tells people things: staff, tiers and residents, through `notify.send`.

Every notice gets a deterministic idempotency key (`case:n:recipient:channel`), so a retried activity
or a replayed workflow never sends twice. Staff are told at once. Non-urgent resident messages wait
out the community's quiet hours on a durable timer — never dropped. Notices the run method does not
need to wait for are posted as `Background` work, which the case drains before it ends.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

from workflows.names import Activity

with workflow.unsafe.imports_passed_through():
    from workflows.activity_contracts import (
        ContactLookup,
        Notice,
        ResidentContact,
        ResidentNotice,
        SendManyResult,
        SendResult,
        StaffContact,
        StaffNotices,
        TierRequest,
    )
    from workflows.background import Background
    from workflows.case_contracts import CaseEvents
    from workflows.contracts import Channel, Tier
    from workflows.policy import DeliveryPolicy, SlaPolicy

# How a case's sends and look-ups carry its projection (`CaseProjection.carrying`): given the activity
# to schedule with what it carries.
Carrier = Callable[[Callable[[CaseEvents | None], Awaitable[object]]], Awaitable[object]]

SEND_TIMEOUT = timedelta(seconds=30)
LOOKUP_TIMEOUT = timedelta(seconds=15)
# Cases started before this change told staff one after another; an escalation's notices now go together.
STAFF_NOTICES_TOGETHER = "staff-notices-together"
# Residents' notices looked their contact up in an activity of its own before the send (issue 18).
CONTACT_IN_SEND = "contact-in-send"
# Staff notices looked each person (and a tier's on-duty staff) up in activities of their own, then sent
# each notice in its own: an SMS or voice notice now reads its people and sends in one (issue 18).
STAFF_CONTACT_IN_SEND = "staff-contact-in-send"
# An app notice not opened in time also goes by SMS; workflows started before it only recorded app notices.
APP_NOTICE_SMS_FALLBACK = "app-notice-sms-fallback"


def quiet_hours_end(now: datetime, policy: SlaPolicy) -> datetime | None:
    """When the quiet-hours window that `now` falls in ends (UTC), or None outside it.

    The window is in the community's local time and may wrap midnight (22:00-08:00).
    """
    zone = ZoneInfo(policy.timezone)
    local = now.astimezone(zone)
    start = time.fromisoformat(policy.quiet_hours.start)
    end = time.fromisoformat(policy.quiet_hours.end)
    clock = local.time().replace(tzinfo=None)
    inside = start <= clock < end if start < end else clock >= start or clock < end
    if not inside:
        return None
    ends = local.replace(hour=end.hour, minute=end.minute, second=0, microsecond=0)
    if ends <= local:
        ends += timedelta(days=1)
    return ends.astimezone(UTC)


def send_retry(delivery: DeliveryPolicy) -> RetryPolicy:
    """Rides out a Twilio outage: exponential backoff capped at `max_backoff`, as many attempts as
    fit in `delivery.retry_for` (the schedule-to-close timeout); a refusal for good is not retried."""
    return RetryPolicy(
        maximum_interval=delivery.max_backoff, non_retryable_error_types=["InvalidNumber", "OptedOut"]
    )


def failure_type(error: ActivityError) -> str | None:
    cause = error.cause
    return cause.type if isinstance(cause, ApplicationError) else None


class Messenger:
    def __init__(
        self,
        case_id: str,
        policy: SlaPolicy,
        background: Background,
        sent: int = 0,
        response_window: Callable[[], timedelta] | None = None,
        finished: Callable[[], bool] = lambda: False,
        carrier: Carrier | None = None,
    ) -> None:
        """`response_window` caps how long an app notice may stay unread before its SMS; once
        `finished()` (the case closed) an unread app notice no longer needs one. A case's sends carry
        its projection through `carrier`."""
        self.case_id = case_id
        self.policy = policy
        self.background = background
        self._sent = sent
        self._staff: dict[str, StaffContact | None] = {}
        self._response_window = response_window
        self._finished = finished
        self._carrier = carrier

    @property
    def sent(self) -> int:
        """Keys handed out so far; a workflow that continues as new passes it on (`sent=`)."""
        return self._sent

    def next_key(self) -> str:
        self._sent += 1
        return f"{self.case_id}:{self._sent}"

    # --- lookups ---------------------------------------------------------------------------

    async def resident(self, resident_id: str) -> ResidentContact:
        """The resident's contact as it is now (opt-outs and bad channels change over time); a case's
        look-up carries its task's transitions as a send does (the resolve's, before the callback)."""
        return await self._carrying(lambda carried: workflow.execute_activity(
            Activity.RESIDENT_CONTACT,
            ContactLookup(resident_id=resident_id, carried=carried),
            result_type=ResidentContact,
            start_to_close_timeout=LOOKUP_TIMEOUT,
            summary="look up the resident's contact",
        ))

    async def staff(self, staff_id: str) -> StaffContact | None:
        if staff_id not in self._staff:
            self._staff[staff_id] = await workflow.execute_activity(
                Activity.STAFF_CONTACT,
                staff_id,
                result_type=StaffContact | None,
                start_to_close_timeout=LOOKUP_TIMEOUT,
                summary="look up a staff contact",
            )
        return self._staff[staff_id]

    async def on_duty(self, building_id: str, tier: Tier) -> list[StaffContact]:
        return await workflow.execute_activity(
            Activity.ON_DUTY_FOR_TIER,
            TierRequest(building_id=building_id, tier=tier),
            result_type=list[StaffContact],
            start_to_close_timeout=LOOKUP_TIMEOUT,
            summary=f"find tier {int(tier)} staff on duty",
        )

    # --- sending ---------------------------------------------------------------------------

    async def send(self, notice: Notice | ResidentNotice) -> SendResult | None:
        """One notice now, retried through an outage for `policy.delivery.retry_for`; raises
        ActivityError when it cannot be delivered (see `failure_type`). A resident's notice reads their
        contact in the same activity (None: nothing can reach them)."""
        to_resident = isinstance(notice, ResidentNotice)

        def send(carried: CaseEvents | None) -> Awaitable[SendResult | None]:
            return workflow.execute_activity(
                Activity.NOTIFY_RESIDENT if to_resident else Activity.NOTIFY,
                notice.model_copy(update={"carried": carried}),
                result_type=SendResult | None if to_resident else SendResult,
                start_to_close_timeout=SEND_TIMEOUT,
                schedule_to_close_timeout=self.policy.delivery.retry_for,
                retry_policy=send_retry(self.policy.delivery),
                summary=f"{notice.template} to the resident" if to_resident else
                f"{notice.template} by {notice.channel.value}",
            )

        return await self._carrying(send)

    async def _carrying(self, send: Callable[[CaseEvents | None], Awaitable[object]]) -> object:
        return await (self._carrier(send) if self._carrier else send(None))

    async def _send_logged(self, notice: Notice | ResidentNotice) -> None:
        try:
            if await self.send(notice) is None:
                workflow.logger.info("notice %s (%s) skipped: the resident cannot be messaged", notice.key,
                                     notice.template)
        except ActivityError as error:
            workflow.logger.warning(
                "notice %s (%s) not delivered: %s",
                notice.key,
                notice.template,
                failure_type(error) or "failed",
            )

    def app_unread_wait(self) -> timedelta:
        """How long an app notice may stay unread: the policy's time, never longer than the case's
        response window."""
        wait = self.policy.delivery.app_unread_sms_after
        return min(wait, self._response_window()) if self._response_window else wait

    async def _send_app_then_sms(self, notice: Notice) -> None:
        """An app notice, then, if nobody opened it in time, the same notice by SMS: no severity is
        ever silent for someone without the app open."""
        await self._send_logged(notice)
        if notice.channel is not Channel.app:
            return
        try:
            await workflow.wait_condition(self._finished, timeout=self.app_unread_wait(),
                                          timeout_summary=f"app notice {notice.template} unread")
            return
        except TimeoutError:
            pass
        read = await workflow.execute_activity(
            Activity.APP_NOTICE_READ, notice.key, result_type=bool, start_to_close_timeout=LOOKUP_TIMEOUT,
            summary="was the app notice opened?",
        )
        if not read:
            by_sms = notice.model_copy(update={"key": f"{notice.key}:sms", "channel": Channel.sms})
            await self._send_logged(by_sms)

    async def until_quiet_hours_end(self) -> None:
        """Durable sleep while the community is in quiet hours; returns at once outside them."""
        ends = quiet_hours_end(workflow.now(), self.policy)
        if ends is not None:
            workflow.set_current_details(f"Quiet hours: resident messages wait until {ends:%H:%M} UTC.")
            await workflow.sleep(
                ends - workflow.now(), summary=f"quiet hours until {ends:%Y-%m-%d %H:%M} UTC"
            )

    def tell_staff(
        self,
        staff_ids: list[str],
        channel: Channel,
        template: str,
        params: dict[str, str],
        tier: tuple[str, Tier] | None = None,
        gather: str | None = None,
    ) -> None:
        """In the background: these staff members, plus the on-duty staff of `(building, tier)`. By SMS or
        voice one activity reads who they are and sends; an app notice waits here to be read, then SMS."""
        if channel is not Channel.app and workflow.patched(STAFF_CONTACT_IN_SEND):
            notices = StaffNotices(
                case_id=self.case_id, key=self.next_key(), staff_ids=list(dict.fromkeys(staff_ids)),
                tier=TierRequest(building_id=tier[0], tier=tier[1]) if tier else None, channel=channel,
                template=template, params=params, gather=gather)
            self.background.start(self._send_to_staff(notices))
            return

        async def deliver() -> None:
            people = [c for c in [await self.staff(i) for i in dict.fromkeys(staff_ids)] if c]
            if tier is not None:
                people += await self.on_duty(*tier)
            notices = staff_notices(self.case_id, self.next_key(), people, channel, template, params, gather)
            send = self._send_logged
            if channel is Channel.app and workflow.patched(APP_NOTICE_SMS_FALLBACK):
                send = self._send_app_then_sms
            if workflow.patched(STAFF_NOTICES_TOGETHER):
                await asyncio.gather(*map(send, notices))
            else:
                for notice in notices:
                    await send(notice)

        self.background.start(deliver())

    async def _send_to_staff(self, notices: StaffNotices) -> None:
        try:
            sent = await self._carrying(lambda carried: workflow.execute_activity(
                Activity.NOTIFY_STAFF, notices.model_copy(update={"carried": carried}),
                result_type=SendManyResult,
                start_to_close_timeout=SEND_TIMEOUT,
                schedule_to_close_timeout=self.policy.delivery.retry_for,
                retry_policy=send_retry(self.policy.delivery),
                summary=f"{notices.template} by {notices.channel.value}",
            ))
        except ActivityError as error:
            workflow.logger.warning("notice %s (%s) not delivered: %s", notices.key, notices.template,
                                    failure_type(error) or "failed")
            return
        for failed in sent.failed:
            workflow.logger.warning("notice %s (%s) not delivered", failed, notices.template)

    def tell_resident(
        self, resident_id: str, template: str, params: dict[str, str], urgent: bool = False
    ) -> None:
        """In the background, on the resident's own channel, after quiet hours unless urgent."""
        key = self.next_key()

        async def deliver() -> None:
            if not urgent:
                await self.until_quiet_hours_end()
            if workflow.patched(CONTACT_IN_SEND):
                notice = ResidentNotice(case_id=self.case_id, key=key, resident_id=resident_id,
                                        template=template, params=params)
                await self._send_logged(notice)
                return
            contact = await self.resident(resident_id)
            channel = resident_channel(contact)
            if channel is None or not contact.phone:
                workflow.logger.info("notice %s (%s) skipped: the resident cannot be messaged", key, template)
                return
            await self._send_logged(
                Notice(
                    case_id=self.case_id,
                    key=key,
                    to=contact.phone,
                    channel=channel,
                    locale=contact.locale,
                    template=template,
                    params=params,
                    recipient_id=resident_id,
                )
            )

        self.background.start(deliver())


def staff_notices(
    case_id: str,
    key: str,
    staff: list[StaffContact],
    channel: Channel,
    template: str,
    params: dict[str, str],
    gather: str | None = None,
) -> list[Notice]:
    """One notice per person (once each, none without a phone) and channel; a voice-channel severity
    also sends an SMS."""
    channels = [Channel.voice, Channel.sms] if channel is Channel.voice else [channel]
    seen: set[str] = set()
    notices = []
    for person in staff:
        if person.staff_id in seen or not person.phone:
            continue
        seen.add(person.staff_id)
        for via in channels:
            notices.append(
                Notice(
                    case_id=case_id,
                    key=f"{key}:{person.staff_id}:{via.value}",
                    to=person.phone,
                    channel=via,
                    locale=person.locale,
                    template=template,
                    params=params,
                    gather=gather if via is Channel.voice else None,
                    recipient_id=person.staff_id,
                )
            )
    return notices


def resident_channels(contact: ResidentContact) -> list[Channel]:
    """The one rule for reaching a resident: their preferred channel, then the other phone channel (app
    means SMS), leaving out what cannot reach them; none when they opted out or have no phone."""
    if contact.opted_out or not contact.phone:
        return []
    preferred = Channel.sms if contact.preferred_channel is Channel.app else contact.preferred_channel
    other = Channel.voice if preferred is Channel.sms else Channel.sms
    return [channel for channel in (preferred, other) if channel not in contact.bad_channels]


def resident_channel(contact: ResidentContact) -> Channel | None:
    """The channel a notice goes on: the first of `resident_channels`."""
    return next(iter(resident_channels(contact)), None)
