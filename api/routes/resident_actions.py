"""What a resident does to their own case from the app, beside withdraw and resume: answer the running
callback (the same rule as an SMS or keypad answer: the first answer to an attempt counts) and add the
photos they took. Each is a Temporal update whose validator decides who may."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body
from fastapi.concurrency import run_in_threadpool

from api.auth import ResidentOrStaff
from api.case_access import check_photos
from api.cases import find_case, update_case
from api.context import ClientDep, SessionsDep
from api.errors import ERROR_RESPONSES
from api.examples import examples
from api.models import AddPhotosBody, AnswerBody
from api.routes.requests import CASE_RESPONSES, CaseId
from workflows.actions import AddPhotos, AnswerCallback
from workflows.case_contracts import CaseState
from workflows.names import CaseUpdate

router = APIRouter(prefix="/requests", tags=["requests"], responses=ERROR_RESPONSES)



@router.post("/{case_id}/answer", response_model=CaseState, responses=CASE_RESPONSES,
             summary="Answer the case's callback: satisfied or not, with an optional comment (its resident)")
async def answer_callback(
    case_id: CaseId, caller: ResidentOrStaff, client: ClientDep,
    body: Annotated[AnswerBody, Body(openapi_examples=examples("callback_answer"))],
) -> CaseState:
    """Not satisfied reopens the case one tier up; satisfied closes it. Refused (409) when the case is
    not asking, or this attempt was already answered (by SMS, keypad or here)."""
    await find_case(client, case_id, caller)
    return await update_case(client, case_id, CaseUpdate.ANSWER_CALLBACK,
                             AnswerCallback(**body.model_dump(), actor=caller))


@router.post("/{case_id}/photos-added", response_model=CaseState, responses=CASE_RESPONSES,
             summary="Add photos you uploaded to your own case (its resident; 4 at most)")
async def add_photos(
    case_id: CaseId, caller: ResidentOrStaff, client: ClientDep, sessions: SessionsDep,
    body: Annotated[AddPhotosBody, Body(openapi_examples=examples("photos_added"))],
) -> CaseState:
    await find_case(client, case_id, caller)
    await run_in_threadpool(check_photos, sessions, case_id, caller, body.photos)
    action = AddPhotos(**body.model_dump(), actor=caller)
    return await update_case(client, case_id, CaseUpdate.ADD_PHOTOS, action)
