"""Recurring drills in the read model: one `drill_schedules` row per Temporal Schedule, so supervisors
list them by their next drill, filtered and a page at a time, from SQL.

A schedule acts by itself (it starts and announces a drill) and tells no one, so a row's next times go
out of date as they pass. The routes write a row after every change they make; a list first reads again
from Temporal the few rows whose next action has passed; `steward reconcile` compares every row with
every schedule and repairs the difference. All of them write through `write` and `remove` here.

A row is written from the schedule as the API describes it (`api.drill_schedules.DrillScheduleView`);
this floor below the API names only the fields it reads (`ScheduleView`).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Protocol

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from steward.store.community_models import DrillScheduleRow
from steward.store.database import insert_for
from steward.store.deadlines import aware
from workflows.drill_contracts import DrillType

REFRESHED_AT_ONCE = 20
"""Rows a list reads again from Temporal before answering: schedules act days apart, so a handful."""


class ScheduleView(Protocol):
    schedule_id: str
    building_id: str
    drill_type: DrillType
    paused: bool
    next_drills: list[datetime]
    next_announcements: list[datetime]

    def model_dump(self, *, mode: str) -> dict[str, Any]: ...


def row_of(schedule: ScheduleView) -> dict:
    """What a row keeps: the view as Temporal gave it, and the columns lists filter and sort by."""
    return {
        "schedule_id": schedule.schedule_id, "building_id": schedule.building_id,
        "drill_type": schedule.drill_type.value, "paused": schedule.paused,
        "next_deadline": schedule.next_drills[0] if schedule.next_drills else None,
        "next_action": schedule.next_announcements[0] if schedule.next_announcements else None,
        "view": schedule.model_dump(mode="json"),
    }


def write(session: Session, schedule: ScheduleView) -> None:
    """The schedule's row as Temporal describes it now (idempotent: the last description wins; a row
    keeps when it was first written, which orders paused schedules in a list)."""
    now = datetime.now(UTC)
    row = row_of(schedule) | {"updated_at": now}
    upsert = insert_for(session)(DrillScheduleRow).values(**row, created_at=now)
    session.execute(upsert.on_conflict_do_update(
        index_elements=["schedule_id"],
        set_={column: upsert.excluded[column] for column in row if column != "schedule_id"}))


def rows(sessions: sessionmaker[Session]) -> dict[str, DrillScheduleRow]:
    with sessions() as session:
        return {row.schedule_id: row for row in session.scalars(select(DrillScheduleRow))}


def differences(row: DrillScheduleRow, schedule: ScheduleView) -> list[str]:
    """The columns of `row` that are not what `schedule` says now."""
    return [column for column, value in row_of(schedule).items()
            if (aware(got) if isinstance(got := getattr(row, column), datetime) else got) != value]


def remove(session: Session, schedule_id: str) -> None:
    session.execute(delete(DrillScheduleRow).where(DrillScheduleRow.schedule_id == schedule_id))


def store(sessions: sessionmaker[Session], schedule_id: str, schedule: ScheduleView | None) -> None:
    """One schedule's row in its own transaction: written, or removed when the schedule is gone."""
    with sessions.begin() as session:
        if schedule is None:
            remove(session, schedule_id)
        else:
            write(session, schedule)


def overtaken(sessions: sessionmaker[Session], now: datetime) -> list[str]:
    """The schedules whose next action has passed (a few at a time): they have acted since their row
    was written, so their next times moved on."""
    with sessions() as session:
        return list(session.scalars(
            select(DrillScheduleRow.schedule_id).where(DrillScheduleRow.next_action <= now)
            .order_by(DrillScheduleRow.next_action).limit(REFRESHED_AT_ONCE)))
