"""Open cases ordered by the time left to their next deadline: what a supervisor watches."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Query
from temporalio.client import Client

from api.auth import StaffMember
from api.cases import case_state, equals, open_case_ids, visibility_query
from api.context import ClientDep
from api.errors import ERROR_RESPONSES, ApiError
from api.models import DIRECTORY_ID, AtRiskCase, AtRiskList
from workflows import search
from workflows.contracts import CaseState

router = APIRouter(tags=["requests"], responses=ERROR_RESPONSES)

OPEN_CASES_READ = 500
CONCURRENT_QUERIES = 16
QUERY_TIMEOUT = timedelta(seconds=3)


async def _states(client: Client, case_ids: list[str]) -> list[CaseState]:
    """Each case's live state; a case that cannot answer now (closing, no worker) is left out."""
    gate = asyncio.Semaphore(CONCURRENT_QUERIES)

    async def read(case_id: str) -> CaseState | None:
        async with gate:
            try:
                return await case_state(client, case_id, QUERY_TIMEOUT)
            except ApiError:
                return None

    return [state for state in await asyncio.gather(*map(read, case_ids)) if state is not None]


@router.get("/at-risk", response_model=AtRiskList, summary="Open cases by time left to their next deadline")
async def at_risk(
    caller: StaffMember, client: ClientDep,
    building: Annotated[str | None, Query(pattern=DIRECTORY_ID)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> AtRiskList:
    """The deadline each case is racing (response, warning, resolution, callback…) comes from the
    workflow itself, so pauses, extensions and severity changes are already counted. Cases with no
    running deadline (paused without a resume time, awaiting the resident) are not listed."""
    conditions = ["ExecutionStatus = 'Running'"]
    if building is not None:
        conditions.append(equals(search.BUILDING, building))
    ids = await open_case_ids(client, visibility_query(*conditions), OPEN_CASES_READ)
    now = datetime.now(UTC)
    racing = sorted((s for s in await _states(client, ids) if s.next_deadline is not None),
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
