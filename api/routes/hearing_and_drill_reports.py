"""`GET /reports/hearings` and `GET /reports/drills`, as JSON or, with `?format=csv`, as CSV."""

from __future__ import annotations

from fastapi import APIRouter, Response

from api.auth import Supervisor
from api.context import SessionsDep
from api.errors import ERROR_RESPONSES
from api.hearing_and_drill_reports import DrillReport, HearingReport, drill_report, hearing_report
from api.routes.reports import Building, DefaultPeriod, Format, _answer, _documented

router = APIRouter(prefix="/reports", tags=["reports"], responses=ERROR_RESPONSES)


@router.get("/hearings", summary="Objections, how fast they were answered, and the decisions",
            **_documented(HearingReport))
async def hearings(caller: Supervisor, sessions: SessionsDep, period: DefaultPeriod,
                   format_: Format = "json") -> HearingReport | Response:
    """Hearings held (or to be held) in the period: objections, answered in time, decisions, callbacks."""
    return await _answer(sessions, "hearings", period, format_, lambda s: hearing_report(s, period))


@router.get("/drills", summary="Participation, survey answers, findings and how fast their repairs closed",
            **_documented(DrillReport))
async def drills(caller: Supervisor, sessions: SessionsDep, period: DefaultPeriod, building: Building = None,
                 format_: Format = "json") -> DrillReport | Response:
    """Drills scheduled in the period."""
    return await _answer(sessions, "drills", period, format_, lambda s: drill_report(s, period, building))
