"""Steward end to end, the way a resident and a handler meet it: the API served by uvicorn on
`api_port` (its own Temporal client and engine, as in production), the real worker running the real
`RepairWorkflow` on the dev server, and the session's Twilio sandbox, whose signed webhooks reach that
port. Cases are driven only through HTTP: the API as residents, staff and the admin, and the sandbox's
JSON API as the phones. Tokens are made as `steward token create` makes them; otherwise the database
is only read, to see what Steward kept of a phone's SMS, and written once, to change a resident's
phone (the directory API adds people but does not edit them).

The database is this module's own; each test builds a small community of its own through the admin
directory API (a building nobody else uses, its handler and manager, residents with fresh phone
numbers), so replies from a phone and dispatches to a handler can only match that test's cases.
The callback waits a few seconds for an answer, so no answer and channel switches happen while the
test watches; quiet hours are six hours away.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from temporalio.service import RPCError, RPCStatusCode
from temporalio.testing import WorkflowEnvironment

from api.app import create_app
from steward.seed import seed_demo
from steward.store.database import make_engine, session_factory, upgrade
from steward.store.models import InboundMessage
from steward.tokens import create_token
from tests.api.conftest import REPAIR, quiet_hours_away_from
from tests.conftest import Database, ThreadedServer, make_settings
from workflows.contracts import Role

CALLBACK_WAIT_S = 3
PATIENCE_S = 20.0
POLL_S = 0.05
POLICY = f"""
[callback]
wait = "{CALLBACK_WAIT_S}s"
attempts = 3
"""


@dataclass(frozen=True)
class Person:
    id: str
    phone: str
    token: str
    unit: str | None = None


async def eventually(read: Callable, check: Callable, what: str, within: float = PATIENCE_S):
    """Poll `await read()` until `check(value)`: the sandbox and the worker carry on after they answer."""
    deadline = asyncio.get_running_loop().time() + within
    while True:
        value = await read()
        if check(value):
            return value
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"{what}: not reached in {within:.0f}s; last seen: {value}")
        await asyncio.sleep(POLL_S)


@dataclass
class Phones:
    """The sandbox's JSON API: what reached a phone, and the phone answering by SMS or keypad."""

    http: httpx.AsyncClient

    async def messages(self, to: str) -> list[dict]:
        response = await self.http.get("/sandbox/messages", params={"to": to})
        response.raise_for_status()
        return response.json()

    async def calls(self, to: str) -> list[dict]:
        response = await self.http.get("/sandbox/calls", params={"to": to})
        response.raise_for_status()
        return response.json()

    async def sms(self, to: str, *containing: str, count: int = 1) -> dict:
        """The `count`-th message Steward sent that reached `to` and has every one of `containing`."""

        async def delivered() -> list[dict]:
            return [m for m in await self.messages(to) if m["direction"] == "outbound-api"
                    and m["status"] == "delivered" and all(text in m["body"] for text in containing)]

        found = await eventually(delivered, lambda ms: len(ms) >= count,
                                       f"SMS no. {count} with {containing} to {to}")
        return found[count - 1]

    async def call(self, to: str, *containing: str, count: int = 1) -> dict:
        """The `count`-th call to `to` that says all of `containing`, once it waits for keys."""

        async def answered() -> list[dict]:
            return [c for c in await self.calls(to)
                    if all(any(text in s["text"] for s in c["says"]) for text in containing)]

        calls = await eventually(answered, lambda cs: len(cs) >= count and cs[count - 1]["gathering"],
                                       f"call no. {count} saying {containing} to {to}")
        return calls[count - 1]

    async def reply(self, phone: str, body: str) -> dict:
        """The phone sends an SMS; the answer carries Steward's reply (`reply`) if it made one."""
        response = await self.http.post("/sandbox/reply", json={"from": phone, "body": body})
        response.raise_for_status()
        answer = response.json()
        assert answer["webhook_status"] == 200, answer
        return answer

    async def press(self, call_sid: str, digits: str) -> dict:
        response = await self.http.post("/sandbox/press", json={"call_sid": call_sid, "digits": digits})
        response.raise_for_status()
        return response.json()

    async def behave(self, number: str, **behaviour: str) -> None:
        response = await self.http.post("/sandbox/phones", json={"number": number, **behaviour})
        response.raise_for_status()

    async def outage(self, mode: str | None) -> None:
        response = await self.http.post("/sandbox/outage", json={"mode": mode})
        response.raise_for_status()


