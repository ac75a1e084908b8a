"""SMS both ways: messages Steward sends through the REST API, and messages a phone sends to Steward.

An outbound message is checked like Twilio checks it (E.164 `To`, the magic test numbers, opt-outs),
answered `queued`, then moves to `sent` and `delivered` (or `undelivered`, error 30003, when the
phone is set to fail), with a signed status callback at each step. A phone's message is POSTed,
signed, to Steward's SMS webhook; STOP/START are honoured as Twilio's default opt-out handling does,
and every `<Message>` of Steward's TwiML answer is recorded as a reply to that phone.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Mapping
from typing import Any

from sandbox.config import SandboxConfig
from sandbox.outbound import WebhookSender
from sandbox.records import (
    API_VERSION,
    START_WORDS,
    STOP_WORDS,
    Message,
    SandboxState,
    TwilioError,
    new_sid,
)
from sandbox.twiml import TwimlError, message_bodies, parse

E164 = re.compile(r"^\+[1-9]\d{1,14}$")
MAX_BODY = 1600
UNDELIVERED = 30003

STOP_REPLY = (
    "You have successfully been unsubscribed. You will not receive any more messages from this number. "
    "Reply START to resubscribe."
)
START_REPLY = (
    "You have successfully been re-subscribed to messages from this number. Reply HELP for help. "
    "Reply STOP to unsubscribe. Msg&Data Rates May Apply."
)


def check_message_number(to: str) -> None:
    """Twilio's magic `To` numbers for messages sent with test credentials."""
    errors = {
        "+15005550001": (21211, f"The 'To' number {to} is not a valid phone number."),
        "+15005550002": (21612, f"The 'To' phone number: {to}, is not currently reachable via SMS."),
        "+15005550003": (21408, f"Permission to send an SMS has not been enabled for the region of {to}"),
        "+15005550004": (21610, "Attempt to send to unsubscribed recipient"),
        "+15005550009": (21614, f"'To' number {to} is not a valid mobile number"),
    }
    if to in errors:
        code, message = errors[to]
        raise TwilioError(400, code, message)


def check_e164(to: str) -> None:
    if not E164.match(to):
        raise TwilioError(400, 21211, f"The 'To' number {to} is not a valid phone number.")


class Messaging:
    def __init__(self, config: SandboxConfig, state: SandboxState, sender: WebhookSender) -> None:
        self._config = config
        self._state = state
        self._sender = sender

    def create(self, form: Mapping[str, str]) -> Message:
        """A message from `POST …/Messages.json`, or the Twilio error it would get."""
        to, from_, body = form.get("To", "").strip(), form.get("From", "").strip(), form.get("Body", "")
        if not to:
            raise TwilioError(400, 21604, "A 'To' phone number is required.")
        if not from_:
            raise TwilioError(400, 21603, "A 'From' phone number is required.")
        if not body:
            raise TwilioError(400, 21602, "Message body is required.")
        if len(body) > MAX_BODY:
            raise TwilioError(
                400, 21617, f"The concatenated message body exceeds the {MAX_BODY} character limit."
            )
        check_e164(to)
        check_message_number(to)
        if to in self._state.opted_out:
            raise TwilioError(400, 21610, "Attempt to send to unsubscribed recipient")
        return self._state.add_message(Message(
            sid=new_sid("SM"), account_sid=self._config.account_sid, direction="outbound-api",
            from_=from_, to=to, body=body, status="queued",
            status_callback=form.get("StatusCallback") or None,
            status_callback_method=(form.get("StatusCallbackMethod") or "POST").upper(),
        ))

    async def deliver(self, message: Message) -> None:
        """queued → sent → delivered, or undelivered (30003) for a phone set to fail."""
        await asyncio.sleep(self._config.step_delay)
        self._state.set_message_status(message, "sent")
        await self._status_callback(message)
        await asyncio.sleep(self._config.step_delay)
        if self._state.behaviour(message.to).sms == "deliver":
            self._state.set_message_status(message, "delivered")
        else:
            self._state.set_message_status(message, "undelivered", UNDELIVERED)
        await self._status_callback(message)

    async def receive(self, from_: str, to: str, body: str) -> dict[str, Any]:
        """A phone sends Steward an SMS: the signed webhook, Twilio's opt-out handling, the replies."""
        inbound = self._state.add_message(Message(
            sid=new_sid("SM"), account_sid=self._config.account_sid, direction="inbound",
            from_=from_, to=to, body=body, status="received",
        ))
        keyword = body.strip().upper()
        automatic: list[Message] = []
        if keyword in STOP_WORDS:
            with self._state.lock:
                self._state.opted_out.add(from_)
            automatic.append(self._reply(to, from_, STOP_REPLY, automatic=True))
        elif keyword in START_WORDS:
            with self._state.lock:
                self._state.opted_out.discard(from_)
            automatic.append(self._reply(to, from_, START_REPLY, automatic=True))
        params = {
            "MessageSid": inbound.sid, "SmsSid": inbound.sid, "SmsMessageSid": inbound.sid,
            "AccountSid": inbound.account_sid, "From": from_, "To": to, "Body": body,
            "NumMedia": "0", "NumSegments": "1", "SmsStatus": "received", "ApiVersion": API_VERSION,
        }
        attempt = await self._sender.send("sms", self._config.sms_webhook_url, params)
        with self._state.lock:
            inbound.callbacks.append(attempt)
        bodies, twiml_error = [], None
        if attempt.ok:
            try:
                bodies = message_bodies(parse(attempt.response or ""))
            except TwimlError as error:
                twiml_error = str(error)
        answered = [self._reply(to, from_, text) for text in bodies]
        return {
            "message": inbound.to_json(),
            "webhook_status": attempt.status_code,
            "webhook_error": attempt.error or twiml_error,
            "reply": answered[0].body if answered else None,
            "replies": [reply.to_json() for reply in automatic + answered],
        }

    def _reply(self, from_: str, to: str, body: str, automatic: bool = False) -> Message:
        """A reply to a phone; blocked (21610) when that phone has opted out, unless it is Twilio's own."""
        message = Message(
            sid=new_sid("SM"), account_sid=self._config.account_sid, direction="outbound-reply",
            from_=from_, to=to, body=body, status="delivered",
        )
        if not automatic and to in self._state.opted_out:
            message.status, message.error_code = "failed", 21610
        elif self._state.behaviour(to).sms == "fail":
            message.status, message.error_code = "undelivered", UNDELIVERED
        return self._state.add_message(message)

    async def _status_callback(self, message: Message) -> None:
        if not message.status_callback:
            return
        params = {
            "MessageSid": message.sid, "SmsSid": message.sid, "AccountSid": message.account_sid,
            "From": message.from_, "To": message.to, "MessageStatus": message.status,
            "SmsStatus": message.status, "ApiVersion": API_VERSION,
        }
        if message.error_code is not None:
            params["ErrorCode"] = str(message.error_code)
        attempt = await self._sender.send(
            "status", message.status_callback, params, message.status_callback_method
        )
        with self._state.lock:
            message.callbacks.append(attempt)
