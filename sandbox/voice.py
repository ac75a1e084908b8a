"""Outbound calls followed the way Twilio follows them.

A call rings, then the phone's behaviour decides: `answer` fetches the call's `Url` (signed, with
`CallStatus=in-progress`) and follows the TwiML; `no-answer` and `busy` end it at once. Every `<Say>`
and `<Gather>` is recorded. At a `<Gather>` the call waits for `press`: digits are POSTed to the
Gather's action and the answer becomes the call's document; no digits (a timeout) carries on with the
verbs after the Gather, as Twilio does. `<Redirect>` fetches the next document; `<Hangup/>`,
`<Reject/>` or the end of the document completes the call. Status callbacks follow Twilio's call
progress events: the terminal one always, `initiated`, `ringing` and `answered` when asked for.

A phone can also call Steward (`place`): the call is answered at once and its TwiML followed the same
way, with two more verbs a caller meets. `<Record>` waits for `leave_message` (a short tone WAV the
sandbox then serves as Twilio serves recordings); `<Dial>` rings its `<Number>`s one after another,
each phone's behaviour deciding whether it answers, fetches the answering Number's `url` (the whisper)
and posts the Dial's action with `DialCallStatus`, as Twilio does.
"""

from __future__ import annotations

import asyncio
from email.utils import format_datetime
from urllib.parse import urljoin

from sandbox.caller_records import PendingRecord, Recording, tone_wav
from sandbox.outbound import WebhookSender
from sandbox.records import (
    API_VERSION,
    CALL_TERMINAL,
    Call,
    Gather,
    PendingGather,
    SandboxState,
    Say,
    TwilioError,
    new_sid,
    now,
)
from sandbox.twiml import TwimlError, Verb, parse

MAX_REDIRECTS = 20
_EVENT_OF_STATUS = {"initiated": "initiated", "ringing": "ringing", "in-progress": "answered"}


class CallNotWaiting(Exception):
    """A key was pressed on a call that is not waiting at a `<Gather>` (or a message left on one not
    waiting at a `<Record>`)."""


