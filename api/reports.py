"""Supervisors' reports, read from the SQL read model: deadline compliance, hotspots, satisfaction, staff.

Every figure is counted by SQL over `cases` and `case_events` (`steward.store.reports`, the same on
SQLite and PostgreSQL); this module shapes the counts into answers, takes the one median in Python, and
writes a report as CSV.

What counts (each definition is also in the field's description):
- a case belongs to a period by its submission time; a callback answer by the time it was recorded;
- response met: acknowledged (or resolved on the spot) without missing the response deadline;
  response missed: the response deadline passed unacknowledged; cases still inside it are neither;
- resolution met: resolved without a resolution breach; missed: breached (ever, even if later
  extended or resolved); cases still open inside their deadline are neither;
- satisfaction counts every recorded callback answer (a case reopened after "not satisfied" and then
  closed "satisfied" counts once each), except the confirmation callbacks of withdrawn cases, and says
  who recorded each: the resident themself, staff after a manual callback, or a supervisor;
- reports attribute a case to its first-contact owner (SPEC §1), not to whoever handles it now.
"""

from __future__ import annotations

import csv
import io
import statistics
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from typing import Any, Literal, Self

from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from steward.store.deadlines import aware
from steward.store.incidents import incidents_in
from steward.store.reports import (
    Period,
    compliance_counts,
    hotspots,
    satisfaction_counts,
    staff_counts,
)


class ReportBase(BaseModel):
    since: date = Field(description="First day covered (community time).")
    until: date = Field(description="Last day covered, included.")
    timezone: str

    @classmethod
    def over(cls, period: Period, **figures: Any) -> Self:
        return cls(since=period.since, until=period.until, timezone=period.timezone, **figures)


def rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def table(model: type[BaseModel], items: Iterable[BaseModel]) -> tuple[list[str], list[list[Any]]]:
    """A CSV table of one row per item, a column per field of `model`."""
    columns = list(model.model_fields)
    return columns, [_values(item, columns) for item in items]


def grouped_table(model: type[BaseModel],
                  groups: Mapping[str, Iterable[BaseModel]]) -> tuple[list[str], list[list[Any]]]:
    """A CSV table whose first column names each row's group (`all`, `week`, `category`…)."""
    columns = list(model.model_fields)
    rows = [[group, *_values(row, columns)] for group, members in groups.items() for row in members]
    return ["group", *columns], rows


def median_hours(spans: Sequence[float]) -> float | None:
    """The median of spans given in seconds, in hours."""
    return hours(statistics.median(spans)) if spans else None


def hours(seconds: float | None) -> float | None:
    return round(seconds / 3600, 2) if seconds is not None else None


# --- deadline compliance -------------------------------------------------------------------------


class Compliance(BaseModel):
    key: str = Field(description="The week's Monday (YYYY-MM-DD), the category, or 'all'.")
    cases: int = Field(description="Cases submitted in the period.")
    response_met: int = Field(description="Acknowledged before the response deadline.")
    response_missed: int = Field(description="The response deadline passed unacknowledged.")
    response_rate: float | None = Field(description="met / (met + missed); null when neither.")
    resolution_met: int = Field(description="Resolved without a resolution breach.")
    resolution_missed: int = Field(description="The resolution deadline was breached.")
    resolution_rate: float | None = Field(description="met / (met + missed); null when neither.")


class SlaReport(ReportBase):
    overall: Compliance
    by_week: list[Compliance] = Field(description="Every week of the period, empty ones included.")
    by_category: list[Compliance]

    def table(self) -> tuple[list[str], list[list[Any]]]:
        return grouped_table(Compliance, {"all": [self.overall], "week": self.by_week,
                                          "category": self.by_category})


def _compliance(key: str, row: Any | None) -> Compliance:
    counts = {name: int(getattr(row, name) or 0) if row is not None else 0
              for name in ("cases", "response_met", "response_missed", "resolution_met", "resolution_missed")}
    return Compliance(
        key=key, **counts,
        response_rate=rate(counts["response_met"], counts["response_met"] + counts["response_missed"]),
        resolution_rate=rate(counts["resolution_met"],
                             counts["resolution_met"] + counts["resolution_missed"]),
    )


def sla_report(session: Session, period: Period, building: str | None = None) -> SlaReport:
    counts = compliance_counts(session, period, building)
    return SlaReport.over(
        period, overall=_compliance("all", counts.overall),
        by_week=[_compliance(week, counts.by_week.get(week)) for week in map(date.isoformat, period.weeks())],
        by_category=[_compliance(row.category, row) for row in counts.by_category],
    )


# --- hotspots --------------------------------------------------------------------------------


class Hotspot(BaseModel):
    level: Literal["building", "unit", "category"] = Field(
        description="building: all its cases; unit: one household's; category: one category in one building.")
    building_id: str
    building_name: str | None
    unit: str | None
    category: str | None
    cases: int
    open: int = Field(description="Not closed yet.")
    breached: int = Field(description="Missed a response or resolution deadline.")
    reopened: int = Field(description="Reopened at least once after an unhappy callback.")
    last_submitted_at: datetime


class IncidentHotspot(BaseModel):
    """A building-wide incident opened in the period: one outage, counted once with the cases it gathered."""

    incident_id: str
    building_id: str
    units: list[str] = Field(description="The units it covered; none: the whole building.")
    category: str
    title: str
    status: str
    cases: int = Field(description="Reports it gathered (joined when filed, or attached by staff).")
    opened_at: datetime
    restored_at: datetime | None
    root_cause: str | None = Field(description="Recorded at restoration.")
    breached: bool


