"""A phone's SMS: what it says, and what it does.

A resident's "1"/"2" (or 满意/不满意) answers their callback (the `callback_reply` signal); a staff
member's "1" acknowledges their dispatch (the `acknowledge` update); "HR-… text" objects to a hearing;
STOP and START opt out and back in; any other text from a resident files or joins a case
(`api/twilio/sms_intake.py`). Every message is kept with its outcome, and a MessageSid Twilio sends
again is answered once.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from datetime import UTC, datetime

from fastapi import Request, Response
from fastapi.responses import JSONResponse
from twilio.twiml.messaging_response import MessagingResponse

from api.abuse_limits import count_objection
from api.cases import UNAVAILABLE
from api.twilio.inbox import ACK, ANSWERS, Inbox, twiml
from api.twilio.signature import signed_router
from api.twilio.sms_intake import file_from_sms
from steward.limits import RateLimited
from steward.phones import normalised_or_same
from steward.store.contacts import set_opted_out
from steward.store.inbound import (
    Pending,
    awaiting_acknowledgement,
    case_to_join,
    locale_for_phone,
    pending_callbacks,
    record_outcome,
    resident_home,
    staff_with_phone,
    store_inbound,
)
from steward.store.models import Staff
from workflows.actions import CallbackReply, ResidentMessage
from workflows.contracts import Actor, Channel, Locale, Role
from workflows.hearing_contracts import Objection
from workflows.names import CaseSignal, HearingUpdate

SmsOutcome = tuple[str, str | None, str | None]  # (outcome recorded, case, reply text)

# Twilio answers its own opt-out keywords itself; the Chinese ones are ours to confirm.
TWILIO_STOP_WORDS = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"})
OUR_STOP_WORDS = frozenset({"退订", "TD"})
START_WORDS = frozenset({"START", "YES", "UNSTOP"})
_TOKENS = re.compile(r"[\s,，;；:：.。!！]+")
_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{2,99}$")
_OBJECTION = re.compile(r"^(HR-[A-Za-z0-9]{4,40})[\s,，:：]+(\S.*)$", re.DOTALL | re.IGNORECASE)

router = signed_router()


@router.post("/sms", summary="A phone sent us an SMS")
async def inbound_sms(request: Request) -> Response:
    form = await request.form()
    sid, phone = form.get("MessageSid"), form.get("From")
    if not sid or not phone:
        return JSONResponse({"error": {"code": "bad_request", "message": "MessageSid and From are required"}},
                            status_code=400)
    to, body = str(form.get("To", "")), str(form.get("Body", ""))
    inbox = Inbox.of(request)
    # Matched as the directory keeps numbers (E.164), however the sender's network wrote it.
    phone = normalised_or_same(str(phone), inbox.settings.phone_region)
    reply = await sms(inbox, str(sid), phone, to, body)
    return twiml(reply)


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


def _choose(pending: list[Pending], code: str | None) -> list[Pending]:
    if code is None:
        return pending
    wanted = code.casefold()
    return [p for p in pending if wanted in (p.code.casefold(), p.case_id.casefold())]


def _codes(pending: list[Pending]) -> str:
    return ", ".join(p.code for p in pending)


def _refusal(outcome: str, reason: str) -> str:
    """A workflow's refusal is the sender's to read; a case that could not answer needs a person."""
    return "case_unavailable" if reason.startswith(UNAVAILABLE) else outcome


# --- what it does ----------------------------------------------------------------------------


async def sms(inbox: Inbox, sid: str, phone: str, to: str, body: str) -> MessagingResponse:
    """Keep the message, act on it once, record the outcome and reply (if there is anything to say)."""
    reply = MessagingResponse()
    stored = await inbox.db(lambda s: store_inbound(s, sid, phone, to, body))
    if not stored:
        return reply
    locale = await inbox.db(lambda s: locale_for_phone(s, phone))
    outcome, case_id, text = await _answer_sms(inbox, sid, phone, body.strip(), locale)
    await inbox.db(lambda s: record_outcome(s, sid, outcome, case_id))
    if text:
        reply.message(text)
    return reply


async def _answer_sms(inbox: Inbox, sid: str, phone: str, body: str, locale: Locale) -> SmsOutcome:
    keyword = body.upper()
    if keyword in TWILIO_STOP_WORDS | OUR_STOP_WORDS:
        await inbox.db(lambda s: set_opted_out(s, phone, True))
        confirmation = inbox.text("reply.opted_out", locale) if keyword in OUR_STOP_WORDS else None
        return "opted_out", None, confirmation
    if keyword in START_WORDS:
        await inbox.db(lambda s: set_opted_out(s, phone, False))
        return "opted_in", None, None
    answer = read_answer(body)
    if answer is None:
        objection = read_objection(body)
        if objection is not None:
            return await _objection_by_sms(inbox, phone, *objection, locale)
        return await _report_by_sms(inbox, sid, phone, body, locale)
    staff = await inbox.db(lambda s: staff_with_phone(s, phone)) if answer.word == ACK else None
    if staff is not None:
        waiting = await inbox.db(lambda s: awaiting_acknowledgement(s, phone))
        if waiting:
            chosen = _choose(waiting, answer.code)
            return await _acknowledge_by_sms(inbox, staff, chosen, waiting, locale)
    outcome = await _callback_by_sms(inbox, phone, answer, locale)
    if staff is not None and outcome[0] == "unmatched":
        return "unmatched", None, inbox.text("reply.nothing_to_acknowledge", locale)
    return outcome


async def _acknowledge_by_sms(
    inbox: Inbox, staff: Staff, chosen: list[Pending], waiting: list[Pending], locale: Locale
) -> SmsOutcome:
    if len(chosen) != 1:
        codes = _codes(chosen or waiting)
        return "ambiguous", None, inbox.text("reply.ask_for_ack_code", locale, {"codes": codes})
    case = chosen[0]
    refused = await inbox.acknowledge(case.case_id, staff)
    if refused:
        return _refusal("ack_refused", refused), case.case_id, inbox.text("reply.ack_failed", locale,
                                                   {"code": case.code, "reason": refused})
    return "acknowledged", case.case_id, inbox.text("reply.acknowledged", locale, {"code": case.code})


async def _callback_by_sms(inbox: Inbox, phone: str, answer: Answer, locale: Locale) -> SmsOutcome:
    wait = inbox.settings.policy.callback.wait
    pending = await inbox.db(lambda s: pending_callbacks(s, phone, wait))
    if not pending:
        return "unmatched", None, inbox.text("reply.unmatched", locale)
    chosen = _choose(pending, answer.code)
    if not chosen:
        return "unknown_code", None, inbox.text("reply.case_unavailable", locale, {"code": answer.code or ""})
    if len(chosen) > 1:
        return "ambiguous", None, inbox.text("reply.ask_for_code", locale,
                                         {"codes": _codes(chosen), "example": chosen[0].code})
    case = chosen[0]
    reply = CallbackReply(attempt=case.attempt, satisfied=answer.satisfied, channel=Channel.sms,
                          received_at=datetime.now(UTC))
    if await inbox.signal(case.case_id, CaseSignal.CALLBACK_REPLY, reply):
        text = inbox.text("reply.case_unavailable", locale, {"code": case.code})
        return "case_unavailable", case.case_id, text
    return "callback_reply", case.case_id, None


async def _report_by_sms(inbox: Inbox, sid: str, phone: str, body: str, locale: Locale) -> SmsOutcome:
    """A resident's text that answers nothing: joins the case their texts opened a moment ago, or
    opens one (`api/twilio/sms_intake.py`); a stranger's is left for a person."""
    home = await inbox.db(lambda s: resident_home(s, phone))
    if home is None or not body:
        return "unmatched", None, inbox.text("reply.unmatched", locale)
    resident = Actor(id=home[0], role=Role.resident)
    joined = await inbox.db(lambda s: case_to_join(s, phone))
    if joined is not None and not await inbox.signal(
            joined, CaseSignal.RESIDENT_MESSAGE,
            ResidentMessage(actor=resident, text=body, channel=Channel.sms)):
        return "joined", joined, inbox.text("reply.joined", locale, {"code": joined})
    case_id, refused = await file_from_sms(inbox.client, inbox.sessions, inbox.settings, resident.id, sid,
                                           body)
    if case_id is None:
        return "report_refused", None, inbox.text("reply.report_refused", locale, {"reason": refused or ""})
    return "reported", case_id, None


async def _objection_by_sms(inbox: Inbox, phone: str, code: str, text: str, locale: Locale) -> SmsOutcome:
    """"<hearing code> <text>": an objection or question of the resident with this phone; the
    hearing answers with its receipt (or the reply says why it refused)."""
    home = await inbox.db(lambda s: resident_home(s, phone))
    if home is None:
        return "unmatched", None, inbox.text("reply.unmatched", locale)
    resident_id, building_id, unit = home
    try:
        await asyncio.to_thread(count_objection, inbox.sessions, inbox.settings.policy.limits, code,
                                resident_id)
    except RateLimited as limited:
        return "objection_refused", code, inbox.text("reply.objection_refused", locale,
                                                 {"code": code, "reason": limited.message})
    objection = Objection(actor=Actor(id=resident_id, role=Role.resident), building_id=building_id,
                          unit=unit, text=text[:1000], channel=Channel.sms, occurred_at=None)
    refused = await inbox.update(code, HearingUpdate.REGISTER_OBJECTION, objection)
    if refused:
        return _refusal("objection_refused", refused), code, inbox.text("reply.objection_refused", locale,
                                                 {"code": code, "reason": refused})
    return "objection", code, None
