"""Messages left on the service centre's phone (issue 22): a resident's opened a case and is kept with
it, fetched by the people who hold the case, as its photos are (`api.case_access`); a stranger's
opened nothing and is listed for staff in `GET /inbound-messages`, fetched here by staff."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict
from sqlalchemy.orm import Session, sessionmaker
from temporalio.client import Client

from api.auth import ResidentOrStaff, StaffMember
from api.case_access import holds_case
from api.cases import case_state, find_case
from api.context import ClientDep, SessionsDep, SettingsDep
from api.errors import ERROR_RESPONSES, ApiError
from api.routes.requests import CaseId
from steward.file_store import recording_files
from steward.settings import Settings
from steward.store.models import CallRecording
from steward.store.recordings import RECORDING_SID, recordings_of
from workflows.contracts import Actor

router = APIRouter(tags=["recordings"], responses=ERROR_RESPONSES)

RecordingSid = Annotated[str, Path(pattern=RECORDING_SID)]
AUDIO = {200: {"content": {"audio/wav": {}}, "description": "The message as Twilio recorded it."}}


class RecordingEntry(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    sid: str
    case_id: str | None
    from_number: str
    duration: int
    size: int
    created_at: datetime


def _audio(settings: Settings, row: CallRecording | None, where: str) -> Response:
    data = recording_files(settings).get(row.sid) if row is not None and row.size else None
    if row is None or data is None:
        raise ApiError(404, f"no recording in {where}")
    return Response(data, media_type=row.media_type, headers={
        "Cache-Control": "private, max-age=86400", "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "default-src 'none'"})


async def _held(client: Client, sessions: sessionmaker[Session], case_id: str, caller: Actor) -> None:
    """404 for a case the caller does not hold, as for one that does not exist."""
    await find_case(client, case_id, caller)
    if not await run_in_threadpool(holds_case, sessions, await case_state(client, case_id), caller):
        raise ApiError(404, f"no case {case_id}")


@router.get("/requests/{case_id}/recordings", response_model=list[RecordingEntry],
            summary="The phone messages kept with the case (people who hold the case only)")
async def case_recordings(case_id: CaseId, caller: ResidentOrStaff, client: ClientDep,
                          sessions: SessionsDep) -> list[RecordingEntry]:
    await _held(client, sessions, case_id, caller)

    def read() -> list[RecordingEntry]:
        with sessions() as session:
            return [RecordingEntry.model_validate(row) for row in recordings_of(session, case_id)]

    return await run_in_threadpool(read)


@router.get("/requests/{case_id}/recordings/{sid}", response_class=Response, responses=AUDIO,
            summary="A phone message kept with the case (people who hold the case only)")
async def case_recording(case_id: CaseId, sid: RecordingSid, caller: ResidentOrStaff, client: ClientDep,
                         sessions: SessionsDep, settings: SettingsDep) -> Response:
    await _held(client, sessions, case_id, caller)

    def read() -> Response:
        with sessions() as session:
            row = session.get(CallRecording, sid)
        held = row if row is not None and row.case_id == case_id else None
        return _audio(settings, held, f"case {case_id}")

    return await run_in_threadpool(read)


@router.get("/call-recordings/{sid}", response_class=Response, responses=AUDIO,
            summary="A phone message that opened no case, listed for staff in /inbound-messages")
async def staff_recording(sid: RecordingSid, caller: StaffMember, sessions: SessionsDep,
                          settings: SettingsDep) -> Response:
    def read() -> Response:
        with sessions() as session:
            row = session.get(CallRecording, sid)
        return _audio(settings, row if row is not None and row.case_id is None else None, "the staff list")

    return await run_in_threadpool(read)
