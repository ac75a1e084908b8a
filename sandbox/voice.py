"""Outbound calls followed the way Twilio follows them.

A call rings, then the phone's behaviour decides: `answer` fetches the call's `Url` (signed, with
`CallStatus=in-progress`) and follows the TwiML; `no-answer` and `busy` end it at once. Every `<Say>`
and `<Gather>` is recorded. At a `<Gather>` the call waits for `press`: digits are POSTed to the
Gather's action and the answer becomes the call's document; no digits (a timeout) carries on with the
verbs after the Gather, as Twilio does. `<Redirect>` fetches the next document; `<Hangup/>`,
`<Reject/>` or the end of the document completes the call. Status callbacks follow Twilio's call
progress events: the terminal one always, `initiated`, `ringing` and `answered` when asked for.
"""

from __future__ import annotations

import asyncio
from email.utils import format_datetime
from urllib.parse import urljoin

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
    now,
)
from sandbox.twiml import TwimlError, Verb, parse

MAX_REDIRECTS = 20
_EVENT_OF_STATUS = {"initiated": "initiated", "ringing": "ringing", "in-progress": "answered"}


class CallNotWaiting(Exception):
    """A key was pressed on a call that is not waiting at a `<Gather>`."""


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
            url, method = redirect
            verbs = await self._fetch(call, url, method)
        else:
            self._error(call, 11201, f"more than {MAX_REDIRECTS} redirects in a row", url)
        await self._progress(call, "completed")

    async def _perform(self, call: Call, url: str, verbs: list[Verb]) -> tuple[str, str] | None:
        """Run verbs until the call waits, ends or is redirected (then the URL and method to fetch)."""
        for index, verb in enumerate(verbs):
            if verb.name == "Say":
                self._say(call, verb)
            elif verb.name == "Gather":
                self._gather(call, verb, url, verbs[index + 1:])
                return None
            elif verb.name == "Redirect":
                return urljoin(url, verb.text), (verb.attr("method") or "POST").upper()
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
