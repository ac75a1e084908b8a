"""What the sandbox remembers: every message and call, each phone's behaviour, opt-outs, the outage switch
and what it refused.

Records are plain dataclasses rendered two ways: the JSON Twilio's REST API answers with (what the
official client parses) and the sandbox's own JSON for people and tests. All state lives in one
`SandboxState`, whose lock guards every change so the HTML page, tests and background deliveries see
whole records.
"""

from __future__ import annotations

import asyncio
import threading
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any, Literal

from sandbox.caller_records import PendingRecord, Recording

API_VERSION = "2010-04-01"

SmsBehaviour = Literal["deliver", "fail"]
VoiceBehaviour = Literal["answer", "no-answer", "busy"]
OutageMode = Literal["500", "429"]

# Twilio's default opt-out keywords (Advanced Opt-Out off), matched on the whole trimmed body.
STOP_WORDS = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"})
START_WORDS = frozenset({"START", "YES", "UNSTOP"})

MESSAGE_TERMINAL = frozenset({"delivered", "undelivered", "failed"})
CALL_TERMINAL = frozenset({"completed", "busy", "no-answer", "failed", "canceled"})


def now() -> datetime:
    return datetime.now(UTC)


def new_sid(prefix: str) -> str:
    """`SM…`/`CA…`: two letters and 32 hex digits, 34 characters like Twilio's."""
    return prefix + uuid.uuid4().hex


def _rfc2822(moment: datetime | None) -> str | None:
    return format_datetime(moment) if moment else None


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


class TwilioError(Exception):
    """An error answered in Twilio's JSON shape: `{"code", "message", "more_info", "status"}`."""

    def __init__(self, status: int, code: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message

    def to_json(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "message": self.message,
            "more_info": f"https://www.twilio.com/docs/errors/{self.code}",
            "status": self.status,
        }


@dataclass
class WebhookAttempt:
    """One request the sandbox made to Steward (status callback, TwiML fetch, inbound SMS)."""

    kind: str
    url: str
    method: str
    params: dict[str, str]
    at: datetime = field(default_factory=now)
    status_code: int | None = None
    error: str | None = None
    response: str | None = None

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind, "url": self.url, "method": self.method, "params": self.params,
            "at": _iso(self.at), "status_code": self.status_code, "error": self.error,
            "response": self.response[:4000] if self.response else self.response,
        }


@dataclass
class Refusal:
    """A REST request the outage switch answered with an error instead of doing it."""

    method: str
    path: str
    to: str | None
    status: int
    code: int
    at: datetime = field(default_factory=now)

    def to_json(self) -> dict[str, Any]:
        return {"method": self.method, "path": self.path, "to": self.to, "status": self.status,
                "code": self.code, "at": _iso(self.at)}


@dataclass
class Message:
    sid: str
    account_sid: str
    direction: Literal["outbound-api", "outbound-reply", "inbound"]
    from_: str
    to: str
    body: str
    status: str
    status_callback: str | None = None
    status_callback_method: str = "POST"
    error_code: int | None = None
    date_created: datetime = field(default_factory=now)
    date_updated: datetime = field(default_factory=now)
    date_sent: datetime | None = None
    callbacks: list[WebhookAttempt] = field(default_factory=list)

    @property
    def uri(self) -> str:
        return f"/{API_VERSION}/Accounts/{self.account_sid}/Messages/{self.sid}.json"

    def twilio_json(self) -> dict[str, Any]:
        return {
            "account_sid": self.account_sid,
            "api_version": API_VERSION,
            "body": self.body,
            "date_created": _rfc2822(self.date_created),
            "date_sent": _rfc2822(self.date_sent),
            "date_updated": _rfc2822(self.date_updated),
            "direction": self.direction,
            "error_code": self.error_code,
            "error_message": None,
            "from": self.from_,
            "messaging_service_sid": None,
            "num_media": "0",
            "num_segments": "1",
            "price": None,
            "price_unit": "USD",
            "sid": self.sid,
            "status": self.status,
            "subresource_uris": {"media": self.uri.replace(".json", "/Media.json")},
            "to": self.to,
            "uri": self.uri,
        }

    def to_json(self) -> dict[str, Any]:
        return {
            "sid": self.sid, "direction": self.direction, "from": self.from_, "to": self.to,
            "body": self.body, "status": self.status, "error_code": self.error_code,
            "status_callback": self.status_callback, "date_created": _iso(self.date_created),
            "date_updated": _iso(self.date_updated),
            "callbacks": [attempt.to_json() for attempt in self.callbacks],
        }


