"""The HTTP API: `uvicorn --factory api.app:create_app`.

The lifespan makes the process's one Temporal client and its database engine; tests hand in their
own (a test server's client, a seeded database) and the app then leaves their lifecycle to them.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from opentelemetry.trace import Tracer
from sqlalchemy import Engine
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from temporalio.client import Client

from api import twilio
from api.errors import error_response, install_error_handlers
from api.http_metrics import HttpMetrics
from api.picture import PictureWatch
from api.request_ids import RequestIds
from api.routes import (
    at_risk,
    auth,
    codec,
    console,
    device_webhooks,
    directory,
    drill_schedules,
    drills,
    equipment,
    health,
    hearing_and_drill_lists,
    hearing_and_drill_reports,
    hearings,
    inbound,
    incidents,
    inspections,
    maintenance_plans,
    metrics,
    people,
    photos,
    public_board,
    queues,
    recordings,
    reports,
    requests,
    resident_actions,
    resident_app,
    resident_hearings_drills,
    sla,
    staff_app,
)
from steward import tracing
from steward.metrics import open_cases_registry
from steward.photo_cleaning import MAX_PHOTO_BYTES
from steward.settings import Settings
from steward.store.database import make_engine, session_factory
from steward.temporal import connect

MAX_BODY_BYTES = 64 * 1024
_PHOTO_UPLOAD = re.compile(photos.PHOTO_PATH)

DESCRIPTION = """
Durable service requests for residential property management. Every case is a Temporal workflow:
this API starts it, sends it updates (answered accept or refuse at once) and signals, and reads it by
query, visibility and event history. Authenticate with `Authorization: Bearer <token>`
(`steward token create --role ROLE --subject ID`). Every refusal is
`{"error": {"code": "...", "message": "..."}}`.
"""


class BodyLimit:
    """Refuse request bodies over `limit` bytes with 413, whether or not Content-Length says so; a
    photo upload (`photos.PHOTO_PATH`) may be as large as a photo."""

    def __init__(self, app: ASGIApp, limit: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = MAX_PHOTO_BYTES if _PHOTO_UPLOAD.match(scope["path"]) else self.limit
        too_large = error_response(413, f"request bodies are limited to {limit // 1024} KB")
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            await too_large(scope, receive, send)
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                await too_large(scope, receive, send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body: list[Message] = [{"type": "http.request", "body": b"".join(chunks), "more_body": False}]

        async def replay() -> Message:
            return body.pop() if body else await receive()

        await self.app(scope, replay, send)


class JsonBodies:
    """Refuse a request body that is not JSON with 415 (a form or plain text would otherwise be a
    puzzling 422). Twilio's webhooks, under `exempt`, post forms; a photo upload posts the image."""

    def __init__(self, app: ASGIApp, exempt: str = "/webhooks/") -> None:
        self.app = app
        self.exempt = exempt

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not scope["path"].startswith(self.exempt) \
                and not _PHOTO_UPLOAD.match(scope["path"]):
            headers = dict(scope["headers"])
            has_body = headers.get(b"content-length", b"0") != b"0" or b"transfer-encoding" in headers
            media_type = headers.get(b"content-type", b"").split(b";")[0].strip().lower()
            if has_body and media_type != b"application/json" and not media_type.endswith(b"+json"):
                await error_response(415, "send the body as JSON, with Content-Type: application/json")(
                    scope, receive, send)
                return
        await self.app(scope, receive, send)


def create_app(settings: Settings | None = None, *, client: Client | None = None,
               engine: Engine | None = None, tracer: Tracer | None = None) -> FastAPI:
    settings = settings or Settings()
    tracer = tracer or tracing.tracer_for(settings, "steward-api")

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        own_engine = engine is None
        app.state.settings = settings
        app.state.engine = engine or make_engine(settings.database)
        app.state.sessions = session_factory(app.state.engine)
        app.state.open_cases = open_cases_registry(app.state.sessions)
        app.state.client = client or await connect(settings, interceptors=tracing.interceptors(tracer))
        app.state.picture = PictureWatch(app.state.client, settings.task_queue, app.state.sessions)
        try:
            yield
        finally:
            if own_engine:
                app.state.engine.dispose()

    app = FastAPI(title="Steward", version="0.1.0", description=DESCRIPTION, lifespan=lifespan)
    install_error_handlers(app)
    for module in (requests, hearing_and_drill_lists, hearings, drills, drill_schedules, at_risk, inbound,
                   queues, sla, directory, maintenance_plans, equipment, inspections, people, health, twilio,
                   device_webhooks, reports, hearing_and_drill_reports, console, auth, photos, staff_app,
                   resident_actions, resident_app, resident_hearings_drills, public_board, metrics,
                   incidents, recordings, codec):
        app.include_router(module.router)
    app.add_middleware(JsonBodies)
    app.add_middleware(BodyLimit)
    app.add_middleware(codec.CodecCors, origin=codec.ui_origin(settings))
    app.add_middleware(HttpMetrics, tracer=tracer)
    app.add_middleware(RequestIds)
    return app