@dataclass
class Steward:
    """The served API and the phones, for one module; `Community` gives each test its people."""

    http: httpx.AsyncClient
    phones: Phones
    env: WorkflowEnvironment
    database: Database
    base_url: str
    admin: str
    supervisor: str

    async def call(self, token: str, method: str, path: str, json: Any = None,
                   headers: dict[str, str] | None = None) -> httpx.Response:
        return await self.http.request(method, path, json=json,
                                       headers={"Authorization": f"Bearer {token}"} | (headers or {}))

    async def state(self, case_id: str) -> dict:
        response = await self.call(self.supervisor, "GET", f"/requests/{case_id}")
        assert response.status_code == 200, response.text
        return response.json()

    async def until(self, case_id: str, check: Callable[[dict], bool], what: str = "its state") -> dict:
        return await eventually(lambda: self.state(case_id), check, f"{case_id}: {what}")

    async def history(self, case_id: str) -> list[dict]:
        response = await self.call(self.supervisor, "GET", f"/requests/{case_id}/history",
                                   headers={"Accept-Language": "en"})
        assert response.status_code == 200, response.text
        return response.json()["entries"]

    def token(self, role: Role, subject: str) -> str:
        return create_token(self.database.sessions, role, subject)

    def kept(self, answer: dict) -> tuple[str, str | None]:
        """What Steward recorded of a phone's SMS (`answer` from `Phones.reply`): outcome and case."""
        with self.database.sessions() as session:
            message = session.get(InboundMessage, answer["message"]["sid"])
            return message.outcome, message.case_id


def events(state: dict, name: str) -> list[dict]:
    """The details of the timeline entries called `name`, in order."""
    return [entry["detail"] for entry in state["timeline"] if entry["event"] == name]


def new_phone() -> str:
    return "+86137" + str(uuid.uuid4().int)[:8]


