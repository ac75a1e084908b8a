"""What every request reaches through `app.state`: settings, the one Temporal client, DB sessions.

Async on purpose: FastAPI runs a plain `def` dependency in its thread pool, one hop per dependency
per request, and these only read an attribute.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session, sessionmaker
from temporalio.client import Client

from steward.settings import Settings


async def _settings(request: Request) -> Settings:
    return request.app.state.settings


async def _client(request: Request) -> Client:
    return request.app.state.client


async def _sessions(request: Request) -> sessionmaker[Session]:
    return request.app.state.sessions


SettingsDep = Annotated[Settings, Depends(_settings)]
ClientDep = Annotated[Client, Depends(_client)]
SessionsDep = Annotated[sessionmaker[Session], Depends(_sessions)]
