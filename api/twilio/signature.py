"""Twilio's signature on every webhook: a request without a valid `X-Twilio-Signature` is refused with
403 before it is read further.

The signature covers `settings.webhook_base_url` + path + query (the address Twilio used, so it holds
behind a TLS proxy) and the posted form.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from twilio.request_validator import RequestValidator

from steward.settings import Settings

log = logging.getLogger("steward.webhooks")

PREFIX = "/webhooks/twilio"


class SignedByTwilio(APIRoute):
    """A route that answers 403 unless `X-Twilio-Signature` matches the URL Twilio used and the form."""

    def get_route_handler(self) -> Callable:
        handler = super().get_route_handler()

        async def verified(request: Request) -> Response:
            settings: Settings = request.app.state.settings
            url = settings.webhook_base_url + request.url.path
            if request.url.query:
                url += "?" + request.url.query
            params = await request.form() if request.method == "POST" else {}
            signature = request.headers.get("X-Twilio-Signature")
            if not signature:
                return _forbidden("missing X-Twilio-Signature")
            if not RequestValidator(settings.twilio_auth_token).validate(url, params, signature):
                log.warning("refused a webhook with a wrong signature for %s", url)
                return _forbidden("X-Twilio-Signature does not match this request")
            return await handler(request)

        return verified


def _forbidden(message: str) -> JSONResponse:
    return JSONResponse({"error": {"code": "forbidden", "message": message}}, status_code=403)


def signed_router() -> APIRouter:
    """A router for Twilio's callbacks: under its prefix, every route signed."""
    return APIRouter(prefix=PREFIX, tags=["Twilio webhooks"], route_class=SignedByTwilio)
