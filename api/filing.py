"""Where a case may be filed: a resident for their own home or a common area of their building, staff
for anyone (the member of staff who takes a resident's call and files it is its first contact).

`building_id` and `unit` left out are the household's of the resident the case is for; a resident who
names another building, or another household's unit, is refused before anything starts.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from api.errors import ApiError
from api.models import SubmitRequest
from steward.store.models import Household, Resident
from workflows.contracts import Actor, Role


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


def filed_where(sessions: sessionmaker[Session], request: SubmitRequest, caller: Actor) -> SubmitRequest:
    """The request with its building and unit settled: defaults from the household, a resident's own
    home or building checked (403 otherwise)."""
    with sessions() as session:
        home = home_of(session, request.resident_id)
    if home is None:
        if request.building_id is None:
            raise ApiError(422, "building_id: the resident has no household in the directory; name one")
        return request
    if request.building_id is None:
        settled = request.model_copy(update={
            "building_id": home.building_id,
            "unit": home.unit if "unit" not in request.model_fields_set else request.unit,
        })
    else:
        settled = request
    if caller.role is Role.resident and (
        settled.building_id != home.building_id or settled.unit not in (None, home.unit)
    ):
        raise ApiError(403, "a resident files only for their own home or a common area of their building "
                       f"({home.building_id}, unit {home.unit} or none)")
    return settled
