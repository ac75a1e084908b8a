"""Who is on duty for a building, in the order the escalation ladder reaches them: the handler first,
then team leads, then property managers. The activities that dispatch and page, and the service
centre's phone when it connects an emergency call, ask the same question here.

Staff with no building list cover the whole community (managers). Within a tier, the one with the
fewest open cases comes first (as dispatch picks), then by id.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from steward.store.models import Case, Staff
from workflows.contracts import Tier

LADDER = (Tier.handler, Tier.team_lead, Tier.property_manager)


def covers(staff: Staff, building_id: str | None) -> bool:
    """None is the service centre itself: every building, so every member of staff covers it."""
    return building_id is None or not staff.buildings or building_id in staff.buildings


def on_duty_in_tier(session: Session, tier: Tier, building_id: str | None) -> list[Staff]:
    """The active, on-duty staff of `tier` covering the building, by id."""
    staff = session.scalars(
        select(Staff).where(Staff.active, Staff.on_duty, Staff.tier == int(tier)).order_by(Staff.id))
    return [member for member in staff if covers(member, building_id)]


def duty_ladder(session: Session, building_id: str | None, tiers: tuple[Tier, ...] = LADDER) -> list[Staff]:
    """Everyone on duty for the building who has a phone, tier by tier; the least busy first in a tier."""
    people = [(tier, member) for tier in tiers for member in on_duty_in_tier(session, tier, building_id)
              if member.phone]
    open_cases = dict(session.execute(
        select(Case.handler_id, func.count())
        .where(Case.handler_id.in_([member.id for _, member in people]), Case.status != "closed")
        .group_by(Case.handler_id)).all())
    people.sort(key=lambda entry: (int(entry[0]), open_cases.get(entry[1].id, 0), entry[1].id))
    return [member for _, member in people]
