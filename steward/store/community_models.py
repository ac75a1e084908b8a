"""SQL schema of the community-wide workflows' read model: hearings and their objections, drills and
their schedules, building incidents. Like the case read model, each row is written only by activities
(or the schedule calls), and every write is idempotent."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from steward.store.base import Base


class HearingObjectionRow(Base):
    """An objection's text and its written answer, kept here rather than in the hearing's carried state
    (a hearing may draw thousands, each up to 1,000 characters, and Temporal payloads are limited)."""

    __tablename__ = "hearing_objections"

    hearing_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    number: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    resident_id: Mapped[str] = mapped_column(String(32), index=True)
    text: Mapped[str] = mapped_column(Text)
    received_at: Mapped[datetime]
    answer: Mapped[str | None] = mapped_column(Text)
    answered_by: Mapped[str | None] = mapped_column(String(32))
    answered_at: Mapped[datetime | None]


class HearingRow(Base):
    """One row per hearing: the latest projected state, for lists, the console and reports."""

    __tablename__ = "hearings"

    hearing_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    status: Mapped[str] = mapped_column(String(20), index=True)
    title: Mapped[str] = mapped_column(String(200))
    building_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    hearing_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime]
    objections: Mapped[int] = mapped_column(Integer, default=0)
    objections_open: Mapped[int] = mapped_column(Integer, default=0)
    next_answer_due: Mapped[datetime | None]
    outcome: Mapped[str | None] = mapped_column(String(20))
    decided_at: Mapped[datetime | None]
    callbacks_pending: Mapped[int] = mapped_column(Integer, default=0)
    next_deadline: Mapped[datetime | None] = mapped_column(index=True)
    next_deadline_kind: Mapped[str | None] = mapped_column(String(32))
    state: Mapped[dict] = mapped_column(JSON, default=dict)
    last_seq: Mapped[int] = mapped_column(Integer, default=0)


class DrillScheduleRow(Base):
    """One row per recurring drill (a Temporal Schedule): what `GET /drill-schedules` lists, by the next
    drill. `next_deadline` is the next drill (none while paused), `next_action` the schedule's own next
    action (it announces that drill); a row whose next action has passed is read again from Temporal."""

    __tablename__ = "drill_schedules"

    schedule_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    building_id: Mapped[str] = mapped_column(String(32), index=True)
    drill_type: Mapped[str] = mapped_column(String(16), index=True)
    paused: Mapped[bool] = mapped_column(default=False)
    next_deadline: Mapped[datetime | None] = mapped_column(index=True)
    next_action: Mapped[datetime | None] = mapped_column(index=True)
    view: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class DrillRow(Base):
    """One row per drill: the latest projected state, for lists, the console and reports."""

    __tablename__ = "drills"

    drill_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    code: Mapped[str] = mapped_column(String(100))
    drill_type: Mapped[str] = mapped_column(String(16), index=True)
    building_id: Mapped[str] = mapped_column(String(32), index=True)
    title: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20), index=True)
    schedule_id: Mapped[str | None] = mapped_column(String(100), index=True)
    scheduled_at: Mapped[datetime]
    start_due: Mapped[datetime]
    started_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]
    participation: Mapped[int | None] = mapped_column(Integer)
    steps_done: Mapped[int] = mapped_column(Integer, default=0)
    steps_total: Mapped[int] = mapped_column(Integer, default=0)
    findings: Mapped[int] = mapped_column(Integer, default=0)
    report_due: Mapped[datetime | None]
    reported_at: Mapped[datetime | None]
    start_missed: Mapped[bool] = mapped_column(default=False)
    report_missed: Mapped[bool] = mapped_column(default=False)
    survey_asked: Mapped[int] = mapped_column(Integer, default=0)
    survey_heard: Mapped[int] = mapped_column(Integer, default=0)
    survey_not_heard: Mapped[int] = mapped_column(Integer, default=0)
    closed_at: Mapped[datetime | None]
    next_deadline: Mapped[datetime | None] = mapped_column(index=True)
    next_deadline_kind: Mapped[str | None] = mapped_column(String(32))
    state: Mapped[dict] = mapped_column(JSON, default=dict)
    last_seq: Mapped[int] = mapped_column(Integer, default=0)


class IncidentRow(Base):
    """One row per building-wide incident (issue 22): its latest projected state; `units` empty is the
    whole building. Filing reads the open ones to let a report join its incident."""

    __tablename__ = "incidents"

    incident_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    building_id: Mapped[str] = mapped_column(String(32), index=True)
    units: Mapped[list[str]] = mapped_column(JSON, default=list)
    category: Mapped[str] = mapped_column(String(64), index=True)
    status: Mapped[str] = mapped_column(String(20), index=True)
    title: Mapped[str] = mapped_column(String(200))
    opened_at: Mapped[datetime] = mapped_column(index=True)
    expected_restoration: Mapped[datetime]
    restored_at: Mapped[datetime | None]
    root_cause: Mapped[str | None] = mapped_column(Text)
    cases: Mapped[int] = mapped_column(Integer, default=0)
    breached: Mapped[bool] = mapped_column(default=False)
    state: Mapped[dict] = mapped_column(JSON, default=dict)
    last_seq: Mapped[int] = mapped_column(Integer, default=0)
