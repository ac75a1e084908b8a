"""The resident's reads behind the pages of `/app/` (role from the sign-in): my home, my cases, and one
case as a resident sees it — its published deadlines, what happens next, who is on it (first name and
role only) and the timeline meant for residents (no staff notes, no staff ids, no escalations).

Every change still goes through the published endpoints (`POST /requests`, `/withdraw`, `/resume`,
`/answer`, `/photos`, `/photos-added`); these reads belong to the page and are left out of the OpenAPI
document like the staff app's.
"""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from api.auth import ResidentOnly
from api.cases import case_state, find_case
from api.context import ClientDep, SessionsDep, SettingsDep
from api.errors import ERROR_RESPONSES, ApiError
from api.forms_of_address import form_of_address
from api.routes.hearings import _home as home_of
from api.routes.requests import CaseId
from steward.store.models import Case, Staff
from workflows.case_contracts import CaseState
from workflows.contracts import Actor, Role, Status, Tier

router = APIRouter(tags=["resident app"], responses=ERROR_RESPONSES)

MY_CASES = 50
SHOWN: dict[str, frozenset[str]] = {
    event: frozenset(keys) for event, keys in {
        "submitted": (), "dispatched": (), "acknowledged": (), "paused": ("reason", "resume_at"),
        "resumed": (), "severity_changed": ("reason",), "extended": ("reason", "to"),
        "plan_agreed": ("plan", "reason", "to"), "resolved": ("note", "photos"), "answer_sent": ("answer",),
        "photos_added": ("photos",), "callback_started": (), "callback_reply": ("satisfied", "comment"),
        "manual_callback": (), "callback_recorded": ("result",), "reopened": (), "withdrawn": ("reason",),
        "closed": ("result",), "resident_message": ("text",),
    }.items()
}
"""The events a resident is told about anyway (by SMS) or made themself, and the detail of each they may
read; staff notes, paging, handler ids and the dispatcher's reasoning stay inside."""


class Home(BaseModel):
    building_id: str
    unit: str
    service_phone: str = Field(description="The service centre's number to call in an emergency.")


@router.get("/app/api/home", response_model=Home, include_in_schema=False)
async def my_home(caller: ResidentOnly, sessions: SessionsDep, settings: SettingsDep) -> Home:
    """Where a report about my own home is for (the report page's default)."""
    home = await run_in_threadpool(home_of, sessions, caller.id)
    if home is None:
        raise ApiError(404, f"no household for {caller.id}")
    return Home(building_id=home[0], unit=home[1], service_phone=settings.service_phone)


class MyCase(BaseModel):
    case_id: str
    kind: str
    title: str | None = None
    category: str
    status: str
    severity: str
    submitted_at: datetime
    response_due: datetime | None
    resolution_due: datetime


def _my_cases(sessions: sessionmaker[Session], resident_id: str) -> list[MyCase]:
    with sessions() as session:
        rows = session.scalars(select(Case).where(Case.resident_id == resident_id)
                               .order_by(Case.submitted_at.desc()).limit(MY_CASES)).all()
        return [MyCase(case_id=r.case_id, kind=r.kind, category=r.category, status=r.status,
                       severity=r.severity, submitted_at=r.submitted_at, response_due=r.response_due,
                       resolution_due=r.resolution_due) for r in rows]


@router.get("/app/api/my-cases", response_model=list[MyCase], include_in_schema=False)
async def my_cases(caller: ResidentOnly, sessions: SessionsDep) -> list[MyCase]:
    """My cases from the read model, newest first (a case opens live on its own page)."""
    return await run_in_threadpool(_my_cases, sessions, caller.id)


class Helper(BaseModel):
    first_name: str = Field(description="How residents address them: 王师傅, or a first name.")
    role: str = Field(description="handler, team_lead, property_manager or general_manager.")


class ResidentEntry(BaseModel):
    at: datetime
    event: str
    by: str = Field(description="you, staff or system: never a staff member's id.")
    detail: dict[str, str | int | bool | list[str] | None]


class ResidentCase(BaseModel):
    case_id: str
    kind: str
    title: str
    category: str
    description: str | None
    status: str
    severity: str
    building_id: str
    unit: str | None
    submitted_at: datetime
    response_due: datetime | None
    resolution_due: datetime
    acknowledged_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None
    paused: bool
    pause_reason: str | None
    withdrawn: bool
    next_step: str = Field(description="What happens next, as a key the page words: respond, resolve, "
                           "paused, callback_soon, answer, staff_will_call, closed.")
    may_answer: bool = Field(description="The callback is asking and this attempt has no answer yet.")
    callback_result: str | None
    helpers: list[Helper]
    timeline: list[ResidentEntry]


def _helpers(sessions: sessionmaker[Session], state: CaseState) -> list[Helper]:
    ids = [i for i in dict.fromkeys((state.owner_id, state.handler_id)) if i]
    with sessions() as session:
        people = {s.id: s for s in session.scalars(select(Staff).where(Staff.id.in_(ids)))}
    return [Helper(first_name=form_of_address(people[i].name, Tier(people[i].tier)),
                   role=Tier(people[i].tier).name)
            for i in ids if i in people]


def _answered(state: CaseState) -> bool:
    return any(e.event == "callback_reply" and e.detail.get("attempt") == state.callback_attempt
               and e.detail.get("accepted") for e in state.timeline)


def _next_step(state: CaseState) -> str:
    if state.status is Status.closed:
        return "closed"
    if state.status is Status.manual_callback:
        return "staff_will_call"
    if state.status is Status.callback:
        return "answer" if state.callback_attempt > 0 else "callback_soon"
    if state.status is Status.resolved or state.withdrawn:
        return "callback_soon"
    if state.paused:
        return "paused"
    return "resolve" if state.acknowledged_at else "respond"


def for_resident(state: CaseState, caller: Actor, helpers: list[Helper]) -> ResidentCase:
    entries = [ResidentEntry(
        at=e.at, event=e.event,
        by="you" if e.actor and e.actor.id == caller.id and e.actor.role is Role.resident
        else "system" if e.actor is None or e.actor.role is Role.system else "staff",
        detail={k: v for k, v in e.detail.items() if k in SHOWN[e.event]},
    ) for e in state.timeline if e.event in SHOWN]
    pause = next((e for e in reversed(state.timeline) if e.event == "paused"), None)
    return ResidentCase(
        **state.model_dump(include={"case_id", "title", "category", "description", "building_id", "unit",
                                    "submitted_at", "response_due", "resolution_due", "acknowledged_at",
                                    "resolved_at", "closed_at", "paused", "withdrawn"}),
        kind=state.kind.value, status=state.status.value, severity=state.severity.value,
        pause_reason=str(pause.detail.get("reason")) if state.paused and pause else None,
        next_step=_next_step(state),
        may_answer=state.status is Status.callback and state.callback_attempt > 0 and not _answered(state),
        callback_result=state.callback.result.value if state.callback else None,
        helpers=helpers, timeline=entries,
    )


@router.get("/app/api/my-cases/{case_id}", response_model=ResidentCase, include_in_schema=False)
async def my_case(case_id: CaseId, caller: ResidentOnly, client: ClientDep,
                  sessions: SessionsDep) -> ResidentCase:
    """Another household's case is 404, as for one that does not exist."""
    await find_case(client, case_id, caller)
    state = await case_state(client, case_id)
    return for_resident(state, caller, await run_in_threadpool(_helpers, sessions, state))
