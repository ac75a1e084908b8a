"""Steward's local Twilio-compatible sandbox, as one ASGI app.

The official `twilio` client is pointed at it (its `api.base_url`) and cannot tell the difference for
what Steward uses: `Messages.json` and `Calls.json` with Twilio's form fields, JSON bodies, Basic auth
and error codes, then status callbacks and voice webhooks signed with `X-Twilio-Signature`. People
and tests drive the other end through `/sandbox/…`: read what was sent, answer as a phone by SMS or
keypad, make a phone fail, switch on an outage. `GET /sandbox` is a page doing the same by hand.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import logging
from collections.abc import Coroutine
from contextlib import asynccontextmanager
from datetime import datetime
from hmac import compare_digest
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from sandbox.caller import caller_routes
from sandbox.config import SandboxConfig
from sandbox.devices import DevicePlayer, DeviceSends
from sandbox.messaging import Messaging, check_e164
from sandbox.outbound import WebhookSender
from sandbox.records import (
    API_VERSION,
    Call,
    OutageMode,
    Refusal,
    SandboxState,
    SmsBehaviour,
    TwilioError,
    VoiceBehaviour,
    new_sid,
)
from sandbox.voice import CallNotWaiting, CallRunner, check_call_number

__all__ = ["SandboxConfig", "create_app"]

log = logging.getLogger("sandbox")

CONSOLE = Path(__file__).with_name("console.html")
_OUTAGES = {
    "500": TwilioError(500, 20500, "An internal server error has occurred"),
    "429": TwilioError(429, 20429, "Too Many Requests"),
}


class BackgroundWork:
    """Deliveries and calls go on after the REST answer, as at Twilio; reset and shutdown cancel them."""

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task] = set()

    def start(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("sandbox background work failed", exc_info=task.exception())

    async def cancel(self) -> None:
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


class Sandbox:
    """The parts of one sandbox, shared by its routes."""

    def __init__(self, config: SandboxConfig) -> None:
        self.config = config
        self.state = SandboxState()
        self.sender = WebhookSender(config.auth_token, config.webhook_timeout, self.state)
        self.messaging = Messaging(config, self.state, self.sender)
        self.calls = CallRunner(self.state, self.sender, config.step_delay)
        self.devices = DevicePlayer(config.devices_database_url, config.devices_webhook_url,
                                    config.webhook_timeout)
        self.work = BackgroundWork()

    def admit(self, request: Request, account_sid: str, to: str | None = None) -> None:
        """HTTP Basic with the account SID and auth token as Twilio asks, then the outage switch
        (each request it refuses is kept, with the number it was `to`)."""
        scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
        try:
            username, _, password = base64.b64decode(encoded, validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            username = password = ""
        valid = (
            scheme.lower() == "basic"
            and compare_digest(username.encode(), self.config.account_sid.encode())
            and compare_digest(password.encode(), self.config.auth_token.encode())
            and account_sid == self.config.account_sid
        )
        if not valid:
            raise TwilioError(401, 20003, "Authenticate")
        if self.state.outage:
            error = _OUTAGES[self.state.outage]
            self.state.record_refusal(Refusal(request.method, request.url.path, to, error.status, error.code))
            raise error

    def create_call(self, form: Any) -> Call:
        to, from_ = form.get("To", "").strip(), form.get("From", "").strip()
        url, twiml = form.get("Url") or None, form.get("Twiml") or None
        if not to:
            raise TwilioError(400, 21201, "No 'To' number is specified")
        if not from_:
            raise TwilioError(400, 21213, "No 'From' number is specified")
        if twiml is None and not (url and url.startswith(("http://", "https://"))):
            raise TwilioError(400, 21205, f"Url is not a valid URL: {url}")
        check_e164(to)
        check_call_number(to)
        events = [event for value in form.getlist("StatusCallbackEvent") for event in value.split()]
        return self.state.add_call(Call(
            sid=new_sid("CA"), account_sid=self.config.account_sid, from_=from_, to=to, url=url,
            method=(form.get("Method") or "POST").upper(), twiml=twiml,
            status_callback=form.get("StatusCallback") or None,
            status_callback_method=(form.get("StatusCallbackMethod") or "POST").upper(),
            status_callback_events=events,
        ))


def twilio_routes(sandbox: Sandbox) -> APIRouter:
    router = APIRouter(prefix=f"/{API_VERSION}/Accounts/{{account_sid}}", tags=["Twilio REST"])

    @router.post("/Messages.json", status_code=201)
    async def create_message(account_sid: str, request: Request) -> JSONResponse:
        form = await request.form()
        sandbox.admit(request, account_sid, str(form.get("To", "")) or None)
        message = sandbox.messaging.create(form)
        sandbox.work.start(sandbox.messaging.deliver(message))
        return JSONResponse(message.twilio_json(), status_code=201)

    @router.get("/Messages.json")
    async def list_messages(account_sid: str, request: Request) -> JSONResponse:
        """Twilio's list filters `To`, `From` and `DateSent>` (a message not yet sent counts from its
        creation); one page, newest first."""
        sandbox.admit(request, account_sid)
        query = request.query_params
        after = query.get("DateSent>")
        try:
            since = datetime.fromisoformat(after) if after else None
            page_size = max(1, min(int(query.get("PageSize") or 50), 1000))
        except ValueError:
            raise TwilioError(400, 20001, "Invalid DateSent> or PageSize") from None
        found = [
            message for message in sandbox.state.messages.values()
            if query.get("To") in (None, message.to) and query.get("From") in (None, message.from_)
            and (since is None or (message.date_sent or message.date_created) >= since)
        ]
        found.sort(key=lambda message: message.date_created, reverse=True)
        uri = f"/{API_VERSION}/Accounts/{account_sid}/Messages.json"
        return JSONResponse({
            "messages": [message.twilio_json() for message in found[:page_size]],
            "page": 0, "page_size": page_size, "start": 0, "end": max(0, min(len(found), page_size) - 1),
            "uri": uri, "first_page_uri": uri, "next_page_uri": None, "previous_page_uri": None,
        })

    @router.get("/Messages/{sid}.json")
    async def fetch_message(account_sid: str, sid: str, request: Request) -> JSONResponse:
        sandbox.admit(request, account_sid)
        return _found(sandbox.state.messages.get(sid), request)

    @router.post("/Calls.json", status_code=201)
    async def create_call(account_sid: str, request: Request) -> JSONResponse:
        form = await request.form()
        sandbox.admit(request, account_sid, str(form.get("To", "")) or None)
        call = sandbox.create_call(form)
        sandbox.work.start(sandbox.calls.run(call))
        return JSONResponse(call.twilio_json(), status_code=201)

    @router.get("/Calls/{sid}.json")
    async def fetch_call(account_sid: str, sid: str, request: Request) -> JSONResponse:
        sandbox.admit(request, account_sid)
        return _found(sandbox.state.calls.get(sid), request)

    return router


class Reply(BaseModel):
    """A phone sends Steward an SMS."""

    model_config = ConfigDict(populate_by_name=True, extra="forbid")

    from_: str = Field(alias="from", min_length=1)
    to: str | None = Field(default=None, description="Steward's number; the sandbox's own by default.")
    body: str


class Press(BaseModel):
    model_config = ConfigDict(extra="forbid")

    call_sid: str
    digits: str = Field(pattern=r"^[0-9*#]*$", description='"" is the Gather timing out with no input.')


class PhoneSetting(BaseModel):
    model_config = ConfigDict(extra="forbid")

    number: str
    sms: SmsBehaviour | None = None
    voice: VoiceBehaviour | None = None


class Outage(BaseModel):
    model_config = ConfigDict(extra="forbid")

    mode: OutageMode | None


FromNumber = Annotated[str | None, Query(alias="from")]


def _problem(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status)


def sandbox_routes(sandbox: Sandbox) -> APIRouter:
    router = APIRouter(prefix="/sandbox", tags=["sandbox"])
    state = sandbox.state

    @router.get("", response_class=HTMLResponse, include_in_schema=False)
    async def console() -> HTMLResponse:
        return HTMLResponse(CONSOLE.read_text(encoding="utf-8"))

    @router.get("/messages")
    async def messages(to: str | None = None, from_: FromNumber = None) -> list[dict[str, Any]]:
        return [message.to_json() for message in state.find_messages(to, from_)]

    @router.get("/calls")
    async def calls(to: str | None = None, from_: FromNumber = None) -> list[dict[str, Any]]:
        with state.lock:
            return [call.to_json() for call in state.find_calls(to, from_)]

    @router.get("/calls/{sid}", response_model=None)
    async def call(sid: str) -> dict[str, Any] | JSONResponse:
        found = state.calls.get(sid)
        if found is None:
            return _problem(404, "not_found", f"no call {sid}")
        with state.lock:
            return found.to_json()

    @router.post("/reply")
    async def reply(reply: Reply) -> dict[str, Any]:
        to = reply.to or sandbox.config.phone_number
        return await sandbox.messaging.receive(reply.from_, to, reply.body)

    @router.post("/press", response_model=None)
    async def press(press: Press) -> dict[str, Any] | JSONResponse:
        found = state.calls.get(press.call_sid)
        if found is None:
            return _problem(404, "not_found", f"no call {press.call_sid}")
        try:
            await sandbox.calls.press(found, press.digits)
        except CallNotWaiting as error:
            return _problem(409, "not_waiting", str(error))
        with state.lock:
            return found.to_json()

    @router.get("/phones")
    async def phones() -> dict[str, Any]:
        with state.lock:
            return {
                "phones": {number: vars(behaviour) for number, behaviour in state.phones.items()},
                "opted_out": sorted(state.opted_out),
                "outage": state.outage,
                "phone_number": sandbox.config.phone_number,
            }

    @router.post("/phones")
    async def set_phone(setting: PhoneSetting) -> dict[str, Any]:
        behaviour = state.set_behaviour(setting.number, setting.sms, setting.voice)
        return {"number": setting.number, **vars(behaviour)}

    @router.get("/outage")
    async def outage_state(to: str | None = None) -> dict[str, Any]:
        """The switch, and the REST requests it refused (only those sending to `to` if given)."""
        with state.lock:
            refused = [r.to_json() for r in state.refusals if to in (None, r.to)]
            return {"mode": state.outage, "refused": refused}

    @router.post("/outage")
    async def outage(outage: Outage) -> dict[str, Any]:
        with state.lock:
            state.outage = outage.mode
        return {"mode": outage.mode}

    @router.get("/webhooks")
    async def webhooks() -> list[dict[str, Any]]:
        with state.lock:
            return [attempt.to_json() for attempt in state.webhooks]

    @router.get("/devices")
    async def devices() -> list[dict[str, str]]:
        """Steward's devices the sandbox can play (none unless it was given Steward's database)."""
        return await asyncio.to_thread(sandbox.devices.devices)

    @router.post("/devices/{device_id}", response_model=None)
    async def device_sends(device_id: str, sends: DeviceSends) -> dict[str, Any] | JSONResponse:
        """The device sends a signed alarm or reading to Steward; the answer is Steward's."""
        answer = await sandbox.devices.send(device_id, sends)
        if answer is None:
            return _problem(404, "not_found", f"no device {device_id} to play")
        return answer

    @router.post("/reset")
    async def reset() -> dict[str, Any]:
        await sandbox.work.cancel()
        state.reset()
        return {"reset": True}

    return router


def create_app(config: SandboxConfig) -> FastAPI:
    sandbox = Sandbox(config)

    @asynccontextmanager
    async def lifespan(_app: FastAPI):
        yield
        await sandbox.work.cancel()
        await sandbox.sender.close()

    app = FastAPI(
        title="Steward Twilio sandbox", lifespan=lifespan,
        docs_url="/sandbox/docs", openapi_url="/sandbox/openapi.json", redoc_url=None,
    )
    app.state.sandbox = sandbox

    @app.exception_handler(TwilioError)
    async def twilio_error(_request: Request, error: TwilioError) -> JSONResponse:
        headers = {"WWW-Authenticate": 'Basic realm="Twilio API"'} if error.status == 401 else None
        return JSONResponse(error.to_json(), status_code=error.status, headers=headers)

    app.include_router(twilio_routes(sandbox))
    app.include_router(sandbox_routes(sandbox))
    app.include_router(caller_routes(sandbox))
    return app


def _found(record: Any, request: Request) -> JSONResponse:
    """A message or call by its SID, or Twilio's own 404 for one it does not know."""
    if record is None:
        raise TwilioError(404, 20404, f"The requested resource {request.url.path} was not found")
    return JSONResponse(record.twilio_json())
