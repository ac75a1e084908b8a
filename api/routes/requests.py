"""Repairs and complaints: submit, read, list, act on, and read the history of a case.

Every change goes to the case's workflow as a Temporal update (validated by the workflow, which
answers accept or refuse at once) or, for progress notes, a signal. The person acting is always the
token's holder; request bodies never name an actor.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Body, Header, Path, Query, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel
from sqlalchemy.orm import Session, sessionmaker
from temporalio.client import Client

from api.auth import ResidentOrStaff, StaffMember, Supervisor
from api.case_access import check_photos
from api.cases import (
    RPC_TIMEOUT,
    case_state,
    equals,
    find_case,
    find_open_case,
    is_request_id,
    list_cases,
    signal_case,
    temporal_answers,
    update_case,
    visibility_query,
    workflow_exists,
)
from api.confidential import not_about, tier_of
from api.context import ClientDep, SessionsDep, SettingsDep
from api.errors import ERROR_RESPONSES, ApiError, ErrorBody
from api.examples import CASE_STATE_EXAMPLE, examples
from api.filing import file_case
from api.history import preferred_locale, timeline
from api.history_archive import archived_history
from api.models import (
    DIRECTORY_ID,
    Accepted,
    AcknowledgeBody,
    CallbackBody,
    CaseHistory,
    CaseListItem,
    ExtendBody,
    Page,
    PauseBody,
    PlanBody,
    ProgressBody,
    ReassignBody,
    ResolveBody,
    ResumeBody,
    SeverityBody,
    Submission,
    SubmitRequest,
    WithdrawBody,
    idempotency_header,
)
from api.routes.directory import must_exist
from api.twin_routes import endpoint
from steward.store.models import Staff
from workflows import actions, search
from workflows.case_contracts import CaseState
from workflows.contracts import Actor, Kind, Role, Severity, Status
from workflows.names import CaseSignal, CaseUpdate

router = APIRouter(prefix="/requests", tags=["requests"], responses=ERROR_RESPONSES)

CaseId = Annotated[str, Path(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,99}$",
                             examples=["RP-3MZQ7N2WK4"])]

CASE_RESPONSES: dict[int | str, dict] = {
    200: {"content": {"application/json": {"example": CASE_STATE_EXAMPLE}}},
    409: {"model": ErrorBody, "description": "The workflow refused the action (the reason says why), "
          "or the case is closed."},
    503: {"model": ErrorBody, "description": "The database, Temporal or the worker is unavailable."},
    504: {"model": ErrorBody, "description": "No answer in time."},
}


# --- submitting ------------------------------------------------------------------------------


@router.post(
    "", status_code=201, response_model=Submission, summary="Submit a repair or complaint",
    responses={
        200: {"model": Submission, "description": "This Idempotency-Key already submitted the same request."},
        403: {"model": ErrorBody, "description": "A resident filing for another home or building."},
        409: {"model": ErrorBody, "description": "This Idempotency-Key was used for a different request."},
        429: {"model": ErrorBody, "description": "A limit of the published policy (`GET /sla`, `limits`) "
              "was reached; `Retry-After` says when to try again. Nothing was started."},
        503: {"model": ErrorBody, "description": "The database or Temporal is unavailable."},
    },
)
async def submit(
    body: Annotated[SubmitRequest, Body(openapi_examples=examples("submit"))],
    idempotency_key: Annotated[str, idempotency_header(
        "Any string unique to this request on the caller's side (e.g. a UUID). Sending it again returns the "
        "same case and never starts a second one.")],
    caller: ResidentOrStaff, client: ClientDep, sessions: SessionsDep, settings: SettingsDep,
    response: Response,
) -> Submission:
    submission = await file_case(client, sessions, settings, body, caller, idempotency_key)
    if not submission.created:
        response.status_code = 200
    return submission


# --- reading -----------------------------------------------------------------------------------


@router.get("", response_model=Page[CaseListItem], summary="List cases (Temporal visibility)")
async def list_requests(
    caller: ResidentOrStaff, client: ClientDep,
    kind: Kind | None = None,
    status: Status | None = None,
    severity: Severity | None = None,
    building: Annotated[str | None, Query(pattern=DIRECTORY_ID)] = None,
    breached: bool | None = None,
    tier: Annotated[int | None, Query(ge=0, le=3)] = None,
    owner: Annotated[str | None, Query(pattern=DIRECTORY_ID, description="The first-contact owner.")] = None,
    page_size: Annotated[int, Query(ge=1, le=100)] = 20,
    page_token: Annotated[str | None, Query(max_length=4096)] = None,
) -> Page[CaseListItem]:
    """Staff and supervisors see every case; a resident sees only their own."""
    filters = {search.KIND: kind, search.STATUS: status, search.SEVERITY: severity, search.BUILDING: building,
               search.OWNER: owner, search.TIER: tier, search.BREACHED: breached,
               search.RESIDENT: caller.id if caller.role is Role.resident else None}
    conditions = [*not_about(caller),
                  *(equals(key, value) for key, value in filters.items() if value is not None)]
    items, token = await list_cases(client, visibility_query(*conditions), page_size, page_token)
    return Page[CaseListItem](items=items, next_page_token=token)


@router.get("/{case_id}", response_model=CaseState, summary="A case's live state (workflow query)",
            responses=CASE_RESPONSES)
async def get_request(case_id: CaseId, caller: ResidentOrStaff, client: ClientDep) -> CaseState:
    await find_case(client, case_id, caller)
    return await case_state(client, case_id)


@router.get("/{case_id}/history", response_model=CaseHistory, summary="The case's timeline for people")
async def get_history(
    case_id: CaseId, caller: Supervisor, client: ClientDep, sessions: SessionsDep, settings: SettingsDep,
    response: Response,
    accept_language: Annotated[str | None, Header(max_length=200, description="zh-CN or en.")] = None,
) -> CaseHistory:
    """Who did what and when (server and device time), each deadline that passed and what it caused,
    every message or call with its delivery status, pauses, reopenings and the callback outcome.
    Once Temporal no longer has the workflow (past its retention), the timeline comes from the read
    model instead, and `source` says so."""
    locale = preferred_locale(accept_language)
    temporal_url = f"{settings.temporal_ui}/namespaces/{client.namespace}/workflows/{case_id}"
    try:
        await find_case(client, case_id, caller)
    except ApiError as error:
        if error.status != 404 or await workflow_exists(client, case_id):
            raise
        archived = await run_in_threadpool(archived_history, sessions, case_id, locale,
                                           settings.policy.timezone, temporal_url)
        if archived is None:
            raise
        response.headers["Content-Language"] = locale.value
        return archived
    with temporal_answers(case_id):
        history = await client.get_workflow_handle(case_id).fetch_history(rpc_timeout=RPC_TIMEOUT)
    entries = await timeline(history, client.data_converter, sessions, locale, settings.policy.timezone)
    response.headers["Content-Language"] = locale.value
    return CaseHistory(case_id=case_id, locale=locale.value, entries=entries, temporal_url=temporal_url)


# --- acting --------------------------------------------------------------------------------------


async def _by(sessions: sessionmaker[Session], caller: Actor, action: type[actions.Action],
              body: BaseModel | None) -> actions.Action:
    """The workflow's action contract: the body's fields, acted by the token's holder at their tier."""
    fields = body.model_dump() if body is not None else {}
    tier = await run_in_threadpool(tier_of, sessions, caller)
    return action.model_validate({**fields, "actor": caller, "actor_tier": tier})


