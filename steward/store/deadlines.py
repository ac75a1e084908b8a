"""Open cases (and hearings, drills) in the order a supervisor works them, a page at a time, from the
read model's indexes.

The board and `/at-risk` read only SQL: the projection keeps each case's next deadline in an indexed
column, so a page costs one index range scan whatever the number of open cases, and no case is ever
left out (keyset pages, not a cut at N). "Racing" cases (a deadline runs) come first by that deadline;
the board then lists the other open cases by submission.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel
from sqlalchemy import ColumnElement, Select, func, select, tuple_
from sqlalchemy.orm import Session, sessionmaker

from steward.store.community_models import DrillRow, DrillScheduleRow, HearingRow
from steward.store.models import Case, CaseEventRow

Phase = Literal["racing", "waiting"]


class Position(BaseModel):
    """Where the previous page ended: the last row's phase, sort instant and id."""

    phase: Phase
    at: datetime
    id: str


@dataclass(frozen=True)
class Ordering:
    """How a table is walked: rows with a next deadline by it, then the others by `fallback`."""

    model: type
    key: Any
    fallback: Any
    live: ColumnElement[bool] | None = None


CASES = Ordering(Case, Case.case_id, Case.submitted_at, Case.status != "closed")
HEARINGS = Ordering(HearingRow, HearingRow.hearing_id, HearingRow.hearing_at)
DRILLS = Ordering(DrillRow, DrillRow.drill_id, DrillRow.scheduled_at)
DRILL_SCHEDULES = Ordering(DrillScheduleRow, DrillScheduleRow.schedule_id, DrillScheduleRow.created_at)


def aware(moment: datetime | None) -> datetime | None:
    """SQLite hands back the stored UTC time without its zone."""
    if moment is None:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _where(order: Ordering, filters: dict[str, Any]) -> list[ColumnElement[bool]]:
    conditions = [] if order.live is None else [order.live]
    for column, value in filters.items():
        if isinstance(value, ColumnElement):
            conditions.append(value)
        elif value is not None:
            conditions.append(getattr(order.model, column) == value)
    return conditions


def _racing(order: Ordering, filters: dict[str, Any], after: Position | None) -> Select:
    deadline = order.model.next_deadline
    query = select(order.model).where(*_where(order, filters), deadline.is_not(None))
    if after is not None:
        query = query.where(tuple_(deadline, order.key) > tuple_(after.at, after.id))
    return query.order_by(deadline, order.key)


def _waiting(order: Ordering, filters: dict[str, Any], after: Position | None) -> Select:
    query = select(order.model).where(*_where(order, filters), order.model.next_deadline.is_(None))
    if after is not None:
        query = query.where(tuple_(order.fallback, order.key) > tuple_(after.at, after.id))
    return query.order_by(order.fallback, order.key)


def _position(order: Ordering, row: Any) -> Position:
    key = getattr(row, order.key.key)
    if row.next_deadline is not None:
        return Position(phase="racing", at=aware(row.next_deadline), id=key)
    return Position(phase="waiting", at=aware(getattr(row, order.fallback.key)), id=key)


def page(session: Session, filters: dict[str, Any], after: Position | None, size: int,
         racing_only: bool = False, order: Ordering = CASES) -> tuple[list[Any], Position | None]:
    """Up to `size` rows after `after`, and where the next page starts (None at the end).

    `filters` maps a column name to the value it must equal (None: any), or any key to a condition."""
    rows: list[Any] = []
    if after is None or after.phase == "racing":
        rows = list(session.scalars(_racing(order, filters, after).limit(size + 1)))
    if not racing_only and len(rows) <= size:
        waiting_after = after if after is not None and after.phase == "waiting" else None
        rows += session.scalars(_waiting(order, filters, waiting_after).limit(size + 1 - len(rows)))
    more = len(rows) > size
    rows = rows[:size]
    return rows, _position(order, rows[-1]) if more and rows else None


class Total(BaseModel):
    """A list's size as a first page tells it: exact up to the count's bound, a lower bound past it."""

    total: int
    total_at_least: bool

    @staticmethod
    def of_page(total: Total | None) -> dict[str, Any]:
        """A list's `total` and `total_at_least`: counted on its first page, null on later ones."""
        return total.model_dump() if total else {"total": None, "total_at_least": None}


def count(session: Session, filters: dict[str, Any], up_to: int, racing_only: bool = False,
          order: Ordering = CASES) -> Total:
    """Matching rows, counted no further than `up_to` + 1: a count of every open case is a scan that
    grows with them (267 ms p99 at 100,000), this one stops, and past the bound says "at least"."""
    conditions = _where(order, filters)
    if racing_only:
        conditions.append(order.model.next_deadline.is_not(None))
    bounded = select(order.key).where(*conditions).limit(up_to + 1).subquery()
    found = session.scalar(select(func.count()).select_from(bounded)) or 0
    return Total(total=min(found, up_to), total_at_least=found > up_to)


def page_and_total(sessions: sessionmaker[Session], filters: dict[str, Any], after: Position | None,
                   size: int, up_to: int, racing_only: bool = False, order: Ordering = CASES,
                   ) -> tuple[list[Any], Position | None, Total | None]:
    """A page as every list answers it: its rows, where the next starts, and on the first page only
    (`after` None) the bounded total, all from one session."""
    with sessions() as session:
        rows, following = page(session, filters, after, size, racing_only, order)
        return rows, following, None if after else count(session, filters, up_to, racing_only, order)


def overdue_count(session: Session, before: datetime) -> int:
    """Open cases whose next deadline passed before `before`: their workflow should have acted (and
    projected a new deadline) by now, so the read model lags or no worker runs them."""
    return session.scalar(select(func.count()).select_from(Case).where(
        Case.status != "closed", Case.next_deadline < before)) or 0


def missing_rows(session: Session, case_ids: list[str]) -> int:
    """How many of these cases have no row at all."""
    if not case_ids:
        return 0
    found = set(session.scalars(select(Case.case_id).where(Case.case_id.in_(case_ids))))
    return len(set(case_ids) - found)


def change_mark(session: Session) -> int:
    """Grows with every projected transition: the board's ETag is built from it."""
    return session.scalar(select(func.max(CaseEventRow.id))) or 0
