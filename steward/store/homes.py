"""A resident's home as the directory knows it: the household, its building and unit. Filing, the abuse
limits and the resident's pages all ask it."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from steward.store.models import Household, Resident


@dataclass(frozen=True)
class Home:
    household_id: str
    building_id: str
    unit: str


def home_of(session: Session, resident_id: str) -> Home | None:
    """The resident's household, or None when the directory does not know them."""
    row = session.execute(
        select(Household.id, Household.building_id, Household.unit)
        .join(Resident, Resident.household_id == Household.id).where(Resident.id == resident_id)
    ).first()
    return Home(row.id, row.building_id, row.unit) if row else None
