"""The baseline's HTTP API: bare FastAPI endpoints that only make the one Temporal call each.

Served by `python -m bench.engine_api` under uvicorn exactly as `steward api` serves Steward
(one process, `log_level="info"`), so the difference in a scenario is Steward's own work.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter

from bench.engine import Empty, Lifecycle, Shape, UpdateTarget


def create_app() -> FastAPI:
    task_queue = os.environ["BENCH_TASK_QUEUE"]

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.client = await Client.connect(
            os.environ["BENCH_TEMPORAL"], namespace="default", data_converter=pydantic_data_converter
        )
        yield

    app = FastAPI(title="bench baseline", lifespan=lifespan)

    def client(request: Request) -> Client:
        return request.app.state.client

    @app.post("/start", status_code=201)
    async def start(request: Request) -> dict:
        workflow_id = f"empty-{uuid.uuid4().hex}"
        await client(request).start_workflow(Empty.run, id=workflow_id, task_queue=task_queue)
        return {"id": workflow_id}

    @app.post("/targets", status_code=201)
    async def target(request: Request) -> dict:
        workflow_id = f"target-{uuid.uuid4().hex}"
        await client(request).start_workflow(UpdateTarget.run, id=workflow_id, task_queue=task_queue)
        return {"id": workflow_id}

    @app.post("/targets/{workflow_id}/acknowledge")
    async def acknowledge(workflow_id: str, request: Request) -> dict:
        handle = client(request).get_workflow_handle(workflow_id)
        return await handle.execute_update(UpdateTarget.acknowledge, "S001")

    @app.post("/lifecycles", status_code=201)
    async def lifecycle(shape: Shape, phone: str, request: Request) -> dict:
        workflow_id = f"lifecycle-{uuid.uuid4().hex}"
        await client(request).start_workflow(
            Lifecycle.run, args=[shape, phone], id=workflow_id, task_queue=task_queue
        )
        return {"id": workflow_id}

    @app.get("/lifecycles/{workflow_id}")
    async def state(workflow_id: str, request: Request) -> dict:
        return {"status": await client(request).get_workflow_handle(workflow_id).query(Lifecycle.state)}

    @app.post("/lifecycles/{workflow_id}/acknowledge")
    async def lifecycle_ack(workflow_id: str, request: Request) -> dict:
        handle = client(request).get_workflow_handle(workflow_id)
        return {"status": await handle.execute_update(Lifecycle.acknowledge, "S001")}

    @app.post("/lifecycles/{workflow_id}/resolve")
    async def lifecycle_resolve(workflow_id: str, request: Request) -> dict:
        handle = client(request).get_workflow_handle(workflow_id)
        return {"status": await handle.execute_update(Lifecycle.resolve, "done")}

    @app.post("/lifecycles/{workflow_id}/reply")
    async def lifecycle_reply(workflow_id: str, request: Request) -> dict:
        await client(request).get_workflow_handle(workflow_id).signal(Lifecycle.callback_reply, True)
        return {"accepted": True}

    return app


def main() -> None:
    import uvicorn

    uvicorn.run(
        "bench.engine_api:create_app",
        factory=True,
        host="127.0.0.1",
        port=int(os.environ["BENCH_PORT"]),
        log_level="info",
    )


if __name__ == "__main__":
    main()
