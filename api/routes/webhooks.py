"""Twilio's webhooks: a phone's SMS, a call's keypad, delivery status → workflow signals and updates.

Every request must carry a valid `X-Twilio-Signature` for `settings.webhook_base_url` + path + query
(the address Twilio used, so it holds behind a TLS proxy); anything else is refused with 403 before
it is read further. Nothing here changes a case: residents' answers become the `callback_reply`
signal, staff keypresses and "1" replies the `acknowledge` update, failed deliveries the
`delivery_failed` signal. What Twilio sent is kept (`inbound_messages`, `notifications`), and a case
that is gone or has moved on is an outcome to record, never a 5xx for Twilio to retry.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar
from urllib.parse import quote

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from temporalio.client import Client, WorkflowUpdateFailedError, WorkflowUpdateRPCTimeoutOrCancelledError
from temporalio.service import RPCError
from twilio.request_validator import RequestValidator
from twilio.twiml.messaging_response import MessagingResponse
from twilio.twiml.voice_response import VoiceResponse

from api.abuse_limits import count_objection
from api.sms_intake import case_to_join, file_from_sms
from steward.limits import RateLimited
from steward.settings import Settings
from steward.store.contacts import set_opted_out
from steward.store.models import Case, Household, InboundMessage, Notification, Resident, Staff
from steward.texts.render import locale_of, render, voice_language
from steward.twilio import VOICE_PATH
from workflows.contracts import (
    Acknowledge,
    Actor,
    CallbackReply,
    Channel,
    DeliveryFailed,
    Locale,
    ResidentMessage,
    Role,
    Tier,
)
from workflows.hearing_contracts import Objection

log = logging.getLogger("steward.webhooks")

T = TypeVar("T")
SmsOutcome = tuple[str, str | None, str | None]  # (outcome recorded, case, reply text)

# Twilio answers its own opt-out keywords itself; the Chinese ones are ours to confirm.
TWILIO_STOP_WORDS = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"})
OUR_STOP_WORDS = frozenset({"退订", "TD"})
START_WORDS = frozenset({"START", "YES", "UNSTOP"})
ANSWERS = {"1": True, "2": False, "满意": True, "不满意": False}
ACK = "1"
_TOKENS = re.compile(r"[\s,，;；:：.。!！]+")
_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{2,99}$")
_OBJECTION = re.compile(r"^(HR-[A-Za-z0-9]{4,40})[\s,，:：]+(\S.*)$", re.DOTALL | re.IGNORECASE)

AWAITING_ACK = ("submitted", "dispatched")
FAILED_DELIVERY = frozenset({"failed", "undelivered", "no-answer", "busy", "canceled"})
# Twilio's message and call statuses in the order they happen: a row moves only forward, so a late or
# contradicting callback (a "failed" after "delivered") never moves it back nor fails a delivered attempt.
_PROGRESS = {
    "pending": 0, "retrying": 0, "accepted": 1, "scheduled": 1, "queued": 1, "sending": 2, "initiated": 2,
    "sent": 3, "ringing": 3, "in-progress": 4, "delivered": 5, "undelivered": 5, "failed": 5, "read": 6,
    "completed": 5, "busy": 5, "no-answer": 5, "canceled": 5,
}
GATHER_TIMEOUT = 8
# How long a webhook waits for Temporal to take a signal, or a workflow to answer an update (with no
# worker polling it never would): well inside Twilio's own 15 s, so the message is recorded as needing
# a person instead of left hanging.
UPDATE_TIMEOUT_S = 5.0
UNAVAILABLE = "case unavailable"


class SignedByTwilio(APIRoute):
    """A route that answers 403 unless `X-Twilio-Signature` matches the URL Twilio used and the form."""

    def get_route_handler(self) -> Callable:
        handler = super().get_route_handler()

        async def verified(request: Request) -> Response:
            settings: Settings = request.app.state.settings
            url = settings.webhook_base_url + request.url.path
            if request.url.query:
                url += "?" + request.url.query
            params = await request.form() if request.method == "POST" else {}
            signature = request.headers.get("X-Twilio-Signature")
            if not signature:
                return _forbidden("missing X-Twilio-Signature")
            if not RequestValidator(settings.twilio_auth_token).validate(url, params, signature):
                log.warning("refused a webhook with a wrong signature for %s", url)
                return _forbidden("X-Twilio-Signature does not match this request")
            return await handler(request)

        return verified


def _forbidden(message: str) -> JSONResponse:
    return JSONResponse({"error": {"code": "forbidden", "message": message}}, status_code=403)


router = APIRouter(prefix="/webhooks/twilio", tags=["Twilio webhooks"], route_class=SignedByTwilio)


def now() -> datetime:
    return datetime.now(UTC)


def _twiml(response: VoiceResponse | MessagingResponse) -> Response:
    return Response(str(response), media_type="application/xml")


# --- what an SMS says ------------------------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    """A resident's "1"/"2"/"满意"/"不满意" (or a staff member's "1"), with the case code if given."""

    word: str
    code: str | None

    @property
    def satisfied(self) -> bool:
        return ANSWERS[self.word]


def read_answer(body: str) -> Answer | None:
    tokens = [token for token in _TOKENS.split(body.strip()) if token]
    words = [token for token in tokens if token in ANSWERS]
    codes = [token for token in tokens if token not in ANSWERS]
    if len(words) != 1 or len(codes) > 1 or (codes and not _CODE.match(codes[0])):
        return None
    return Answer(words[0], codes[0] if codes else None)


def read_objection(body: str) -> tuple[str, str] | None:
    """(hearing code, text) for "HR-XXXXXXXXXX why so much?", else None."""
    match = _OBJECTION.match(body.strip())
    return (match.group(1).upper(), match.group(2).strip()) if match else None


@dataclass(frozen=True)
class Pending:
    """A case waiting for this phone: its callback attempt, or a notice waiting for acknowledgement."""

    case_id: str
    code: str
    attempt: int | None = None


def _choose(pending: list[Pending], code: str | None) -> list[Pending]:
    if code is None:
        return pending
    wanted = code.casefold()
    return [p for p in pending if wanted in (p.code.casefold(), p.case_id.casefold())]


def _codes(pending: list[Pending]) -> str:
    return ", ".join(p.code for p in pending)


# --- the read model queries ------------------------------------------------------------------


def pending_callbacks(session: Session, phone: str) -> list[Pending]:
    """Cases in the callback step whose `callback_request` went to this phone, and drill surveys that
    asked it and are still open (until their `closes_at`); the latest attempt each."""
    asked = select(Notification.case_id, Notification.attempt, Notification.params).where(
        Notification.to == phone, Notification.attempt.is_not(None))
    rows = [
        *session.execute(asked.join(Case, Case.case_id == Notification.case_id).where(
            Notification.template == "callback_request", Case.status == "callback")),
        *session.execute(asked.where(Notification.template == "drill_survey",
                                     Notification.params["closes_at"].as_string() > now().isoformat())),
    ]
    latest = {case_id: Pending(case_id, (params or {}).get("code", case_id), attempt)
              for case_id, attempt, params in sorted(rows, key=lambda row: (row[0], row[1]))}
    return list(latest.values())


def awaiting_acknowledgement(session: Session, phone: str) -> list[Pending]:
    """Unacknowledged cases whose dispatch or escalation notice went to this phone."""
    rows = session.execute(
        select(Notification.case_id, Notification.params)
        .join(Case, Case.case_id == Notification.case_id)
        .where(Notification.to == phone, Notification.template.in_(("dispatch", "escalation")),
               Case.acknowledged_at.is_(None), Case.status.in_(AWAITING_ACK))
        .order_by(Notification.created_at.desc())
    ).all()
    found: dict[str, Pending] = {}
    for case_id, params in rows:
        found.setdefault(case_id, Pending(case_id, (params or {}).get("code", case_id)))
    return list(found.values())


def resident_home(session: Session, phone: str) -> tuple[str, str, str] | None:
    """(resident, building, unit) of the first resident with this phone."""
    row = session.execute(
        select(Resident.id, Household.building_id, Household.unit)
        .join(Household, Household.id == Resident.household_id)
        .where(Resident.phone == phone, Resident.active).order_by(Resident.id).limit(1)
    ).first()
    return (row.id, row.building_id, row.unit) if row else None


def staff_with_phone(session: Session, phone: str) -> Staff | None:
    """The active staff member with this phone: one who left acts by SMS or keypad no more."""
    return session.scalars(
        select(Staff).where(Staff.phone == phone, Staff.active).order_by(Staff.id).limit(1)).first()


def locale_for_phone(session: Session, phone: str) -> Locale:
    resident = session.scalars(select(Resident).where(Resident.phone == phone).limit(1)).first()
    staff = staff_with_phone(session, phone)
    return locale_of(resident.locale if resident else staff.locale if staff else None)


# --- talking to the workflows ----------------------------------------------------------------


class Cases:
    """Signals and updates to case workflows; a case that cannot take them is an outcome, not an error."""

    def __init__(self, client: Client) -> None:
        self._client = client

    async def signal(self, case_id: str, name: str, payload: Any) -> str | None:
        """None when delivered, else why not."""
        try:
            await self._client.get_workflow_handle(case_id).signal(
                name, payload, rpc_timeout=timedelta(seconds=UPDATE_TIMEOUT_S))
        except RPCError as error:
            log.warning("signal %s to %s not delivered: %s", name, case_id, error)
            return f"{UNAVAILABLE}: {error.message}"
        return None

    async def acknowledge(self, case_id: str, staff: Staff) -> str | None:
        """None when the workflow accepted the acknowledgement, else its reason for refusing. The
        staff member's tier goes with it, as the API sends it, so a complaint's validator can keep it
        above the tier of the person it is about."""
        action = Acknowledge(actor=Actor(id=staff.id, role=Role.staff), actor_tier=Tier(staff.tier))
        return await self.update(case_id, "acknowledge", action)

    async def update(self, case_id: str, name: str, payload: Any) -> str | None:
        """None when the workflow accepted the update, else its reason for refusing."""
        update = self._client.get_workflow_handle(case_id).execute_update(name, payload)
        try:
            await asyncio.wait_for(update, UPDATE_TIMEOUT_S)
        except WorkflowUpdateFailedError as error:
            return str(error.cause.message if error.cause else error)
        except RPCError as error:
            log.warning("%s of %s not delivered: %s", name, case_id, error)
            return f"{UNAVAILABLE}: {error.message}"
        except (TimeoutError, WorkflowUpdateRPCTimeoutOrCancelledError):
            log.warning("%s of %s not answered within %.0f s", name, case_id, UPDATE_TIMEOUT_S)
            return f"{UNAVAILABLE}: no answer within {UPDATE_TIMEOUT_S:.0f} s"
        return None


@dataclass
class Inbox:
    settings: Settings
    sessions: sessionmaker[Session]
    cases: Cases
    client: Client

    @classmethod
    def of(cls, request: Request) -> Inbox:
        state = request.app.state
        return cls(state.settings, state.sessions, Cases(state.client), state.client)

    async def db(self, work: Callable[[Session], T]) -> T:
        """Run `work` in a transaction off the event loop."""

        def run() -> T:
            with self.sessions.begin() as session:
                return work(session)

        return await asyncio.to_thread(run)

    # --- SMS -----------------------------------------------------------------------------------

    async def sms(self, sid: str, phone: str, to: str, body: str) -> MessagingResponse:
        reply = MessagingResponse()
        stored = await self.db(lambda s: _store_inbound(s, sid, phone, to, body))
        if not stored:
            return reply
        locale = await self.db(lambda s: locale_for_phone(s, phone))
        outcome, case_id, text = await self._answer_sms(sid, phone, body.strip(), locale)
        await self.db(lambda s: _record_outcome(s, sid, outcome, case_id))
        if text:
            reply.message(text)
        return reply

    async def _answer_sms(self, sid: str, phone: str, body: str, locale: Locale) -> SmsOutcome:
        keyword = body.upper()
        if keyword in TWILIO_STOP_WORDS | OUR_STOP_WORDS:
            await self.db(lambda s: set_opted_out(s, phone, True))
            confirmation = render("reply.opted_out", locale) if keyword in OUR_STOP_WORDS else None
            return "opted_out", None, confirmation
        if keyword in START_WORDS:
            await self.db(lambda s: set_opted_out(s, phone, False))
            return "opted_in", None, None
        answer = read_answer(body)
        if answer is None:
            objection = read_objection(body)
            if objection is not None:
                return await self._objection_by_sms(phone, *objection, locale)
            return await self._report_by_sms(sid, phone, body, locale)
        staff = await self.db(lambda s: staff_with_phone(s, phone)) if answer.word == ACK else None
        if staff is not None:
            waiting = await self.db(lambda s: awaiting_acknowledgement(s, phone))
            if waiting:
                chosen = _choose(waiting, answer.code)
                return await self._acknowledge_by_sms(staff, chosen, waiting, locale)
        outcome = await self._callback_by_sms(phone, answer, locale)
        if staff is not None and outcome[0] == "unmatched":
            return "unmatched", None, render("reply.nothing_to_acknowledge", locale)
        return outcome

    async def _acknowledge_by_sms(
        self, staff: Staff, chosen: list[Pending], waiting: list[Pending], locale: Locale
    ) -> SmsOutcome:
        if len(chosen) != 1:
            codes = _codes(chosen or waiting)
            return "ambiguous", None, render("reply.ask_for_ack_code", locale, {"codes": codes})
        case = chosen[0]
        refused = await self.cases.acknowledge(case.case_id, staff)
        if refused:
            return _refusal("ack_refused", refused), case.case_id, render("reply.ack_failed", locale,
                                                       {"code": case.code, "reason": refused})
        return "acknowledged", case.case_id, render("reply.acknowledged", locale, {"code": case.code})

    async def _callback_by_sms(
        self, phone: str, answer: Answer, locale: Locale
    ) -> SmsOutcome:
        pending = await self.db(lambda s: pending_callbacks(s, phone))
        if not pending:
            return "unmatched", None, render("reply.unmatched", locale)
        chosen = _choose(pending, answer.code)
        if not chosen:
            return "unknown_code", None, render("reply.case_unavailable", locale, {"code": answer.code or ""})
        if len(chosen) > 1:
            return "ambiguous", None, render("reply.ask_for_code", locale,
                                             {"codes": _codes(chosen), "example": chosen[0].code})
        case = chosen[0]
        reply = CallbackReply(attempt=case.attempt, satisfied=answer.satisfied, channel=Channel.sms,
                              received_at=now())
        if await self.cases.signal(case.case_id, "callback_reply", reply):
            text = render("reply.case_unavailable", locale, {"code": case.code})
            return "case_unavailable", case.case_id, text
        return "callback_reply", case.case_id, None

    async def _report_by_sms(self, sid: str, phone: str, body: str, locale: Locale) -> SmsOutcome:
        """A resident's text that answers nothing: joins the case their texts opened a moment ago, or
        opens one (`api/sms_intake.py`); a stranger's is left for a person."""
        home = await self.db(lambda s: resident_home(s, phone))
        if home is None or not body:
            return "unmatched", None, render("reply.unmatched", locale)
        resident = Actor(id=home[0], role=Role.resident)
        joined = await asyncio.to_thread(case_to_join, self.sessions, phone, now())
        if joined is not None and not await self.cases.signal(
                joined, "resident_message", ResidentMessage(actor=resident, text=body, channel=Channel.sms)):
            return "joined", joined, render("reply.joined", locale, {"code": joined})
        case_id, refused = await file_from_sms(self.client, self.sessions, self.settings, resident.id, sid,
                                               body)
        if case_id is None:
            return "report_refused", None, render("reply.report_refused", locale, {"reason": refused or ""})
        return "reported", case_id, None

    async def _objection_by_sms(self, phone: str, code: str, text: str, locale: Locale) -> SmsOutcome:
        """"<hearing code> <text>": an objection or question of the resident with this phone; the
        hearing answers with its receipt (or the reply says why it refused)."""
        home = await self.db(lambda s: resident_home(s, phone))
        if home is None:
            return "unmatched", None, render("reply.unmatched", locale)
        resident_id, building_id, unit = home
        try:
            await asyncio.to_thread(count_objection, self.sessions, self.settings.policy.limits, code,
                                    resident_id)
        except RateLimited as limited:
            return "objection_refused", code, render("reply.objection_refused", locale,
                                                     {"code": code, "reason": limited.message})
        objection = Objection(actor=Actor(id=resident_id, role=Role.resident), building_id=building_id,
                              unit=unit, text=text[:1000], channel=Channel.sms, occurred_at=None)
        refused = await self.cases.update(code, "register_objection", objection)
        if refused:
            return _refusal("objection_refused", refused), code, render("reply.objection_refused", locale,
                                                     {"code": code, "reason": refused})
        return "objection", code, None

    # --- voice ---------------------------------------------------------------------------------

    async def voice(self, key: str, step: str | None, digits: str | None) -> VoiceResponse:
        row = await self.db(lambda s: s.get(Notification, key))
        response = VoiceResponse()
        if row is None or row.body is None:
            response.say(render("voice.unavailable", Locale.zh_cn), language=voice_language(Locale.zh_cn))
            response.hangup()
            return response
        locale = locale_of(row.locale)
        language = voice_language(locale)
        code = (row.params or {}).get("code", row.case_id)
        if row.gather not in ("satisfaction", "ack"):
            response.say(row.body, language=language)
            response.hangup()
            return response
        if step == "answer" and digits in self._choices(row):
            text = await self._keypress(row, digits, code, locale)
            response.say(text, language=language)
            response.hangup()
            return response
        if step == "give_up":
            await self._no_answer(row)
            response.say(render("voice.goodbye", locale), language=language)
            response.hangup()
            return response
        if step in ("answer", "repeat"):
            notice = "voice.invalid_choice" if step == "answer" else "voice.no_input"
            response.say(render(notice, locale), language=language)
        self._menu(response, row, language)
        response.redirect(self._voice_url(row.key, "give_up" if step in ("answer", "repeat") else "repeat"),
                          method="POST")
        return response

    async def _no_answer(self, row: Notification) -> None:
        """The menu went unanswered twice: the callback attempt failed now, not when its wait runs out."""
        if row.gather == "satisfaction" and row.attempt is not None:
            failure = DeliveryFailed(attempt=row.attempt, channel=Channel.voice, status="no-input")
            await self.cases.signal(row.case_id, "delivery_failed", failure)

    @staticmethod
    def _choices(row: Notification) -> tuple[str, ...]:
        return ("1", "2") if row.gather == "satisfaction" else (ACK,)

    def _menu(self, response: VoiceResponse, row: Notification, language: str) -> None:
        gather = response.gather(num_digits=1, timeout=GATHER_TIMEOUT, language=language, method="POST",
                                 action=self._voice_url(row.key, "answer"))
        gather.say(row.body, language=language)

    def _voice_url(self, key: str, step: str) -> str:
        return f"{self.settings.webhook_base_url}{VOICE_PATH}?key={quote(key, safe='')}&step={step}"

    async def _keypress(self, row: Notification, digits: str, code: str, locale: Locale) -> str:
        """What the keypress did, said back to the caller."""
        params = {"code": code}
        if row.gather == "satisfaction":
            if row.attempt is None:
                log.warning("callback call %s has no attempt; answer %s not signalled", row.key, digits)
            else:
                reply = CallbackReply(attempt=row.attempt, satisfied=ANSWERS[digits], channel=Channel.voice,
                                      received_at=now())
                await self.cases.signal(row.case_id, "callback_reply", reply)
            return render("callback_thanks", locale, params, channel=Channel.voice)
        staff = await self.db(lambda s: staff_with_phone(s, row.to))
        refused = "no staff member has this phone" if staff is None else \
            await self.cases.acknowledge(row.case_id, staff)
        if refused:
            log.info("acknowledge of %s by phone refused: %s", row.case_id, refused)
            return render("voice.ack_failed", locale, params, channel=Channel.voice)
        return render("voice.acknowledged", locale, params, channel=Channel.voice)

    # --- delivery status -----------------------------------------------------------------------

    async def status(self, sid: str, status: str, error_code: int | None) -> None:
        changed = await self.db(lambda s: _apply_status(s, sid, status, error_code))
        if changed is None:
            return
        case_id, attempt, channel = changed
        if status in FAILED_DELIVERY and attempt is not None:
            failure = DeliveryFailed(attempt=attempt, channel=Channel(channel), status=status,
                                     error_code=error_code)
            await self.cases.signal(case_id, "delivery_failed", failure)


