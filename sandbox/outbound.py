"""Requests from the sandbox to Steward, made the way Twilio makes them: form-encoded and signed.

The signature is `RequestValidator(auth_token).compute_signature(url, params)`, with the query string
in the URL and the form fields as params (a GET carries its params in the query and signs none). A
request that fails (Steward not running, a 5xx, a timeout) is logged and recorded, never raised: the
sandbox must outlive a Steward that is down.
"""

from __future__ import annotations

import logging
from urllib.parse import urlencode

import httpx
from twilio.request_validator import RequestValidator

from sandbox.records import SandboxState, WebhookAttempt

log = logging.getLogger("sandbox.webhooks")


class WebhookSender:
    def __init__(self, auth_token: str, timeout: float, state: SandboxState) -> None:
        self._validator = RequestValidator(auth_token)
        self._timeout = timeout
        self._state = state
        self._http: httpx.AsyncClient | None = None

    def signature(self, url: str, params: dict[str, str]) -> str:
        return self._validator.compute_signature(url, params)

    async def send(self, kind: str, url: str, params: dict[str, str], method: str = "POST") -> WebhookAttempt:
        method = method.upper()
        if method == "GET":
            url = url + ("&" if "?" in url else "?") + urlencode(params)
            signed, body = {}, None
        else:
            signed, body = params, params
        attempt = WebhookAttempt(kind=kind, url=url, method=method, params=params)
        headers = {"X-Twilio-Signature": self.signature(url, signed), "User-Agent": "TwilioProxy/1.1"}
        try:
            response = await self._client().request(method, url, data=body, headers=headers)
            attempt.status_code = response.status_code
            attempt.response = response.text
            if not attempt.ok:
                log.warning("%s webhook %s %s answered %s", kind, method, url, response.status_code)
        except httpx.HTTPError as error:
            attempt.error = f"{type(error).__name__}: {error}"
            log.warning("%s webhook %s %s failed: %s", kind, method, url, attempt.error)
        self._state.record_webhook(attempt)
        return attempt

    def _client(self) -> httpx.AsyncClient:
        if self._http is None:
            self._http = httpx.AsyncClient(timeout=self._timeout)
        return self._http

    async def close(self) -> None:
        if self._http is not None:
            await self._http.aclose()
            self._http = None
