"""`steward worker` as an orchestrator runs it: its own HTTP server for liveness, readiness and metrics
(Steward's counters and the Temporal SDK's), and a graceful stop on SIGTERM."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from temporalio.testing import WorkflowEnvironment

from api.app import create_app
from steward.tokens import create_token
from tests.conftest import (
    TEST_ACCOUNT_SID,
    TEST_AUTH_TOKEN,
    Database,
    ThreadedServer,
    free_port,
    make_settings,
)
from workers.health import WorkerHealth, serving
from workflows.contracts import Role

STEWARD = str(Path(sys.executable).parent / "steward")
TOKEN = "worker-scrape-token-42"
GRACE_S = 5
PATIENCE_S = 30.0


class WorkerProcess:
    def __init__(self, env: WorkflowEnvironment, database: Database, sandbox: ThreadedServer, api_port: int,
                 log_path: Path) -> None:
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.task_queue = f"steward-health-{uuid.uuid4().hex[:8]}"
        environ = {k: v for k, v in os.environ.items() if not k.startswith(("STEWARD_", "TWILIO_"))}
        environ |= {
            "STEWARD_TEMPORAL_ADDRESS": env.client.service_client.config.target_host,
            "STEWARD_DATABASE_URL": database.url,
            "STEWARD_TASK_QUEUE": self.task_queue,
            "STEWARD_TWILIO_API_BASE_URL": sandbox.base_url,
            "STEWARD_TWILIO_ACCOUNT_SID": TEST_ACCOUNT_SID,
            "STEWARD_TWILIO_AUTH_TOKEN": TEST_AUTH_TOKEN,
            "STEWARD_PUBLIC_BASE_URL": f"http://127.0.0.1:{api_port}",
            "STEWARD_WORKER_HTTP_PORT": str(self.port),
            "STEWARD_WORKER_SHUTDOWN_GRACE": f"{GRACE_S}s",
            "STEWARD_METRICS_TOKEN": TOKEN,
            "STEWARD_LOG_FORMAT": "json",
        }
        self.log = log_path.open("wb")
        self.proc = subprocess.Popen([STEWARD, "worker"], env=environ, stdout=self.log,
                                     stderr=subprocess.STDOUT, cwd=log_path.parent)

    async def get(self, path: str, **kwargs) -> httpx.Response:
        async with httpx.AsyncClient(base_url=self.base_url, timeout=5) as http:
            return await http.get(path, **kwargs)

    async def until(self, path: str, status: int, **kwargs) -> httpx.Response:
        deadline = asyncio.get_running_loop().time() + PATIENCE_S
        while True:
            assert self.proc.poll() is None, f"the worker exited: {self.log.name}"
            try:
                response = await self.get(path, **kwargs)
                if response.status_code == status:
                    return response
            except httpx.TransportError:
                pass
            assert asyncio.get_running_loop().time() < deadline, f"{path} never answered {status}"
            await asyncio.sleep(0.1)

    def log_lines(self) -> list[str]:
        return Path(self.log.name).read_text().splitlines()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


@pytest.fixture
async def worker(dev_env, sqlite_database, sandbox, api_port, tmp_path) -> AsyncIterator[WorkerProcess]:
    process = WorkerProcess(dev_env, sqlite_database, sandbox, api_port, tmp_path / "worker.log")
    try:
        yield process
    finally:
        process.stop()


async def test_worker_is_alive_ready_shows_sdk_metrics_and_stops_within_its_grace(
    worker: WorkerProcess, dev_env, sqlite_database, sandbox, api_port
) -> None:
    assert (await worker.until("/healthz", 200)).json() == {"status": "alive"}
    ready = await worker.until("/readyz", 200)
    assert ready.json() == {"ready": True, "checks": {"worker": "ok", "temporal": "ok"}}
    assert (await worker.get("/metrics")).status_code == 401
    assert (await worker.get("/metrics", headers={"Authorization": "Bearer nope"})).status_code == 401

    # A case through the API, on the worker process's queue: workflow and activities run over there.
    settings = make_settings(sqlite_database, sandbox, api_port, task_queue=worker.task_queue)
    app = create_app(settings, client=dev_env.client, engine=sqlite_database.engine)
    resident = create_token(sqlite_database.sessions, Role.resident, "R001")
    auth = {"Authorization": f"Bearer {resident}"}
    async with app.router.lifespan_context(app), httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://steward.test") as http:
        created = await http.post("/requests", headers=auth | {"Idempotency-Key": uuid.uuid4().hex}, json={
            "severity": "normal", "category": "plumbing", "title": "Tap", "description": "Drips."})
        assert created.status_code == 201, created.text
        case_id = created.json()["case_id"]
        try:
            deadline = asyncio.get_running_loop().time() + PATIENCE_S
            while True:
                text = (await worker.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})).text
                # The SDK's histograms and Steward's send counter, from the same scrape.
                if "temporal_activity_execution_latency_count{" in text and "steward_sends_total{" in text:
                    break
                assert asyncio.get_running_loop().time() < deadline, text[-3000:]
                await asyncio.sleep(0.2)
            assert "temporal_workflow_task_execution_latency" in text
            assert 'task_queue="' + worker.task_queue in text
        finally:
            await dev_env.client.get_workflow_handle(case_id).terminate("test finished")

    worker.proc.send_signal(signal.SIGTERM)
    assert worker.proc.wait(timeout=GRACE_S + 15) == 0
    worker.log.flush()
    lines = worker.log_lines()
    assert any('"message": "stopping: finishing running activities' in line for line in lines), lines


async def test_readiness_turns_503_once_a_stop_is_asked(dev_env) -> None:
    """The moment between SIGTERM and exit, held open: /readyz must already refuse."""
    port = free_port()
    health = WorkerHealth(dev_env.client, metrics_token=None)
    base_url = f"http://127.0.0.1:{port}"
    async with serving(health, "127.0.0.1", port), httpx.AsyncClient(base_url=base_url) as http:
        not_yet = await http.get("/readyz")
        assert not_yet.status_code == 503 and not_yet.json()["checks"]["worker"] == "not polling yet"
        assert (await http.get("/metrics")).status_code == 404
        health.stopping = True
        stopping = await http.get("/readyz")
        assert stopping.status_code == 503
        assert stopping.json() == {"ready": False, "checks": {"worker": "shutting down"}}
        assert (await http.get("/healthz")).status_code == 200
