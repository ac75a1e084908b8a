"""A message left on the service centre's phone (key 2): Twilio's `<Record>` callback.

The recording is fetched from Twilio (only from `settings.twilio_base_url`, with the account's
credentials, as Twilio asks) and kept in the recording store (`steward/store/recordings.py`). A
resident's message opens a repair for their home, the recording kept with it behind the same access
rules as photos (`api/routes/recordings.py`), and the caller hears its code. A stranger's number
opens nothing: the message is listed for staff in `GET /inbound-messages`, like a stranger's SMS.
Each RecordingSid is handled once: Twilio retrying the callback hears the same answer.
"""

from __future__ import annotations

import logging
import re

import httpx
from fastapi import Request, Response
from fastapi.responses import JSONResponse
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from twilio.twiml.voice_response import VoiceResponse

from api.errors import ApiError
from api.filing import file_case
from api.models import SubmitRequest
from api.twilio.call_intake import CALL_PATH, Caller, bad_request, caller_of, form_of, say, spelled
from api.twilio.inbox import Inbox, twiml
from api.twilio.signature import signed_router
from steward.file_store import recording_files
from steward.limits import RateLimited
from steward.settings import Settings
from steward.store.inbound import record_outcome, store_inbound
from steward.store.models import CallRecording
from steward.store.recordings import RECORDING_SID, keep_recording
from steward.texts.render import render
from workflows.contracts import Actor, Channel, Kind, Role

log = logging.getLogger("steward.webhooks")

MAX_RECORDING_BYTES = 20 * 1024 * 1024
FETCH_TIMEOUT_S = 5.0
STAFF_PATH = "/call-recordings/{sid}"

router = signed_router()


async def fetch_recording(settings: Settings, url: str) -> bytes | None:
    """The WAV of the recording, or None when Twilio does not give it (the case is filed anyway)."""
    try:
        async with httpx.AsyncClient(timeout=FETCH_TIMEOUT_S) as http:
            answer = await http.get(url + ".wav",
                                    auth=(settings.twilio_account_sid, settings.twilio_auth_token))
    except httpx.HTTPError as error:
        log.warning("recording %s not fetched: %s", url, error)
        return None
    if answer.status_code != 200 or len(answer.content) > MAX_RECORDING_BYTES:
        log.warning("recording %s not fetched: HTTP %s, %s bytes", url, answer.status_code,
                    len(answer.content))
        return None
    return answer.content


@router.post(CALL_PATH + "/recorded", summary="The caller's message: a repair, or a note for staff")
async def recorded(request: Request) -> Response:
    form = await form_of(request, "From", "CallSid", "RecordingSid", "RecordingUrl")
    if isinstance(form, JSONResponse):
        return form
    inbox = Inbox.of(request)
    sid, url = form["RecordingSid"].strip(), form["RecordingUrl"].strip()
    if not re.fullmatch(RECORDING_SID, sid):
        return bad_request("RecordingSid: not a Twilio recording sid")
    if not url.startswith(inbox.settings.twilio_base_url + "/"):
        return bad_request("RecordingUrl: not a recording of this Twilio account")
    duration = int(form.get("RecordingDuration", "0")) if form.get("RecordingDuration", "").isdigit() else 0
    caller = await caller_of(inbox, form)
    kept = await inbox.db(lambda s: s.get(CallRecording, sid))
    if kept is not None:
        return twiml(_answer(caller, kept.case_id))
    data = await fetch_recording(inbox.settings, url)
    case_id = await _file(inbox, caller, sid, duration) if caller.resident_id else None
    if data is not None:
        recording_files(inbox.settings).put(sid, data)

    def keep(session: Session) -> None:
        keep_recording(session, sid, caller.call_sid, caller.phone, case_id, "audio/wav" if data else "",
                       len(data or b""), duration)
        if case_id is None and store_inbound(session, sid, caller.phone, form.get("To", ""), render(
                "call.stranger_message", "en", {"phone": caller.phone, "seconds": str(duration),
                                                "path": STAFF_PATH.format(sid=sid)})):
            session.flush()
            record_outcome(session, sid, "unmatched", None)

    try:
        await inbox.db(keep)
    except IntegrityError:
        log.info("recording %s was kept by a retry of this callback meanwhile", sid)
    return twiml(_answer(caller, case_id))


async def _file(inbox: Inbox, caller: Caller, sid: str, duration: int) -> str | None:
    """A repair for the caller's home, once per RecordingSid; None when the filing door refused it."""
    body = SubmitRequest(
        kind=Kind.repair, category="general", title=render("call.message_title", caller.locale),
        description=render("call.message_description", caller.locale,
                           {"phone": caller.phone, "seconds": str(duration), "recording": sid}),
        origin=Channel.voice)
    try:
        filed = await file_case(inbox.client, inbox.sessions, inbox.settings, body,
                                Actor(id=caller.resident_id or "", role=Role.resident), sid)
    except (RateLimited, ApiError) as refused:
        log.warning("voice message %s not filed: %s", sid, refused)
        return None
    return filed.case_id


def _answer(caller: Caller, case_id: str | None) -> VoiceResponse:
    response = VoiceResponse()
    if case_id:
        say(response, caller, "call.reported", {"code": spelled(case_id)})
    elif caller.resident_id:
        say(response, caller, "call.report_refused")
    else:
        say(response, caller, "call.message_kept")
    response.hangup()
    return response