def _refusal(outcome: str, reason: str) -> str:
    """A workflow's refusal is the sender's to read; a case that could not answer needs a person."""
    return "case_unavailable" if reason.startswith(UNAVAILABLE) else outcome


def _store_inbound(session: Session, sid: str, phone: str, to: str, body: str) -> bool:
    """Keep the message; False when this MessageSid was already handled."""
    if session.get(InboundMessage, sid) is not None:
        return False
    session.add(InboundMessage(sid=sid, from_number=phone, to_number=to, body=body, received_at=now(),
                               outcome="received"))
    return True


def _record_outcome(session: Session, sid: str, outcome: str, case_id: str | None) -> None:
    message = session.get(InboundMessage, sid)
    message.outcome, message.case_id = outcome, case_id


def _apply_status(
    session: Session, sid: str, status: str, error_code: int | None
) -> tuple[str, int | None, str] | None:
    """Move the notification forward; (case, attempt, channel) when this status is news, else None."""
    row = session.scalars(select(Notification).where(Notification.sid == sid)).first()
    if row is None:
        log.info("status %s for unknown sid %s", status, sid)
        return None
    if _PROGRESS.get(status, 0) <= _PROGRESS.get(row.status, 0):
        return None
    row.status, row.error_code, row.updated_at = status, error_code, now()
    return row.case_id, row.attempt, row.channel