@dataclass
class Say:
    text: str
    language: str | None
    voice: str | None
    at: datetime = field(default_factory=now)

    def to_json(self) -> dict[str, Any]:
        return {"text": self.text, "language": self.language, "voice": self.voice, "at": _iso(self.at)}


@dataclass
class Gather:
    action: str | None
    method: str
    num_digits: int | None
    timeout: int
    language: str | None
    finish_on_key: str
    action_on_empty_result: bool
    prompt: list[str] = field(default_factory=list)
    digits: str | None = None
    timed_out: bool = False
    at: datetime = field(default_factory=now)
    answered_at: datetime | None = None

    @property
    def open(self) -> bool:
        return self.answered_at is None

    def to_json(self) -> dict[str, Any]:
        return {
            "action": self.action, "method": self.method, "num_digits": self.num_digits,
            "timeout": self.timeout, "language": self.language, "prompt": self.prompt,
            "open": self.open, "digits": self.digits, "timed_out": self.timed_out, "at": _iso(self.at),
            "answered_at": _iso(self.answered_at),
        }


@dataclass
class PendingGather:
    """Where a call waits: the open `<Gather>`, its document and the verbs after it (for no input)."""

    gather: Gather
    document_url: str
    rest: list  # list[twiml.Verb]; kept untyped here so records do not import the parser


@dataclass
class Call:
    sid: str
    account_sid: str
    from_: str
    to: str
    url: str | None
    method: str
    twiml: str | None
    status_callback: str | None
    status_callback_method: str
    status_callback_events: list[str]
    status: str = "queued"
    direction: str = "outbound-api"
    date_created: datetime = field(default_factory=now)
    date_updated: datetime = field(default_factory=now)
    start_time: datetime | None = None
    end_time: datetime | None = None
    says: list[Say] = field(default_factory=list)
    gathers: list[Gather] = field(default_factory=list)
    documents: list[WebhookAttempt] = field(default_factory=list)
    callbacks: list[WebhookAttempt] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)
    pending: PendingGather | None = None
    recording: PendingRecord | None = None
    parent_call_sid: str | None = None
    recordings: list[Recording] = field(default_factory=list)
    dialled: list[dict[str, Any]] = field(default_factory=list)
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    @property
    def uri(self) -> str:
        return f"/{API_VERSION}/Accounts/{self.account_sid}/Calls/{self.sid}.json"

    @property
    def duration(self) -> int | None:
        if self.start_time and self.end_time:
            return int((self.end_time - self.start_time).total_seconds())
        return None

    def twilio_json(self) -> dict[str, Any]:
        return {
            "account_sid": self.account_sid,
            "annotation": None,
            "answered_by": None,
            "api_version": API_VERSION,
            "caller_name": None,
            "date_created": _rfc2822(self.date_created),
            "date_updated": _rfc2822(self.date_updated),
            "direction": self.direction,
            "duration": None if self.duration is None else str(self.duration),
            "end_time": _rfc2822(self.end_time),
            "forwarded_from": None,
            "from": self.from_,
            "from_formatted": self.from_,
            "group_sid": None,
            "parent_call_sid": self.parent_call_sid,
            "phone_number_sid": None,
            "price": None,
            "price_unit": "USD",
            "queue_time": "0",
            "sid": self.sid,
            "start_time": _rfc2822(self.start_time),
            "status": self.status,
            "subresource_uris": {"recordings": self.uri.replace(".json", "/Recordings.json")},
            "to": self.to,
            "to_formatted": self.to,
            "trunk_sid": None,
            "uri": self.uri,
        }

    def to_json(self) -> dict[str, Any]:
        return {
            "sid": self.sid, "direction": self.direction, "from": self.from_, "to": self.to,
            "url": self.url, "status": self.status, "status_callback": self.status_callback,
            "date_created": _iso(self.date_created), "start_time": _iso(self.start_time),
            "end_time": _iso(self.end_time), "duration": self.duration,
            "gathering": self.pending is not None,
            "recording": self.recording is not None,
            "parent_call_sid": self.parent_call_sid,
            "recordings": [recording.to_json() for recording in self.recordings],
            "dialled": self.dialled,
            "says": [say.to_json() for say in self.says],
            "gathers": [gather.to_json() for gather in self.gathers],
            "documents": [attempt.to_json() for attempt in self.documents],
            "callbacks": [attempt.to_json() for attempt in self.callbacks],
            "errors": self.errors,
        }


