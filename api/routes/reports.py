"""Reports for supervisors from the SQL read model (SPEC §4), as JSON or, with `?format=csv`, as CSV."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Annotated, Literal, TypeVar

from fastapi import APIRouter, Depends, Query, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel
from sqlalchemy.orm import Session

from api.auth import Supervisor
from api.context import SessionsDep, SettingsDep
from api.equipment_report import EquipmentReport, equipment_report
from api.errors import ERROR_RESPONSES, ApiError
from api.models import DIRECTORY_ID
from api.reports import (
    HotspotReport,
    SatisfactionReport,
    SlaReport,
    StaffReport,
    as_csv,
    hotspot_report,
    satisfaction_report,
    sla_report,
    staff_report,
)
from steward.store.reports import Period, PeriodError

router = APIRouter(prefix="/reports", tags=["reports"], responses=ERROR_RESPONSES)

Report = TypeVar("Report", SlaReport, HotspotReport, SatisfactionReport, StaffReport, EquipmentReport)
Format = Annotated[Literal["json", "csv"], Query(
    alias="format", description="`csv` answers a CSV file (text/csv) with one row per figure group.")]
Building = Annotated[str | None, Query(pattern=DIRECTORY_ID, description="Only this building's cases.")]
CSV_RESPONSE: dict[int | str, dict] = {
    200: {"content": {"text/csv": {"schema": {"type": "string"}}},
          "description": "The report as JSON, or as CSV with `format=csv`."},
}
MinCases = Annotated[int, Query(ge=2, le=1000, description="Repeated means at least this many cases.")]
DEFAULT_DAYS = 90
HOTSPOT_DAYS = 30


Since = Annotated[date | None, Query(description="First day (community time); default: 90 days (hotspots: "
                                     "30) up to `until`.")]
Until = Annotated[date | None, Query(description="Last day, included; default: today.")]


def _period(days: int) -> Callable[..., Period]:
    def period(settings: SettingsDep, since: Since = None, until: Until = None) -> Period:
        try:
            return Period.ending(until, since, days, settings.timezone)
        except PeriodError as error:
            raise ApiError(422, str(error)) from error

    return period


DefaultPeriod = Annotated[Period, Depends(_period(DEFAULT_DAYS))]
HotspotPeriod = Annotated[Period, Depends(_period(HOTSPOT_DAYS))]


async def _answer(sessions: SessionsDep, name: str, period: Period, format_: str,
                  build: Callable[[Session], Report]) -> Report | Response:
    def read() -> Report:
        with sessions() as session:
            return build(session)

    report = await run_in_threadpool(read)
    if format_ == "json":
        return report
    filename = f"steward-{name}-{period.since}-{period.until}.csv"
    return Response(as_csv(*report.table()), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


def _documented(model: type[BaseModel]) -> dict:
    return {"response_model": model, "responses": CSV_RESPONSE}


@router.get("/sla", summary="Response and resolution compliance by week and by category",
            **_documented(SlaReport))
async def sla(caller: Supervisor, sessions: SessionsDep, period: DefaultPeriod, building: Building = None,
              format_: Format = "json") -> SlaReport | Response:
    """Of the cases submitted in the period: how many were acknowledged and resolved within their
    deadlines, and how many missed them; cases still inside a deadline count for neither."""
    return await _answer(sessions, "sla", period, format_, lambda s: sla_report(s, period, building))


@router.get("/hotspots", summary="Buildings, units and categories with repeated cases",
            **_documented(HotspotReport))
async def hotspots(caller: Supervisor, sessions: SessionsDep, period: HotspotPeriod,
                   building: Building = None, min_cases: MinCases = 2,
                   format_: Format = "json") -> HotspotReport | Response:
    """Where the same problem keeps coming back (default: the last 30 days): a building, one household,
    or one category in one building with at least `min_cases` cases."""
    return await _answer(sessions, "hotspots", period, format_,
                         lambda s: hotspot_report(s, period, min_cases, building))


@router.get("/satisfaction", summary="Callback satisfaction by category and by staff",
            **_documented(SatisfactionReport))
async def satisfaction(caller: Supervisor, sessions: SessionsDep, period: DefaultPeriod,
                       building: Building = None, format_: Format = "json") -> SatisfactionReport | Response:
    """Every callback outcome recorded in the period (satisfied, not satisfied, unreachable), by the
    case's category and by its first-contact owner."""
    return await _answer(sessions, "satisfaction", period, format_,
                         lambda s: satisfaction_report(s, period, building))


@router.get("/staff", summary="Cases owned, median response, breaches and reopen rate per staff member",
            **_documented(StaffReport))
async def staff(caller: Supervisor, sessions: SessionsDep, period: DefaultPeriod, building: Building = None,
                format_: Format = "json") -> StaffReport | Response:
    """Each first-contact owner's cases submitted in the period."""
    return await _answer(sessions, "staff", period, format_, lambda s: staff_report(s, period, building))


@router.get("/equipment", summary="Devices by faults, alarms they raised and time out of service",
            **_documented(EquipmentReport))
async def equipment(caller: Supervisor, sessions: SessionsDep, period: DefaultPeriod,
                    building: Building = None, format_: Format = "json") -> EquipmentReport | Response:
    """Every device named by a repair submitted in the period: how many, how many its own alarm opened,
    how many are open or missed a deadline, the median time to resolve and the summed downtime."""
    return await _answer(sessions, "equipment", period, format_,
                         lambda s: equipment_report(s, period, building))
