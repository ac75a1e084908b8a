"""Recurring drills (supervisor only): one Temporal Schedule per building and drill type.

`POST /drill-schedules` sets a building's recurring drill of one type (creating or replacing its
schedule); the others list, read, pause, resume and delete them. None of them touches a drill a
schedule has already started: each is a workflow of its own.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Path, Response
from fastapi.concurrency import run_in_threadpool

from api.auth import Supervisor
from api.cases import RPC_TIMEOUT, temporal_answers
from api.context import ClientDep, SessionsDep, SettingsDep
from api.drills import (
    PREFIX,
    DrillScheduleNote,
    DrillScheduleRequest,
    DrillScheduleView,
    describe,
    list_views,
    set_schedule,
    view,
)
from api.errors import ERROR_RESPONSES, ErrorBody
from api.routes.drills import check_building

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
    if not created:
        response.status_code = 200
    return schedule


@router.get("", response_model=list[DrillScheduleView], summary="Every recurring drill (supervisor)")
async def list_drill_schedules(caller: Supervisor, client: ClientDep) -> list[DrillScheduleView]:
    return await list_views(client)


@router.get("/{schedule_id}", response_model=DrillScheduleView, summary="A recurring drill (supervisor)")
async def get_drill_schedule(schedule_id: ScheduleId, caller: Supervisor,
                             client: ClientDep) -> DrillScheduleView:
    return await view(client, schedule_id)


@router.post("/{schedule_id}/pause", response_model=DrillScheduleView,
             summary="Pause a recurring drill, with a note (supervisor)")
async def pause(schedule_id: ScheduleId, caller: Supervisor, client: ClientDep,
                body: NoteBody = None) -> DrillScheduleView:
    """No drill is started while paused (no next drill is shown); drills already started go on."""
    await describe(client, schedule_id)
    with temporal_answers(schedule_id):
        await client.get_schedule_handle(schedule_id).pause(
            note=(body.note if body and body.note else f"paused by {caller.id}"), rpc_timeout=RPC_TIMEOUT
        )
    return await view(client, schedule_id)


@router.post("/{schedule_id}/resume", response_model=DrillScheduleView,
             summary="Resume a paused recurring drill (supervisor)")
async def resume(schedule_id: ScheduleId, caller: Supervisor, client: ClientDep,
                 body: NoteBody = None) -> DrillScheduleView:
    """Drills missed while paused are not made up; the next one after now is started as usual."""
    await describe(client, schedule_id)
    with temporal_answers(schedule_id):
        await client.get_schedule_handle(schedule_id).unpause(
            note=(body.note if body and body.note else f"resumed by {caller.id}"), rpc_timeout=RPC_TIMEOUT
        )
    return await view(client, schedule_id)


@router.delete("/{schedule_id}", status_code=204, response_class=Response,
               summary="Stop a recurring drill (supervisor); drills already started go on")
async def delete(schedule_id: ScheduleId, caller: Supervisor, client: ClientDep) -> Response:
    await describe(client, schedule_id)
    with temporal_answers(schedule_id):
        await client.get_schedule_handle(schedule_id).delete(rpc_timeout=RPC_TIMEOUT)
    return Response(status_code=204)
