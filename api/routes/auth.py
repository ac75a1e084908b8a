"""Sign-in by phone number and SMS code: `POST /auth/code` texts a code, `POST /auth/token` trades it
for a bearer token of that person's role (staff, supervisor or resident), valid `STEWARD_APP_TOKEN_TTL`.

Both answer the same for a phone that is in the directory and one that is not; the text is sent
after the answer, so the time taken does not tell them apart either.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from twilio.base.exceptions import TwilioException

from api.context import SessionsDep, SettingsDep
from api.errors import ERROR_RESPONSES, ApiError, ErrorBody
from api.models import RequestBody
from api.routes.directory import Phone
from steward.settings import Settings
from steward.sign_in import CODE_LIFETIME, CodeRefused, CodeToSend, SignedIn, exchange_code, request_code
from steward.texts.carriers import sms_signature
from steward.texts.render import locale_of, render
from steward.twilio import twilio_client, without_phones

log = logging.getLogger("steward.api")
router = APIRouter(prefix="/auth", tags=["sign-in"], responses=ERROR_RESPONSES)

REFUSED = {400: {"model": ErrorBody, "description": "`invalid_code`: the code is wrong, expired, used "
                  "up (5 tries) or was never sent."}}
RATE_LIMITED = {429: {"model": ErrorBody, "description": "Too many requests from this phone or address; "
                      "`Retry-After` says when to try again."}}


class CodeRequest(RequestBody):
    model_config = ConfigDict(json_schema_extra={"examples": [{"phone": "+8613900000001"}]})

    phone: Phone = Field(description="The phone number in E.164, as the directory has it.")


class CodeSent(BaseModel):
    sent: bool = Field(True, description="Always true: the answer never says whether the phone is known.")
    expires_in_s: int = Field(description="How long a code is valid.")


class TokenRequest(RequestBody):
    model_config = ConfigDict(json_schema_extra={"examples": [{"phone": "+8613900000001", "code": "123456"}]})

    phone: Phone
    code: Annotated[str, StringConstraints(pattern=r"^[0-9]{6}$")] = Field(description="The 6 digits texted.")


class TokenAnswer(BaseModel):
    token: str
    role: str = Field(description="staff, supervisor or resident.")
    subject: str = Field(description="The person's id in the directory.")
    expires_at: datetime


def _address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


async def _text(settings: Settings, code: CodeToSend) -> None:
    """Send the code by SMS through Twilio; a failure is logged (the person asks again)."""
    body = render("sign_in_code", code.locale,
                  {"sign_in_code": code.code, "minutes": str(int(CODE_LIFETIME.total_seconds() // 60))},
                  signature=sms_signature(settings, locale_of(code.locale)))
    client = twilio_client(settings)
    try:
        await client.messages.create_async(to=code.phone, from_=settings.twilio_from_number, body=body)
    except (TwilioException, OSError) as error:
        log.warning("sign-in code not sent: %s", without_phones(str(error)))
    finally:
        await client.http_client.close()


@router.post("/code", status_code=202, response_model=CodeSent, responses=RATE_LIMITED,
             summary="Text a 6-digit sign-in code to a phone")
async def send_code(body: CodeRequest, request: Request, sessions: SessionsDep, settings: SettingsDep,
                    background: BackgroundTasks) -> CodeSent:
    def issue() -> CodeToSend | None:
        with sessions.begin() as session:
            return request_code(session, body.phone, _address(request), datetime.now(UTC))

    code = await run_in_threadpool(issue)
    if code is not None:
        background.add_task(_text, settings, code)
    return CodeSent(expires_in_s=int(CODE_LIFETIME.total_seconds()))


@router.post("/token", response_model=TokenAnswer, responses=REFUSED | RATE_LIMITED,
             summary="Trade a phone number and its code for a bearer token")
async def token(body: TokenRequest, request: Request, sessions: SessionsDep,
                settings: SettingsDep) -> TokenAnswer:
    def exchange() -> SignedIn | CodeRefused:
        with sessions.begin() as session:
            try:
                return exchange_code(session, body.phone, body.code, _address(request), datetime.now(UTC),
                                     settings.app_token_lifetime)
            except CodeRefused as refused:
                return refused  # the counted try is committed with the transaction

    answer = await run_in_threadpool(exchange)
    if isinstance(answer, CodeRefused):
        raise ApiError(400, str(answer), "invalid_code")
    return TokenAnswer(token=answer.token, role=answer.role.value, subject=answer.subject,
                       expires_at=answer.expires_at)
