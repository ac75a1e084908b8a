"""The worker's own small HTTP server: `/healthz`, `/readyz` and `/metrics` for a process manager and a
scraper (`STEWARD_WORKER_HTTP_PORT`; none while unset).

`/readyz` answers 200 only while the worker polls its task queue and Temporal answers, and 503 from the
moment a stop is asked: a load balancer or orchestrator stops counting on this worker while it finishes
its running activities. `/metrics` joins Steward's counters (this process's registry) with the Temporal
SDK's own metrics, which the SDK's runtime serves on a private loopback port.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import timedelta

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from temporalio.client import Client
from temporalio.service import RPCError
from temporalio.worker import Worker

from steward import metrics

CHECK_TIMEOUT = timedelta(seconds=2)


@dataclass
class WorkerHealth:
    """What the endpoints report on; `worker` is set once it polls, `stopping` once a stop is asked."""

    client: Client
    metrics_token: str | None
    sdk_metrics_url: str | None = None
    worker: Worker | None = None
    stopping: bool = False

    async def readiness(self) -> dict[str, str]:
        if self.stopping:
            return {"worker": "shutting down"}
        polling = "ok" if self.worker is not None and self.worker.is_running else "not polling yet"
        try:
            temporal = "ok" if await self.client.service_client.check_health(timeout=CHECK_TIMEOUT) \
                else "not serving"
        except (RPCError, RuntimeError) as error:
            temporal = f"unreachable: {error}"
        return {"worker": polling, "temporal": temporal}

    async def sdk_metrics(self) -> bytes:
        """The SDK runtime's exposition; empty if it does not answer, so Steward's metrics still scrape."""
        if self.sdk_metrics_url is None:
            return b""
        try:
            async with httpx.AsyncClient(timeout=5) as http:
                return (await http.get(self.sdk_metrics_url)).content
        except httpx.HTTPError:
            return b""


def health_app(health: WorkerHealth) -> Starlette:
    async def healthz(_request: Request) -> JSONResponse:
        return JSONResponse({"status": "alive"})

    async def readyz(_request: Request) -> JSONResponse:
        checks = await health.readiness()
        ready = all(value == "ok" for value in checks.values())
        return JSONResponse({"ready": ready, "checks": checks}, status_code=200 if ready else 503)

    async def scrape(request: Request) -> Response:
        if refused := metrics.refusal(health.metrics_token, request.headers.get("authorization")):
            status, message = refused
            code = "not_found" if status == 404 else "unauthorized"
            return JSONResponse({"error": {"code": code, "message": message}}, status_code=status)
        own = await asyncio.to_thread(metrics.exposition)
        return Response(own + await health.sdk_metrics(), media_type=metrics.CONTENT_TYPE)

    return Starlette(routes=[Route("/healthz", healthz), Route("/readyz", readyz), Route("/metrics", scrape)])


class _Server(uvicorn.Server):
    """uvicorn inside the worker's loop: the worker's own signal handlers decide when to stop."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


@contextlib.asynccontextmanager
async def serving(health: WorkerHealth, host: str, port: int | None) -> AsyncIterator[None]:
    """Serve `health` on `host:port` for the duration; nothing when `port` is None."""
    if port is None:
        yield
        return
    server = _Server(uvicorn.Config(health_app(health), host=host, port=port, log_config=None,
                                    access_log=False, lifespan="off"))
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()  # the port was taken: say so
            raise RuntimeError(f"the worker's HTTP server did not start on port {port}")
        await asyncio.sleep(0.02)
    try:
        yield
    finally:
        server.should_exit = True
        await task
