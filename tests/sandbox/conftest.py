"""Real servers for the Twilio tests: sandboxes, a stand-in for Steward's public address, the router.

`receiver` records every request a sandbox makes (status callbacks, TwiML fetches, inbound SMS) and
answers with TwiML a test scripts, so the sandbox can be tested apart from Steward. `steward` serves
the real webhook router with a sandbox of its own pointed at it, for what the router does over HTTP
without a case workflow (tests/e2e runs the flows through the real one).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable, Iterator

import httpx
import pytest
from sqlalchemy import delete

from activities.notify import Notifier
from sandbox.app import SandboxConfig, create_app
from steward.store.models import Resident, Staff
from tests.conftest import ThreadedServer, free_port
from tests.sandbox.twilio_harness import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    ReadModel,
    Receiver,
    Steward,
    settings_for,
    webhook_app,
)


@pytest.fixture(scope="session")
def receiver_server() -> Iterator[tuple[Receiver, ThreadedServer]]:
    receiver = Receiver()
    server = ThreadedServer(receiver.app()).start()
    receiver.base_url = server.base_url
    yield receiver, server
    server.stop()


@pytest.fixture(scope="session")
def phone_sandbox(receiver_server) -> Iterator[ThreadedServer]:
    """A sandbox whose inbound SMS go to the receiver."""
    receiver, _ = receiver_server
    config = SandboxConfig(account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN, webhook_base_url=receiver.base_url,
                           step_delay=0.05)
    server = ThreadedServer(create_app(config)).start()
    yield server
    server.stop()


@pytest.fixture
async def receiver(receiver_server, phone_sandbox: ThreadedServer) -> Receiver:
    """A fresh receiver and an empty sandbox for each test."""
    receiver, _ = receiver_server
    async with httpx.AsyncClient(base_url=phone_sandbox.base_url) as http:
        (await http.post("/sandbox/reset")).raise_for_status()
    receiver.requests.clear()
    receiver.answers.clear()
    return receiver


@pytest.fixture
async def sandbox_http(phone_sandbox: ThreadedServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=phone_sandbox.base_url, timeout=10) as http:
        yield http


@pytest.fixture
async def notifier(database, phone_sandbox: ThreadedServer, receiver: Receiver) -> AsyncIterator[Notifier]:
    """The real notifier: the sandbox as Twilio, the receiver as Steward's public address."""
    notifier = Notifier(settings_for(database, phone_sandbox.base_url, receiver.base_url), database.sessions)
    yield notifier
    await notifier.close()


@pytest.fixture
def people(database) -> Iterator[Callable[..., Resident]]:
    """Add residents for one test (any phone, magic numbers included); removed afterwards."""
    added: list[str] = []

    def add(phone: str, locale: str = "zh-CN") -> Resident:
        resident = Resident(id=f"T{uuid.uuid4().hex[:8]}", household_id="H-B1-101", name="Test Resident",
                            phone=phone, locale=locale, preferred_channel="sms", opted_out=False,
                            bad_channels=[])
        with database.sessions.begin() as session:
            session.add(resident)
        added.append(resident.id)
        return resident

    yield add
    with database.sessions.begin() as session:
        session.execute(delete(Resident).where(Resident.id.in_(added)))


@pytest.fixture
def read_model(database) -> Iterator[ReadModel]:
    rows = ReadModel(database)
    yield rows
    rows.clear()


@pytest.fixture
def staff_member(database) -> Iterator[Callable[..., Staff]]:
    """Add a staff member with a phone of their own for one test; removed afterwards."""
    added: list[str] = []

    def add(phone: str, locale: str = "zh-CN") -> Staff:
        staff = Staff(id=f"T{uuid.uuid4().hex[:8]}", name="Test Handler", tier=0, skills=["plumbing"],
                      buildings=["B1"], on_duty=False, phone=phone, locale=locale)
        with database.sessions.begin() as session:
            session.add(staff)
        added.append(staff.id)
        return staff

    yield add
    with database.sessions.begin() as session:
        session.execute(delete(Staff).where(Staff.id.in_(added)))


@pytest.fixture(scope="session")
def steward_ports() -> tuple[int, int]:
    return free_port(), free_port()


@pytest.fixture
async def steward(database, dev_env, steward_ports) -> AsyncIterator[Steward]:
    """The webhook router on a real port (Temporal behind it), a sandbox pointed at it, a notifier."""
    api_port, sandbox_port = steward_ports
    api_url, sandbox_url = f"http://127.0.0.1:{api_port}", f"http://127.0.0.1:{sandbox_port}"
    settings = settings_for(database, sandbox_url, api_url)
    api = ThreadedServer(webhook_app(settings, database, dev_env.client), api_port).start()
    config = SandboxConfig(account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN, webhook_base_url=api_url,
                           step_delay=0.05)
    sandbox = ThreadedServer(create_app(config), sandbox_port).start()
    notifier = Notifier(settings, database.sessions)
    yield Steward(api_url, sandbox_url, settings, notifier)
    await notifier.close()
    sandbox.stop()
    api.stop()
