"""The API under test: `create_app` on the dev server's client and a seeded database, the real worker
on its own task queue, httpx through ASGI, and a bearer token for each kind of person.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import delete
from temporalio.client import WorkflowExecutionStatus
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

from api.app import create_app
from steward.settings import Settings
from steward.store.models import RateHit
from steward.tokens import create_token
from tests.conftest import Database, make_settings
from workflows.contracts import Role

# name → (role, subject); "neighbour" is another resident of the same building.
PEOPLE = {
    "resident": (Role.resident, "R001"),
    "neighbour": (Role.resident, "R002"),
    "staff": (Role.staff, "S001"),
    "colleague": (Role.staff, "S002"),
    "supervisor": (Role.supervisor, "S201"),
    "admin": (Role.admin, "admin"),
}

REPAIR = {
    "kind": "repair", "severity": "normal", "category": "plumbing", "title": "Kitchen tap leaking",
    "description": "It drips all night.", "building_id": "B1", "unit": "101",
}

# The repair workflow answers a first update in well under a second; this is the patience for the
# real clock of the dev server (dispatch, escalation windows of a few seconds).
PATIENCE_S = 30.0


def quiet_hours_away_from(now: datetime, zone: str) -> str:
    """A quiet-hours window six hours from now, so no test waits for a night that is not the point."""
    local = now.astimezone(ZoneInfo(zone))
    start, end = local + timedelta(hours=6), local + timedelta(hours=7)
    return f"{start:%H:%M}-{end:%H:%M}"


@dataclass
class Api:
    """The HTTP client and the people who use it; every case it submits is terminated afterwards."""

    http: httpx.AsyncClient
    env: WorkflowEnvironment
    settings: Settings
    database: Database
    tokens: dict[str, str] = field(default_factory=dict)
    roles: dict[str, Role] = field(default_factory=dict)
    case_ids: list[str] = field(default_factory=list)
    schedule_ids: list[str] = field(default_factory=list)

    def person(self, name: str, role: Role, subject: str) -> str:
        self.tokens[name] = create_token(self.database.sessions, role, subject)
        self.roles[name] = role
        return self.tokens[name]

    def auth(self, who: str | None) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"} if who else {}

    async def call(self, who: str | None, method: str, path: str, json: Any = None,
                   headers: dict[str, str] | None = None, **kwargs: Any) -> httpx.Response:
        return await self.http.request(method, path, json=json, headers=self.auth(who) | (headers or {}),
                                       **kwargs)

    async def submit(self, who: str = "resident", key: str | None = None, **fields: Any) -> str:
        body = REPAIR | fields
        if self.roles.get(who) is Role.resident and not {"building_id", "unit"} & set(fields):
            del body["building_id"], body["unit"]  # the resident's own home
        response = await self.call(who, "POST", "/requests", body,
                                   headers={"Idempotency-Key": key or uuid.uuid4().hex})
        assert response.status_code == 201, response.text
        case_id = response.json()["case_id"]
        self.case_ids.append(case_id)
        return case_id

    async def state(self, case_id: str, who: str = "supervisor") -> dict:
        response = await self.call(who, "GET", f"/requests/{case_id}")
        assert response.status_code == 200, response.text
        return response.json()

    async def until(self, case_id: str, check: Callable[[dict], bool], within: float = PATIENCE_S) -> dict:
        """Poll `GET /requests/{id}` until `check(state)` holds."""
        deadline = asyncio.get_running_loop().time() + within
        while True:
            state = await self.state(case_id)
            if check(state):
                return state
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"condition not reached; state: {state}")
            await asyncio.sleep(0.1)

    async def completed(self, case_id: str) -> None:
        """Wait for the workflow itself to end (a closed case still finishes its notices first)."""
        await asyncio.wait_for(self.env.client.get_workflow_handle(case_id).result(), PATIENCE_S)

    async def finish(self) -> None:
        for case_id in self.case_ids:
            handle = self.env.client.get_workflow_handle(case_id)
            if (await handle.describe()).status == WorkflowExecutionStatus.RUNNING:
                with contextlib.suppress(RPCError):  # it may finish between the two calls
                    await handle.terminate("test finished")
        for schedule_id in self.schedule_ids:
            with contextlib.suppress(RPCError):
                await self.env.client.get_schedule_handle(schedule_id).delete()


@pytest.fixture(scope="session")
def running_api(worker_for, sandbox, api_port):
    """`async with running_api(env, database, **settings) as api:` — app, worker and tokens."""

    @asynccontextmanager
    async def run(env: WorkflowEnvironment, database: Database, **overrides: Any) -> AsyncIterator[Api]:
        now = await env.get_current_time()
        overrides.setdefault("quiet_hours", quiet_hours_away_from(now, "Asia/Shanghai"))
        settings = make_settings(database, sandbox, api_port, **overrides)
        app = create_app(settings, client=env.client, engine=database.engine)
        async with (
            worker_for(env, settings, database),
            app.router.lifespan_context(app),
            httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://steward.test") as http,
        ):
            api = Api(http, env, settings, database)
            with database.sessions.begin() as session:  # each test starts inside every abuse limit
                session.execute(delete(RateHit))
            for name, (role, subject) in PEOPLE.items():
                api.person(name, role, subject)
            try:
                yield api
            finally:
                await api.finish()

    return run


@pytest.fixture
async def api(running_api, dev_env: WorkflowEnvironment, sqlite_database: Database) -> AsyncIterator[Api]:
    async with running_api(dev_env, sqlite_database) as running:
        yield running


def policy_file(directory: Path, **severities: dict[str, str]) -> Path:
    """An SLA policy TOML overriding the given severities' keys, e.g. normal={"response": "2s"}."""
    lines = []
    for severity, values in severities.items():
        lines.append(f"[severity.{severity}]")
        lines += [f'{key} = "{value}"' for key, value in values.items()]
    path = directory / "policy.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path
