"""Open cases in the order a supervisor works them, a page at a time, from the read model's indexes.

The board and `/at-risk` read only SQL: the projection keeps each case's next deadline in an indexed
column, so a page costs one index range scan whatever the number of open cases, and no case is ever
left out (keyset pages, not a cut at N). "Racing" cases (a deadline runs) come first by that deadline;
the board then lists the other open cases by submission.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel
from sqlalchemy import ColumnElement, Select, func, select, tuple_
from sqlalchemy.orm import Session

from steward.store.models import Case, CaseEventRow

Phase = Literal["racing", "waiting"]


class Position(BaseModel):
    """Where the previous page ended: the last case's phase, sort instant and id."""

    phase: Phase
    at: datetime
    case_id: str


def aware(moment: datetime | None) -> datetime | None:
    """SQLite hands back the stored UTC time without its zone."""
    if moment is None:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _open(filters: dict[str, Any]) -> list[ColumnElement[bool]]:
    conditions = [Case.status != "closed"]
    conditions += [getattr(Case, column) == value for column, value in filters.items() if value is not None]
    return conditions


def _racing(filters: dict[str, Any], after: Position | None) -> Select:
    query = select(Case).where(*_open(filters), Case.next_deadline.is_not(None))
    if after is not None:
        query = query.where(tuple_(Case.next_deadline, Case.case_id) > tuple_(after.at, after.case_id))
    return query.order_by(Case.next_deadline, Case.case_id)


def _waiting(filters: dict[str, Any], after: Position | None) -> Select:
    query = select(Case).where(*_open(filters), Case.next_deadline.is_(None))
    if after is not None:
        query = query.where(tuple_(Case.submitted_at, Case.case_id) > tuple_(after.at, after.case_id))
    return query.order_by(Case.submitted_at, Case.case_id)


def position_of(case: Case) -> Position:
    if case.next_deadline is not None:
        return Position(phase="racing", at=aware(case.next_deadline), case_id=case.case_id)
    return Position(phase="waiting", at=aware(case.submitted_at), case_id=case.case_id)


def page(session: Session, filters: dict[str, Any], after: Position | None, size: int,
         racing_only: bool = False) -> tuple[list[Case], Position | None]:
    """Up to `size` open cases after `after`, and where the next page starts (None at the end)."""
    rows: list[Case] = []
    if after is None or after.phase == "racing":
        rows = list(session.scalars(_racing(filters, after).limit(size + 1)))
    if not racing_only and len(rows) <= size:
        waiting_after = after if after is not None and after.phase == "waiting" else None
        rows += session.scalars(_waiting(filters, waiting_after).limit(size + 1 - len(rows)))
    more = len(rows) > size
    rows = rows[:size]
    return rows, position_of(rows[-1]) if more and rows else None


def open_count(session: Session, filters: dict[str, Any], racing_only: bool = False) -> int:
    conditions = _open(filters)
    if racing_only:
        conditions.append(Case.next_deadline.is_not(None))
    return session.scalar(select(func.count()).select_from(Case).where(*conditions)) or 0


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
