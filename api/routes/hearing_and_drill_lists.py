"""`GET /hearings` and `GET /drills`: every hearing and drill from the read model, what is due first.

Each list is ordered like the board: those with a running deadline (an objection's answer, a drill's
start or report, a page up the ladder) by it, then the others by their date; pages are keyset pages
whose token is tied to the filters. The live state of one stays `GET /hearings/{id}`, `/drills/{id}`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from api import cursor
from api.auth import StaffMember
from api.context import SessionsDep, SettingsDep
from api.errors import ERROR_RESPONSES
from api.models import DIRECTORY_ID, CountedPage
from steward.store.deadlines import DRILLS, HEARINGS, Ordering, Position, Total, aware, page_and_total
from steward.store.hearings_and_drills import drill_filters, hearing_filters
from workflows.drill_contracts import DrillStatus, DrillType
from workflows.hearing_contracts import HearingStatus

router = APIRouter(tags=["read model"], responses=ERROR_RESPONSES)

Limit = Annotated[int, Query(ge=1, le=200)]
PageToken = Annotated[str | None, Query(max_length=400, description="`next_page_token` of the previous "
                                        "page, with the same filters.")]


class HearingItem(BaseModel):
    hearing_id: str
    status: str
    title: str
    building_ids: list[str]
    hearing_at: datetime
    objections: int
    objections_open: int = Field(description="Objections still waiting for their written answer.")
    next_answer_due: datetime | None = Field(description="The earliest unanswered objection's deadline.")
    outcome: str | None
    decided_at: datetime | None
    callbacks_pending: int = Field(description="Objectors not yet called back about the decision.")
    next_deadline: datetime | None
    next_deadline_kind: str | None


class DrillItem(BaseModel):
    drill_id: str
    code: str
    drill_type: str
    building_id: str
    title: str
    status: str
    schedule_id: str | None
    scheduled_at: datetime
    start_due: datetime
    started_at: datetime | None
    completed_at: datetime | None
    participation: int | None
    steps_done: int
    steps_total: int
    findings: int
    report_due: datetime | None
    reported_at: datetime | None
    start_missed: bool
    report_missed: bool
    survey_asked: int
    survey_heard: int
    survey_not_heard: int
    next_deadline: datetime | None
    next_deadline_kind: str | None


class HearingPage(CountedPage[HearingItem]):
    """Hearings from the read model."""


class DrillPage(CountedPage[DrillItem]):
    """Drills from the read model."""


def _fields(row: Any, model: type[BaseModel]) -> dict[str, Any]:
    return {name: aware(value) if isinstance(value := getattr(row, name), datetime) else value
            for name in model.model_fields}


async def read_page(sessions, up_to: int, order: Ordering, name: str, filters: dict[str, Any],
                    scope_filters: dict[str, Any], limit: int, page_token: str | None,
                    ) -> tuple[list[Any], str | None, Total | None]:
    """A keyset page of a read-model table, what is due first, with the first page's total."""
    scope = cursor.scope_of(name, scope_filters | {"limit": limit})
    after = cursor.decode(scope, page_token, Position)
    rows, following, total = await run_in_threadpool(page_and_total, sessions, filters, after, limit, up_to,
                                                     order=order)
    return rows, cursor.encode(scope, following), total


@router.get("/hearings", response_model=HearingPage, summary="Hearings, what is due first (read model)")
async def list_hearings(
    caller: StaffMember, sessions: SessionsDep, settings: SettingsDep,
    status: HearingStatus | None = None,
    awaiting_answers: Annotated[bool | None, Query(description="Only hearings with objections not yet "
                                                   "answered (true) or none (false).")] = None,
    limit: Limit = 50, page_token: PageToken = None,
) -> HearingPage:
    filters = hearing_filters(status.value if status else None, awaiting_answers)
    rows, token, total = await read_page(sessions, settings.count_up_to, HEARINGS, "hearings", filters,
                                         {"status": status, "awaiting": awaiting_answers}, limit, page_token)
    return HearingPage(items=[HearingItem(**_fields(row, HearingItem)) for row in rows],
                       **Total.of_page(total), next_page_token=token)


@router.get("/drills", response_model=DrillPage, summary="Drills, what is due first (read model)")
async def list_drills(
    caller: StaffMember, sessions: SessionsDep, settings: SettingsDep,
    status: DrillStatus | None = None,
    drill_type: DrillType | None = None,
    building: Annotated[str | None, Query(pattern=DIRECTORY_ID)] = None,
    not_started: Annotated[bool, Query(description="Only drills nobody has started yet.")] = False,
    report_overdue: Annotated[bool, Query(description="Only completed drills whose report is late.")] = False,
    limit: Limit = 50, page_token: PageToken = None,
) -> DrillPage:
    filters = drill_filters(status.value if status else None, drill_type.value if drill_type else None,
                            building, not_started, report_overdue)
    scope = {"status": status, "type": drill_type, "building": building, "not_started": not_started,
             "report_overdue": report_overdue}
    rows, token, total = await read_page(sessions, settings.count_up_to, DRILLS, "drills", filters, scope,
                                         limit, page_token)
    return DrillPage(items=[DrillItem(**_fields(row, DrillItem)) for row in rows], **Total.of_page(total),
                     next_page_token=token)