async def _act(client: Client, sessions: sessionmaker[Session], case_id: str, caller: Actor, update: str,
               action: type[actions.Action], body: BaseModel | None) -> CaseState:
    """Staff acting on a repair id the API made go straight to the update (its prefix says the kind, and
    a closed or unknown case answers from the update itself); a resident's case, and a complaint (which
    may be about the caller, who must not learn it exists), are looked at first."""
    if caller.role is Role.resident or not is_request_id(case_id) or case_id.startswith("CP-"):
        await find_open_case(client, case_id, caller)
    return await update_case(client, case_id, update, await _by(sessions, caller, action, body))


def _required(model: type[BaseModel], name: str) -> object:
    return Annotated[model, Body(openapi_examples=examples(name))]


def _optional(model: type[BaseModel], name: str) -> object:
    """A body that may be left out entirely (`curl -X POST` with nothing to say)."""
    return Annotated[model | None, Body(openapi_examples=examples(name))]


AcknowledgeInput = _optional(AcknowledgeBody, "acknowledge")
ProgressInput = _required(ProgressBody, "progress")
PauseInput = _required(PauseBody, "pause")
ResumeInput = _optional(ResumeBody, "resume")
ReassignInput = _required(ReassignBody, "reassign")
SeverityInput = _required(SeverityBody, "severity")
ExtendInput = _required(ExtendBody, "extend")
PlanInput = _required(PlanBody, "plan")
ResolveInput = _required(ResolveBody, "resolve")
WithdrawInput = _optional(WithdrawBody, "withdraw")
CallbackInput = _required(CallbackBody, "callback")


