"""One-off drills: plan one (supervisor), start it, tick its checklist, complete it, file its report, read it.

Every change is a Temporal update the drill's workflow validates (a refusal is 409 with its reason),
except a checklist step, which is a signal: checked here against the drill's state first, then sent.
Residents are told of a drill at least `STEWARD_DRILL_NOTICE_PERIOD` ahead, so a closer date is refused
here (422) before anything starts. Recurring drills come from `/drill-schedules`.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Body, Path, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict, Field
from temporalio.client import Client

from api.auth import ResidentOnly, StaffMember, Supervisor
from api.cases import (
    code_for,
    request_digest,
    signal_case,
    start_once,
    update_case,
)
from api.context import ClientDep, SessionsDep, SettingsDep
from api.drill_workflows import (
    default_title,
    drill_search_attributes,
    drill_state,
    drill_summary,
    survey_asking,
)
from api.errors import ApiError, workflow_responses
from api.models import (
    DIRECTORY_ID,
    Category,
    DirectoryId,
    RequestBody,
    action_body,
    idempotency_header,
    request_body,
    started_answer,
)
from api.routes.directory import must_exist
from steward.store.models import Building
from workflows.contracts import Actor, AwareDatetime, ShortText
from workflows.drill_contracts import (
    DEFAULT_STEPS,
    AnswerSurvey,
    CompleteDrill,
    DrillInput,
    DrillState,
    DrillStatus,
    DrillType,
    FileReport,
    Finding,
    StartDrill,
    StepDone,
    Steps,
    SurveyAnswered,
)
from workflows.names import DrillSignal, DrillUpdate

router = APIRouter(prefix="/drills", tags=["drills"],
                   responses=workflow_responses(
                       "The drill refused the action (the reason says why), or it is closed."))

PREFIX = "DR"
FURTHEST_AHEAD = timedelta(days=366)
DrillId = Annotated[str, Path(pattern=r"^DR-[A-Za-z0-9_.:-]{1,90}$", examples=["DR-4QZ7N2WK4M"])]


class DrillPlan(RequestBody):
    """A one-off drill as a supervisor plans it; the checklist defaults to the drill type's."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"drill_type": "fire", "building_id": "B1", "scheduled_at": "2026-12-05T10:00:00+08:00"},
        {"drill_type": "flood", "building_id": "B2", "scheduled_at": "2026-12-12T15:00:00+08:00",
         "title": "Basement flood drill", "steps": ["Close the garage flood barrier", "Test the sump pumps"]},
    ]})

    drill_type: DrillType
    building_id: Annotated[str, Field(pattern=DIRECTORY_ID)]
    scheduled_at: AwareDatetime
    title: ShortText | None = None
    steps: Steps | None = None


DrillCreated = started_answer("DrillCreated", "drill_id", "/drills/DR-4QZ7N2WK4M", "The workflow id.",
                              "False when this Idempotency-Key had already planned it.")


class StepAccepted(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"drill_id": "DR-4QZ7N2WK4M", "number": 2}]})

    drill_id: str
    number: int


def _examples(**bodies: tuple[str, dict]) -> dict[str, dict]:
    return {name: {"summary": summary, "value": value} for name, (summary, value) in bodies.items()}


StartBody = action_body(StartDrill)
StepBody = action_body(StepDone)
FindingBody = request_body(
    Finding, "FindingBody", category=(Category, "general"),
    unit=(DirectoryId | None, Field(default=None, description="The unit, if the finding is in one.")),
)
CompleteBody = action_body(CompleteDrill, findings=(list[FindingBody], Field(default=[], max_length=50)))
ReportBody = action_body(FileReport)
SurveyBody = action_body(AnswerSurvey)
EXAMPLES = {
    "start": _examples(now=("Start now", {}), offline=("Started while offline, sent later",
                                                      {"occurred_at": "2026-12-05T10:02:00+08:00"})),
    "step": _examples(done=("Step 1 done", {"number": 1}), note=("Step 3 done, with a note", {
        "number": 3, "note": "Two residents on floor 9 needed help on the stairs."})),
    "complete": _examples(findings=("Completed with a finding", {"participation": 41, "findings": [{
        "title": "Fire exit on floor 3 blocked by bicycles", "category": "security", "severity": "urgent",
        "description": "The stairwell door on floor 3 could not be opened fully.", "unit": "301"}]}),
        clean=("Completed, nothing found", {"participation": 38})),
    "report": _examples(report=("The report", {
        "summary": "41 residents evacuated in 6 minutes; the floor 3 exit was blocked (a repair case)."})),
    "survey": _examples(heard=("I heard the alarm", {"heard": True}),
                        not_heard=("I did not", {"heard": False})),
}


# --- planning -------------------------------------------------------------------------------------


def check_building(sessions, building_id: str) -> None:
    with sessions() as session:
        must_exist(session, Building, building_id, "building")


