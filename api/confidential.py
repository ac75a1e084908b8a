"""Confidential complaints about staff, at the API: the person a complaint names never finds it.

The workflow decides who may act (each validator checks the actor's tier against the complaint's
subject); the API hides the complaint from its subject in every list and read (404, as for a case that
does not exist) and hands the workflow the acting staff member's tier from the directory.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import Session, sessionmaker

from api.cases import unset_or_not
from steward.store.models import Case, Staff
from workflows import search
from workflows.contracts import Actor, Role, Tier


def not_about(caller: Actor) -> list[str]:
    """The visibility condition that leaves out complaints about the caller (none for residents)."""
    return [] if caller.role is Role.resident else [unset_or_not(search.SUBJECT, caller.id)]


def kept_from(caller: Actor) -> dict[str, ColumnElement[bool]]:
    """The read-model condition (a filter of `steward.store.deadlines.page`) that leaves out complaints
    about the caller, for the lists the board and `/at-risk` read from SQL."""
    if caller.role is Role.resident:
        return {}
    return {"not_about_caller": or_(Case.subject_staff_id.is_(None), Case.subject_staff_id != caller.id)}


def tier_of(sessions: sessionmaker[Session], caller: Actor) -> Tier | None:
    """The staff member's tier in the directory; None for residents, admins and unknown ids."""
    if caller.role not in (Role.staff, Role.supervisor):
        return None
    with sessions() as session:
        tier = session.scalar(select(Staff.tier).where(Staff.id == caller.id))
    return Tier(tier) if tier is not None else None
