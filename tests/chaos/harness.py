"""A whole Steward of separate processes that a chaos test may kill: the Temporal dev server
(`temporal server start-dev` on a db file), `steward sandbox`, `steward api` and `steward worker`,
each in its own process group, configured only by `STEWARD_*` variables as an operator would.

Several API and worker processes may share one Temporal and one database (`apis`, `workers`): the
APIs then sit behind a `Balancer` (a round-robin TCP front that skips a dead replica), which is the
public address Twilio (the sandbox) signs and posts webhooks to, as a load balancer would be.

Cases are driven only through HTTP (the API as residents and staff, the sandbox as the phones);
the read model is read from the database at the end to count events.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path

import httpx
from sqlalchemy import func, select
from temporalio.client import WorkflowExecutionStatus

from steward.seed import seed_demo
from steward.settings import Settings
from steward.store.database import make_engine, session_factory, upgrade
from steward.store.models import Case, CaseEventRow
from steward.temporal import connect, connect_when_serving, dev_server_flags, register_search_attributes
from steward.tokens import create_token
from tests.api.conftest import REPAIR, quiet_hours_away_from
from tests.chaos.tcp_proxy import TcpProxy
from tests.conftest import binary
from workflows.contracts import Role

START_TIMEOUT_S = 90
# Transitions a case that is submitted, acknowledged, resolved and closed satisfied makes exactly once.
ONCE = ("submitted", "dispatched", "acknowledged", "resolved", "closed")


def _free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    for sock in sockets:
        sock.bind(("127.0.0.1", 0))
    ports = [sock.getsockname()[1] for sock in sockets]
    for sock in sockets:
        sock.close()
    return ports


def _wait_port(port: int, proc: subprocess.Popen, name: str) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{name} exited with {proc.returncode} during start-up")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise RuntimeError(f"{name} did not listen on {port}")


def _wait_http(url: str, proc: subprocess.Popen, name: str) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{name} exited with {proc.returncode} during start-up")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{name} did not answer at {url}")


class Balancer(TcpProxy):
    """A front for several API replicas: each connection goes to the next replica that accepts it."""

    def __init__(self, ports: list[int]) -> None:
        super().__init__("127.0.0.1", ports[0])
        self.ports = ports
        self._turn = 0

    async def _connect(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        error: OSError = ConnectionRefusedError("no API replica")
        for _ in self.ports:
            port = self.ports[self._turn % len(self.ports)]
            self._turn += 1
            try:
                return await asyncio.open_connection("127.0.0.1", port)
            except OSError as refused:
                error = refused
        raise error


class System:
    """The processes of one Steward, started and stopped one by one."""

    def __init__(self, data_dir: Path, sla_policy: str | None = None,
                 database_url: str | None = None, apis: int = 1, workers: int = 1) -> None:
        """`database_url` replaces the SQLite file in `data_dir` (e.g. PostgreSQL behind a proxy);
        `apis` and `workers` are how many of each process run (the first are named `api`, `worker`,
        the others `api-1`, `worker-1`, ...)."""
        self.data_dir = data_dir
        ports = _free_ports(3 + apis)
        self.temporal_port, self.ui_port, self.sandbox_port = ports[:3]
        self.api_ports = ports[3:]
        self.api_port = self.api_ports[0]
        self.api_names = ["api"] + [f"api-{n}" for n in range(1, apis)]
        self.worker_names = ["worker"] + [f"worker-{n}" for n in range(1, workers)]
        self.balancer = Balancer(self.api_ports) if apis > 1 else None
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("STEWARD_", "TWILIO_"))}
        self.env |= {
            "STEWARD_DATA_DIR": str(data_dir),
            "STEWARD_API_PORT": str(self.api_port),
            "STEWARD_SANDBOX_PORT": str(self.sandbox_port),
            "STEWARD_TEMPORAL_PORT": str(self.temporal_port),
            "STEWARD_TEMPORAL_UI_PORT": str(self.ui_port),
            "STEWARD_TEMPORAL_ADDRESS": f"127.0.0.1:{self.temporal_port}",
            "STEWARD_TASK_QUEUE": "steward-chaos",
            "STEWARD_QUIET_HOURS": quiet_hours_away_from(datetime.now(UTC), "Asia/Shanghai"),
            "PYTHONUNBUFFERED": "1",
        }
        if sla_policy is not None:
            policy = data_dir / "policy.toml"
            policy.write_text(sla_policy, encoding="utf-8")
            self.env["STEWARD_SLA_POLICY"] = str(policy)
        if database_url is not None:
            self.env["STEWARD_DATABASE_URL"] = database_url
        self.settings = Settings(_env_file=None, data_dir=data_dir, temporal_port=self.temporal_port,
                                 database_url=database_url)
        self.procs: dict[str, subprocess.Popen] = {}
        self.api_urls = [f"http://127.0.0.1:{port}" for port in self.api_ports]
        self.api_url = self.api_urls[0]
        self.sandbox_url = f"http://127.0.0.1:{self.sandbox_port}"
        self.faults = 0

    def _start(self, name: str, argv: list[str], env: dict[str, str] | None = None) -> subprocess.Popen:
        log = open(self.data_dir / f"{name}.log", "ab")  # noqa: SIM115 - lives as long as the child
        proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, env=self.env | (env or {}),
                                cwd=self.data_dir, start_new_session=True)
        self.procs[name] = proc
        return proc

    def start_temporal(self) -> None:
        proc = self._start("temporal", [
            binary("temporal"), "server", "start-dev", "--ip", "127.0.0.1",
            "--port", str(self.temporal_port), "--ui-port", str(self.ui_port), "--headless",
            "--db-filename", str(self.data_dir / "temporal.db"), "--namespace", "default",
            "--log-level", "warn", *dev_server_flags()])
        _wait_port(self.temporal_port, proc, "temporal")
        asyncio.run(self._until_serving())

    async def _until_serving(self) -> None:
        await register_search_attributes(await connect_when_serving(self.settings, START_TIMEOUT_S))

    def start_worker(self, name: str = "worker") -> None:
        self._start(name, [sys.executable, "-m", "workers.cli", "worker"])

    def start_api(self, name: str = "api") -> subprocess.Popen:
        port = self.api_ports[self.api_names.index(name)]
        return self._start(name, [sys.executable, "-m", "workers.cli", "api"],
                           {"STEWARD_API_PORT": str(port)})

    def start(self) -> None:
        if self.balancer is not None:
            self.balancer.start()
            self.env["STEWARD_PUBLIC_BASE_URL"] = f"http://127.0.0.1:{self.balancer.port}"
        self.start_temporal()
        self.engine = make_engine(self.settings.database)
        upgrade(self.engine)
        self.sessions = session_factory(self.engine)
        seed_demo(self.sessions)
        self.admin = create_token(self.sessions, Role.admin, "admin")
        self.supervisor = create_token(self.sessions, Role.supervisor, "S201")
        sandbox = self._start("sandbox", [sys.executable, "-m", "workers.cli", "sandbox"])
        apis = [self.start_api(name) for name in self.api_names]
        for name in self.worker_names:
            self.start_worker(name)
        _wait_http(f"{self.sandbox_url}/sandbox/messages", sandbox, "sandbox")
        for name, url, api in zip(self.api_names, self.api_urls, apis, strict=True):
            _wait_http(f"{url}/readyz", api, name)

    def kill(self, name: str, sig: signal.Signals = signal.SIGKILL) -> None:
        proc = self.procs[name]
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            pass
        proc.wait(timeout=60)
        self.faults += 1

    def stop(self) -> None:
        for proc in reversed(self.procs.values()):
            try:
                os.killpg(proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        for proc in self.procs.values():
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=30)
        if self.balancer is not None and self.balancer.port:
            self.balancer.stop()
        if hasattr(self, "engine"):
            self.engine.dispose()

    # --- the read model and the phones --------------------------------------------------------------

    def repeated_events(self, case_ids: list[str], once: tuple[str, ...] = ONCE) -> dict[str, Counter]:
        """For each case, the events of `once` it holds more than once, and any repeated seq."""
        with self.sessions() as session:
            rows = session.execute(select(CaseEventRow.case_id, CaseEventRow.seq, CaseEventRow.event)
                                   .where(CaseEventRow.case_id.in_(case_ids))).all()
        found: dict[str, Counter] = {}
        names: dict[str, Counter] = {case_id: Counter() for case_id in case_ids}
        seqs: Counter = Counter()
        for case_id, seq, event in rows:
            names[case_id][event] += 1
            seqs[(case_id, seq)] += 1
        for case_id, counts in names.items():
            twice = Counter({e: n for e, n in counts.items() if e in once and n > 1})
            twice.update({f"seq {s}": n for (c, s), n in seqs.items() if c == case_id and n > 1})
            if twice:
                found[case_id] = twice
        return found

    def read_model_cases(self, building: str) -> dict[str, int]:
        """Rows of the read model's `cases` per case id of `building` (a case projected twice shows 2)."""
        with self.sessions() as session:
            rows = session.execute(select(Case.case_id, func.count()).where(Case.building_id == building)
                                   .group_by(Case.case_id)).all()
        return {case_id: n for case_id, n in rows}

    def read_model_statuses(self, case_ids: list[str]) -> dict[str, str]:
        with self.sessions() as session:
            rows = session.execute(select(Case.case_id, Case.status).where(Case.case_id.in_(case_ids))).all()
        return {case_id: status for case_id, status in rows}

    async def temporal_workflows(self, building: str) -> dict[str, WorkflowExecutionStatus]:
        """Every workflow Temporal holds for `building` (by its search attribute), with its status."""
        client = await connect(self.settings)
        found: dict[str, WorkflowExecutionStatus] = {}
        async for execution in client.list_workflows(f"Building = '{building}'"):
            if execution.id in found:  # one id run twice would be a duplicate case
                found[f"{execution.id} (again)"] = execution.status
            else:
                found[execution.id] = execution.status
        return found


