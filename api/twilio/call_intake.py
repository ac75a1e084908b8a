"""Call the service centre (对于不擅长使用智能设备的老年业主，保留电话): the Twilio number's voice webhook.

The caller hears a menu in their language (known by their phone; an unknown number hears Chinese,
then English). 1 is an emergency: a repair is opened with `origin: voice` and the call is connected
to the building's staff on duty in ladder order (`steward/store/on_duty.py`), one phone at a time;
whoever answers acknowledges the case (the workflow's `acknowledge` update decides), and when nobody
does the case stays open and its own ladder pages. 2 records a message (`call_messages.py`). 3 reads
the caller's open cases from the read model. A stranger's 1 rings the service centre's duty ladder
and opens nothing. Each CallSid files its emergency once, so Twilio's retries open nothing new.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Annotated
from urllib.parse import urlencode

from fastapi import Query, Request, Response
from fastapi.responses import JSONResponse
from sqlalchemy import select
from sqlalchemy.orm import Session
from twilio.twiml.voice_response import Gather, VoiceResponse

from api.errors import ApiError
from api.filing import file_case
from api.models import SubmitRequest
from api.twilio.inbox import Inbox, twiml
from api.twilio.signature import PREFIX, signed_router
from steward.limits import RateLimited
from steward.store.inbound import locale_for_phone, resident_home
from steward.store.models import Case, Staff
from steward.store.on_duty import duty_ladder
from steward.texts.carriers import Speech, speech
from steward.texts.render import locale_of, render, voice_language
from workflows.contracts import Actor, Channel, Kind, Locale, Role, Severity, Status

log = logging.getLogger("steward.webhooks")

CALL_PATH = "/call"
GATHER_TIMEOUT = 8
MENU_TRIES = 2
CASES_SPOKEN = 5
SPOKEN_STATUS = (Status.submitted, Status.dispatched, Status.acknowledged, Status.in_progress)
StaffIds = Annotated[str, Query(pattern=r"^[A-Za-z0-9_,-]{0,400}$")]

router = signed_router()


@dataclass(frozen=True)
class Caller:
    phone: str
    call_sid: str
    resident_id: str | None
    building_id: str | None
    locales: tuple[Locale, ...]
    speeches: tuple[Speech, ...]

    @property
    def locale(self) -> Locale:
        return self.locales[0]


def spelled(code: str) -> str:
    """A case code as a call says it, character by character."""
    return " ".join(char for char in code if char.isalnum())


def call_url(inbox: Inbox, step: str = "", **query: str | int) -> str:
    return f"{inbox.settings.webhook_base_url}{PREFIX}{CALL_PATH}{step}" + (
        "?" + urlencode(query) if query else "")


def bad_request(message: str) -> JSONResponse:
    return JSONResponse({"error": {"code": "invalid_request", "message": message}}, status_code=422)


async def form_of(request: Request, *required: str) -> dict[str, str] | JSONResponse:
    """The posted fields, or 422 naming the first of `required` that is missing."""
    form = {key: str(value) for key, value in (await request.form()).items()}
    for name in required:
        if not form.get(name, "").strip():
            return bad_request(f"{name}: Twilio always sends it; this request did not")
    return form


async def caller_of(inbox: Inbox, form: dict[str, str]) -> Caller:
    phone = form["From"].strip()

    def look(session: Session) -> tuple[str | None, str | None, tuple[Locale, ...]]:
        home = resident_home(session, phone)
        if home is None:
            return None, None, (Locale.zh_cn, Locale.en)
        return home[0], home[1], (locale_for_phone(session, phone),)

    resident_id, building_id, locales = await inbox.db(look)
    return Caller(phone, form["CallSid"], resident_id, building_id, locales,
                  tuple(speech(inbox.settings, locale) for locale in locales))


def say(response: VoiceResponse | Gather, caller: Caller, key: str,
        params: dict[str, str] | None = None) -> None:
    for locale, said in zip(caller.locales, caller.speeches, strict=True):
        response.say(render(key, locale, params, channel=Channel.voice),
                     voice=said.voice, language=said.language)


def menu(inbox: Inbox, caller: Caller, tries: int, notice: str | None = None) -> VoiceResponse:
    """The menu (after `notice`, if any); unanswered, it is said once more, then the call ends."""
    response = VoiceResponse()
    if notice:
        say(response, caller, notice)
    gather = response.gather(num_digits=1, timeout=GATHER_TIMEOUT, method="POST",
                             language=voice_language(caller.locale),
                             action=call_url(inbox, "/menu", tries=tries))
    say(gather, caller, "call.menu_resident" if caller.resident_id else "call.menu_stranger")
    if tries + 1 < MENU_TRIES:
        response.redirect(call_url(inbox, tries=tries + 1), method="POST")
    else:
        say(response, caller, "voice.no_input")
        response.hangup()
    return response


@router.post(CALL_PATH, summary="A call to the service centre's number: the menu")
async def incoming(request: Request, tries: Annotated[int, Query(ge=0, le=MENU_TRIES)] = 0) -> Response:
    form = await form_of(request, "From", "CallSid")
    if isinstance(form, JSONResponse):
        return form
    inbox = Inbox.of(request)
    return twiml(menu(inbox, await caller_of(inbox, form), tries))


@router.post(CALL_PATH + "/menu", summary="The key the caller pressed at the menu")
async def chosen(request: Request, tries: Annotated[int, Query(ge=0, le=MENU_TRIES)] = 0) -> Response:
    form = await form_of(request, "From", "CallSid")
    if isinstance(form, JSONResponse):
        return form
    inbox = Inbox.of(request)
    caller = await caller_of(inbox, form)
    digits = form.get("Digits", "").strip()
    if digits == "1":
        return twiml(await emergency(inbox, caller))
    if digits == "2":
        return twiml(record_prompt(inbox, caller))
    if digits == "3" and caller.resident_id:
        return twiml(await open_cases(inbox, caller))
    if tries + 1 >= MENU_TRIES:
        response = VoiceResponse()
        say(response, caller, "voice.invalid_choice")
        response.hangup()
        return twiml(response)
    return twiml(menu(inbox, caller, tries + 1, notice="voice.invalid_choice"))


def record_prompt(inbox: Inbox, caller: Caller) -> VoiceResponse:
    response = VoiceResponse()
    say(response, caller, "call.record_prompt")
    response.record(max_length=inbox.settings.call_max_recording_s, finish_on_key="#", play_beep=True,
                    timeout=5, method="POST", action=call_url(inbox, "/recorded"))
    say(response, caller, "voice.no_input")
    response.hangup()
    return response


# --- 1: an emergency, connected to the staff on duty ----------------------------------------------


async def emergency(inbox: Inbox, caller: Caller) -> VoiceResponse:
    """A resident's emergency is filed first (once per CallSid), then their building's ladder rings; a
    stranger's rings the service centre's ladder and files nothing."""
    ladder = await inbox.db(lambda s: [member.id for member in duty_ladder(s, caller.building_id)])
    case_id = await file_emergency(inbox, caller) if caller.resident_id else None
    response = VoiceResponse()
    say(response, caller, "call.connecting")
    if case_id:
        say(response, caller, "call.emergency_filed", {"code": spelled(case_id)})
    await dial_next(inbox, response, caller, case_id, ladder)
    return response


async def file_emergency(inbox: Inbox, caller: Caller) -> str | None:
    body = SubmitRequest(kind=Kind.repair, severity=Severity.emergency, category="general",
                         title=render("call.emergency_title", caller.locale),
                         description=render("call.emergency_description", caller.locale,
                                            {"phone": caller.phone}),
                         origin=Channel.voice)
    actor = Actor(id=caller.resident_id or "", role=Role.resident)
    try:
        filed = await file_case(inbox.client, inbox.sessions, inbox.settings, body, actor,
                                f"call:{caller.call_sid}")
    except (RateLimited, ApiError) as refused:
        log.warning("emergency call %s not filed: %s", caller.call_sid, refused)
        return None
    return filed.case_id


async def dial_next(inbox: Inbox, response: VoiceResponse, caller: Caller, case_id: str | None,
                    ladder: list[str]) -> None:
    """Ring the first of `ladder` with a phone; the Dial's action carries the rest. Nobody left: the
    caller is told their case stays open (its own ladder pages) and the call ends."""
    staff = await inbox.db(lambda s: [(m.id, m.phone) for m in s.scalars(
        select(Staff).where(Staff.id.in_(ladder), Staff.active, Staff.phone.is_not(None)))])
    phones = dict(staff)
    ringing = [staff_id for staff_id in ladder if staff_id in phones]
    if not ringing:
        say(response, caller, "call.nobody_answered")
        response.hangup()
        return
    first, rest = ringing[0], ringing[1:]
    common = {"case": case_id or "", "staff": first}
    dial = response.dial(action=call_url(inbox, "/dial", **common, next=",".join(rest)), method="POST",
                         timeout=inbox.settings.call_ring_s)
    dial.number(phones[first], url=call_url(inbox, "/answered", **common), method="POST")


@router.post(CALL_PATH + "/answered", summary="A staff phone answered the emergency: it owns the case")
async def answered(request: Request, staff: StaffIds,
                   case: Annotated[str, Query(max_length=100)] = "") -> Response:
    """The whisper to the staff member who answered, before the calls are joined: the case is
    acknowledged as them, so they own it (unless the workflow refuses: someone else was first)."""
    inbox = Inbox.of(request)
    member = await inbox.db(lambda s: s.get(Staff, staff))
    if member is None:
        return JSONResponse({"error": {"code": "not_found", "message": f"no staff member {staff}"}},
                            status_code=404)
    locale = locale_of(member.locale)
    detail = ""
    if case:
        refused = await inbox.acknowledge(case, member)
        if refused:
            log.info("emergency %s not acknowledged by %s: %s", case, staff, refused)
        else:
            detail = render("call.whisper_case", locale, {"code": spelled(case)}, channel=Channel.voice)
    response = VoiceResponse()
    said = speech(inbox.settings, locale)
    response.say(render("call.whisper", locale, {"detail": detail}, channel=Channel.voice),
                 voice=said.voice, language=said.language)
    return twiml(response)


@router.post(CALL_PATH + "/dial", summary="How ringing a staff phone ended: done, or the next one")
async def dialled(request: Request, staff: StaffIds, next: StaffIds = "",  # noqa: A002 - Twilio's query
                  case: Annotated[str, Query(max_length=100)] = "") -> Response:
    form = await form_of(request, "From", "CallSid", "DialCallStatus")
    if isinstance(form, JSONResponse):
        return form
    inbox = Inbox.of(request)
    caller = await caller_of(inbox, form)
    response = VoiceResponse()
    if form["DialCallStatus"] in ("completed", "answered"):
        response.hangup()
        return twiml(response)
    await dial_next(inbox, response, caller, case or None, [s for s in next.split(",") if s])
    return twiml(response)


# --- 3: the caller's open cases -------------------------------------------------------------------


async def open_cases(inbox: Inbox, caller: Caller) -> VoiceResponse:
    rows = await inbox.db(lambda s: [(row.case_id, row.title, row.status) for row in s.scalars(
        select(Case).where(Case.resident_id == caller.resident_id,
                           Case.status.in_([status.value for status in SPOKEN_STATUS]))
        .order_by(Case.submitted_at.desc()).limit(CASES_SPOKEN))])
    response = VoiceResponse()
    if not rows:
        say(response, caller, "call.no_open_cases")
    for case_id, title, status in rows:
        spoken_status = render(f"call.status.{status}", caller.locale)
        say(response, caller, "call.open_case",
            {"code": spelled(case_id), "title": title, "status": spoken_status})
    response.hangup()
    return response
