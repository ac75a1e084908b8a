"""Public hearings: schedule one, register objections, answer them, record the hearing and its decision,
record an objector's callback, read it.

Like requests, every change is a Temporal update the hearing's workflow validates (a refusal is 409
with its reason). A hearing is announced at least `STEWARD_HEARING_NOTICE_PERIOD` ahead: a closer
date is refused here (422) before anything starts. Residents see a hearing only if it affects their
building, and only their own objections and callback in it.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated, TypeVar

from fastapi import APIRouter, Body, Path, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.common import SearchAttributePair, TypedSearchAttributes

from api.abuse_limits import count_objection
from api.auth import ResidentOnly, ResidentOrStaff, StaffMember, Supervisor
from api.cases import (
    RPC_TIMEOUT,
    code_for,
    request_digest,
    start_once,
    state_of_kind,
    temporal_answers,
    update_case,
)
from api.context import ClientDep, SessionsDep, SettingsDep
from api.errors import ApiError, ErrorBody, workflow_responses
from api.examples import examples
from api.models import (
    DIRECTORY_ID,
    CallbackBody,
    RequestBody,
    action_body,
    idempotency_header,
    request_body,
    started_answer,
)
from api.objection_texts import with_texts
from steward.store.models import Building, Household, Resident
from workflows import search
from workflows.actions import Action, RecordCallback
from workflows.case_contracts import CaseState
from workflows.contracts import Actor, AwareDatetime, Kind, Role
from workflows.hearing_callback import callback_case_id
from workflows.hearing_contracts import (
    AnswerObjection,
    Decide,
    HearingInput,
    HearingPlan,
    HearingState,
    HearingStatus,
    MessageText,
    Objection,
    ObjectionReceipt,
    ObjectionRecord,
    RecordHearing,
)
from workflows.names import CaseUpdate, HearingUpdate

BUILDINGS = "building_ids"

router = APIRouter(prefix="/hearings", tags=["hearings"],
                   responses=workflow_responses(
                       "The hearing refused the action (the reason says why), or it is closed."))

PREFIX = "HR"
Act = TypeVar("Act", bound=Action)
HearingId = Annotated[str, Path(pattern=r"^HR-[A-Z0-9]{1,40}$", examples=["HR-4QZ7N2WK4M"])]


HearingCreated = started_answer("HearingCreated", "hearing_id", "/hearings/HR-4QZ7N2WK4M",
                                "The workflow id; residents quote it to object by SMS.",
                                "False when this Idempotency-Key had already scheduled it.")


class ObjectionBody(RequestBody):
    """An objection or question; the building and unit are the resident's own, from the directory."""

    text: MessageText
    occurred_at: AwareDatetime | None = None


HearingBody = request_body(HearingPlan, "HearingPlanBody")
HeldBody = action_body(RecordHearing)
DecisionBody = action_body(Decide)


class AnswerText(RequestBody):
    """A written answer to objection `number` (in the path)."""

    answer: MessageText
    occurred_at: AwareDatetime | None = None


# --- scheduling ----------------------------------------------------------------------------------


def _check_buildings(sessions: sessionmaker[Session], building_ids: list[str]) -> None:
    with sessions() as session:
        known = set(session.scalars(select(Building.id).where(Building.id.in_(building_ids))))
    unknown = [b for b in building_ids if b not in known]
    if unknown:
        raise ApiError(422, f"no building {', '.join(unknown)}")


@router.post(
    "", status_code=201, response_model=HearingCreated, summary="Schedule a hearing (supervisor)",
    responses={200: {"model": HearingCreated, "description": "This Idempotency-Key already scheduled it."}},
)
async def schedule(
    body: Annotated[HearingBody, Body(openapi_examples=examples("hearing"))], caller: Supervisor,
    client: ClientDep, sessions: SessionsDep, settings: SettingsDep,
    response: Response,
    idempotency_key: Annotated[str | None, idempotency_header(
        "Optional: the same key schedules the same hearing, never a second one.")] = None,
) -> HearingCreated:
    """Every household of the affected buildings is sent the notice with the cost breakdown at once
    (after quiet hours), and a reminder the day before."""
    now = datetime.now(UTC)
    earliest = now + settings.notice_period
    if body.hearing_at < earliest:
        raise ApiError(422, f"hearing_at is inside the notice period of {settings.hearing_notice_period}: "
                       f"the earliest date is {earliest.isoformat(timespec='minutes')}")
    await run_in_threadpool(_check_buildings, sessions, body.building_ids)
    hearing_id = code_for(PREFIX, caller, idempotency_key or uuid.uuid4().hex)
    hearing = HearingInput(**body.model_dump(), created_by=caller, created_at=now, policy=settings.policy)
    created = await _start(client, settings.task_queue, hearing_id, hearing, request_digest(body))
    if not created:
        response.status_code = 200
    return HearingCreated(hearing_id=hearing_id, created=created, url=f"/hearings/{hearing_id}")