async def eventually(read, check, what: str, within: float):
    deadline = time.monotonic() + within
    while True:
        value = await read()
        if check(value):
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not reached in {within:.0f}s; last seen: {value}")
        await asyncio.sleep(0.25)


class Driver:
    """Residents and a handler of one new building, driving cases over HTTP while processes die.

    With several API replicas (`apis`) calls take turns between them, a submission goes through the
    replica its resident's index names, and a call that fails is sent again through the next one, as a
    client behind a load balancer would see it. With `resubmit_every` n, every n-th submission is sent
    a second time through another replica with the same Idempotency-Key: it must name the same case."""

    def __init__(self, system: System, http: httpx.AsyncClient, phones: httpx.AsyncClient,
                 apis: list[httpx.AsyncClient] | None = None, resubmit_every: int = 0) -> None:
        self.system, self.http, self.phones = system, http, phones
        self.apis = apis or [http]
        self.resubmit_every = resubmit_every
        self.resubmitted = 0
        self._turn = 0
        self.building = f"C{uuid.uuid4().hex[:6].upper()}"

    async def _call(self, token: str, method: str, path: str, json=None, headers=None,
                    via: int | None = None) -> httpx.Response:
        """Retries transport errors and 5xx (on the next replica): the API may be waiting on a server
        that is coming back, or be gone."""
        if via is None:
            via, self._turn = self._turn, self._turn + 1
        response = None
        for attempt in range(120):
            http = self.apis[(via + attempt) % len(self.apis)]
            try:
                response = await http.request(method, path, json=json, headers={
                    "Authorization": f"Bearer {token}"} | (headers or {}))
            except httpx.HTTPError:
                await asyncio.sleep(0.5)
                continue
            if response.status_code < 500:
                return response
            await asyncio.sleep(0.5)
        shown = f"{response.status_code} {response.text}" if response is not None else "no answer"
        raise AssertionError(f"{method} {path} kept failing: {shown}")

    async def _add(self, path: str, entry: dict) -> None:
        response = await self._call(self.system.admin, "POST", path, entry)
        assert response.status_code == 201, response.text

    async def setup(self, residents: int) -> None:
        await self._add("/buildings", {"id": self.building, "name": f"Chaos {self.building}"})
        self.handler_id = f"{self.building}-S0"
        self.handler_phone = "+86139" + str(uuid.uuid4().int)[:8]
        await self._add("/staff", {"id": self.handler_id, "name": "Plumber", "tier": 0,
                                   "skills": ["plumbing"], "buildings": [self.building], "on_duty": True,
                                   "phone": self.handler_phone, "locale": "en"})
        await self._add("/staff", {"id": f"{self.building}-S2", "name": "Manager", "tier": 2, "skills": [],
                                   "buildings": [self.building], "on_duty": True,
                                   "phone": "+86138" + str(uuid.uuid4().int)[:8], "locale": "en"})
        self.lead_phone = "+86136" + str(uuid.uuid4().int)[:8]
        await self._add("/staff", {"id": f"{self.building}-S1", "name": "Team lead", "tier": 1, "skills": [],
                                   "buildings": [self.building], "on_duty": True,
                                   "phone": self.lead_phone, "locale": "en"})
        self.handler = create_token(self.system.sessions, Role.staff, self.handler_id)
        self.residents: list[tuple[str, str, str, str]] = []
        for n in range(residents):
            unit, resident_id = f"{100 + n}", f"{self.building}-R{n}"
            household = f"H-{self.building}-{unit}"
            phone = "+86137" + str(uuid.uuid4().int)[:8]
            await self._add("/households", {"id": household, "building_id": self.building, "unit": unit})
            await self._add("/residents", {"id": resident_id, "household_id": household, "name": "Resident",
                                           "phone": phone, "locale": "en", "preferred_channel": "sms"})
            token = create_token(self.system.sessions, Role.resident, resident_id)
            self.residents.append((resident_id, phone, token, unit))

    async def state(self, case_id: str) -> dict:
        response = await self._call(self.system.supervisor, "GET", f"/requests/{case_id}")
        assert response.status_code == 200, response.text
        return response.json()

    async def until(self, case_id: str, check, what: str, within: float) -> dict:
        return await eventually(lambda: self.state(case_id), check, f"{case_id}: {what}", within)

    async def messages(self, to: str) -> list[dict]:
        for _ in range(60):
            try:
                response = await self.phones.get("/sandbox/messages", params={"to": to})
                response.raise_for_status()
                return response.json()
            except httpx.HTTPError:
                await asyncio.sleep(0.5)
        raise AssertionError(f"sandbox did not answer for {to}")

    async def submit(self, index: int) -> str:
        """201 when started now; 200 when a retry after a lost answer found it started already."""
        _, _, token, unit = self.residents[index]
        body = REPAIR | {"building_id": self.building, "unit": unit, "title": f"Tap {index} leaking"}
        key = {"Idempotency-Key": f"{self.building}-{index}"}
        response = await self._call(token, "POST", "/requests", body, headers=key, via=index)
        assert response.status_code in (200, 201), response.text
        case_id = response.json()["case_id"]
        if self.resubmit_every and index % self.resubmit_every == 0 and len(self.apis) > 1:
            again = await self._call(token, "POST", "/requests", body, headers=key, via=index + 1)
            assert again.status_code == 200, again.text
            assert again.json()["case_id"] == case_id, (again.json(), case_id)
            self.resubmitted += 1
        return case_id

    async def act(self, case_id: str, action: str, body: dict | None = None) -> None:
        response = await self._call(self.handler, "POST", f"/requests/{case_id}/{action}", body)
        assert response.status_code in (200, 409), response.text

    async def acknowledged(self, index: int, within: float) -> str:
        """Submit and acknowledge: the case now waits on its resolution deadline."""
        case_id = await self.submit(index)
        await self.until(case_id, lambda s: s["status"] == "dispatched", "dispatched", within)
        await self.act(case_id, "acknowledge", {})
        await self.until(case_id, lambda s: s["status"] in ("acknowledged", "in_progress"), "acknowledged",
                         within)
        return case_id

    async def through_to_closed(self, index: int, within: float, reply_after: asyncio.Event) -> str:
        """Submit, acknowledge, resolve; once `reply_after` is set the resident answers the callback SMS
        with 1; wait for closed. (Holding the answer keeps every case open while faults go in.)"""
        case_id = await self.acknowledged(index, within)
        return await self.resolved_to_closed(index, case_id, within, reply_after)

    async def all_closed_under(self, cases: int, within: float,
                               faults: Callable[[], Awaitable[None]]) -> list[str]:
        """Every case `through_to_closed`, 50 at a time, while `faults()` injects the faults; the residents
        answer once it has returned (or failed), so every case is open while the faults go in."""
        faults_in = asyncio.Event()

        async def inject() -> None:
            try:
                await faults()
            finally:
                faults_in.set()

        limit = asyncio.Semaphore(50)

        async def one(index: int) -> str:
            async with limit:
                return await self.through_to_closed(index, within, faults_in)

        injecting = asyncio.create_task(inject())
        try:
            return await asyncio.gather(*(one(i) for i in range(cases)))
        finally:
            await injecting

    async def resolved_to_closed(self, index: int, case_id: str, within: float,
                                 reply_after: asyncio.Event) -> str:
        """Resolve the acknowledged case of resident `index`, then as `through_to_closed`."""
        resident_phone = self.residents[index][1]
        await self.act(case_id, "resolve", {"note": "Replaced the washer."})

        async def asked() -> list[dict]:
            return [m for m in await self.messages(resident_phone) if m["direction"] == "outbound-api"
                    and case_id in m["body"] and "has been resolved" in m["body"]]

        await eventually(asked, bool, f"{case_id}: callback SMS", within)
        await reply_after.wait()
        while True:
            response = await self.phones.post("/sandbox/reply", json={"from": resident_phone, "body": "1"})
            if response.status_code == 200 and response.json().get("webhook_status") == 200:
                break
            await asyncio.sleep(0.5)
        await self.until(case_id, lambda s: s["status"] == "closed", "closed", within)
        return case_id

    async def duplicate_messages(self) -> list[tuple[str, str, int]]:
        """(to, body, count) for every message Steward sent to the same phone more than once."""
        found = []
        for phone in [r[1] for r in self.residents] + [self.handler_phone, self.lead_phone]:
            sent = [m for m in await self.messages(phone) if m["direction"] == "outbound-api"]
            counts = Counter(m["body"] for m in sent)
            found += [(phone, body, n) for body, n in counts.items() if n > 1]
        return found


@asynccontextmanager
async def driving(system: System, residents: int, resubmit_every: int = 0) -> AsyncIterator[Driver]:
    """The system's processes started and a driver for `residents` set up over HTTP; all stopped after
    (those that started, too, when start-up fails)."""
    try:
        await asyncio.to_thread(system.start)
        async with contextlib.AsyncExitStack() as stack:
            apis = [await stack.enter_async_context(httpx.AsyncClient(base_url=url, timeout=30))
                    for url in system.api_urls]
            phones = await stack.enter_async_context(
                httpx.AsyncClient(base_url=system.sandbox_url, timeout=30))
            driver = Driver(system, apis[0], phones, apis, resubmit_every)
            await driver.setup(residents)
            yield driver
    finally:
        await asyncio.to_thread(system.stop)
