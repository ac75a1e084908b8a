"""Supervisors' reports, read from the SQL read model: deadline compliance, hotspots, satisfaction, staff.

Every figure is counted by SQL over `cases` and `case_events` in plain SQLAlchemy Core that runs the
same on SQLite and PostgreSQL: a period is bound as two UTC instants, weeks are bucketed by a CASE
over week boundaries computed here in the community's time zone (SQLite has no time zones), JSON
details are read with SQLAlchemy's portable JSON accessors, and the one median is taken in Python.

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
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, Field
from sqlalchemy import ColumnElement, Select, and_, case, func, literal, literal_column, or_, select
from sqlalchemy.orm import Session

from steward.store.models import Building, Case, CaseEventRow, Staff
from workflows.contracts import SYSTEM, Role

EARLIEST = date(2000, 1, 1)
LATEST = date(2100, 12, 31)
LONGEST = timedelta(days=366)


class PeriodError(ValueError):
    """A period a report cannot cover; the message says why."""


@dataclass(frozen=True)
class Period:
    """Whole community-local days from `since` to `until`, both included."""

    since: date
    until: date
    timezone: str

    @classmethod
    def ending(cls, until: date | None, since: date | None, days: int, timezone: str) -> Period:
        """The period asked for; left out, it ends today (community time) and spans `days` days."""
        until = until or datetime.now(ZoneInfo(timezone)).date()
        since = since or until - timedelta(days=days - 1)
        if not (EARLIEST <= since <= LATEST and EARLIEST <= until <= LATEST):
            raise PeriodError(f"dates must lie between {EARLIEST} and {LATEST}")
        if since > until:
            raise PeriodError("since must not be after until")
        if until - since >= LONGEST:
            raise PeriodError(f"a report covers at most {LONGEST.days} days")
        return cls(since, until, timezone)

    def instant(self, day: date) -> datetime:
        """The UTC instant at which `day` starts in the community."""
        return datetime.combine(day, time(0), ZoneInfo(self.timezone)).astimezone(UTC)

    @property
    def start(self) -> datetime:
        return self.instant(self.since)

    @property
    def end(self) -> datetime:
        return self.instant(self.until + timedelta(days=1))

    def weeks(self) -> list[date]:
        """The Monday of every week the period touches."""
        monday = self.since - timedelta(days=self.since.weekday())
        return [monday + timedelta(weeks=n) for n in range((self.until - monday).days // 7 + 1)]

    def covers(self, column: Any) -> ColumnElement[bool]:
        return and_(column >= self.start, column < self.end)


class ReportBase(BaseModel):
    since: date = Field(description="First day covered (community time).")
    until: date = Field(description="Last day covered, included.")
    timezone: str


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _count(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


BREACHED = or_(Case.response_breached.is_(True), Case.resolution_breached.is_(True))


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
        columns = list(Compliance.model_fields)
        rows = [["all", *_values(self.overall, columns)]]
        rows += [["week", *_values(row, columns)] for row in self.by_week]
        rows += [["category", *_values(row, columns)] for row in self.by_category]
        return ["group", *columns], rows


_COMPLIANCE = (
    func.count().label("cases"),
    _count(and_(Case.acknowledged_at.is_not(None), Case.response_breached.is_(False))).label("response_met"),
    _count(Case.response_breached.is_(True)).label("response_missed"),
    _count(and_(Case.resolved_at.is_not(None), Case.resolution_breached.is_(False))).label("resolution_met"),
    _count(Case.resolution_breached.is_(True)).label("resolution_missed"),
)


def _compliance(key: str, row: Any | None) -> Compliance:
    counts = {name: int(getattr(row, name) or 0) if row is not None else 0
              for name in ("cases", "response_met", "response_missed", "resolution_met", "resolution_missed")}
    return Compliance(
        key=key, **counts,
        response_rate=_rate(counts["response_met"], counts["response_met"] + counts["response_missed"]),
        resolution_rate=_rate(counts["resolution_met"],
                              counts["resolution_met"] + counts["resolution_missed"]),
    )


def _week_of(period: Period, weeks: list[date]) -> ColumnElement[str]:
    """The Monday (as text) of the week a case was submitted in, by comparing with each next Monday.

    Grouped by its output name: PostgreSQL would not see a repeated CASE with fresh bound parameters
    in GROUP BY as the same expression."""
    return case(
        *((Case.submitted_at < period.instant(monday + timedelta(weeks=1)), literal(monday.isoformat()))
          for monday in weeks),
        else_=literal(weeks[-1].isoformat()),
    )


def sla_report(session: Session, period: Period, building: str | None = None) -> SlaReport:
    scope = _cases_in(period, building)
    overall = session.execute(select(*_COMPLIANCE).where(*scope)).one()
    weeks = period.weeks()
    week = _week_of(period, weeks).label("week")
    per_week = {row.week: row for row in session.execute(
        select(week, *_COMPLIANCE).where(*scope).group_by(literal_column("week")))}
    per_category = session.execute(
        select(Case.category, *_COMPLIANCE).where(*scope).group_by(Case.category)
        .order_by(func.count().desc(), Case.category))
    return SlaReport(
        since=period.since, until=period.until, timezone=period.timezone,
        overall=_compliance("all", overall),
        by_week=[_compliance(monday.isoformat(), per_week.get(monday.isoformat())) for monday in weeks],
        by_category=[_compliance(row.category, row) for row in per_category],
    )


REQUESTS = Case.kind.in_(("repair", "complaint", "question"))
"""Reports are about residents' requests; a hearing objector's callback case is not one."""


def _cases_in(period: Period, building: str | None) -> list[ColumnElement[bool]]:
    scope = [period.covers(Case.submitted_at), REQUESTS]
    if building is not None:
        scope.append(Case.building_id == building)
    return scope


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


class HotspotReport(ReportBase):
    min_cases: int
    items: list[Hotspot] = Field(description="Most cases first.")

    def table(self) -> tuple[list[str], list[list[Any]]]:
        columns = list(Hotspot.model_fields)
        return columns, [_values(item, columns) for item in self.items]


_HOTSPOT_COUNTS = (
    func.count().label("cases"),
    _count(Case.closed_at.is_(None)).label("open"),
    _count(BREACHED).label("breached"),
    _count(Case.reopen_count > 0).label("reopened"),
    func.max(Case.submitted_at).label("last_submitted_at"),
)


def hotspot_report(session: Session, period: Period, min_cases: int = 2,
                   building: str | None = None) -> HotspotReport:
    scope = _cases_in(period, building)
    groupings: dict[str, tuple[Any, ...]] = {
        "building": (Case.building_id,),
        "unit": (Case.building_id, Case.unit),
        "category": (Case.building_id, Case.category),
    }
    found: list[dict[str, Any]] = []
    for level, keys in groupings.items():
        query: Select = (select(*keys, *_HOTSPOT_COUNTS).where(*scope, *(k.is_not(None) for k in keys))
                         .group_by(*keys).having(func.count() >= min_cases))
        for row in session.execute(query):
            found.append({"level": level, "unit": None, "category": None, **row._asdict()})
    names = _names(session, Building, {item["building_id"] for item in found})
    items = [Hotspot(building_name=names.get(item["building_id"]),
                     **item | {"last_submitted_at": _utc(item["last_submitted_at"])}) for item in found]
    items.sort(key=lambda h: (-h.cases, list(groupings).index(h.level), h.building_id, h.unit or "",
                              h.category or ""))
    return HotspotReport(since=period.since, until=period.until, timezone=period.timezone,
                         min_cases=min_cases, items=items)


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
        columns = list(Satisfaction.model_fields)
        rows = [["all", *_values(self.overall, columns)]]
        rows += [["category", *_values(row, columns)] for row in self.by_category]
        rows += [["staff", *_values(row, columns)] for row in self.by_staff]
        return ["group", *columns], rows


def satisfaction_report(session: Session, period: Period, building: str | None = None) -> SatisfactionReport:
    result = CaseEventRow.detail["result"].as_string()
    by_role = CaseEventRow.detail["by_role"].as_string()
    # The callback step took the resident's own answer (rows before `by_role` name the system as actor).
    by_resident = or_(by_role == Role.system.value, CaseEventRow.actor_id == SYSTEM.id)
    counts = (
        func.count().label("callbacks"),
        _count(result == "satisfied").label("satisfied"),
        _count(result == "not_satisfied").label("not_satisfied"),
        _count(result == "unreachable").label("unreachable"),
        _count(by_resident).label("by_resident"),
        _count(by_role == Role.supervisor.value).label("by_supervisor"),
    )
    scope = [CaseEventRow.event == "callback_recorded", period.covers(CaseEventRow.at),
             Case.withdrawn.is_(False), REQUESTS]
    if building is not None:
        scope.append(Case.building_id == building)

    def grouped(*keys: Any) -> Select:
        return (select(*keys, *counts).select_from(CaseEventRow)
                .join(Case, Case.case_id == CaseEventRow.case_id).where(*scope))

    overall = session.execute(grouped()).one()
    categories = session.execute(grouped(Case.category).group_by(Case.category)
                                 .order_by(func.count().desc(), Case.category))
    owners = session.execute(grouped(Case.owner_id).where(Case.owner_id.is_not(None)).group_by(Case.owner_id)
                             .order_by(func.count().desc(), Case.owner_id)).all()
    names = _names(session, Staff, {row.owner_id for row in owners})
    return SatisfactionReport(
        since=period.since, until=period.until, timezone=period.timezone,
        overall=_satisfaction("all", overall),
        by_category=[_satisfaction(row.category, row) for row in categories],
        by_staff=[_satisfaction(row.owner_id, row, names.get(row.owner_id)) for row in owners],
    )


def _satisfaction(key: str, row: Any, name: str | None = None) -> Satisfaction:
    satisfied, unhappy = int(row.satisfied or 0), int(row.not_satisfied or 0)
    callbacks, resident, supervisor = int(row.callbacks or 0), int(row.by_resident), int(row.by_supervisor)
    return Satisfaction(key=key, name=name, callbacks=callbacks, satisfied=satisfied,
                        not_satisfied=unhappy, unreachable=int(row.unreachable or 0),
                        rate=_rate(satisfied, satisfied + unhappy), answered_by_resident=resident,
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
        columns = list(StaffLine.model_fields)
        return columns, [_values(item, columns) for item in self.items]


def staff_report(session: Session, period: Period, building: str | None = None) -> StaffReport:
    scope = [*_cases_in(period, building), Case.owner_id.is_not(None)]
    resolved = or_(Case.resolved_at.is_not(None), Case.closed_at.is_not(None), Case.reopen_count > 0)
    rows = session.execute(
        select(Case.owner_id, func.count().label("owned"), _count(Case.closed_at.is_(None)).label("open"),
               _count(resolved).label("resolved"), _count(BREACHED).label("breaches"),
               _count(Case.reopen_count > 0).label("reopened"))
        .where(*scope).group_by(Case.owner_id).order_by(func.count().desc(), Case.owner_id)
    ).all()
    waits: dict[str, list[float]] = defaultdict(list)
    for owner, submitted, acknowledged in session.execute(
        select(Case.owner_id, Case.submitted_at, Case.acknowledged_at)
        .where(*scope, Case.acknowledged_at.is_not(None))
    ):
        waits[owner].append(max((_utc(acknowledged) - _utc(submitted)).total_seconds(), 0.0))
    people = {person.id: person for person in session.scalars(
        select(Staff).where(Staff.id.in_({row.owner_id for row in rows})))}
    items = [
        StaffLine(
            staff_id=row.owner_id, name=getattr(people.get(row.owner_id), "name", None),
            tier=getattr(people.get(row.owner_id), "tier", None), owned=row.owned, open=row.open,
            resolved=row.resolved, breaches=row.breaches, reopened=row.reopened,
            reopen_rate=_rate(row.reopened, row.resolved),
            median_response_seconds=round(statistics.median(waits[row.owner_id]), 1)
            if waits[row.owner_id] else None,
        )
        for row in rows
    ]
    return StaffReport(since=period.since, until=period.until, timezone=period.timezone, items=items)


# --- shared ----------------------------------------------------------------------------------


def _names(session: Session, table: type[Building] | type[Staff], ids: set[str]) -> dict[str, str]:
    if not ids:
        return {}
    return {key: name for key, name in session.execute(select(table.id, table.name).where(table.id.in_(ids)))}


def _utc(moment: datetime) -> datetime:
    """SQLite hands back the stored UTC time without its zone."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _values(model: BaseModel, columns: Sequence[str]) -> list[Any]:
    return [getattr(model, column) for column in columns]


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: Any) -> str:
    """One CSV cell; text a spreadsheet would run as a formula is quoted with a leading apostrophe."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return _utc(value).isoformat()
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
