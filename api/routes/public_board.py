"""The public board at `/public/` (公示): anyone in the community reads the published deadlines and how
they were kept, without signing in and without anything personal.

Its figures are the supervisors' reports, called, not re-implemented (`api.reports.sla_report`,
`satisfaction_report`), for the same periods, so the board and `/reports/sla` always agree; only what
names no one is kept (no staff breakdown, no building or unit, no resident). Answers are cacheable for a
few minutes. Hearings (their costs and decisions) and the drill calendar come from the read model the
projection keeps (`hearings`, `drills`), so the board never waits on Temporal and reads the same with no
worker running.
"""

from __future__ import annotations

import calendar
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from api.context import SessionsDep, SettingsDep
from api.errors import ERROR_RESPONSES, ApiError
from api.models import HearingFacts
from api.pages import PageFiles
from api.reports import Compliance, Satisfaction, satisfaction_report, sla_report
from steward.store.community_models import DrillRow, HearingRow
from steward.store.deadlines import aware
from steward.store.hearings_and_drills import drills_in, hearing_state, latest_hearings
from steward.store.reports import Period, PeriodError, complaints
from workflows.contracts import Severity
from workflows.drill_contracts import DrillStatus
from workflows.hearing_contracts import CostItem
from workflows.policy import SlaPolicy

router = APIRouter(tags=["public board"], responses=ERROR_RESPONSES)

CACHE = "public, max-age=300"
SHOWN = 20
UNDER_WAY = (DrillStatus.planned.value, DrillStatus.announced.value, DrillStatus.started.value)
Month = Annotated[str | None, Query(pattern=r"^\d{4}-(0[1-9]|1[0-2])$",
                                    description="YYYY-MM; default: last month (community time).")]


class Promise(BaseModel):
    severity: Severity
    response_minutes: int
    resolution_hours: float


class Figures(BaseModel):
    since: date
    until: date
    overall: Compliance
    by_category: list[Compliance]
    satisfaction: Satisfaction
    satisfaction_by_category: list[Satisfaction]
    complaints_received: int = Field(description="Complaints submitted in the period.")
    complaints_closed: int = Field(description="Complaints closed in the period, whenever submitted.")


class PublicHearing(HearingFacts):
    decision: str | None = Field(description="approved, rejected or revised; null until decided.")
    decision_reason: str | None
    revised_costs: list[CostItem] | None


class PublicDrill(BaseModel):
    title: str
    drill_type: str
    building_id: str
    scheduled_at: datetime
    status: str


class Board(BaseModel):
    timezone: str
    promises: list[Promise] = Field(description="The published deadlines (`GET /sla`).")
    month: Figures = Field(description="The month asked for (default: last month).")
    year: Figures = Field(description="That month's year, from 1 January to the month's end or today.")
    hearings: list[PublicHearing] = Field(description="The latest hearings, latest hearing date first.")
    drills: list[PublicDrill] = Field(description="Drills planned or under way, soonest first.")


def _promises(policy: SlaPolicy) -> list[Promise]:
    return [Promise(severity=severity, response_minutes=int(rule.response.total_seconds() // 60),
                    resolution_hours=round(rule.resolution.total_seconds() / 3600, 2))
            for severity in Severity for rule in [policy.for_severity(severity)]]


def _figures(session: Session, period: Period) -> Figures:
    sla = sla_report(session, period)
    satisfaction = satisfaction_report(session, period)
    received, closed = complaints(session, period)
    return Figures(since=period.since, until=period.until, overall=sla.overall, by_category=sla.by_category,
                   satisfaction=satisfaction.overall, satisfaction_by_category=satisfaction.by_category,
                   complaints_received=received, complaints_closed=closed)


def _hearing(row: HearingRow) -> PublicHearing:
    state = hearing_state(row)
    decision = state.decision
    return PublicHearing(
        **state.model_dump(include={"title", "reason", "costs", "total", "hearing_at", "place"}),
        status=state.status.value, decision=decision.outcome.value if decision else None,
        decision_reason=decision.reason if decision else None,
        revised_costs=decision.revised_costs if decision else None)


def _drill(row: DrillRow) -> PublicDrill:
    return PublicDrill(title=row.title, drill_type=row.drill_type, building_id=row.building_id,
                       scheduled_at=aware(row.scheduled_at), status=row.status)


def _hearings_and_drills(session: Session) -> tuple[list[PublicHearing], list[PublicDrill]]:
    """The latest hearings, latest hearing date first, and the drills planned or under way, soonest first."""
    hearings = latest_hearings(session, SHOWN)
    return [_hearing(row) for row in hearings], [_drill(row) for row in drills_in(session, UNDER_WAY, SHOWN)]


def periods(month: str | None, timezone: str) -> tuple[Period, Period]:
    """The month asked for (default last month) and its year up to the month's end, never past today."""
    today = datetime.now(ZoneInfo(timezone)).date()
    if month is None:
        last = today.replace(day=1) - timedelta(days=1)
        year, number = last.year, last.month
    else:
        year, number = (int(part) for part in month.split("-"))
    first = date(year, number, 1)
    end = min(date(year, number, calendar.monthrange(year, number)[1]), max(today, first))
    try:
        return (Period.ending(end, first, 31, timezone), Period.ending(end, date(year, 1, 1), 366, timezone))
    except PeriodError as error:
        raise ApiError(422, f"month: {error}") from error


@router.get("/public/api/board", response_model=Board, include_in_schema=False)
async def board(sessions: SessionsDep, settings: SettingsDep, response: Response,
                month: Month = None) -> Board:
    """No sign-in: the figures name no person, household or building."""
    in_month, in_year = periods(month, settings.timezone)

    def read() -> tuple[Figures, Figures, list[PublicHearing], list[PublicDrill]]:
        with sessions() as session:
            return (_figures(session, in_month), _figures(session, in_year), *_hearings_and_drills(session))

    month_figures, year_figures, hearings, drills = await run_in_threadpool(read)
    response.headers["Cache-Control"] = CACHE
    return Board(timezone=settings.timezone, promises=_promises(settings.policy), month=month_figures,
                 year=year_figures, hearings=hearings, drills=drills)


PageFiles(Path(__file__).resolve().parent.parent / "public_board", {"Cache-Control": CACHE}).serve(
    router, "/public", "board"
)
