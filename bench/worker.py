"""A worker process for the benchmark: Steward's own worker, or the baseline's.

`python -m bench.worker steward` runs Steward's worker from `workers.worker` — the worker
`steward worker` runs, with the same workflows, activities and executor — connected through a
client whose runtime exports Temporal's SDK metrics (Prometheus) and, for the cache and sandbox
scenarios, with the one `Worker` option changed that the scenario is about.
`python -m bench.worker baseline` runs the baseline's minimal workflows and activities with the
same options.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import signal
from concurrent.futures import ThreadPoolExecutor

from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig
from temporalio.worker import UnsandboxedWorkflowRunner, Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

RUNNERS = {
    "sandbox": lambda: SandboxedWorkflowRunner(),
    "passthrough": lambda: SandboxedWorkflowRunner(
        restrictions=SandboxRestrictions.default.with_passthrough_all_modules()
    ),
    "unsandboxed": lambda: UnsandboxedWorkflowRunner(),
}


def worker_options(args: argparse.Namespace) -> dict:
    return {"max_cached_workflows": args.max_cached, "workflow_runner": RUNNERS[args.runner]()}


def runtime(args: argparse.Namespace) -> Runtime:
    return Runtime(
        telemetry=TelemetryConfig(
            metrics=PrometheusConfig(bind_address=f"127.0.0.1:{args.metrics_port}")
            if args.metrics_port
            else None
        )
    )


async def connect(args: argparse.Namespace) -> Client:
    return await Client.connect(
        args.temporal, namespace="default", data_converter=pydantic_data_converter, runtime=runtime(args)
    )


async def run_steward(args: argparse.Namespace) -> None:
    import workers.worker as steward_worker
    from steward.settings import Settings
    from steward.store.database import make_engine, session_factory
    from steward.temporal import connect as connect_steward

    settings = Settings()
    client = await connect_steward(settings, runtime=runtime(args))  # Steward's converter, keys included
    sessions = session_factory(make_engine(settings.database))
    # The only change to Steward's worker: the option this run is about (cache size, sandbox mode).
    steward_worker.Worker = functools.partial(Worker, **worker_options(args))
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(sig, stop.set)
    async with steward_worker.steward_worker(client, settings, sessions, args.task_queue):
        await stop.wait()


async def run_baseline(args: argparse.Namespace) -> None:
    from bench import engine
    from bench.engine_activities import EngineActivities

    client = await connect(args)
    activities = EngineActivities(args.sandbox_url, args.account_sid, args.auth_token)
    worker = Worker(
        client,
        task_queue=args.task_queue,
        workflows=engine.WORKFLOWS,
        activities=[activities.noop, activities.send_sms],
        activity_executor=ThreadPoolExecutor(max_workers=32),
        **worker_options(args),
    )
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(sig, stop.set)
    async with worker:
        await stop.wait()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.worker")
    parser.add_argument("kind", choices=["steward", "baseline"])
    parser.add_argument("--temporal", required=True)
    parser.add_argument("--task-queue", required=True)
    parser.add_argument("--max-cached", type=int, default=1000, help="1000 is the SDK's default")
    parser.add_argument("--runner", choices=sorted(RUNNERS), default="sandbox")
    parser.add_argument("--metrics-port", type=int, default=0)
    parser.add_argument("--sandbox-url", default="")
    parser.add_argument("--account-sid", default="")
    parser.add_argument("--auth-token", default="")
    args = parser.parse_args()
    asyncio.run(run_steward(args) if args.kind == "steward" else run_baseline(args))


if __name__ == "__main__":
    main()
