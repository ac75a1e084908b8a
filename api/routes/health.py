"""Liveness and readiness for process managers and load balancers."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from temporalio.service import RPCError

from api.models import Picture
from steward.store.database import is_migrated

router = APIRouter(tags=["health"])
CHECK_TIMEOUT = timedelta(seconds=3)


class Alive(BaseModel):
    status: str = "alive"


class Readiness(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"ready": False, "checks": {"temporal": "ok", "database": "not migrated: run `steward migrate`"}},
    ]})

    ready: bool
    checks: dict[str, str]
    picture: Picture | None = Field(default=None, description="Whether the board and /at-risk can be "
                                    "believed: a worker polls, the read model keeps up. Does not decide "
                                    "`ready` (the API serves without a worker); null when Temporal or the "
                                    "database is not ready.")


@router.get("/healthz", response_model=Alive, summary="The process answers")
async def healthz() -> Alive:
    return Alive()


async def _temporal(request: Request) -> str:
    try:
        healthy = await request.app.state.client.service_client.check_health(timeout=CHECK_TIMEOUT)
    except (RPCError, RuntimeError) as error:
        return f"unreachable: {error}"
    return "ok" if healthy else "not serving"


def _database(request: Request) -> str:
    try:
        return "ok" if is_migrated(request.app.state.engine) else "not migrated: run `steward migrate`"
    except Exception as error:  # noqa: BLE001 - any driver error means "not ready", with its text
        return f"unreachable: {type(error).__name__}: {error}"


@router.get("/readyz", response_model=Readiness, summary="Temporal and the database answer",
            responses={503: {"model": Readiness, "description": "Not ready; the checks say why."}})
async def readyz(request: Request) -> JSONResponse:
    temporal, database = await asyncio.gather(_temporal(request), asyncio.to_thread(_database, request))
    checks = {"temporal": temporal, "database": database}
    ready = all(check == "ok" for check in checks.values())
    picture = await request.app.state.picture.current() if ready else None
    readiness = Readiness(ready=ready, checks=checks, picture=picture)
    return JSONResponse(readiness.model_dump(mode="json"), status_code=200 if readiness.ready else 503)