async def _start(client: Client, task_queue: str, hearing_id: str, hearing: HearingInput,
                 digest: str) -> bool:
    return await start_once(
        client, "HearingWorkflow", hearing, hearing_id, task_queue, digest,
        TypedSearchAttributes([SearchAttributePair(search.KIND, Kind.hearing.value),
                               SearchAttributePair(search.STATUS, HearingStatus.scheduled.value)]),
        f"hearing · {len(hearing.building_ids)} building(s)", memo={BUILDINGS: hearing.building_ids},
        what="hearing",
    )


# --- reading -----------------------------------------------------------------------------------


def _home(sessions: sessionmaker[Session], resident_id: str) -> tuple[str, str] | None:
    """The resident's (building, unit), or None when the directory does not know them."""
    with sessions() as session:
        row = session.execute(
            select(Household.building_id, Household.unit)
            .join(Resident, Resident.household_id == Household.id).where(Resident.id == resident_id)
        ).first()
    return (row.building_id, row.unit) if row else None


async def _hearing(client: Client, hearing_id: str) -> tuple[HearingState, bool]:
    return await state_of_kind(client, hearing_id, Kind.hearing, HearingState)


async def _visible(client: Client, sessions: sessionmaker[Session], hearing_id: str,
                   caller: Actor) -> tuple[HearingState, bool]:
    state, running = await _hearing(client, hearing_id)
    if caller.role is Role.resident:
        home = await run_in_threadpool(_home, sessions, caller.id)
        if home is None or home[0] not in state.building_ids:
            raise ApiError(404, f"no hearing {hearing_id}")
        state = state.model_copy(update={
            "objections": [o for o in state.objections if o.resident_id == caller.id],
            "callbacks": [c for c in state.callbacks if c.resident_id == caller.id],
            "timeline": [],
        })
    objections = await run_in_threadpool(with_texts, sessions, hearing_id, state.objections)
    return state.model_copy(update={"objections": objections}), running


async def _open(client: Client, sessions: sessionmaker[Session], hearing_id: str, caller: Actor) -> None:
    """404 unless the caller may see the hearing, 409 once it is closed; from the workflow's description
    (its buildings are in the memo), not its state, which holds every objection."""
    with temporal_answers(hearing_id):
        description = await client.get_workflow_handle(hearing_id).describe(rpc_timeout=RPC_TIMEOUT)
    if description.typed_search_attributes.get(search.KIND) != Kind.hearing.value:
        raise ApiError(404, f"no hearing {hearing_id}")
    if caller.role is Role.resident:
        buildings = await description.memo_value(BUILDINGS, default=None)
        if buildings is None:  # scheduled before the memo named its buildings
            buildings = (await _hearing(client, hearing_id))[0].building_ids
        home = await run_in_threadpool(_home, sessions, caller.id)
        if home is None or home[0] not in buildings:
            raise ApiError(404, f"no hearing {hearing_id}")
    if description.status != WorkflowExecutionStatus.RUNNING:
        raise ApiError(409, f"hearing {hearing_id} is closed", "closed")


@router.get("/{hearing_id}", response_model=HearingState, summary="A hearing's live state")
async def get_hearing(hearing_id: HearingId, caller: ResidentOrStaff, client: ClientDep,
                      sessions: SessionsDep) -> HearingState:
    """Staff see everything; a resident of an affected building sees the hearing with only their own
    objections and callback."""
    state, _ = await _visible(client, sessions, hearing_id, caller)
    return state


# --- acting -------------------------------------------------------------------------------------


def _by(caller: Actor, action: type[Act], body: BaseModel) -> Act:
    """The workflow's action from the body, acted by the token's holder; rules across fields
    (revised costs only with a revised outcome) answer 422 like any other bad input."""
    try:
        return action.model_validate({**body.model_dump(), "actor": caller})
    except ValidationError as error:
        raise ApiError(422, "; ".join(item["msg"] for item in error.errors())) from None