def _error_code(value: Any) -> int | None:
    return int(value) if isinstance(value, str) and value.isdigit() else None


# --- the routes --------------------------------------------------------------------------------


@router.post("/sms", summary="A phone sent us an SMS")
async def inbound_sms(request: Request) -> Response:
    form = await request.form()
    sid, phone = form.get("MessageSid"), form.get("From")
    if not sid or not phone:
        return JSONResponse({"error": {"code": "bad_request", "message": "MessageSid and From are required"}},
                            status_code=400)
    to, body = str(form.get("To", "")), str(form.get("Body", ""))
    reply = await Inbox.of(request).sms(str(sid), str(phone), to, body)
    return _twiml(reply)


@router.api_route("/voice", methods=["GET", "POST"], summary="TwiML for a call, and its keypad input")
async def voice(request: Request, key: str, step: str | None = None) -> Response:
    form = await request.form() if request.method == "POST" else request.query_params
    digits = form.get("Digits")
    return _twiml(await Inbox.of(request).voice(key, step, str(digits) if digits is not None else None))


@router.post("/status", summary="Delivery status of a message or call")
async def delivery_status(request: Request) -> Response:
    form = await request.form()
    sid = form.get("MessageSid") or form.get("CallSid")
    status = form.get("MessageStatus") or form.get("CallStatus")
    if sid and status:
        await Inbox.of(request).status(str(sid), str(status), _error_code(form.get("ErrorCode")))
    return Response(status_code=204)
