"""Bearer-token authentication and role guards, as FastAPI dependencies."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.context import SessionsDep
from api.errors import ApiError
from steward.tokens import resolve_token
from workflows.contracts import Actor, Role

_bearer = HTTPBearer(
    auto_error=False,
    description="A token from `steward token create --role ROLE --subject ID` (or `make dev`).",
)


def authenticated(
    sessions: SessionsDep, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> Actor:
    """The person behind the bearer token; 401 without a live token."""
    challenge = {"WWW-Authenticate": "Bearer"}
    if credentials is None:
        raise ApiError(401, "send Authorization: Bearer <token>", headers=challenge)
    actor = resolve_token(sessions, credentials.credentials)
    if actor is None:
        raise ApiError(401, "unknown or revoked token", headers=challenge)
    return actor


def allow(*roles: Role) -> Callable[[Actor], Actor]:
    """A dependency admitting only `roles`; anyone else authenticated gets 403 (async: no I/O, no
    thread-pool hop)."""
    names = ", ".join(role.value for role in roles)

    async def guard(actor: Annotated[Actor, Depends(authenticated)]) -> Actor:
        if actor.role not in roles:
            raise ApiError(403, f"a {actor.role.value} may not do this (allowed: {names})")
        return actor

    return guard


ResidentOrStaff = Annotated[Actor, Depends(allow(Role.resident, Role.staff, Role.supervisor))]
ResidentOnly = Annotated[Actor, Depends(allow(Role.resident))]
StaffMember = Annotated[Actor, Depends(allow(Role.staff, Role.supervisor))]
Supervisor = Annotated[Actor, Depends(allow(Role.supervisor))]
Admin = Annotated[Actor, Depends(allow(Role.admin))]
AdminOrSupervisor = Annotated[Actor, Depends(allow(Role.admin, Role.supervisor))]
Staffer = Annotated[Actor, Depends(allow(Role.staff, Role.supervisor, Role.admin))]
