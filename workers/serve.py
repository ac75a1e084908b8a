"""`steward worker`: the worker process, with its health server, SDK metrics, tracing and a graceful stop.

SIGTERM or SIGINT turns `/readyz` to 503 and shuts the worker down: it stops polling, lets running
activities finish for `STEWARD_WORKER_SHUTDOWN_GRACE`, then cancels what is left (Temporal retries those
on another worker).
"""

from __future__ import annotations

import asyncio
import logging
import signal
import socket

from temporalio.runtime import (
    LogForwardingConfig,
    LoggingConfig,
    PrometheusConfig,
    Runtime,
    TelemetryConfig,
)

from steward import tracing
from steward.settings import Settings
from steward.store.database import make_engine, session_factory
from steward.temporal import connect, register_search_attributes
from workers.health import WorkerHealth, serving
from workers.worker import steward_worker

log = logging.getLogger("steward.worker")


def _loopback_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def sdk_runtime(settings: Settings) -> tuple[Runtime, str | None]:
    """The worker's Temporal runtime: the SDK core's warnings forwarded into our logging (so they are JSON
    lines like the rest) and, when the worker has an HTTP server to show them on, the SDK's metrics on a
    private loopback port; answers the runtime and where its metrics are read (None without a server)."""
    forwarded = LoggingConfig(filter=LoggingConfig.default.filter,
                              forwarding=LogForwardingConfig(logger=logging.getLogger("temporalio.core")))
    if settings.worker_http_port is None:
        return Runtime(telemetry=TelemetryConfig(logging=forwarded)), None
    address = f"127.0.0.1:{_loopback_port()}"
    prometheus = PrometheusConfig(bind_address=address, durations_as_seconds=True)
    return Runtime(telemetry=TelemetryConfig(logging=forwarded, metrics=prometheus)), f"http://{address}/metrics"


async def run_worker(settings: Settings) -> None:
    """Runs until the process is told to stop (SIGTERM/SIGINT), then shuts the worker down cleanly.
    Our search attributes are added first where the server allows it, else checked (Temporal Cloud)."""
    runtime, sdk_metrics_url = sdk_runtime(settings)
    tracer = tracing.tracer_for(settings, "steward-worker")
    client = await connect(settings, runtime=runtime, interceptors=tracing.interceptors(tracer))
    await register_search_attributes(client)
    sessions = session_factory(make_engine(settings.database))
    health = WorkerHealth(client, settings.metrics_token, sdk_metrics_url)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    async with serving(health, settings.api_host, settings.worker_http_port):
        async with steward_worker(client, settings, sessions) as worker:
            health.worker = worker
            log.info("worker polling task queue %s", settings.task_queue)
            await stop.wait()
            health.stopping = True
            log.info("stopping: finishing running activities for up to %s", settings.worker_shutdown_grace)
        log.info("worker stopped")
