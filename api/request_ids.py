"""A request id on every request: the caller's `X-Request-ID` when it looks like one, else a new one.

It goes back in the response's `X-Request-ID`, into every log line written while the request is handled
(`steward.logs.request_id`), and into one access line per request (`"GET /sla" 200 3ms`: the request
quoted, as access logs quote it), so a complaint about one answer can be traced through the logs.
"""

from __future__ import annotations

import logging
import re
import time
import uuid

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from steward.logs import request_id

log = logging.getLogger("steward.http")
# Path parameters that name a workflow (a case, hearing, drill or inspection): the access line says which.
CASE_PARAMS = ("case_id", "hearing_id", "drill_id", "inspection_id")
SANE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,99}")


def given_or_new(header: bytes | None) -> str:
    text = header.decode("latin-1") if header else ""
    return text if SANE.fullmatch(text) else uuid.uuid4().hex


class RequestIds:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = given_or_new(dict(scope["headers"]).get(b"x-request-id"))
        token = request_id.set(rid)
        status = 500
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", []), (b"x-request-id", rid.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            params = scope.get("path_params") or {}
            case_id = next((params[name] for name in CASE_PARAMS if name in params), None)
            log.info('"%s %s" %s %.0fms', scope["method"], scope["path"], status,
                     (time.perf_counter() - started) * 1000, extra={"case_id": case_id} if case_id else None)
        # Kept set when the app raised: the 500 handler, outside this middleware, logs with the id (each
        # request runs in a task of its own, so the value ends with it).
        request_id.reset(token)
