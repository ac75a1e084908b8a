"""A drill as the API reaches it in Temporal: what it starts with, its live state and its survey.

Recurring drills are Temporal Schedules (`api/drill_schedules.py`); each drill, scheduled or planned
once, is a `DrillWorkflow` of its own.
"""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker
from temporalio.client import Client
from temporalio.common import SearchAttributePair, TypedSearchAttributes

from api.cases import RPC_TIMEOUT, state_of_kind, temporal_answers
from api.errors import ApiError
from steward.store.hearings_and_drills import survey_batch_asking
from workflows import search
from workflows.contracts import Kind
from workflows.drill_contracts import DrillState, DrillStatus, DrillType


def drill_search_attributes(building_id: str) -> TypedSearchAttributes:
    return TypedSearchAttributes([
        SearchAttributePair(search.KIND, Kind.drill.value),
        SearchAttributePair(search.BUILDING, building_id),
        SearchAttributePair(search.STATUS, DrillStatus.planned.value),
    ])


def drill_summary(drill_type: DrillType, building_id: str) -> str:
    """What the Temporal UI shows for the drill."""
    return f"drill · {drill_type.value} · building {building_id}"


def survey_asking(sessions: sessionmaker[Session], drill_id: str, resident_id: str) -> str | None:
    """The survey batch (a child workflow of the drill) that asked this resident, from its notices."""
    with sessions() as session:
        return survey_batch_asking(session, drill_id, resident_id)


async def survey_answered(client: Client, batch_id: str, resident_id: str) -> bool:
    """Whether the resident answered the survey that asked them; a batch that cannot say is unanswered
    (the page then offers the buttons, and the update's validator refuses a second answer)."""
    try:
        with temporal_answers(batch_id):
            return await client.get_workflow_handle(batch_id).query(
                "answered", resident_id, result_type=bool, rpc_timeout=RPC_TIMEOUT)
    except ApiError:
        return False


def default_title(drill_type: DrillType) -> str:
    return f"{drill_type.value.capitalize()} drill"


async def drill_state(client: Client, drill_id: str) -> tuple[DrillState, bool]:
    return await state_of_kind(client, drill_id, Kind.drill, DrillState)
