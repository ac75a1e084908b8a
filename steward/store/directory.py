"""The directory as a supervisor's console lists it: every building, and every staff member a case can
be given to."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from steward.store.models import Building, Staff


def buildings(session: Session) -> list[Building]:
    return list(session.scalars(select(Building).order_by(Building.id)))


def staff(session: Session) -> list[Staff]:
    """Lowest tier first: those who take a case first head the list."""
    return list(session.scalars(select(Staff).order_by(Staff.tier, Staff.id)))