@dataclass
class Community:
    """One test's building, its staff and residents, all added through the admin directory API."""

    steward: Steward
    building: str
    handler: Person | None = None
    manager: Person | None = None
    case_ids: list[str] = field(default_factory=list)
    _units: int = 0

    async def _add(self, path: str, entry: dict) -> None:
        response = await self.steward.call(self.steward.admin, "POST", path, entry)
        assert response.status_code == 201, response.text

    async def staff(self, tier: int, locale: str = "zh-CN") -> Person:
        staff_id = f"{self.building}-S{tier}"
        phone = new_phone()
        await self._add("/staff", {"id": staff_id, "name": f"Staff {staff_id}", "tier": tier,
                                   "skills": ["plumbing"] if tier == 0 else [], "buildings": [self.building],
                                   "on_duty": True, "phone": phone, "locale": locale})
        return Person(staff_id, phone, self.steward.token(Role.staff, staff_id))

    async def resident(self, locale: str = "zh-CN", channel: str = "sms", phone: str | None = None) -> Person:
        """A resident of a new household of this building (its unit is the resident's `unit`)."""
        self._units += 1
        unit = f"{100 + self._units}"
        household = f"H-{self.building}-{unit}"
        resident_id = f"{self.building}-R{self._units}"
        phone = phone or new_phone()
        await self._add("/households", {"id": household, "building_id": self.building, "unit": unit})
        await self._add("/residents", {"id": resident_id, "household_id": household, "name": "Resident",
                                       "phone": phone, "locale": locale, "preferred_channel": channel})
        return Person(resident_id, phone, self.steward.token(Role.resident, resident_id), unit)

    async def submit(self, resident: Person, **fields: Any) -> str:
        """The resident reports a repair in their own unit (of this building unless `building_id` says)."""
        body = REPAIR | {"building_id": self.building, "unit": resident.unit} | fields
        response = await self.steward.call(resident.token, "POST", "/requests", body,
                                           headers={"Idempotency-Key": uuid.uuid4().hex})
        assert response.status_code == 201, response.text
        case_id = response.json()["case_id"]
        self.case_ids.append(case_id)
        return case_id

    async def act(self, who: Person, case_id: str, action: str, body: dict | None = None) -> dict:
        response = await self.steward.call(who.token, "POST", f"/requests/{case_id}/{action}", body)
        assert response.status_code == 200, response.text
        return response.json()

    async def resolved(self, resident: Person, **fields: Any) -> str:
        """A case the handler has resolved: its callback to the resident is under way."""
        case_id = await self.submit(resident, **fields)
        await self.steward.until(case_id, lambda s: s["status"] == "dispatched", "dispatched")
        await self.act(self.handler, case_id, "resolve", {"note": "Replaced the washer."})
        return case_id

    async def finish(self) -> None:
        """Terminate the cases still running (a closed case may finish on its own meanwhile)."""
        for case_id in self.case_ids:
            try:
                await self.steward.env.client.get_workflow_handle(case_id).terminate("test finished")
            except RPCError as error:
                if error.status != RPCStatusCode.NOT_FOUND:
                    raise


@pytest.fixture(scope="module")
def settings_overrides() -> dict[str, Any]:
    """Settings a test module sets for its own Steward (it overrides this fixture)."""
    return {}


@pytest.fixture(scope="module")
async def steward(dev_env: WorkflowEnvironment, empty_database_url, worker_for, sandbox, api_port,
                  tmp_path_factory: pytest.TempPathFactory, settings_overrides) -> AsyncIterator[Steward]:
    engine = make_engine(empty_database_url("sqlite"))
    upgrade(engine)
    database = Database("sqlite", str(engine.url), engine, session_factory(engine))
    seed_demo(database.sessions)
    policy = Path(tmp_path_factory.mktemp("e2e-policy")) / "policy.toml"
    policy.write_text(POLICY, encoding="utf-8")
    settings = make_settings(
        database, sandbox, api_port, sla_policy=policy,
        temporal_address=dev_env.client.service_client.config.target_host,
        quiet_hours=quiet_hours_away_from(await dev_env.get_current_time(), "Asia/Shanghai"),
        **settings_overrides,
    )
    async with worker_for(dev_env, settings, database):
        server = await asyncio.to_thread(ThreadedServer(create_app(settings), api_port).start)
        try:
            async with (
                httpx.AsyncClient(base_url=server.base_url, timeout=30) as http,
                httpx.AsyncClient(base_url=sandbox.base_url, timeout=30) as sandbox_http,
            ):
                yield Steward(http, Phones(sandbox_http), dev_env, database, server.base_url,
                              admin=create_token(database.sessions, Role.admin, "admin"),
                              supervisor=create_token(database.sessions, Role.supervisor, "S201"))
        finally:
            await asyncio.to_thread(server.stop)
    engine.dispose()


@pytest.fixture
async def community(steward: Steward) -> AsyncIterator[Community]:
    """A fresh building with a plumber (tier 0) and a property manager (tier 2) on duty."""
    building = f"E{uuid.uuid4().hex[:6].upper()}"
    people = Community(steward, building)
    response = await steward.call(steward.admin, "POST", "/buildings",
                                  {"id": building, "name": f"Test building {building}"})
    assert response.status_code == 201, response.text
    people.handler = await people.staff(tier=0)
    people.manager = await people.staff(tier=2)
    try:
        yield people
    finally:
        await people.finish()
        await steward.phones.outage(None)
