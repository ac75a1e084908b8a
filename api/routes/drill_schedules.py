"""Recurring drills (supervisor only): one Temporal Schedule per building and drill type.

`POST /drill-schedules` sets a building's recurring drill of one type (creating or replacing its
schedule); the others list, read, pause, resume and delete them. None of them touches a drill a
schedule has already started: each is a workflow of its own.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Body, Path, Query, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel
from sqlalchemy.orm import Session, sessionmaker
from temporalio.client import Client

from api.auth import Supervisor
from api.cases import RPC_TIMEOUT, temporal_answers
from api.context import ClientDep, SessionsDep, SettingsDep
from api.drill_schedules import (
    PREFIX,
    DrillScheduleNote,
    DrillScheduleRequest,
    DrillScheduleView,
    describe,
    set_schedule,
    view,
)
from api.errors import ERROR_RESPONSES, ApiError, ErrorBody
from api.models import DIRECTORY_ID, CountedPage
from api.routes.drills import check_building
from api.routes.hearing_and_drill_lists import Limit, PageToken, read_page
from api.schedules import set_paused
from api.twin_routes import endpoint
from steward.store.deadlines import DRILL_SCHEDULES, Total
from steward.store.drill_schedules import overtaken, store
from workflows.contracts import Actor
from workflows.drill_contracts import DrillType

router = APIRouter(prefix="/drill-schedules", tags=["drills"], responses=ERROR_RESPONSES | {
    503: {"model": ErrorBody, "description": "Temporal is unavailable."},
})

ScheduleId = Annotated[str, Path(pattern=rf"^{PREFIX}[A-Za-z0-9_-]{{1,32}}-(fire|flood|security)$",
                                 examples=["drill-B1-fire"])]
NoteBody = Annotated[DrillScheduleNote | None, Body(openapi_examples={
    "none": {"summary": "No note", "value": {}},
    "note": {"summary": "Why", "value": {"note": "Lift works in December: no drills until January."}},
})]


@router.post(
    "", status_code=201, response_model=DrillScheduleView,
    summary="Set a building's recurring drill of one type (supervisor)",
    responses={200: {"model": DrillScheduleView, "description": "The schedule existed and was replaced."}},
)
async def set_drill_schedule(body: DrillScheduleRequest, caller: Supervisor, client: ClientDep,
                             sessions: SessionsDep, settings: SettingsDep, response: Response,
                             ) -> DrillScheduleView:
    """A calendar (days of the week or month at hh:mm community time) or an interval. The schedule
    acts the notice period ahead of each drill (whole days, same local time) to start and announce
    it; `next_drills` are the drills, `next_announcements` the schedule's own actions."""
    await run_in_threadpool(check_building, sessions, body.building_id)
    schedule, created = await set_schedule(client, body, settings, caller)
    await run_in_threadpool(store, sessions, schedule.schedule_id, schedule)
    if not created:
        response.status_code = 200
    return schedule


class DrillSchedulePage(CountedPage[DrillScheduleView]):
    """Recurring drills, the next drill first."""


@router.get("", response_model=DrillSchedulePage,
            summary="Recurring drills, the next drill first (supervisor; read model)")
async def list_drill_schedules(
    caller: Supervisor, client: ClientDep, sessions: SessionsDep, settings: SettingsDep,
    building: Annotated[str | None, Query(pattern=DIRECTORY_ID)] = None,
    drill_type: DrillType | None = None,
    paused: bool | None = None,
    limit: Limit = 50, page_token: PageToken = None,
) -> DrillSchedulePage:
    """From the read model, the soonest next drill first, then paused schedules (they have none). A
    schedule that has acted since its row was written is read again from Temporal first, so the
    next drills listed are never ones already past."""
    await refresh_overtaken(client, sessions)
    filters = {"building_id": building, "drill_type": drill_type.value if drill_type else None,
               "paused": paused}
    scope = {"building": building, "type": drill_type, "paused": paused}
    rows, token, total = await read_page(sessions, settings.count_up_to, DRILL_SCHEDULES, "drill-schedules",
                                         filters, scope, limit, page_token)
    return DrillSchedulePage(items=[DrillScheduleView.model_validate(row.view) for row in rows],
                             **Total.of_page(total), next_page_token=token)


