"""Open cases ordered by the time left to their next deadline: what a supervisor watches."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.concurrency import run_in_threadpool

from api import cursor
from api.auth import StaffMember
from api.confidential import kept_from
from api.context import SessionsDep, SettingsDep
from api.errors import ERROR_RESPONSES
from api.models import DIRECTORY_ID, AtRiskCase, AtRiskList
from api.picture import PictureDep
from steward.store.deadlines import Position, Total, aware, page_and_total
from steward.store.models import Case

router = APIRouter(tags=["requests"], responses=ERROR_RESPONSES)


def _item(case: Case, now: datetime) -> AtRiskCase:
    deadline = aware(case.next_deadline)
    return AtRiskCase(
        case_id=case.case_id, kind=case.kind, severity=case.severity, status=case.status,
        building_id=case.building_id, tier=case.tier, handler_id=case.handler_id, owner_id=case.owner_id,
        next_deadline=deadline, next_deadline_kind=case.next_deadline_kind,
        seconds_left=int((deadline - now).total_seconds()),
        breached=case.response_breached or case.resolution_breached,
    )


@router.get("/at-risk", response_model=AtRiskList, summary="Open cases by time left to their next deadline")
async def at_risk(
    caller: StaffMember, sessions: SessionsDep, settings: SettingsDep, picture: PictureDep,
    building: Annotated[str | None, Query(pattern=DIRECTORY_ID)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    page_token: Annotated[str | None, Query(max_length=400, description="`next_page_token` of the "
                                            "previous page, with the same filters.")] = None,
) -> AtRiskList:
    """Every open case whose deadline runs, least time left first (overdue ones first of all), from the
    read model the workflows project into: complete at any size, page by page. Cases with no running
    deadline (paused without a resume time, awaiting the resident) are not listed. `picture` says when
    the list cannot be believed (no worker, the read model behind)."""
    filters = {"building_id": building}
    scope = cursor.scope_of("at-risk", filters)
    filters |= kept_from(caller)
    after = cursor.decode(scope, page_token, Position)
    rows, following, total = await run_in_threadpool(page_and_total, sessions, filters, after, limit,
                                                     settings.count_up_to, racing_only=True)
    now = datetime.now(UTC)
    return AtRiskList(as_of=now, items=[_item(case, now) for case in rows], **Total.of_page(total),
                      next_page_token=cursor.encode(scope, following), picture=await picture.current())