@router.post(
    "", status_code=201, response_model=DrillCreated, summary="Plan a one-off drill (supervisor)",
    responses={200: {"model": DrillCreated, "description": "This Idempotency-Key already planned it."}},
)
async def plan(
    body: DrillPlan, caller: Supervisor, client: ClientDep, sessions: SessionsDep, settings: SettingsDep,
    response: Response,
    idempotency_key: Annotated[str | None, idempotency_header(
        "Optional: the same key plans the same drill, never a second one.")] = None,
) -> DrillCreated:
    """Every household of the building is told at once (after quiet hours, on each one's channel and in
    their language) and reminded the day before; staff must start it within 30 minutes of its time."""
    now = datetime.now(UTC)
    rules = settings.drill_rules
    earliest = now + rules.notice_period
    if body.scheduled_at < earliest:
        raise ApiError(422, f"scheduled_at is inside the notice period of {settings.drill_notice_period}: "
                       f"the earliest time is {earliest.isoformat(timespec='minutes')}")
    if body.scheduled_at > now + FURTHEST_AHEAD:
        raise ApiError(422, f"plan drills at most {FURTHEST_AHEAD.days} days ahead")
    await run_in_threadpool(check_building, sessions, body.building_id)
    drill_id = code_for(PREFIX, caller, idempotency_key or uuid.uuid4().hex)
    drill = DrillInput(
        drill_type=body.drill_type, building_id=body.building_id,
        title=body.title or default_title(body.drill_type), scheduled_at=body.scheduled_at,
        steps=body.steps or DEFAULT_STEPS[body.drill_type], created_by=caller, policy=settings.policy,
        rules=rules,
    )
    created = await start_once(
        client, "DrillWorkflow", drill, drill_id, settings.task_queue, request_digest(body),
        drill_search_attributes(body.building_id), drill_summary(body.drill_type, body.building_id),
    )
    if not created:
        response.status_code = 200
    return DrillCreated(drill_id=drill_id, created=created, url=f"/drills/{drill_id}")


# --- reading ----------------------------------------------------------------------------------------


async def open_drill(client: Client, drill_id: str) -> DrillState:
    state, running = await drill_state(client, drill_id)
    if not running:
        raise ApiError(409, f"drill {drill_id} is closed", "closed")
    return state


@router.get("/{drill_id}", response_model=DrillState, summary="A drill's live state (staff)")
async def get_drill(drill_id: DrillId, caller: StaffMember, client: ClientDep) -> DrillState:
    """The checklist, findings and the repair cases they became, the report, the announcement and
    reminder counts, the survey's answers so far and the timeline."""
    state, _ = await drill_state(client, drill_id)
    return state


# --- acting -------------------------------------------------------------------------------------------


async def _act(client: Client, drill_id: str, update: str, action: BaseModel) -> DrillState:
    await open_drill(client, drill_id)
    return await update_case(client, drill_id, update, action, DrillState)


def _by(caller: Actor, action: type[BaseModel], body: BaseModel | None) -> BaseModel:
    return action.model_validate({**(body.model_dump() if body else {}), "actor": caller})


@router.post("/{drill_id}/start", response_model=DrillState,
             summary="Start the drill (staff), from 30 minutes before its time; the starter owns it")
async def start(drill_id: DrillId, caller: StaffMember, client: ClientDep,
                body: Annotated[StartBody | None, Body(openapi_examples=EXAMPLES["start"])] = None,
                ) -> DrillState:
    return await _act(client, drill_id, DrillUpdate.START, _by(caller, StartDrill, body))


@router.post("/{drill_id}/step", status_code=202, response_model=StepAccepted,
             summary="Tick a checklist step as done (staff; a signal)")
async def step(drill_id: DrillId, caller: StaffMember, client: ClientDep,
               body: Annotated[StepBody, Body(openapi_examples=EXAMPLES["step"])]) -> StepAccepted:
    state = await open_drill(client, drill_id)
    done = _by(caller, StepDone, body)
    assert isinstance(done, StepDone)
    if state.status is not DrillStatus.started:
        raise ApiError(409, f"the drill is {state.status.value}, not running: start it first", "refused")
    if done.number > len(state.steps):
        raise ApiError(422, f"the checklist has {len(state.steps)} steps")
    if state.steps[done.number - 1].done_at is not None:
        raise ApiError(409, f"step {done.number} is already done", "refused")
    await signal_case(client, drill_id, DrillSignal.STEP_DONE, done)
    return StepAccepted(drill_id=drill_id, number=done.number)


@router.post("/{drill_id}/complete", response_model=DrillState,
             summary="Complete with participation and findings (staff); each finding opens a repair case")
async def complete(drill_id: DrillId, caller: StaffMember, client: ClientDep,
                   body: Annotated[CompleteBody, Body(openapi_examples=EXAMPLES["complete"])]) -> DrillState:
    """Every checklist step must be done. The report is then due within 24 hours, and every household
    is asked whether they heard the alarm."""
    return await _act(client, drill_id, DrillUpdate.COMPLETE, _by(caller, CompleteDrill, body))


@router.post("/{drill_id}/report", response_model=DrillState, summary="File the drill's report (staff)")
async def report(drill_id: DrillId, caller: StaffMember, client: ClientDep,
                 body: Annotated[ReportBody, Body(openapi_examples=EXAMPLES["report"])]) -> DrillState:
    return await _act(client, drill_id, DrillUpdate.FILE_REPORT, _by(caller, FileReport, body))


@router.post("/{drill_id}/survey", response_model=SurveyAnswered,
             summary="Answer the alarm survey in the page: did you hear the alarm? (a resident it asked)")
async def answer_survey(
    drill_id: DrillId, caller: ResidentOnly, client: ClientDep, sessions: SessionsDep,
    body: Annotated[SurveyBody, Body(openapi_examples=EXAMPLES["survey"])],
) -> SurveyAnswered:
    """The same rule as the SMS and keypad answers: the first answer to the attempt counts (409 after).
    Refused (409) before the drill's survey has asked you, and once it has closed."""
    await open_drill(client, drill_id)
    batch_id = await run_in_threadpool(survey_asking, sessions, drill_id, caller.id)
    if batch_id is None:
        raise ApiError(409, "the drill's survey has not asked you", "refused")
    answer = _by(caller, AnswerSurvey, body)
    return await update_case(client, batch_id, DrillUpdate.ANSWER_SURVEY, answer, SurveyAnswered)