@router.get("/{schedule_id}", response_model=DrillScheduleView, summary="A recurring drill (supervisor)")
async def get_drill_schedule(schedule_id: ScheduleId, caller: Supervisor, client: ClientDep,
                             sessions: SessionsDep) -> DrillScheduleView:
    """Live from Temporal (with the drills it started lately), and written to its row on the way."""
    return await _projected(client, sessions, schedule_id)


async def project(client: Client, sessions: sessionmaker[Session],
                  schedule_id: str) -> DrillScheduleView | None:
    """Read the schedule from Temporal and write its row (or drop it when the schedule is gone)."""
    try:
        schedule = await view(client, schedule_id)
    except ApiError as error:
        if error.status != 404:
            raise
        schedule = None
    await run_in_threadpool(store, sessions, schedule_id, schedule)
    return schedule


async def refresh_overtaken(client: Client, sessions: sessionmaker[Session]) -> None:
    """The rows whose next action has passed: the schedule has acted since, so their times moved on."""
    for schedule_id in await run_in_threadpool(overtaken, sessions, datetime.now(UTC)):
        await project(client, sessions, schedule_id)


async def _projected(client: Client, sessions: sessionmaker[Session], schedule_id: str) -> DrillScheduleView:
    schedule = await project(client, sessions, schedule_id)
    if schedule is None:
        raise ApiError(404, f"no drill schedule {schedule_id}")
    return schedule


Switch = Callable[[Client, sessionmaker[Session], str, bool, str], Awaitable[BaseModel]]


def pause_and_resume(router: APIRouter, path: str, key: tuple[str, object], who: object,
                     view: type[BaseModel], switch: Switch, names: tuple[str, str],
                     summaries: tuple[str, str], docs: tuple[str | None, str | None]) -> None:
    """`POST <path>/pause` and `<path>/resume` (named `names`) for a schedule found by `key` (the path
    parameter's name and type): `switch(client, sessions, id, paused, note)`, with the body's note, or
    by default who paused or resumed it."""
    def route(paused: bool, name: str, summary: str, doc: str | None) -> None:
        async def act(caller: Actor, client: Client, sessions: sessionmaker[Session],
                      body: DrillScheduleNote | None, **path_id: str) -> BaseModel:
            default = f"{'paused' if paused else 'resumed'} by {caller.id}"
            return await switch(client, sessions, path_id[key[0]], paused, body.note if body and body.note
                                else default)

        router.post(f"{path}/{'pause' if paused else 'resume'}", response_model=view, summary=summary)(
            endpoint(name, act, doc, view, **{key[0]: key[1]}, caller=who, client=ClientDep,
                     sessions=SessionsDep, body=(NoteBody, None)))

    for paused, name, summary, doc in zip((True, False), names, summaries, docs, strict=True):
        route(paused, name, summary, doc)


async def _switch(client: Client, sessions: sessionmaker[Session], schedule_id: str, paused: bool,
                  note: str) -> DrillScheduleView:
    """Pause or resume a schedule that exists, then write its row as Temporal now shows it."""
    await describe(client, schedule_id)
    await set_paused(client, schedule_id, paused, note)
    return await _projected(client, sessions, schedule_id)


pause_and_resume(
    router, "/{schedule_id}", ("schedule_id", ScheduleId), Supervisor, DrillScheduleView, _switch,
    ("pause", "resume"),
    ("Pause a recurring drill, with a note (supervisor)", "Resume a paused recurring drill (supervisor)"),
    ("No drill is started while paused (no next drill is shown); drills already started go on.",
     "Drills missed while paused are not made up; the next one after now is started as usual."),
)


@router.delete("/{schedule_id}", status_code=204, response_class=Response,
               summary="Stop a recurring drill (supervisor); drills already started go on")
async def delete(schedule_id: ScheduleId, caller: Supervisor, client: ClientDep,
                 sessions: SessionsDep) -> Response:
    await describe(client, schedule_id)
    with temporal_answers(schedule_id):
        await client.get_schedule_handle(schedule_id).delete(rpc_timeout=RPC_TIMEOUT)
    await run_in_threadpool(store, sessions, schedule_id, None)
    return Response(status_code=204)
