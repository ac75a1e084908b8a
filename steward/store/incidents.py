"""Building-wide incidents in the read model (issue 22): the open incident a new report joins, the list
staff page through, the cases one gathered, and what the hotspot report counts.

Rows are written only by the incident's projection (`activities/incidents.py`).
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel
from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import Session

from steward.store.community_models import IncidentRow
from steward.store.deadlines import aware
from steward.store.models import Case
from steward.store.reports import Period
from workflows.case_contracts import IncidentHold

OPEN = "open"


def open_incidents_for(session: Session, building_id: str, unit: str | None,
                       category: str) -> list[IncidentHold]:
    """The open incidents of this building and category covering the unit (all of it when it names no
    units), oldest first: a report filed there joins the first one still running."""
    rows = session.scalars(select(IncidentRow).where(
        IncidentRow.building_id == building_id, IncidentRow.category == category, IncidentRow.status == OPEN,
    ).order_by(IncidentRow.opened_at, IncidentRow.incident_id))
    return [IncidentHold(incident_id=row.incident_id, title=row.title,
                         expected_restoration=aware(row.expected_restoration))
            for row in rows if not row.units or unit in row.units]


class IncidentKey(BaseModel):
    """Where a page of `GET /incidents` ends: newest first, by opening time then id."""

    opened_at: datetime
    incident_id: str


def incidents_page(session: Session, building: str | None, status: str | None, after: IncidentKey | None,
                   limit: int) -> tuple[list[IncidentRow], IncidentKey | None]:
    """A keyset page, newest first, and the key of its last row when more follow."""
    where: list[ColumnElement[bool]] = []
    if building is not None:
        where.append(IncidentRow.building_id == building)
    if status is not None:
        where.append(IncidentRow.status == status)
    if after is not None:
        same_time = IncidentRow.opened_at == after.opened_at
        where.append(or_(IncidentRow.opened_at < after.opened_at,
                         same_time & (IncidentRow.incident_id < after.incident_id)))
    rows = list(session.scalars(select(IncidentRow).where(*where)
                                .order_by(IncidentRow.opened_at.desc(), IncidentRow.incident_id.desc())
                                .limit(limit + 1)))
    for row in rows:
        session.expunge(row)
    if len(rows) <= limit:
        return rows, None
    last = rows[limit - 1]
    return rows[:limit], IncidentKey(opened_at=aware(last.opened_at), incident_id=last.incident_id)


def gathered_cases(session: Session, case_ids: list[str]) -> list[Case]:
    """The read model's rows of the cases an incident holds, in its order."""
    if not case_ids:
        return []
    rows = {row.case_id: row for row in session.scalars(select(Case).where(Case.case_id.in_(case_ids)))}
    for row in rows.values():
        session.expunge(row)
    return [rows[case_id] for case_id in case_ids if case_id in rows]


def incidents_in(session: Session, period: Period, building: str | None = None) -> list[dict]:
    """Every incident opened in the period, with the cases it gathered and its root cause, most cases
    first (the hotspot report: one outage counted once, its reports with it)."""
    query = select(IncidentRow).where(period.covers(IncidentRow.opened_at))
    if building is not None:
        query = query.where(IncidentRow.building_id == building)
    found = [{
        "incident_id": row.incident_id, "building_id": row.building_id, "units": list(row.units or []),
        "category": row.category, "title": row.title, "status": row.status, "cases": row.cases,
        "opened_at": aware(row.opened_at), "restored_at": aware(row.restored_at),
        "root_cause": row.root_cause, "breached": row.breached,
    } for row in session.scalars(query)]
    found.sort(key=lambda item: (-item["cases"], item["incident_id"]))
    return found
