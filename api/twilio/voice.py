"""A call's TwiML and its keypad: the notice read out, and for a callback or a dispatch a one-key menu.

A resident's 1/2 answers their callback (the `callback_reply` signal), a staff member's 1
acknowledges (the `acknowledge` update); a menu left unanswered twice fails that callback attempt at
once (`delivery_failed`). The notice is the `notifications` row the call was made for (`?key=`).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from urllib.parse import quote

from fastapi import Request, Response
from twilio.twiml.voice_response import Gather, VoiceResponse

from api.twilio.inbox import ACK, ANSWERS, Inbox, twiml
from api.twilio.signature import signed_router
from steward.store.inbound import staff_with_phone
from steward.store.models import Notification
from steward.texts.carriers import Speech, speech
from steward.texts.render import locale_of, render, voice_language
from steward.twilio import VOICE_PATH
from workflows.actions import CallbackReply, DeliveryFailed
from workflows.contracts import Channel, Locale
from workflows.names import CaseSignal

log = logging.getLogger("steward.webhooks")

GATHER_TIMEOUT = 8

router = signed_router()


@router.api_route("/voice", methods=["GET", "POST"], summary="TwiML for a call, and its keypad input")
async def voice(request: Request, key: str, step: str | None = None) -> Response:
    form = await request.form() if request.method == "POST" else request.query_params
    digits = form.get("Digits")
    return twiml(await call(Inbox.of(request), key, step, str(digits) if digits is not None else None))


async def call(inbox: Inbox, key: str, step: str | None, digits: str | None) -> VoiceResponse:
    """The TwiML for this step of the call: the menu, what a key did, or goodbye."""
    row = await inbox.db(lambda s: s.get(Notification, key))
    response = VoiceResponse()
    if row is None or row.body is None:
        _say(response, render("voice.unavailable", Locale.zh_cn), speech(inbox.settings, Locale.zh_cn))
        response.hangup()
        return response
    locale = locale_of(row.locale)
    said = speech(inbox.settings, locale)
    code = (row.params or {}).get("code", row.case_id)
    if row.gather not in ("satisfaction", "ack"):
        _say(response, row.body, said)
        response.hangup()
        return response
    if step == "answer" and digits in _choices(row):
        text = await _keypress(inbox, row, digits, code, locale)
        _say(response, text, said)
        response.hangup()
        return response
    if step == "give_up":
        await _no_answer(inbox, row)
        _say(response, render("voice.goodbye", locale), said)
        response.hangup()
        return response
    if step in ("answer", "repeat"):
        notice = "voice.invalid_choice" if step == "answer" else "voice.no_input"
        _say(response, render(notice, locale), said)
    _menu(inbox, response, row, locale, said)
    response.redirect(_voice_url(inbox, row.key, "give_up" if step in ("answer", "repeat") else "repeat"),
                      method="POST")
    return response


async def _no_answer(inbox: Inbox, row: Notification) -> None:
    """The menu went unanswered twice: the callback attempt failed now, not when its wait runs out."""
    if row.gather == "satisfaction" and row.attempt is not None:
        failure = DeliveryFailed(attempt=row.attempt, channel=Channel.voice, status="no-input")
        await inbox.signal(row.case_id, CaseSignal.DELIVERY_FAILED, failure)


def _choices(row: Notification) -> tuple[str, ...]:
    return ("1", "2") if row.gather == "satisfaction" else (ACK,)


def _menu(inbox: Inbox, response: VoiceResponse, row: Notification, locale: Locale, said: Speech) -> None:
    gather = response.gather(num_digits=1, timeout=GATHER_TIMEOUT, language=voice_language(locale),
                             method="POST", action=_voice_url(inbox, row.key, "answer"))
    _say(gather, row.body, said)


def _say(verb: VoiceResponse | Gather, text: str, said: Speech) -> None:
    """Every `<Say>` in the language's own voice (`STEWARD_CALL_VOICE_ZH`/`_EN`)."""
    verb.say(text, voice=said.voice, language=said.language)


def _voice_url(inbox: Inbox, key: str, step: str) -> str:
    return f"{inbox.settings.webhook_base_url}{VOICE_PATH}?key={quote(key, safe='')}&step={step}"


async def _keypress(inbox: Inbox, row: Notification, digits: str, code: str, locale: Locale) -> str:
    """What the keypress did, said back to the caller."""
    params = {"code": code}
    if row.gather == "satisfaction":
        if row.attempt is None:
            log.warning("callback call %s has no attempt; answer %s not signalled", row.key, digits)
        else:
            reply = CallbackReply(attempt=row.attempt, satisfied=ANSWERS[digits], channel=Channel.voice,
                                  received_at=datetime.now(UTC))
            await inbox.signal(row.case_id, CaseSignal.CALLBACK_REPLY, reply)
        return render("callback_thanks", locale, params, channel=Channel.voice)
    staff = await inbox.db(lambda s: staff_with_phone(s, row.to))
    refused = "no staff member has this phone" if staff is None else \
        await inbox.acknowledge(row.case_id, staff)
    if refused:
        log.info("acknowledge of %s by phone refused: %s", row.case_id, refused)
        return render("voice.ack_failed", locale, params, channel=Channel.voice)
    return render("voice.acknowledged", locale, params, channel=Channel.voice)
