"""Open cases ordered by the time left to their next deadline: what a supervisor watches."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query

from api.auth import StaffMember
from api.cases import equals, live_states, open_case_ids, visibility_query
from api.confidential import not_about
from api.context import ClientDep
from api.errors import ERROR_RESPONSES
from api.models import DIRECTORY_ID, AtRiskCase, AtRiskList
from workflows import search

router = APIRouter(tags=["requests"], responses=ERROR_RESPONSES)

OPEN_CASES_READ = 500


@router.get("/at-risk", response_model=AtRiskList, summary="Open cases by time left to their next deadline")
async def at_risk(
    caller: StaffMember, client: ClientDep,
    building: Annotated[str | None, Query(pattern=DIRECTORY_ID)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> AtRiskList:
    """The deadline each case is racing (response, warning, resolution, callback…) comes from the
    workflow itself, so pauses, extensions and severity changes are already counted. Cases with no
    running deadline (paused without a resume time, awaiting the resident) are not listed."""
    conditions = ["ExecutionStatus = 'Running'", *not_about(caller)]
    if building is not None:
        conditions.append(equals(search.BUILDING, building))
    ids = await open_case_ids(client, visibility_query(*conditions), OPEN_CASES_READ)
    now = datetime.now(UTC)
    racing = sorted((s for s in await live_states(client, ids) if s.next_deadline is not None),
                    key=lambda s: s.next_deadline)
    items = [
        AtRiskCase(
            case_id=s.case_id, kind=s.kind.value, severity=s.severity.value, status=s.status.value,
            building_id=s.building_id, tier=int(s.tier), handler_id=s.handler_id, owner_id=s.owner_id,
            next_deadline=s.next_deadline, next_deadline_kind=s.next_deadline_kind,
            seconds_left=int((s.next_deadline - now).total_seconds()),
            breached=s.response_breached or s.resolution_breached,
        )
        for s in racing[:limit]
    ]
    return AtRiskList(as_of=now, items=items)
