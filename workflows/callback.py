"""The callback step (SPEC §3): no case closes until the resident has been called back.

The resident's preferred channel first — SMS ("reply 1 / 2") or a voice call with a keypad menu —
waiting up to `policy.callback.wait` for the `callback_reply` of that attempt; up to
`policy.callback.attempts` tries, switching channel after each failure (no answer in time, a
`delivery_failed` signal, or a number the notifier rejects); a channel whose number Twilio calls
invalid is not tried again. Quiet hours are waited out on a durable timer, never skipped. Opted out,
no phone, no channel left or every attempt failed → a manual callback task for the owner with its own
response deadline, paged up the ladder until staff record the outcome.

A `CallbackDesk` belongs to one workflow: attempt numbers are unique per workflow, so one desk
serves a case with one resident as well as a hearing with many objectors. `ask` is the automatic part
on its own (no manual task): a drill's survey asks a whole batch of residents at once on one desk, each
attempt waiting on its own deadline, and counts whoever does not answer.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from temporalio import workflow
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from workflows.actions import CallbackReply, DeliveryFailed, RecordCallback
    from workflows.activity_contracts import Notice, ResidentContact
    from workflows.case_contracts import CallbackRecord
    from workflows.clock import Deadline, earliest, wait_for
    from workflows.contracts import SYSTEM, CallbackPurpose, CallbackResult, Channel
    from workflows.ladder import EscalationLadder, EscalationReason
    from workflows.messenger import Messenger, failure_type, quiet_hours_end, resident_channels
    from workflows.policy import SlaPolicy
    from workflows.rules import Detail

CALLBACK_TEMPLATE = "callback_request"
UNREACHABLE = frozenset({"opted_out", "no_phone", "bad_channel"})
# Cases started before this change tried an invalid number's channel again; they replay as they ran.
DROP_INVALID_CHANNEL = "callback-drops-invalid-channel"


class AskingHost(Protocol):
    """What a workflow offers the automatic attempts."""

    case_id: str
    policy: SlaPolicy
    messenger: Messenger

    def note(self, event: str, detail: Detail | None = None) -> None: ...


class CallbackHost(AskingHost, Protocol):
    """What a workflow offers the whole callback step, manual task included."""

    ladder: EscalationLadder

    def manual_callback_needed(self, reason: str) -> None: ...


@dataclass(frozen=True)
class Unanswered:
    """Every automatic attempt failed: why the last one did (`UNREACHABLE` when none could be made)."""

    reason: str
    tries: int


class CallbackDesk:
    def __init__(self) -> None:
        self.attempt = 0
        self.replies: dict[int, CallbackReply] = {}
        self.asked: dict[int, str] = {}
        self.failures: dict[int, DeliveryFailed] = {}
        self.manual: RecordCallback | None = None
        self._waits: dict[int, Deadline] = {}
        self._waited = 0
        self._paging: EscalationLadder | None = None

    def next_deadline(self) -> Deadline | None:
        """What the running callback waits for: an answer, quiet hours, or the manual task's page."""
        return self._paging.page_deadline() if self._paging else earliest(*self._waits.values())

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
        self,
        host: CallbackHost,
        resident_id: str,
        purpose: CallbackPurpose,
        params: dict[str, str],
        template: str = CALLBACK_TEMPLATE,
    ) -> CallbackRecord:
        self.manual = None
        contact = await host.messenger.resident(resident_id)
        asked = await self.ask(host, contact, purpose, params, template)
        if isinstance(asked, CallbackRecord):
            return asked
        if self.manual is None:
            self._start_paging_for_manual_record(host)
            host.manual_callback_needed(asked.reason if asked.reason in UNREACHABLE else "unreachable")
            await self._wait_for_manual_record(host)
        assert self.manual is not None
        return CallbackRecord(
            result=self.manual.result,
            channel=None,
            attempts=asked.tries,
            recorded_by=self.manual.actor,
            at=workflow.now(),
            note=self.manual.note,
        )

    async def ask(
        self,
        host: AskingHost,
        contact: ResidentContact,
        purpose: CallbackPurpose,
        params: dict[str, str],
        template: str = CALLBACK_TEMPLATE,
    ) -> CallbackRecord | Unanswered:
        """The automatic attempts for one resident: the answer, or why there is none."""
        channels = resident_channels(contact)
        reason = "opted_out" if contact.opted_out else "no_phone" if not contact.phone else "bad_channel"
        tries = 0
        while channels and tries < host.policy.callback.attempts and self.manual is None:
            channel = channels[tries % len(channels)]
            tries += 1
            result = await self._attempt(host, contact, channel, purpose, params, tries, template)
            if isinstance(result, CallbackRecord):
                return result
            reason = result
            if reason == "opted_out":
                break
            if reason == "bad_channel":
                channels.remove(channel)
        return Unanswered(reason, tries)

    async def _attempt(
        self,
        host: AskingHost,
        contact: ResidentContact,
        channel: Channel,
        purpose: CallbackPurpose,
        params: dict[str, str],
        tries: int,
        template: str,
    ) -> CallbackRecord | str:
        """One try: a record if answered, else why it failed (`no_answer`, `failed`, `opted_out`,
        `bad_channel`)."""
        await self._wait_out_quiet_hours(host)
        if self.manual is not None:
            return "recorded"
        self.attempt += 1
        attempt = self.attempt
        self.asked[attempt] = contact.resident_id
        assert contact.phone is not None
        notice = Notice(
            case_id=host.case_id,
            key=host.messenger.next_key(),
            to=contact.phone,
            channel=channel,
            locale=contact.locale,
            template=template,
            params=params | {"purpose": purpose.value},
            attempt=attempt,
            gather="satisfaction" if channel is Channel.voice else None,
            recipient_id=contact.resident_id,
        )
        host.note(
            "callback_attempt", {"attempt": attempt, "channel": channel.value, "purpose": purpose.value}
        )
        try:
            await host.messenger.send(notice)
        except ActivityError as error:
            kind = failure_type(error) or "failed"
            host.note("callback_failed", {"attempt": attempt, "channel": channel.value, "error": kind})
            if kind == "OptedOut":
                return "opted_out"
            if kind == "InvalidNumber" and workflow.patched(DROP_INVALID_CHANNEL):
                return "bad_channel"
            return "failed"
        passed = await self._wait(
            lambda: attempt in self.replies or attempt in self.failures or self.manual is not None,
            Deadline(workflow.now() + host.policy.callback.wait, "callback_reply"),
            "the resident's answer to the callback",
        )
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

    async def _wait_out_quiet_hours(self, host: AskingHost) -> None:
        ends = quiet_hours_end(workflow.now(), host.policy)
        if ends is None:
            return
        await self._wait(
            lambda: self.manual is not None,
            Deadline(ends, "quiet_hours"),
            "quiet hours to end before calling back",
        )

    async def _wait(self, done: Callable[[], bool], deadline: Deadline, waiting_for: str) -> Deadline | None:
        """`wait_for` one fixed deadline, listed in `next_deadline` while it runs (several may at once)."""
        self._waited += 1
        key = self._waited
        self._waits[key] = deadline
        try:
            return await wait_for(done, lambda: deadline, waiting_for)
        finally:
            del self._waits[key]

    def _start_paging_for_manual_record(self, host: CallbackHost) -> None:
        """Before the manual task is noted, so its projection carries the first page's deadline."""
        every = host.policy.callback.manual_response
        host.ladder.start_paging(workflow.now() + every, every, EscalationReason.manual_callback_missed)
        self._paging = host.ladder

    async def _wait_for_manual_record(self, host: CallbackHost) -> None:
        """The manual task pages up the ladder every `manual_response` window until it is recorded."""
        while (
            await wait_for(
                lambda: self.manual is not None, host.ladder.page_deadline, "a manual callback record"
            )
        ) is not None:
            host.ladder.page()
        host.ladder.stop_paging()
        self._paging = None
