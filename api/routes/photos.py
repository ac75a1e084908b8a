"""Photos of a case: a handler attaches them to a note or a resolution, a resident to their own case
(`POST /requests/{id}/photos-added`), by id, from here; only people who hold the case can fetch them
(`api.case_access`). The bytes are cleaned (`steward.photo_cleaning`) and kept by the photo store,
outside the workflow."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from pydantic import BaseModel
from sqlalchemy.orm import Session, sessionmaker
from temporalio.client import Client

from api.auth import ResidentOrStaff
from api.case_access import holds_case
from api.cases import case_state, find_case
from api.context import ClientDep, SessionsDep, SettingsDep
from api.errors import ERROR_RESPONSES, ApiError, ErrorBody
from api.routes.requests import CaseId
from steward.file_store import photo_files
from steward.limits import Limit, take
from steward.photo_cleaning import NotAPhoto, clean_photo
from steward.store.models import Photo
from workflows.contracts import PHOTO_ID, Actor, Role

router = APIRouter(prefix="/requests", tags=["photos"], responses=ERROR_RESPONSES)

PHOTO_PATH = r"^/requests/[^/]+/photos$"
"""Where a request body is a photo rather than JSON (see `api.app`)."""
PhotoIdPath = Annotated[str, Path(pattern=PHOTO_ID)]
UPLOAD_BODY = {"requestBody": {"required": True, "content": {
    media_type: {"schema": {"type": "string", "format": "binary"}}
    for media_type in ("image/jpeg", "image/png", "image/webp", "image/gif")}}}
RESIDENT_UPLOADS = Limit(count=20, per=timedelta(hours=1))
"""A resident adds at most 4 photos to a case; retries and several cases fit well within this."""


class PhotoStored(BaseModel):
    photo_id: str
    case_id: str
    media_type: str
    width: int
    height: int
    size: int


async def _held(client: Client, sessions: sessionmaker[Session], case_id: str, caller: Actor) -> None:
    """404 for a case the caller does not hold, as for one that does not exist."""
    await find_case(client, case_id, caller)
    if not await run_in_threadpool(holds_case, sessions, await case_state(client, case_id), caller):
        raise ApiError(404, f"no case {case_id}")


@router.post("/{case_id}/photos", status_code=201, response_model=PhotoStored, openapi_extra=UPLOAD_BODY,
             responses={415: {"model": ErrorBody, "description": "The body is not an image."}},
             summary="Attach a photo (JPEG, PNG, WebP or GIF, up to 10 MB); location data is removed")
async def upload_photo(case_id: CaseId, request: Request, caller: ResidentOrStaff, client: ClientDep,
                       sessions: SessionsDep, settings: SettingsDep) -> PhotoStored:
    """The photo's id goes in a progress note's or a resolution's `photos`."""
    await _held(client, sessions, case_id, caller)
    data = await request.body()
    try:
        photo = await run_in_threadpool(clean_photo, data)
    except NotAPhoto as refused:
        raise ApiError(415, str(refused)) from None
    photo_id = "PH-" + secrets.token_urlsafe(16)

    def keep() -> None:
        if caller.role is Role.resident:
            with sessions.begin() as session:
                take(session, f"photo-upload:resident:{caller.id}", RESIDENT_UPLOADS, datetime.now(UTC),
                     "photos from one resident")
        photo_files(settings).put(photo_id, photo.data)
        with sessions.begin() as session:
            session.add(Photo(id=photo_id, case_id=case_id, uploaded_by=caller.id,
                              media_type=photo.media_type, size=len(photo.data), width=photo.width,
                              height=photo.height, created_at=datetime.now(UTC)))

    await run_in_threadpool(keep)
    return PhotoStored(photo_id=photo_id, case_id=case_id, media_type=photo.media_type, width=photo.width,
                       height=photo.height, size=len(photo.data))


@router.get("/{case_id}/photos/{photo_id}", response_class=Response,
            responses={200: {"content": {"image/jpeg": {}}, "description": "The photo, without metadata."}},
            summary="A photo of the case (people who hold the case only)")
async def get_photo(case_id: CaseId, photo_id: PhotoIdPath, caller: ResidentOrStaff, client: ClientDep,
                    sessions: SessionsDep, settings: SettingsDep) -> Response:
    await _held(client, sessions, case_id, caller)

    def read() -> tuple[Photo | None, bytes | None]:
        with sessions() as session:
            row = session.get(Photo, photo_id)
        if row is None or row.case_id != case_id:
            return None, None
        return row, photo_files(settings).get(photo_id)

    row, data = await run_in_threadpool(read)
    if row is None or data is None:
        raise ApiError(404, f"no photo {photo_id} in case {case_id}")
    return Response(data, media_type=row.media_type, headers={
        "Cache-Control": "private, max-age=86400", "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "default-src 'none'"})