@dataclass
class PhoneBehaviour:
    sms: SmsBehaviour = "deliver"
    voice: VoiceBehaviour = "answer"


class SandboxState:
    """Everything the sandbox knows, in memory; `reset` forgets it all."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.messages: dict[str, Message] = {}
        self.calls: dict[str, Call] = {}
        self.phones: dict[str, PhoneBehaviour] = {}
        self.opted_out: set[str] = set()
        self.outage: OutageMode | None = None
        self.refusals: list[Refusal] = []
        self.webhooks: list[WebhookAttempt] = []
        self.recordings: dict[str, bytes] = {}

    def reset(self) -> None:
        with self.lock:
            self.messages.clear()
            self.calls.clear()
            self.phones.clear()
            self.opted_out.clear()
            self.outage = None
            self.refusals.clear()
            self.webhooks.clear()
            self.recordings.clear()

    def behaviour(self, number: str) -> PhoneBehaviour:
        with self.lock:
            return self.phones.get(number, PhoneBehaviour())

    def set_behaviour(
        self, number: str, sms: SmsBehaviour | None, voice: VoiceBehaviour | None
    ) -> PhoneBehaviour:
        with self.lock:
            current = self.phones.get(number, PhoneBehaviour())
            updated = PhoneBehaviour(sms=sms or current.sms, voice=voice or current.voice)
            self.phones[number] = updated
            return updated

    def add_message(self, message: Message) -> Message:
        with self.lock:
            self.messages[message.sid] = message
        return message

    def add_call(self, call: Call) -> Call:
        with self.lock:
            self.calls[call.sid] = call
        return call

    def set_message_status(self, message: Message, status: str, error_code: int | None = None) -> None:
        with self.lock:
            message.status = status
            message.error_code = error_code
            message.date_updated = now()
            if status == "sent":
                message.date_sent = message.date_updated

    def set_call_status(self, call: Call, status: str) -> None:
        with self.lock:
            call.status = status
            call.date_updated = now()
            if status == "in-progress":
                call.start_time = call.date_updated
            if status in CALL_TERMINAL:
                call.end_time = call.date_updated
                call.pending = call.recording = None

    def record_webhook(self, attempt: WebhookAttempt) -> None:
        with self.lock:
            self.webhooks.append(attempt)

    def record_refusal(self, refusal: Refusal) -> None:
        with self.lock:
            self.refusals.append(refusal)

    def find_messages(self, to: str | None = None, from_: str | None = None) -> list[Message]:
        with self.lock:
            return [
                message for message in self.messages.values()
                if (to is None or message.to == to) and (from_ is None or message.from_ == from_)
            ]

    def find_calls(self, to: str | None = None, from_: str | None = None) -> list[Call]:
        with self.lock:
            return [
                call for call in self.calls.values()
                if (to is None or call.to == to) and (from_ is None or call.from_ == from_)
            ]