@router.post("/{hearing_id}/objections", status_code=201, response_model=ObjectionReceipt,
             summary="Object or ask a question (a resident of an affected building)",
             responses={429: {"model": ErrorBody, "description": "This resident reached the policy's "
                              "`limits.objections` for this hearing; `Retry-After` says when to try again."}})
async def register_objection(hearing_id: HearingId, caller: ResidentOnly, client: ClientDep,
                             sessions: SessionsDep, settings: SettingsDep,
                             body: Annotated[ObjectionBody, Body(openapi_examples=examples("objection"))],
                             ) -> ObjectionReceipt:
    """Staff answer in writing within 24 hours, or it escalates up the ladder. Residents without the app
    send the same by SMS: the hearing code, then the text. Each resident may send at most the policy's
    `limits.objections` to one hearing (429 with `Retry-After` beyond it)."""
    await _open(client, sessions, hearing_id, caller)
    home = await run_in_threadpool(_home, sessions, caller.id)
    assert home is not None
    await run_in_threadpool(count_objection, sessions, settings.policy.limits, hearing_id, caller.id)
    objection = Objection(actor=caller, building_id=home[0], unit=home[1], text=body.text,
                          occurred_at=body.occurred_at)
    return await update_case(
        client, hearing_id, HearingUpdate.REGISTER_OBJECTION, objection, ObjectionReceipt
    )


@router.post("/{hearing_id}/objections/{number}/answer", response_model=ObjectionRecord,
             summary="Answer an objection in writing (staff); the resident is sent the answer")
async def answer_objection(hearing_id: HearingId, number: Annotated[int, Path(ge=1, le=100_000)],
                           caller: StaffMember, client: ClientDep, sessions: SessionsDep,
                           body: Annotated[AnswerText, Body(openapi_examples=examples("answer"))],
                           ) -> ObjectionRecord:
    await _open(client, sessions, hearing_id, caller)
    action = AnswerObjection(actor=caller, number=number, answer=body.answer, occurred_at=body.occurred_at)
    record = await update_case(client, hearing_id, HearingUpdate.ANSWER_OBJECTION, action, ObjectionRecord)
    return (await run_in_threadpool(with_texts, sessions, hearing_id, [record]))[0]


@router.post("/{hearing_id}/held", response_model=HearingState,
             summary="Record the hearing: minutes, attendance, vote tally (supervisor)")
async def record_hearing(hearing_id: HearingId, caller: Supervisor, client: ClientDep, sessions: SessionsDep,
                         body: Annotated[HeldBody, Body(openapi_examples=examples("held"))]) -> HearingState:
    await _open(client, sessions, hearing_id, caller)
    action = _by(caller, RecordHearing, body)
    return await update_case(client, hearing_id, HearingUpdate.RECORD_HEARING, action, HearingState)


@router.post("/{hearing_id}/decision", response_model=HearingState,
             summary="Decide: approved, rejected or revised, with the reason (supervisor)")
async def decide(hearing_id: HearingId, caller: Supervisor, client: ClientDep, sessions: SessionsDep,
                 body: Annotated[DecisionBody, Body(openapi_examples=examples("decision"))]) -> HearingState:
    """Every objection must have been answered. The decision goes to every affected household, then every
    objector is called back; the hearing closes when each objector's callback is recorded."""
    await _open(client, sessions, hearing_id, caller)
    action = _by(caller, Decide, body)
    return await update_case(client, hearing_id, HearingUpdate.DECIDE, action, HearingState)


@router.post("/{hearing_id}/callbacks/{resident_id}", response_model=CaseState,
             summary="Record an objector's callback made by phone or visit (staff)")
async def record_callback(hearing_id: HearingId, resident_id: Annotated[str, Path(pattern=DIRECTORY_ID)],
                          caller: StaffMember, client: ClientDep, sessions: SessionsDep,
                          body: Annotated[CallbackBody, Body(openapi_examples=examples("callback"))],
                          ) -> CaseState:
    state, _ = await _visible(client, sessions, hearing_id, caller)
    callback = next((c for c in state.callbacks if c.resident_id == resident_id), None)
    if callback is None:
        raise ApiError(409, f"hearing {hearing_id} has no callback to {resident_id} (yet)", "refused")
    if callback.result is not None:
        raise ApiError(409, f"the callback to {resident_id} was already recorded", "refused")
    action = _by(caller, RecordCallback, body)
    callback_case = callback_case_id(hearing_id, resident_id)
    return await update_case(client, callback_case, CaseUpdate.RECORD_CALLBACK, action)