class HotspotReport(ReportBase):
    min_cases: int
    items: list[Hotspot] = Field(description="Most cases first.")
    incidents: list[IncidentHotspot] = Field(default=[], description="Incidents opened in the period, the "
                                             "most cases gathered first (issue 22).")

    def table(self) -> tuple[list[str], list[list[Any]]]:
        return table(Hotspot, self.items)


def hotspot_report(session: Session, period: Period, min_cases: int = 2,
                   building: str | None = None) -> HotspotReport:
    items = [Hotspot(**item) for item in hotspots(session, period, min_cases, building)]
    gathered = [IncidentHotspot(**item) for item in incidents_in(session, period, building)]
    return HotspotReport.over(period, min_cases=min_cases, items=items, incidents=gathered)


# --- satisfaction --------------------------------------------------------------------------


class Satisfaction(BaseModel):
    key: str = Field(description="The category, the owner's staff id, or 'all'.")
    name: str | None = Field(default=None, description="The staff member's name (by staff).")
    callbacks: int = Field(description="Callback outcomes recorded.")
    satisfied: int
    not_satisfied: int
    unreachable: int
    rate: float | None = Field(description="satisfied / (satisfied + not satisfied); null when no answer.")
    answered_by_resident: int = Field(description="Outcomes the resident gave themself (SMS or keypad).")
    recorded_by_staff: int = Field(description="Outcomes staff recorded after a manual callback.")
    recorded_by_supervisor: int = Field(
        description="Outcomes a supervisor recorded, with a reason, while the automatic callback asked.")


class SatisfactionReport(ReportBase):
    overall: Satisfaction
    by_category: list[Satisfaction]
    by_staff: list[Satisfaction] = Field(
        description="By first-contact owner; cases nobody took are left out.")

    def table(self) -> tuple[list[str], list[list[Any]]]:
        return grouped_table(Satisfaction, {"all": [self.overall], "category": self.by_category,
                                            "staff": self.by_staff})


def satisfaction_report(session: Session, period: Period, building: str | None = None) -> SatisfactionReport:
    counts = satisfaction_counts(session, period, building)
    return SatisfactionReport.over(
        period, overall=_satisfaction("all", counts.overall),
        by_category=[_satisfaction(row.category, row) for row in counts.by_category],
        by_staff=[_satisfaction(row.owner_id, row, counts.owner_names.get(row.owner_id))
                  for row in counts.by_owner],
    )


def _satisfaction(key: str, row: Any, name: str | None = None) -> Satisfaction:
    satisfied, unhappy = int(row.satisfied or 0), int(row.not_satisfied or 0)
    callbacks, resident, supervisor = int(row.callbacks or 0), int(row.by_resident), int(row.by_supervisor)
    return Satisfaction(key=key, name=name, callbacks=callbacks, satisfied=satisfied,
                        not_satisfied=unhappy, unreachable=int(row.unreachable or 0),
                        rate=rate(satisfied, satisfied + unhappy), answered_by_resident=resident,
                        recorded_by_staff=callbacks - resident - supervisor,
                        recorded_by_supervisor=supervisor)


# --- staff -----------------------------------------------------------------------------------


class StaffLine(BaseModel):
    staff_id: str
    name: str | None
    tier: int | None
    owned: int = Field(description="Cases submitted in the period that this person owns (took first).")
    open: int = Field(description="Of those, not closed yet.")
    resolved: int = Field(description="Resolved at least once (closed, awaiting callback, or reopened).")
    breaches: int = Field(description="Cases that missed a response or resolution deadline.")
    reopened: int = Field(description="Cases reopened after an unhappy callback.")
    reopen_rate: float | None = Field(description="reopened / resolved.")
    median_response_seconds: float | None = Field(description="From submission to acknowledgement.")


class StaffReport(ReportBase):
    items: list[StaffLine] = Field(description="Most cases owned first.")

    def table(self) -> tuple[list[str], list[list[Any]]]:
        return table(StaffLine, self.items)


def staff_report(session: Session, period: Period, building: str | None = None) -> StaffReport:
    counts = staff_counts(session, period, building)
    items = []
    for row in counts.by_owner:
        person, waits = counts.people.get(row.owner_id), counts.waits[row.owner_id]
        items.append(StaffLine(
            staff_id=row.owner_id, name=getattr(person, "name", None), tier=getattr(person, "tier", None),
            owned=row.owned, open=row.open, resolved=row.resolved, breaches=row.breaches,
            reopened=row.reopened, reopen_rate=rate(row.reopened, row.resolved),
            median_response_seconds=round(statistics.median(waits), 1) if waits else None,
        ))
    return StaffReport.over(period, items=items)


# --- CSV -------------------------------------------------------------------------------------


def _values(model: BaseModel, columns: Sequence[str]) -> list[Any]:
    return [getattr(model, column) for column in columns]


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: Any) -> str:
    """One CSV cell; text a spreadsheet would run as a formula is quoted with a leading apostrophe."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return aware(value).isoformat()
    if isinstance(value, bool | int | float | date):
        return str(value)
    text = str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def as_csv(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """Starts with a byte-order mark: spreadsheet programs then read the UTF-8 (Chinese) correctly."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows([_cell(value) for value in row] for row in rows)
    return out.getvalue()
