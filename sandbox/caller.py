"""The sandbox plays a caller (issue 22): a phone calls Steward's number, presses keys at its menu,
leaves a message at its `<Record>`, and Steward's `<Dial>` rings staff phones — each webhook signed
and shaped as Twilio's. Recordings are served where Twilio serves them (`…/Recordings/{sid}.wav`,
behind the account's Basic auth), so Steward fetches them as it would from Twilio.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from sandbox.messaging import check_e164
from sandbox.records import API_VERSION, Call, TwilioError, new_sid
from sandbox.voice import CallNotWaiting

if TYPE_CHECKING:
    from sandbox.app import Sandbox

MAX_MESSAGE_S = 30


class PlaceCall(BaseModel):
    """A phone calls Steward."""

    model_config = ConfigDict(populate_by_name=True, extra="forbid")

    from_: str = Field(alias="from", min_length=1)
    to: str | None = Field(default=None, description="Steward's number; the sandbox's own by default.")


class LeaveMessage(BaseModel):
    model_config = ConfigDict(extra="forbid")

    call_sid: str
    seconds: int = Field(default=3, ge=0, le=MAX_MESSAGE_S, description="0 is silence: no recording.")


def _problem(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status)


def caller_routes(sandbox: Sandbox) -> APIRouter:
    router = APIRouter()
    state = sandbox.state

    @router.post("/sandbox/call", tags=["sandbox"])
    async def place(placed: PlaceCall) -> dict[str, Any]:
        """The call is answered by Steward's webhook; the answer is the call once it waits (for keys or
        a message) or has ended."""
        check_e164(placed.from_)
        call = state.add_call(Call(
            sid=new_sid("CA"), account_sid=sandbox.config.account_sid, from_=placed.from_,
            to=placed.to or sandbox.config.phone_number, url=sandbox.config.call_webhook_url, method="POST",
            twiml=None, status_callback=None, status_callback_method="POST", status_callback_events=[],
            direction="inbound"))
        await sandbox.calls.place(call)
        with state.lock:
            return call.to_json()

    @router.post("/sandbox/record", tags=["sandbox"], response_model=None)
    async def record(message: LeaveMessage, request: Request) -> dict[str, Any] | JSONResponse:
        found = state.calls.get(message.call_sid)
        if found is None:
            return _problem(404, "not_found", f"no call {message.call_sid}")
        recordings_url = (f"{str(request.base_url).rstrip('/')}/{API_VERSION}/Accounts/"
                          f"{sandbox.config.account_sid}/Recordings")
        try:
            await sandbox.calls.leave_message(found, message.seconds, recordings_url)
        except CallNotWaiting as error:
            return _problem(409, "not_waiting", str(error))
        with state.lock:
            return found.to_json()

    @router.get(f"/{API_VERSION}/Accounts/{{account_sid}}/Recordings/{{name}}", tags=["Twilio REST"])
    async def recording(account_sid: str, name: str, request: Request) -> Response:
        sandbox.admit(request, account_sid)
        sid = name.removesuffix(".wav")
        with state.lock:
            data = state.recordings.get(sid)
        if data is None:
            raise TwilioError(404, 20404, f"The requested resource {request.url.path} was not found")
        return Response(data, media_type="audio/wav")

    return router
