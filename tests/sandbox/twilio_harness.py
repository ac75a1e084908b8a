"""Helpers for the Twilio tests: servers on real ports, a recording stand-in for Steward, read-model rows."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from fastapi import FastAPI, Request, Response
from sqlalchemy import delete

from activities.notify import Notifier
from api.twilio import router
from steward.settings import Settings
from steward.store.models import Case, InboundMessage, Notification, Resident

ACCOUNT_SID = "AC" + "5" * 32
AUTH_TOKEN = "sandbox-test-token"


@dataclass
class Received:
    method: str
    url: str
    path: str
    query: dict[str, str]
    form: dict[str, str]
    signature: str | None


@dataclass
class Receiver:
    """Stands where Steward would: records requests, answers `answers[path]` (TwiML) or `<Response/>`."""

    requests: list[Received] = field(default_factory=list)
    answers: dict[str, str] = field(default_factory=dict)
    base_url: str = ""

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.api_route("/{path:path}", methods=["GET", "POST"])
        async def record(path: str, request: Request) -> Response:
            form = dict(await request.form()) if request.method == "POST" else {}
            self.requests.append(Received(
                method=request.method, url=str(request.url), path="/" + path,
                query=dict(request.query_params), form={k: str(v) for k, v in form.items()},
                signature=request.headers.get("X-Twilio-Signature"),
            ))
            return Response(self.answers.get("/" + path, "<Response/>"), media_type="application/xml")

        return app

    def at(self, path: str) -> list[Received]:
        return [r for r in self.requests if r.path == path]

    async def wait_for(
        self, predicate: Callable[[list[Received]], bool], within: float = 10
    ) -> list[Received]:
        deadline = time.monotonic() + within
        while not predicate(self.requests):
            if time.monotonic() > deadline:
                got = [(r.path, r.form) for r in self.requests]
                raise AssertionError(f"not received in {within}s; got {got}")
            await asyncio.sleep(0.02)
        return self.requests


def settings_for(database, twilio_base_url: str, public_base_url: str) -> Settings:
    """Settings built explicitly, never from the developer's environment or .env."""
    sqlite = database.backend == "sqlite"
    data_dir = Path(database.url.removeprefix("sqlite:///")).parent if sqlite else Path("var")
    return Settings(
        _env_file=None, data_dir=data_dir, database_url=database.url, twilio_account_sid=ACCOUNT_SID,
        twilio_auth_token=AUTH_TOKEN, twilio_api_base_url=twilio_base_url, public_base_url=public_base_url,
    )


def unique_phone() -> str:
    return "+86139" + str(uuid.uuid4().int)[:8]


def resident(database, resident_id: str) -> Resident:
    with database.sessions() as session:
        return session.get(Resident, resident_id)


def notification(database, key: str) -> Notification | None:
    with database.sessions() as session:
        return session.get(Notification, key)


def inbound(database, sid: str) -> InboundMessage | None:
    with database.sessions() as session:
        return session.get(InboundMessage, sid)


@dataclass
class ReadModel:
    """Case and notification rows written the way the projection and notifier would; `clear` removes them."""

    database: object
    cases: list[str] = field(default_factory=list)
    phones: list[str] = field(default_factory=list)

    def case(self, status: str = "callback", acknowledged: bool = False) -> str:
        case_id = f"RP-{uuid.uuid4().hex[:6].upper()}"
        now = datetime.now(UTC)
        with self.database.sessions.begin() as session:
            session.add(Case(
                case_id=case_id, kind="repair", severity="normal", category="plumbing", building_id="B1",
                unit="101", resident_id="R001", status=status, tier=0, submitted_at=now,
                acknowledged_at=now if acknowledged else None, resolution_due=now + timedelta(hours=24),
            ))
        self.cases.append(case_id)
        return case_id

    def notice(self, case_id: str, to: str, template: str, attempt: int | None = None, sid: str | None = None,
               status: str = "queued", gather: str | None = None, locale: str = "zh-CN") -> str:
        key = f"{case_id}:{uuid.uuid4().hex[:6]}"
        now = datetime.now(UTC)
        with self.database.sessions.begin() as session:
            session.add(Notification(
                key=key, case_id=case_id, to=to, channel="voice" if gather else "sms", template=template,
                locale=locale, params={"code": case_id}, body=f"{template} {case_id}", gather=gather,
                attempt=attempt, sid=sid, status=status, created_at=now, updated_at=now,
            ))
        self.phones.append(to)
        return key

    def clear(self) -> None:
        with self.database.sessions.begin() as session:
            session.execute(delete(Notification).where(Notification.case_id.in_(self.cases)))
            session.execute(delete(Case).where(Case.case_id.in_(self.cases)))
            session.execute(delete(InboundMessage).where(InboundMessage.from_number.in_(self.phones)))


def webhook_app(settings: Settings, database, client) -> FastAPI:
    app = FastAPI()
    app.include_router(router)
    app.state.settings = settings
    app.state.sessions = database.sessions
    app.state.client = client
    return app


@dataclass
class Steward:
    """The webhook router on a real port, a sandbox pointed at it, and a notifier using both."""

    url: str
    sandbox: str
    settings: Settings
    notifier: Notifier


async def eventually(read: Callable, check: Callable, within: float = 10):
    """Poll `await read()` until `check(value)`: the sandbox works on after it answers, as Twilio does."""
    deadline = time.monotonic() + within
    while True:
        value = await read()
        if check(value):
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met in {within}s: {value}")
        await asyncio.sleep(0.03)
