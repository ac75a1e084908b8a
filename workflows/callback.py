"""The callback step (SPEC §3): no case closes until the resident has been called back.

The resident's preferred channel first — SMS ("reply 1 / 2") or a voice call with a keypad menu —
waiting up to `policy.callback.wait` for the `callback_reply` of that attempt; up to
`policy.callback.attempts` tries, switching channel after each failure (no answer in time, a
`delivery_failed` signal, or a number the notifier rejects). Quiet hours are waited out on a durable
timer, never skipped. Opted out, no phone or every attempt failed → a manual callback task for the
owner with its own response deadline, paged up the ladder until staff record the outcome.

`Callbacks` is the workflow's callback desk: attempt numbers are unique per workflow, so one desk
serves a case with one resident as well as a hearing with many objectors.
"""

from __future__ import annotations

from typing import Protocol

from temporalio import workflow
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from workflows.clock import Deadline, wait_for
    from workflows.contracts import (
        SYSTEM,
        CallbackPurpose,
        CallbackRecord,
        CallbackReply,
        CallbackResult,
        Channel,
        DeliveryFailed,
        Notice,
        RecordCallback,
        ResidentContact,
        SlaPolicy,
    )
    from workflows.ladder import EscalationLadder, EscalationReason
    from workflows.messenger import Messenger, failure_type, quiet_hours_end

Detail = dict[str, str | int | bool | None]


class CallbackHost(Protocol):
    """What a workflow offers the callback step."""

    case_id: str
    policy: SlaPolicy
    messenger: Messenger
    ladder: EscalationLadder

    def note(self, event: str, detail: Detail | None = None) -> None: ...

    def manual_callback_needed(self, reason: str) -> None: ...


def callback_channels(contact: ResidentContact) -> list[Channel]:
    """The channels to try, preferred first; none when the resident cannot be called automatically."""
    if contact.opted_out or not contact.phone:
        return []
    preferred = Channel.sms if contact.preferred_channel is Channel.app else contact.preferred_channel
    other = Channel.voice if preferred is Channel.sms else Channel.sms
    return [c for c in (preferred, other) if c not in contact.bad_channels]


class Callbacks:
    def __init__(self) -> None:
        self.attempt = 0
        self.replies: dict[int, CallbackReply] = {}
        self.failures: dict[int, DeliveryFailed] = {}
        self.manual: RecordCallback | None = None
        self.deadline: Deadline | None = None
        self._paging: EscalationLadder | None = None

    def next_deadline(self) -> Deadline | None:
        """What the running callback waits for: an answer, quiet hours, or the manual task's page."""
        return self._paging.page_deadline() if self._paging else self.deadline

    # --- fed by the workflow's handlers ---------------------------------------------------

    def reply(self, reply: CallbackReply) -> bool:
        """Keep the first answer to an attempt we made; False if it answers nothing of ours."""
        if not 1 <= reply.attempt <= self.attempt or reply.attempt in self.replies:
            return False
        self.replies[reply.attempt] = reply
        return True

    def delivery_failed(self, failure: DeliveryFailed) -> bool:
        if not 1 <= failure.attempt <= self.attempt or failure.attempt in self.failures:
            return False
        self.failures[failure.attempt] = failure
        return True

    def record(self, action: RecordCallback) -> None:
        self.manual = action

    # --- the step -------------------------------------------------------------------------

    async def call_back(
        self, host: CallbackHost, resident_id: str, purpose: CallbackPurpose, params: dict[str, str]
    ) -> CallbackRecord:
        self.manual = None
        contact = await host.messenger.resident(resident_id)
        channels = callback_channels(contact)
        reason = "opted_out" if contact.opted_out else "no_phone" if not contact.phone else "bad_channel"
        tries = 0
        while channels and tries < host.policy.callback.attempts and self.manual is None:
            channel = channels[tries % len(channels)]
            tries += 1
            result = await self._attempt(host, contact, channel, purpose, params, tries)
            if isinstance(result, CallbackRecord):
                return result
            reason = result
            if reason == "opted_out":
                break
        if self.manual is None:
            host.manual_callback_needed(
                reason if reason in ("opted_out", "no_phone", "bad_channel") else "unreachable"
            )
            await self._wait_for_manual_record(host)
        assert self.manual is not None
        self.deadline = None
        return CallbackRecord(
            result=self.manual.result,
            channel=None,
            attempts=tries,
            recorded_by=self.manual.actor,
            at=workflow.now(),
            note=self.manual.note,
        )

    async def _attempt(
        self,
        host: CallbackHost,
        contact: ResidentContact,
        channel: Channel,
        purpose: CallbackPurpose,
        params: dict[str, str],
        tries: int,
    ) -> CallbackRecord | str:
        """One try: a record if answered, else why it failed (`no_answer`, `failed`, `opted_out`)."""
        await self._wait_out_quiet_hours(host)
        if self.manual is not None:
            return "recorded"
        self.attempt += 1
        attempt = self.attempt
        assert contact.phone is not None
        notice = Notice(
            case_id=host.case_id,
            key=host.messenger.next_key(),
            to=contact.phone,
            channel=channel,
            locale=contact.locale,
            template="callback_request",
            params=params | {"purpose": purpose.value},
            attempt=attempt,
            gather="satisfaction" if channel is Channel.voice else None,
        )
        host.note(
            "callback_attempt", {"attempt": attempt, "channel": channel.value, "purpose": purpose.value}
        )
        try:
            await host.messenger.send(notice)
        except ActivityError as error:
            kind = failure_type(error) or "failed"
            host.note("callback_failed", {"attempt": attempt, "channel": channel.value, "error": kind})
            return "opted_out" if kind == "OptedOut" else "failed"
        self.deadline = Deadline(workflow.now() + host.policy.callback.wait, "callback_reply")
        passed = await wait_for(
            lambda: attempt in self.replies or attempt in self.failures or self.manual is not None,
            lambda: self.deadline,
            "the resident's answer to the callback",
        )
        self.deadline = None
        if attempt in self.replies:
            reply = self.replies[attempt]
            return CallbackRecord(
                result=CallbackResult.satisfied if reply.satisfied else CallbackResult.not_satisfied,
                channel=reply.channel,
                attempts=tries,
                recorded_by=SYSTEM,
                at=workflow.now(),
            )
        if self.manual is not None:
            return "recorded"
        why = "no_answer" if passed is not None else self.failures[attempt].status
        host.note("callback_failed", {"attempt": attempt, "channel": channel.value, "error": why})
        return why

    async def _wait_out_quiet_hours(self, host: CallbackHost) -> None:
        ends = quiet_hours_end(workflow.now(), host.policy)
        if ends is None:
            return
        self.deadline = Deadline(ends, "quiet_hours")
        await wait_for(
            lambda: self.manual is not None, lambda: self.deadline, "quiet hours to end before calling back"
        )
        self.deadline = None

    async def _wait_for_manual_record(self, host: CallbackHost) -> None:
        """The manual task pages up the ladder every `manual_response` window until it is recorded."""
        every = host.policy.callback.manual_response
        host.ladder.start_paging(workflow.now() + every, every, EscalationReason.manual_callback_missed)
        self._paging = host.ladder
        while (
            await wait_for(
                lambda: self.manual is not None, host.ladder.page_deadline, "a manual callback record"
            )
        ) is not None:
            host.ladder.page()
        host.ladder.stop_paging()
        self._paging = None
