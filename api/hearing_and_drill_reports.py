"""Reports on hearings and drills from the read model: how objections were answered and decided, how
many took part in drills, what residents answered, and how fast the repairs drills found were closed.

A hearing counts in the period its hearing date falls in, a drill in the period of its scheduled
time. The figures come from the rows the projection keeps (`hearings`, `drills`, and the finding's
own `cases` rows), so they are the same on SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from api.reports import ReportBase, hours, median_hours, rate, table
from steward.store.community_models import HearingRow
from steward.store.deadlines import aware
from steward.store.hearings_and_drills import cases_by_id, drills_scheduled, hearings_held, objection_figures
from steward.store.reports import Period


class HearingFigures(BaseModel):
    hearing_id: str
    title: str
    hearing_at: datetime
    status: str
    objections: int
    answered: int
    answered_in_time: int = Field(description="Answered before the objection's answer deadline.")
    median_answer_hours: float | None
    outcome: str | None
    objectors_called_back: int
    objectors_to_call: int


class HearingReport(ReportBase):
    hearings: int
    objections: int
    answered_in_time_rate: float | None = Field(description="Objections answered in time / objections.")
    outcomes: dict[str, int] = Field(description="Decisions by outcome (approved, rejected, revised).")
    by_hearing: list[HearingFigures]

    def table(self) -> tuple[list[str], list[list[Any]]]:
        return table(HearingFigures, self.by_hearing)


def _hearing(row: HearingRow) -> HearingFigures:
    figures = objection_figures(row)
    return HearingFigures(
        hearing_id=row.hearing_id, title=row.title, hearing_at=aware(row.hearing_at), status=row.status,
        objections=figures.objections, answered=figures.answered, answered_in_time=figures.answered_in_time,
        median_answer_hours=hours(figures.median_answer_seconds), outcome=row.outcome,
        objectors_called_back=figures.called_back, objectors_to_call=figures.callbacks,
    )


def hearing_report(session: Session, period: Period) -> HearingReport:
    figures = [_hearing(row) for row in hearings_held(session, period)]
    outcomes: dict[str, int] = {}
    for figure in figures:
        if figure.outcome:
            outcomes[figure.outcome] = outcomes.get(figure.outcome, 0) + 1
    objections = sum(f.objections for f in figures)
    in_time = sum(f.answered_in_time for f in figures)
    return HearingReport.over(period, hearings=len(figures), objections=objections,
                              answered_in_time_rate=rate(in_time, objections), outcomes=outcomes,
                              by_hearing=figures)


class DrillFigures(BaseModel):
    drill_id: str
    drill_type: str
    building_id: str
    scheduled_at: datetime
    status: str
    started_late: bool
    participation: int | None
    households_told: int | None
    survey_asked: int
    survey_heard: int
    survey_not_heard: int
    heard_rate: float | None = Field(description="Heard / (heard + not heard).")
    findings: int
    findings_closed: int = Field(description="Repair cases from the findings that are closed.")
    median_repair_hours: float | None = Field(description="Submission to closing of the closed ones.")
    report_late: bool


class DrillReport(ReportBase):
    drills: int
    participation: int
    heard_rate: float | None
    findings: int
    findings_closed: int
    median_repair_hours: float | None
    by_drill: list[DrillFigures]

    def table(self) -> tuple[list[str], list[list[Any]]]:
        return table(DrillFigures, self.by_drill)


def drill_report(session: Session, period: Period, building: str | None = None) -> DrillReport:
    rows = drills_scheduled(session, period, building)
    repairs = cases_by_id(session, {f["case_id"] for row in rows for f in row.state.get("findings", [])})
    figures: list[DrillFigures] = []
    all_spans: list[float] = []
    for row in rows:
        ids = [f["case_id"] for f in row.state.get("findings", [])]
        closed = [repairs[i] for i in ids if i in repairs and repairs[i].closed_at is not None]
        spans = [(aware(c.closed_at) - aware(c.submitted_at)).total_seconds() for c in closed]
        all_spans += spans
        told = (row.state.get("announcement") or {}).get("residents")
        figures.append(DrillFigures(
            drill_id=row.drill_id, drill_type=row.drill_type, building_id=row.building_id,
            scheduled_at=aware(row.scheduled_at), status=row.status, started_late=row.start_missed,
            participation=row.participation, households_told=told, survey_asked=row.survey_asked,
            survey_heard=row.survey_heard, survey_not_heard=row.survey_not_heard,
            heard_rate=rate(row.survey_heard, row.survey_heard + row.survey_not_heard),
            findings=len(ids), findings_closed=len(closed), median_repair_hours=median_hours(spans),
            report_late=row.report_missed,
        ))
    heard = sum(f.survey_heard for f in figures)
    return DrillReport.over(
        period, drills=len(figures),
        participation=sum(f.participation or 0 for f in figures),
        heard_rate=rate(heard, heard + sum(f.survey_not_heard for f in figures)),
        findings=sum(f.findings for f in figures), findings_closed=sum(f.findings_closed for f in figures),
        median_repair_hours=median_hours(all_spans), by_drill=figures,
    )
