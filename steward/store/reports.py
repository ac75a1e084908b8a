"""What the supervisors' reports and the public board count, by SQL over `cases` and `case_events`.

Plain SQLAlchemy Core that runs the same on SQLite and PostgreSQL: a period is bound as two UTC
instants, weeks are bucketed by a CASE over week boundaries computed here in the community's time zone
(SQLite has no time zones), and JSON details are read with SQLAlchemy's portable JSON accessors. What
each count means is written where the API shapes it (`api.reports`).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Row, Select, and_, case, func, literal, literal_column, or_, select
from sqlalchemy.orm import Session

from steward.store.deadlines import aware
from steward.store.models import Building, Case, CaseEventRow, Equipment, Staff
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


def _count(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


BREACHED = or_(Case.response_breached.is_(True), Case.resolution_breached.is_(True))
REQUESTS = Case.kind.in_(("repair", "complaint", "question"))
"""Reports are about residents' requests; a hearing objector's callback case is not one."""


def _cases_in(period: Period, building: str | None) -> list[ColumnElement[bool]]:
    scope = [period.covers(Case.submitted_at), REQUESTS]
    if building is not None:
        scope.append(Case.building_id == building)
    return scope


def names(session: Session, table: type[Building] | type[Staff], ids: set[str]) -> dict[str, str]:
    if not ids:
        return {}
    return {key: name for key, name in session.execute(select(table.id, table.name).where(table.id.in_(ids)))}


# --- deadline compliance -------------------------------------------------------------------------


_COMPLIANCE = (
    func.count().label("cases"),
    _count(and_(Case.acknowledged_at.is_not(None), Case.response_breached.is_(False))).label("response_met"),
    _count(Case.response_breached.is_(True)).label("response_missed"),
    _count(and_(Case.resolved_at.is_not(None), Case.resolution_breached.is_(False))).label("resolution_met"),
    _count(Case.resolution_breached.is_(True)).label("resolution_missed"),
)


@dataclass(frozen=True)
class ComplianceCounts:
    overall: Row
    by_week: dict[str, Row]  # the week's Monday (ISO) → its counts; weeks without cases are absent
    by_category: list[Row]


def _week_of(period: Period, weeks: list[date]) -> ColumnElement[str]:
    """The Monday (as text) of the week a case was submitted in, by comparing with each next Monday.

    Grouped by its output name: PostgreSQL would not see a repeated CASE with fresh bound parameters
    in GROUP BY as the same expression."""
    return case(
        *((Case.submitted_at < period.instant(monday + timedelta(weeks=1)), literal(monday.isoformat()))
          for monday in weeks),
        else_=literal(weeks[-1].isoformat()),
    )


def compliance_counts(session: Session, period: Period, building: str | None = None) -> ComplianceCounts:
    """Cases submitted in the period and how their deadlines were kept: all, by week, by category."""
    scope = _cases_in(period, building)
    week = _week_of(period, period.weeks()).label("week")
    return ComplianceCounts(
        overall=session.execute(select(*_COMPLIANCE).where(*scope)).one(),
        by_week={row.week: row for row in session.execute(
            select(week, *_COMPLIANCE).where(*scope).group_by(literal_column("week")))},
        by_category=list(session.execute(
            select(Case.category, *_COMPLIANCE).where(*scope).group_by(Case.category)
            .order_by(func.count().desc(), Case.category))),
    )


def complaints(session: Session, period: Period) -> tuple[int, int]:
    """Complaints submitted in the period, and complaints closed in it whenever submitted."""
    complaint = Case.kind == "complaint"
    received = session.scalar(select(func.count()).where(complaint, period.covers(Case.submitted_at)))
    closed = session.scalar(select(func.count()).where(complaint, period.covers(Case.closed_at)))
    return received or 0, closed or 0


# --- hotspots --------------------------------------------------------------------------------

HOTSPOT_LEVELS: dict[str, tuple[Any, ...]] = {
    "building": (Case.building_id,),
    "unit": (Case.building_id, Case.unit),
    "category": (Case.building_id, Case.category),
}
_HOTSPOT_COUNTS = (
    func.count().label("cases"),
    _count(Case.closed_at.is_(None)).label("open"),
    _count(BREACHED).label("breached"),
    _count(Case.reopen_count > 0).label("reopened"),
    func.max(Case.submitted_at).label("last_submitted_at"),
)


def hotspots(session: Session, period: Period, min_cases: int, building: str | None = None) -> list[dict]:
    """Every building, unit and category-in-a-building with `min_cases` or more, most cases first."""
    scope = _cases_in(period, building)
    found: list[dict[str, Any]] = []
    for level, keys in HOTSPOT_LEVELS.items():
        query: Select = (select(*keys, *_HOTSPOT_COUNTS).where(*scope, *(k.is_not(None) for k in keys))
                         .group_by(*keys).having(func.count() >= min_cases))
        for row in session.execute(query):
            found.append({"level": level, "unit": None, "category": None, **row._asdict()})
    building_names = names(session, Building, {item["building_id"] for item in found})
    for item in found:
        item |= {"building_name": building_names.get(item["building_id"]),
                 "last_submitted_at": aware(item["last_submitted_at"])}
    found.sort(key=lambda h: (-h["cases"], list(HOTSPOT_LEVELS).index(h["level"]), h["building_id"],
                              h["unit"] or "", h["category"] or ""))
    return found


# --- satisfaction --------------------------------------------------------------------------


@dataclass(frozen=True)
class SatisfactionCounts:
    overall: Row
    by_category: list[Row]
    by_owner: list[Row]
    owner_names: dict[str, str]


def satisfaction_counts(session: Session, period: Period, building: str | None = None) -> SatisfactionCounts:
    """Callback answers recorded in the period, by who gave them: all, by category, by first owner."""
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
    categories = list(session.execute(grouped(Case.category).group_by(Case.category)
                                      .order_by(func.count().desc(), Case.category)))
    owners = session.execute(grouped(Case.owner_id).where(Case.owner_id.is_not(None)).group_by(Case.owner_id)
                             .order_by(func.count().desc(), Case.owner_id)).all()
    owner_names = names(session, Staff, {row.owner_id for row in owners})
    return SatisfactionCounts(overall, categories, owners, owner_names)


# --- staff -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class StaffCounts:
    by_owner: list[Row]
    waits: dict[str, list[float]]  # owner → seconds from submission to acknowledgement, per case
    people: dict[str, Staff]


def staff_counts(session: Session, period: Period, building: str | None = None) -> StaffCounts:
    """The cases each first-contact owner took in the period, and how they went."""
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
        waits[owner].append(max((aware(acknowledged) - aware(submitted)).total_seconds(), 0.0))
    people = {person.id: person for person in session.scalars(
        select(Staff).where(Staff.id.in_({row.owner_id for row in rows})))}
    return StaffCounts(rows, waits, people)


# --- equipment -------------------------------------------------------------------------------


def device_cases(session: Session, period: Period,
                 building: str | None = None) -> list[tuple[Equipment, list[Case]]]:
    """Each device named by cases (repairs, inspections) submitted in the period, with those cases."""
    scope = [period.covers(Case.submitted_at), Case.equipment_id.is_not(None)]
    if building is not None:
        scope.append(Case.building_id == building)
    cases: dict[str, list[Case]] = {}
    for repair in session.scalars(select(Case).where(*scope)):
        cases.setdefault(repair.equipment_id, []).append(repair)
    devices = {device.id: device for device in
               session.scalars(select(Equipment).where(Equipment.id.in_(cases)))}
    return [(devices[device_id], repairs) for device_id, repairs in cases.items() if device_id in devices]