class CallRunner:
    def __init__(self, state: SandboxState, sender: WebhookSender, step_delay: float) -> None:
        self._state = state
        self._sender = sender
        self._step_delay = step_delay

    async def run(self, call: Call) -> None:
        """From `queued` to ringing, then answered (and followed) or ended unanswered."""
        for status in ("initiated", "ringing"):
            await asyncio.sleep(self._step_delay)
            await self._progress(call, status)
        behaviour = self._state.behaviour(call.to).voice
        if behaviour != "answer":
            await self._progress(call, behaviour)
            return
        async with call.lock:
            await self._progress(call, "in-progress")
            if call.twiml is not None:
                document_url, verbs = call.url or "", self._parse(call, call.twiml)
            else:
                document_url, verbs = call.url, await self._fetch(call, call.url, call.method)
            await self._follow(call, document_url, verbs)

    async def press(self, call: Call, digits: str) -> None:
        """Keys pressed on the open `<Gather>`; "" is the Gather timing out with no input."""
        async with call.lock:
            pending = call.pending
            if call.status != "in-progress" or pending is None:
                raise CallNotWaiting(f"call {call.sid} is {call.status} and not waiting for keys")
            gather = pending.gather
            with self._state.lock:
                gather.digits, gather.answered_at, call.pending = digits, now(), None
                gather.timed_out = digits == ""
            if digits or gather.action_on_empty_result:
                url = urljoin(pending.document_url, gather.action or pending.document_url)
                verbs = await self._fetch(call, url, gather.method, Digits=digits)
                await self._follow(call, url, verbs)
            else:
                await self._follow(call, pending.document_url, pending.rest)

    def _params(self, call: Call, **extra: str) -> dict[str, str]:
        return {
            "CallSid": call.sid, "AccountSid": call.account_sid, "From": call.from_, "To": call.to,
            "CallStatus": call.status, "Direction": call.direction, "ApiVersion": API_VERSION, **extra,
        }

    async def _fetch(self, call: Call, url: str, method: str, **extra: str) -> list[Verb] | None:
        attempt = await self._sender.send("voice", url, self._params(call, **extra), method)
        with self._state.lock:
            call.documents.append(attempt)
        if not attempt.ok:
            self._error(call, 11200, f"HTTP retrieval failure: {attempt.status_code or attempt.error}", url)
            return None
        return self._parse(call, attempt.response or "", url)

    def _parse(self, call: Call, document: str, url: str | None = None) -> list[Verb] | None:
        try:
            return parse(document)
        except TwimlError as error:
            self._error(call, 12100, f"document parse failure: {error}", url)
            return None

    async def _follow(self, call: Call, url: str, verbs: list[Verb] | None) -> None:
        for _ in range(MAX_REDIRECTS):
            if verbs is None:
                break
            redirect = await self._perform(call, url, verbs)
            if redirect is None:
                return
            url, method, extra = redirect
            verbs = await self._fetch(call, url, method, **extra)
        else:
            self._error(call, 11201, f"more than {MAX_REDIRECTS} redirects in a row", url)
        await self._progress(call, "completed")

    async def _perform(self, call: Call, url: str, verbs: list[Verb]) -> tuple[str, str, dict] | None:
        """Run verbs until the call waits, ends or is redirected (then the URL, method and params to
        fetch: a `<Dial>`'s action gets how the dialled call ended)."""
        for index, verb in enumerate(verbs):
            if verb.name == "Say":
                self._say(call, verb)
            elif verb.name == "Gather":
                self._gather(call, verb, url, verbs[index + 1:])
                return None
            elif verb.name == "Record":
                self._wait_for_message(call, verb, url, verbs[index + 1:])
                return None
            elif verb.name == "Dial":
                outcome = await self._dial(call, url, verb)
                if verb.attr("action"):
                    return urljoin(url, verb.attr("action")), (verb.attr("method") or "POST").upper(), outcome
            elif verb.name == "Redirect":
                return urljoin(url, verb.text), (verb.attr("method") or "POST").upper(), {}
            elif verb.name in ("Hangup", "Reject"):
                await self._progress(call, "completed")
                return None
            elif verb.name not in ("Pause", "Play"):
                self._error(call, 12200, f"<{verb.name}> is not supported by the sandbox", url)
        await self._progress(call, "completed")
        return None

    def _say(self, call: Call, verb: Verb) -> Say:
        say = Say(text=verb.text, language=verb.attr("language"), voice=verb.attr("voice"))
        with self._state.lock:
            call.says.append(say)
        return say

    def _gather(self, call: Call, verb: Verb, document_url: str, rest: list[Verb]) -> None:
        num_digits = verb.attr("numDigits")
        gather = Gather(
            action=verb.attr("action"),
            method=(verb.attr("method") or "POST").upper(),
            num_digits=int(num_digits) if num_digits else None,
            timeout=int(verb.attr("timeout") or 5),
            language=verb.attr("language"),
            finish_on_key=verb.attr("finishOnKey", "#"),
            action_on_empty_result=verb.attr("actionOnEmptyResult", "false").lower() == "true",
        )
        for child in verb.children:
            if child.name == "Say":
                gather.prompt.append(self._say(call, child).text)
        with self._state.lock:
            call.gathers.append(gather)
            call.pending = PendingGather(gather=gather, document_url=document_url, rest=rest)

    # --- a call placed to Steward (the sandbox is the caller): <Record> and <Dial> -------------------

    async def place(self, call: Call) -> None:
        """A phone calls Steward's number: it answers at once and its TwiML is followed until it waits."""
        async with call.lock:
            await self._progress(call, "ringing")
            await self._progress(call, "in-progress")
            await self._follow(call, call.url or "", await self._fetch(call, call.url or "", call.method))

    def _wait_for_message(self, call: Call, verb: Verb, document_url: str, rest: list[Verb]) -> None:
        with self._state.lock:
            call.recording = PendingRecord(
                action=verb.attr("action"), method=(verb.attr("method") or "POST").upper(),
                max_length=int(verb.attr("maxLength") or 3600), document_url=document_url, rest=rest)

    async def leave_message(self, call: Call, seconds: int, recordings_url: str) -> None:
        """The caller speaks for `seconds` at the `<Record>` and presses the finish key: the WAV is kept
        where `recordings_url` serves it and the Record's action gets its URL. 0 seconds is silence:
        no recording, the verbs after the Record go on, as at Twilio."""
        async with call.lock:
            pending = call.recording
            if call.status != "in-progress" or pending is None:
                raise CallNotWaiting(f"call {call.sid} is {call.status} and not recording")
            with self._state.lock:
                call.recording = None
            if seconds <= 0:
                await self._follow(call, pending.document_url, pending.rest)
                return
            seconds = min(seconds, pending.max_length)
            recording = Recording(sid=new_sid("RE"), call_sid=call.sid, duration=seconds)
            with self._state.lock:
                self._state.recordings[recording.sid] = tone_wav(seconds)
                call.recordings.append(recording)
            url = urljoin(pending.document_url, pending.action or pending.document_url)
            verbs = await self._fetch(call, url, pending.method, RecordingSid=recording.sid,
                                      RecordingUrl=f"{recordings_url}/{recording.sid}",
                                      RecordingDuration=str(seconds), Digits="#")
            await self._follow(call, url, verbs)

    async def _dial(self, call: Call, url: str, verb: Verb) -> dict[str, str]:
        """Ring the `<Number>`s in order; the first phone that answers hears its whisper (the Number's
        `url`) and the calls are joined, then hung up. What the Dial's action is told."""
        numbers = [child for child in verb.children if child.name == "Number"] or [verb]
        status, child_sid = "no-answer", ""
        for number in numbers:
            child = self._state.add_call(Call(
                sid=new_sid("CA"), account_sid=call.account_sid, from_=call.from_, to=number.text,
                url=number.attr("url"), method=(number.attr("method") or "POST").upper(), twiml=None,
                status_callback=None, status_callback_method="POST", status_callback_events=[],
                direction="outbound-dial", parent_call_sid=call.sid))
            await asyncio.sleep(self._step_delay)
            await self._progress(child, "ringing")
            status, child_sid = self._state.behaviour(child.to).voice, child.sid
            if status == "answer":
                await self._progress(child, "in-progress")
                if child.url:
                    whisper = await self._fetch(child, urljoin(url, child.url), child.method,
                                                ParentCallSid=call.sid)
                    for said in whisper or []:
                        if said.name == "Say":
                            self._say(child, said)
                await self._progress(child, "completed")
                status = "completed"
            else:
                await self._progress(child, status)
            with self._state.lock:
                call.dialled.append({"to": child.to, "call_sid": child.sid, "status": status})
            if status == "completed":
                break
        return {"DialCallStatus": status, "DialCallSid": child_sid, "DialCallDuration": "0"}

    def _error(self, call: Call, code: int, message: str, url: str | None) -> None:
        with self._state.lock:
            call.errors.append({"code": code, "message": message, "url": url, "at": now().isoformat()})

    async def _progress(self, call: Call, status: str) -> None:
        if call.status in CALL_TERMINAL:
            return
        self._state.set_call_status(call, status)
        event = "completed" if status in CALL_TERMINAL else _EVENT_OF_STATUS[status]
        if not call.status_callback or (event != "completed" and event not in call.status_callback_events):
            return
        extra = {
            "CallbackSource": "call-progress-events",
            "Timestamp": format_datetime(now()),
            "SequenceNumber": str(len(call.callbacks)),
        }
        if status in CALL_TERMINAL:
            extra["CallDuration"] = str(call.duration or 0)
        attempt = await self._sender.send(
            "status", call.status_callback, self._params(call, **extra), call.status_callback_method
        )
        with self._state.lock:
            call.callbacks.append(attempt)


def check_call_number(to: str) -> None:
    """Twilio's magic `To` numbers for calls made with test credentials."""
    errors = {
        "+15005550001": (21217, f"Phone number {to} does not appear to be valid"),
        "+15005550002": (21214, f"'To' phone number {to} cannot be reached"),
        "+15005550003": (21215, f"Account not authorized to call {to}"),
        "+15005550004": (21216, f"Account not allowed to call {to}"),
    }
    if to in errors:
        code, message = errors[to]
        raise TwilioError(400, code, message)