def _action(path: str, name: str, who: object, update: str, action: type[actions.Action], body: object,
            summary: str, optional: bool = False,
            check: Callable[[sessionmaker[Session], str, Actor, Any], None] | None = None) -> None:
    """`POST /{case_id}/<path>`: the body as `action`, sent as the case's `update` by the token's holder
    (whom `who` admits), after `check` when there is one."""
    async def act(case_id: str, caller: Actor, client: Client, sessions: sessionmaker[Session],
                  body: BaseModel | None = None) -> CaseState:
        if check is not None:
            await run_in_threadpool(check, sessions, case_id, caller, body)
        return await _act(client, sessions, case_id, caller, update, action, body)

    route = endpoint(name, act, None, CaseState, case_id=CaseId, caller=who, client=ClientDep,
                     sessions=SessionsDep, body=(body, None) if optional else body)
    router.post(f"/{{case_id}}/{path}", response_model=CaseState, responses=CASE_RESPONSES,
                summary=summary)(route)


def _check_handler(sessions: sessionmaker[Session], case_id: str, caller: Actor, body: BaseModel) -> None:
    with sessions() as session:
        must_exist(session, Staff, body.handler_id, "staff member")


def _check_photos(sessions: sessionmaker[Session], case_id: str, caller: Actor, body: BaseModel) -> None:
    check_photos(sessions, case_id, caller, body.photos)


_action("acknowledge", "acknowledge", StaffMember, CaseUpdate.ACKNOWLEDGE, actions.Acknowledge,
        AcknowledgeInput, "Take the case (staff); its first taker becomes the owner", optional=True)


@router.post("/{case_id}/progress", status_code=202, response_model=Accepted,
             responses={409: CASE_RESPONSES[409]}, summary="Add a progress note (a signal)")
async def progress(case_id: CaseId, caller: StaffMember, client: ClientDep, sessions: SessionsDep,
                   body: ProgressInput) -> Accepted:
    """A note sent again with the same `action_id` is kept once."""
    await find_open_case(client, case_id, caller)
    await run_in_threadpool(check_photos, sessions, case_id, caller, body.photos)
    await signal_case(client, case_id, CaseSignal.PROGRESS,
                      await _by(sessions, caller, actions.ProgressNote, body))
    return Accepted(case_id=case_id)


_action("pause", "pause", StaffMember, CaseUpdate.PAUSE, actions.Pause, PauseInput,
        "Pause the resolution clock with a reason (staff)")
_action("resume", "resume", ResidentOrStaff, CaseUpdate.RESUME, actions.Resume, ResumeInput,
        "Resume the resolution clock (staff, or the resident of the case)", optional=True)
_action("reassign", "reassign", StaffMember, CaseUpdate.REASSIGN, actions.Reassign, ReassignInput,
        "Hand the work to another staff member (the owner stays)", check=_check_handler)
_action("severity", "change_severity", StaffMember, CaseUpdate.CHANGE_SEVERITY, actions.ChangeSeverity,
        SeverityInput, "Raise (staff) or lower (supervisor, with a reason) the severity")
_action("extend", "extend", Supervisor, CaseUpdate.EXTEND, actions.Extend, ExtendInput,
        "Move the resolution deadline, with a reason (supervisor)")


@router.post("/{case_id}/plan", response_model=CaseState, responses=CASE_RESPONSES,
             summary="Agree a longer resolution plan with the resident of a complaint (supervisor)")
async def agree_plan(case_id: CaseId, caller: Supervisor, client: ClientDep, sessions: SessionsDep,
                     body: PlanInput) -> CaseState:
    """An extension agreed with the resident: the new deadline, its reason and the plan itself are
    recorded in the case and sent to the resident. Only complaints have one (repairs use `/extend`)."""
    description = await find_open_case(client, case_id, caller)
    if description.typed_search_attributes.get(search.KIND) != Kind.complaint.value:
        raise ApiError(409, "only a complaint has an agreed plan; use /extend for a repair", "refused")
    action = await _by(sessions, caller, actions.AgreePlan, body)
    return await update_case(client, case_id, CaseUpdate.AGREE_PLAN, action)


_action("resolve", "resolve", StaffMember, CaseUpdate.RESOLVE, actions.Resolve, ResolveInput,
        "Resolve with a note (counts as acknowledging); the callback follows", check=_check_photos)
_action("withdraw", "withdraw", ResidentOrStaff, CaseUpdate.WITHDRAW, actions.Withdraw, WithdrawInput,
        "Withdraw (the resident, or staff for them); a confirmation callback follows", optional=True)
_action("callback", "record_callback", StaffMember, CaseUpdate.RECORD_CALLBACK, actions.RecordCallback,
        CallbackInput, "Record a manual callback made by phone or visit (staff)")
