"""Recurring drills in the read model: one `drill_schedules` row per Temporal Schedule, so supervisors
list them by their next drill, filtered and a page at a time, from SQL.

A schedule acts by itself (it starts and announces a drill) and tells no one, so a row's next times go
out of date as they pass. The routes write a row after every change they make; a list first reads again
from Temporal the few rows whose next action has passed; `steward reconcile` compares every row with
every schedule and repairs the difference. All of them write through `write` and `remove` here.
"""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi.concurrency import run_in_threadpool
from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker
from temporalio.client import Client

from api.drills import DrillScheduleView, view
from api.errors import ApiError
from steward.store.database import insert_for
from steward.store.deadlines import aware
from steward.store.models import DrillScheduleRow

REFRESHED_AT_ONCE = 20
"""Rows a list reads again from Temporal before answering: schedules act days apart, so a handful."""


def row_of(schedule: DrillScheduleView) -> dict:
    """What a row keeps: the view as Temporal gave it, and the columns lists filter and sort by."""
    return {
        "schedule_id": schedule.schedule_id, "building_id": schedule.building_id,
        "drill_type": schedule.drill_type.value, "paused": schedule.paused,
        "next_deadline": schedule.next_drills[0] if schedule.next_drills else None,
        "next_action": schedule.next_announcements[0] if schedule.next_announcements else None,
        "view": schedule.model_dump(mode="json"),
    }


def write(session: Session, schedule: DrillScheduleView) -> None:
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


def differences(row: DrillScheduleRow, schedule: DrillScheduleView) -> list[str]:
    """The columns of `row` that are not what `schedule` says now."""
    return [column for column, value in row_of(schedule).items()
            if (aware(got) if isinstance(got := getattr(row, column), datetime) else got) != value]


def remove(session: Session, schedule_id: str) -> None:
    session.execute(delete(DrillScheduleRow).where(DrillScheduleRow.schedule_id == schedule_id))


def store(sessions: sessionmaker[Session], schedule_id: str, schedule: DrillScheduleView | None) -> None:
    """One schedule's row in its own transaction: written, or removed when the schedule is gone."""
    with sessions.begin() as session:
        if schedule is None:
            remove(session, schedule_id)
        else:
            write(session, schedule)


async def project(client: Client, sessions: sessionmaker[Session],
                  schedule_id: str) -> DrillScheduleView | None:
    """Read the schedule from Temporal and write its row (or drop it when the schedule is gone)."""
    try:
        schedule = await view(client, schedule_id)
    except ApiError as error:
        if error.status != 404:
            raise
        schedule = None
    await run_in_threadpool(store, sessions, schedule_id, schedule)
    return schedule


def _overtaken(sessions: sessionmaker[Session], now: datetime) -> list[str]:
    with sessions() as session:
        return list(session.scalars(
            select(DrillScheduleRow.schedule_id).where(DrillScheduleRow.next_action <= now)
            .order_by(DrillScheduleRow.next_action).limit(REFRESHED_AT_ONCE)))


async def refresh_overtaken(client: Client, sessions: sessionmaker[Session]) -> None:
    """The rows whose next action has passed: the schedule has acted since, so their times moved on."""
    for schedule_id in await run_in_threadpool(_overtaken, sessions, datetime.now(UTC)):
        await project(client, sessions, schedule_id)
