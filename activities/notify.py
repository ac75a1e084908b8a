"""Sending one notice: an SMS, a call or an app notice, once per idempotency key, every attempt recorded.

`Notifier.send` renders the notice's text, writes its `notifications` row (what was said, to whom,
the Twilio SID, status and error code, times) and asks Twilio through the official client. Twilio's
answer decides what the workflow sees: a SID; a non-retryable `InvalidNumber` or `OptedOut` (the
resident's record says so from then on, so the callback step can switch channel or hand over to a
person); or a retryable error for an outage, a rate limit or a timeout, which the activity's retry
policy backs off from. A retried activity whose row already has a SID returns it without sending again.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import NamedTuple
from urllib.parse import quote

import aiohttp
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker
from temporalio import activity
from temporalio.exceptions import ApplicationError
from twilio.base.exceptions import TwilioException, TwilioRestException, TwilioServiceException
from twilio.rest import Client

from activities.directory import resident_contact_in
from activities.projection import write_case_events
from steward import metrics
from steward.phones import is_landline
from steward.settings import Settings
from steward.store.contacts import mark_bad_channel, set_opted_out
from steward.store.models import Notification, Resident
from steward.texts.carriers import sms_signature
from steward.texts.render import TemplateError, render
from steward.twilio import STATUS_PATH, TWILIO_TIMEOUT, VOICE_PATH, twilio_client, without_phones
from workflows.activity_contracts import Notice, ResidentContact, ResidentNotice, SendResult
from workflows.case_contracts import CaseEvents
from workflows.contracts import Channel
from workflows.messenger import resident_channel
from workflows.names import Activity

log = logging.getLogger(__name__)

CLOCK_SKEW = timedelta(seconds=5)
MIN_SEND_WINDOW_S = 1.0

# Twilio error codes that say the number cannot be reached on that channel (magic test numbers
# included: 21211/21217 invalid, 21214/21612 unroutable, 21216 blocked, 21614 not a mobile, 30006
# landline or unreachable carrier).
INVALID_NUMBER = frozenset({21211, 21214, 21216, 21217, 21612, 21614, 30006})
OPTED_OUT = 21610
SENT_PAGE = 1000  # Twilio's largest page: one request unless the phone got more since the earlier try
NOT_MOBILE = 21614  # what Twilio answers an SMS to a fixed line; Steward does not even try

# The keypad menu a call offers when the notice does not say: a satisfaction answer or an acknowledgement.
DEFAULT_GATHER = {"callback_request": "satisfaction", "dispatch": "ack", "escalation": "ack"}

def now() -> datetime:
    return datetime.now(UTC)


def send_window() -> float:
    """Seconds this try may still spend calling Twilio. A call must be over before Temporal can start
    the next try (this one's start-to-close time-out, less the clock skew): that try looks for an
    earlier send before sending, and would miss an SMS that reached Twilio after it looked."""
    if not activity.in_activity():
        return TWILIO_TIMEOUT
    info = activity.info()
    if info.start_to_close_timeout is None:
        return TWILIO_TIMEOUT
    ends = info.started_time + info.start_to_close_timeout - CLOCK_SKEW
    return min(TWILIO_TIMEOUT, (ends - now()).total_seconds())


def gather_of(notice: Notice) -> str | None:
    if notice.channel != Channel.voice:
        return None
    return notice.gather or DEFAULT_GATHER.get(notice.template)


def status_callback(notice: Notice, base: str) -> dict[str, str]:
    """Twilio reports delivery only where Steward acts on it: a callback attempt, which a failed
    delivery moves to the next channel (issue 18). Every other notice keeps the status Twilio gave when
    it took it; a status callback per state of every SMS cost the API more than the rest of a case."""
    return {"status_callback": f"{base}{STATUS_PATH}"} if notice.attempt is not None else {}


class Notifier:
    """The notify activity with what it needs: settings, a session factory and one Twilio client."""

    def __init__(self, settings: Settings, sessions: sessionmaker[Session]) -> None:
        self._settings = settings
        self._sessions = sessions
        self._client: Client | None = None

    @property
    def client(self) -> Client:
        """Made on first use: its aiohttp session must be born inside the worker's event loop."""
        if self._client is None:
            self._client = twilio_client(self._settings)
        return self._client

    async def close(self) -> None:
        if self._client is not None:
            await self._client.http_client.close()
            self._client = None

    async def write_carried(self, carried: CaseEvents | None) -> None:
        """The case's transitions a notice carries (`workflows/case_projection.py`) when it sends nothing
        (nobody to reach); a notice that sends writes them with its row, before it sends, so a database
        that is down fails the try before anything is sent, and a retry writes them again, which does
        nothing."""
        if carried is not None:
            await asyncio.to_thread(write_case_events, self._sessions, carried)

    @activity.defn(name=Activity.NOTIFY)
    async def send(self, notice: Notice) -> SendResult:
        try:
            body = render(notice.template, notice.locale, notice.params, channel=notice.channel,
                          timezone=self._settings.timezone,
                          signature=sms_signature(self._settings, notice.locale))
        except TemplateError as error:
            await self._write(notice, None, status="failed")
            metrics.send_failed(notice.channel.value, "TemplateError")
            raise ApplicationError(str(error), type="TemplateError", non_retryable=True) from None

        done, tried_since, claimed_at, opted_out = await self._write(notice, body, status="pending")
        if done is not None:
            return done
        if tried_since is not None and (earlier := await self._sent_before(notice, body, tried_since)):
            await self._update(notice.key, status=earlier.status, sid=earlier.sid)
            return earlier
        if notice.channel == Channel.app:
            await self._update(notice.key, status="app")
            metrics.sent(notice.channel.value)
            return SendResult(sid=None, status="app")
        if notice.channel == Channel.sms and is_landline(notice.to):
            await self._update(notice.key, status="failed", error_code=NOT_MOBILE)
            raise ApplicationError(f"{notice.key}: a fixed line cannot take an SMS",
                                   {"code": NOT_MOBILE, "status": 400, "channel": notice.channel.value},
                                   type="InvalidNumber", non_retryable=True)
        if opted_out:
            await self._update(notice.key, status="failed", error_code=OPTED_OUT)
            metrics.send_failed(notice.channel.value, "OptedOut")
            raise ApplicationError(f"{notice.key}: the phone has opted out of SMS", {"code": OPTED_OUT},
                                   type="OptedOut", non_retryable=True)

        if not await asyncio.to_thread(self._still_ours, notice.key, claimed_at):
            raise ApplicationError(f"a later try of {notice.key} took over this send",
                                   type="SendSuperseded")
        window = send_window()
        if window < MIN_SEND_WINDOW_S:
            raise ApplicationError(f"{notice.key}: too little of this try is left to call Twilio safely",
                                   type="SendWindowClosed")
        try:
            async with asyncio.timeout(window):
                sid, status = await self._create(notice, body)
        except (TwilioRestException, TwilioServiceException) as error:
            refusal = await self._rejected(notice, error)
            metrics.send_failed(notice.channel.value, refusal.type or "SendRejected")
            raise refusal from None
        except (TimeoutError, aiohttp.ClientError) as error:
            await self._update(notice.key, status="retrying")
            metrics.send_failed(notice.channel.value, "TwilioUnavailable")
            raise ApplicationError(f"Twilio unreachable: {type(error).__name__} {without_phones(str(error))}",
                                   type="TwilioUnavailable") from None
        await self._update(notice.key, status=status, sid=sid)
        metrics.sent(notice.channel.value)
        return SendResult(sid=sid, status=status)

    @activity.defn(name=Activity.NOTIFY_RESIDENT)
    async def send_to_resident(self, notice: ResidentNotice) -> SendResult | None:
        """The resident's contact read as it is now (opt-outs and bad channels change), then the send on
        the channel the one rule chooses; None when nothing can reach them (the workflow logs the skip)."""
        contact = await asyncio.to_thread(self._resident_contact, notice.resident_id)
        channel = resident_channel(contact)
        if channel is None or not contact.phone:
            await self.write_carried(notice.carried)
            return None  # the workflow logs it, with the case's ids
        return await self.send(Notice(
            case_id=notice.case_id, key=notice.key, to=contact.phone, channel=channel, locale=contact.locale,
            template=notice.template, params=notice.params, recipient_id=notice.resident_id,
            carried=notice.carried))

    def _resident_contact(self, resident_id: str) -> ResidentContact:
        with self._sessions() as session:
            return resident_contact_in(session, resident_id)

    @activity.defn(name=Activity.APP_NOTICE_READ)
    async def app_notice_read(self, key: str) -> bool:
        """Whether the person opened this app notice in the app (its `read_at`)."""
        def read() -> bool:
            with self._sessions() as session:
                row = session.get(Notification, key)
                return row is not None and row.read_at is not None

        return await asyncio.to_thread(read)

    async def _sent_before(self, notice: Notice, body: str, since: datetime) -> SendResult | None:
        """An earlier try may have been killed after Twilio took the SMS but before its SID was
        written: ask Twilio for a message with this body to this phone since that try began. Every page:
        a busy phone (a handler paged for a whole storm) gets more than one since then, newest first."""
        if notice.channel != Channel.sms:
            return None
        try:
            async with asyncio.timeout(TWILIO_TIMEOUT):
                sent = await self.client.messages.list_async(
                    to=notice.to, from_=self._settings.twilio_from_number,
                    date_sent_after=since - CLOCK_SKEW, page_size=SENT_PAGE,
                )
        except (TwilioException, TimeoutError, aiohttp.ClientError) as error:
            await self._update(notice.key, status="retrying")
            raise ApplicationError(
                f"Twilio unreachable while checking for an earlier send: {without_phones(str(error))}",
                type="TwilioUnavailable") from None
        match = next((message for message in sent if message.body == body), None)
        return SendResult(sid=match.sid, status=match.status) if match else None

    async def _create(self, notice: Notice, body: str) -> tuple[str, str]:
        base = self._settings.webhook_base_url
        status = status_callback(notice, base)
        if notice.channel == Channel.voice:
            call = await self.client.calls.create_async(
                to=notice.to, from_=self._settings.twilio_from_number,
                url=f"{base}{VOICE_PATH}?key={quote(notice.key, safe='')}", method="POST",
                **status, **({"status_callback_method": "POST"} if status else {}),
            )
            return call.sid, call.status
        message = await self.client.messages.create_async(
            to=notice.to, from_=self._settings.twilio_from_number, body=body, **status,
        )
        return message.sid, message.status

    async def _rejected(
        self, notice: Notice, error: TwilioRestException | TwilioServiceException
    ) -> ApplicationError:
        """Record Twilio's refusal and say what the workflow should see."""
        code, http_status = error.code, error.status or 0
        reason = without_phones(getattr(error, "msg", None) or getattr(error, "title", ""))
        detail = {"code": code, "status": http_status, "channel": notice.channel.value}
        message = f"Twilio refused the {notice.channel.value} of {notice.key}: {code} {reason}"
        if code in INVALID_NUMBER:
            await self._update(notice.key, status="failed", error_code=code,
                               resident_change=lambda s: mark_bad_channel(s, notice.to, notice.channel))
            return ApplicationError(message, detail, type="InvalidNumber", non_retryable=True)
        if code == OPTED_OUT:
            await self._update(notice.key, status="failed", error_code=code,
                               resident_change=lambda s: set_opted_out(s, notice.to, True))
            return ApplicationError(message, detail, type="OptedOut", non_retryable=True)
        if http_status in (401, 403, 429) or http_status >= 500:
            await self._update(notice.key, status="retrying", error_code=code)
            return ApplicationError(message, detail, type="TwilioUnavailable")
        await self._update(notice.key, status="failed", error_code=code)
        return ApplicationError(message, detail, type="SendRejected", non_retryable=True)

    # --- the notifications row --------------------------------------------------------------

    async def _write(self, notice: Notice, body: str | None, status: str) -> Claim:
        """Create or refresh the row for this attempt, in the transaction that writes the transitions the
        notice carries."""
        return await asyncio.to_thread(self._write_row, notice, body, status)

    def _write_row(self, notice: Notice, body: str | None, status: str) -> Claim:
        def claim(session: Session) -> Claim:
            row = session.get(Notification, notice.key)
            if row is not None and (row.sid or row.status == "app"):
                return Claim(SendResult(sid=row.sid, status=row.status), None, row.updated_at, False)
            # Only a try that left "pending" may have reached Twilio without hearing back.
            tried_since = _aware(row.updated_at) if row is not None and row.status == "pending" else None
            if row is None:
                row = Notification(key=notice.key, created_at=now())
                session.add(row)
            row.case_id, row.to, row.channel = notice.case_id, notice.to, notice.channel.value
            row.template, row.locale, row.params = notice.template, notice.locale.value, notice.params
            row.body, row.gather, row.attempt = body, gather_of(notice), notice.attempt
            row.recipient_id = notice.recipient_id
            claimed_at = now()
            row.status, row.error_code, row.updated_at = status, None, claimed_at
            return Claim(None, tried_since, claimed_at,
                         notice.channel == Channel.sms and _opted_out(session, notice.to))

        for _ in range(2):
            try:
                if notice.carried is not None:
                    return write_case_events(self._sessions, notice.carried, then=claim)
                with self._sessions.begin() as session:
                    return claim(session)
            except IntegrityError:
                log.info("notification %s written concurrently; reading it again", notice.key)
        raise RuntimeError(f"could not write notification {notice.key}")

    async def _update(
        self, key: str, *, status: str, sid: str | None = None, error_code: int | None = None,
        resident_change: Callable[[Session], object] | None = None,
    ) -> None:
        def write() -> None:
            with self._sessions.begin() as session:
                row = session.get(Notification, key)
                row.status, row.error_code, row.updated_at = status, error_code, now()
                if sid is not None:
                    row.sid = sid
                if resident_change is not None:
                    resident_change(session)

        await asyncio.to_thread(write)

    def _still_ours(self, key: str, claimed_at: datetime) -> bool:
        """False when a later try of this key (Temporal retried after a time-out while this one was
        stalled) has written the row since: only the newest try may call Twilio."""
        with self._sessions() as session:
            row = session.get(Notification, key)
            return row is not None and _aware(row.updated_at) == _aware(claimed_at)


class Claim(NamedTuple):
    """A try's hold on its notice row: the result when the key was already sent; when an earlier try
    that may have reached Twilio began (None otherwise); the time this try wrote, which marks the row
    as this try's until a later try writes it; and whether the phone opted out of SMS."""

    done: SendResult | None
    tried_since: datetime | None
    claimed_at: datetime
    opted_out: bool


def _opted_out(session: Session, phone: str) -> bool:
    return bool(session.scalar(
        select(Resident.id).where(Resident.phone == phone, Resident.opted_out.is_(True)).limit(1)
    ))


def _aware(moment: datetime) -> datetime:
    """SQLite gives back naive datetimes; every time we store is UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
