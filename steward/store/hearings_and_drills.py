"""Hearings and drills as the read model keeps them (`hearings`, `drills`, and the cases drills found),
for their lists, the reports on them and the public board."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from steward.store.community_models import DrillRow, HearingRow
from steward.store.models import Case, Notification
from steward.store.reports import Period
from workflows.hearing_contracts import HearingState, ObjectionFigures, ObjectionRecord, ObjectorCallback

FIGURES = "figures"


def kept_hearing(state: HearingState, figures: ObjectionFigures) -> dict[str, Any]:
    """A hearing's state as its row keeps it: no timeline, and its objections and callbacks as figures
    rather than records (a projection carries only the figures)."""
    kept = state.model_dump(mode="json", exclude={"timeline", "objections", "callbacks"})
    return kept | {"objections": [], "callbacks": [], FIGURES: figures.model_dump(mode="json")}


def hearing_state(row: HearingRow) -> HearingState:
    """The state a row keeps, without its timeline (nor, written since the figures, its objections and
    callbacks)."""
    kept = {key: value for key, value in row.state.items() if key != FIGURES}
    return HearingState.model_validate(kept | {"timeline": []})


def objection_figures(row: HearingRow) -> ObjectionFigures:
    """The row's objection and callback figures; a row written before they were kept lists the records."""
    if FIGURES in row.state:
        return ObjectionFigures.model_validate(row.state[FIGURES])
    return ObjectionFigures.of([ObjectionRecord.model_validate(o) for o in row.state.get("objections", [])],
                               [ObjectorCallback.model_validate(c) for c in row.state.get("callbacks", [])])


def hearings_held(session: Session, period: Period) -> list[HearingRow]:
    """Hearings whose hearing date falls in the period, earliest first."""
    return list(session.scalars(select(HearingRow).where(period.covers(HearingRow.hearing_at))
                                .order_by(HearingRow.hearing_at, HearingRow.hearing_id)))


def drills_scheduled(session: Session, period: Period, building: str | None = None) -> list[DrillRow]:
    """Drills scheduled in the period, earliest first."""
    query = select(DrillRow).where(period.covers(DrillRow.scheduled_at))
    if building is not None:
        query = query.where(DrillRow.building_id == building)
    return list(session.scalars(query.order_by(DrillRow.scheduled_at, DrillRow.drill_id)))


def cases_by_id(session: Session, case_ids: Iterable[str]) -> dict[str, Case]:
    return {case.case_id: case for case in session.scalars(select(Case).where(Case.case_id.in_(case_ids)))}


def latest_hearings(session: Session, most: int) -> list[HearingRow]:
    """The latest hearings, latest hearing date first."""
    return list(session.scalars(select(HearingRow).limit(most)
                                .order_by(HearingRow.hearing_at.desc(), HearingRow.hearing_id)))


def drills_in(session: Session, statuses: Iterable[str], most: int) -> list[DrillRow]:
    """Drills in one of these statuses, soonest first."""
    return list(session.scalars(select(DrillRow).where(DrillRow.status.in_(statuses))
                                .order_by(DrillRow.scheduled_at, DrillRow.drill_id).limit(most)))


def hearing_filters(status: str | None, awaiting_answers: bool | None) -> dict[str, Any]:
    """The `page` filters of the hearings list; `awaiting_answers`: with objections open (true) or none."""
    filters: dict[str, Any] = {"status": status}
    if awaiting_answers is not None:
        filters["awaiting"] = HearingRow.objections_open > 0 if awaiting_answers else \
            HearingRow.objections_open == 0
    return filters


def drill_filters(status: str | None, drill_type: str | None, building: str | None, not_started: bool,
                  report_overdue: bool) -> dict[str, Any]:
    """The `page` filters of the drills list: not started yet, or completed with the report late."""
    filters: dict[str, Any] = {"status": status, "building_id": building, "drill_type": drill_type}
    if not_started:
        filters["not_started"] = DrillRow.started_at.is_(None) & (DrillRow.status != "closed")
    if report_overdue:
        filters["report_overdue"] = DrillRow.reported_at.is_(None) & (DrillRow.report_due < datetime.now(UTC))
    return filters


def survey_batch_asking(session: Session, drill_id: str, resident_id: str) -> str | None:
    """The survey batch (a child workflow of the drill) that asked this resident, from its notices."""
    return session.scalar(select(Notification.case_id).limit(1).where(
        Notification.case_id.startswith(f"{drill_id}/survey-", autoescape=True),
        Notification.recipient_id == resident_id))
