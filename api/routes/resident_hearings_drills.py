"""Hearings and drills that concern a resident, for the resident pages of `/app/`: the ones they were
told about (a notice addressed to them), read live from their workflows.

A hearing shows its notice with the cost breakdown, only this resident's objections with their written
answers, and the decision; a drill its time, its state, whether its survey is open and whether this
resident answered it. Objections go through the published `POST /hearings/{id}/objections`; the survey is
answered in the page (`POST /drills/{id}/survey`), by SMS or by keypad.
"""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from temporalio.client import Client

from api.auth import ResidentOnly
from api.context import ClientDep, SessionsDep
from api.drill_workflows import default_title, drill_state, survey_answered, survey_asking
from api.errors import ERROR_RESPONSES, ApiError
from api.models import HearingFacts
from api.routes.hearings import _visible as visible_hearing
from steward.store.models import Notification
from workflows.contracts import Actor
from workflows.hearing_contracts import DecisionRecord, HearingStatus

router = APIRouter(tags=["resident app"], responses=ERROR_RESPONSES)

SHOWN = 20


class MyObjection(BaseModel):
    number: int
    text: str
    received_at: datetime
    answer_due: datetime
    answer: str | None


class ResidentHearing(HearingFacts):
    hearing_id: str
    may_object: bool = Field(description="Objections and questions are open (before the hearing is held).")
    objections: list[MyObjection] = Field(description="Mine only, with the written answers.")
    decision: DecisionRecord | None


class ResidentDrill(BaseModel):
    drill_id: str
    title: str | None = Field(description="The supervisor's own title; none when they gave none (the page "
                                          "names the drill by its type, in the resident's language).")
    drill_type: str
    scheduled_at: datetime
    status: str
    survey_open: bool = Field(description="We are asking households whether they heard the alarm.")
    survey_answered: bool = Field(description="You have answered the survey: the first answer counts.")


class HearingsAndDrills(BaseModel):
    hearings: list[ResidentHearing]
    drills: list[ResidentDrill]


def _told_about(sessions: sessionmaker[Session], resident_id: str, prefix: str) -> list[str]:
    """Newest first; a notice of a hearing's or drill's child (`DR-…/survey-1`) counts for its parent."""
    with sessions() as session:
        told = session.scalars(
            select(Notification.case_id).where(Notification.recipient_id == resident_id,
                                               Notification.case_id.like(f"{prefix}-%"))
            .group_by(Notification.case_id).order_by(func.max(Notification.created_at).desc())
            .limit(SHOWN * 4))
    return list(dict.fromkeys(case_id.split("/", 1)[0] for case_id in told))[:SHOWN]


async def _hearing(client: Client, sessions: sessionmaker[Session], hearing_id: str,
                   caller: Actor) -> ResidentHearing | None:
    try:
        state, _ = await visible_hearing(client, sessions, hearing_id, caller)
    except ApiError:
        return None
    return ResidentHearing(
        **state.model_dump(include={"hearing_id", "title", "reason", "costs", "total", "hearing_at", "place",
                                    "decision"}),
        status=state.status.value,
        may_object=state.status in (HearingStatus.scheduled, HearingStatus.noticed),
        objections=[MyObjection(**o.model_dump(include=set(MyObjection.model_fields)))
                    for o in state.objections],
    )


async def _drill(client: Client, sessions: sessionmaker[Session], drill_id: str,
                 caller: Actor) -> ResidentDrill | None:
    try:
        state, _ = await drill_state(client, drill_id)
    except ApiError:
        return None
    closes = state.survey_closes_at
    survey_open = closes is not None and closes > datetime.now(UTC)
    batch_id = await run_in_threadpool(survey_asking, sessions, drill_id, caller.id) if survey_open else None
    answered = batch_id is not None and await survey_answered(client, batch_id, caller.id)
    titled = state.title != default_title(state.drill_type)
    return ResidentDrill(drill_id=state.drill_id, title=state.title if titled else None,
                         drill_type=state.drill_type.value,
                         scheduled_at=state.scheduled_at, status=state.status.value, survey_open=survey_open,
                         survey_answered=answered)


@router.get("/app/api/hearings-and-drills", response_model=HearingsAndDrills, include_in_schema=False)
async def hearings_and_drills(caller: ResidentOnly, client: ClientDep,
                              sessions: SessionsDep) -> HearingsAndDrills:
    """Newest notice first; one that cannot be read now is left out of this read."""
    hearing_ids = await run_in_threadpool(_told_about, sessions, caller.id, "HR")
    drill_ids = await run_in_threadpool(_told_about, sessions, caller.id, "DR")
    hearings = [await _hearing(client, sessions, i, caller) for i in hearing_ids]
    drills = [await _drill(client, sessions, i, caller) for i in drill_ids]
    return HearingsAndDrills(hearings=[h for h in hearings if h], drills=[d for d in drills if d])
