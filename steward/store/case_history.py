"""What a case's timeline reads from the read model: each message's delivery as Twilio reported it,
who a phone number belongs to, and, once Temporal no longer keeps the workflow, the case's recorded
transitions and messages."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from steward.store.models import Case, CaseEventRow, Notification, Resident, Staff


def deliveries(session: Session, keys: Iterable[str], under: Iterable[str] = ()) -> dict[str, Notification]:
    """The notifications rows of these message keys, and of every key under these (`key:…`), by key."""
    which = or_(Notification.key.in_(keys), *(Notification.key.startswith(f"{key}:", autoescape=True)
                                               for key in under))
    return {row.key: row for row in session.scalars(select(Notification).where(which))}


def directory_ids(session: Session, phones: Iterable[str]) -> dict[str, str]:
    """The staff member's or resident's id for each of these phones the directory knows."""
    phones = set(phones)
    return {phone: person for phone, person in session.execute(
        select(Staff.phone, Staff.id).where(Staff.phone.in_(phones))
        .union_all(select(Resident.phone, Resident.id).where(Resident.phone.in_(phones)))
    )}


@dataclass(frozen=True)
class CaseRecord:
    case: Case
    events: list[CaseEventRow]
    messages: list[Notification]


def case_record(session: Session, case_id: str) -> CaseRecord | None:
    """The case's row, its transitions in order and its messages; None when it has no row."""
    case = session.get(Case, case_id)
    if case is None:
        return None
    events = session.scalars(select(CaseEventRow).where(CaseEventRow.case_id == case_id)
                             .order_by(CaseEventRow.seq))
    messages = session.scalars(select(Notification).where(Notification.case_id == case_id))
    return CaseRecord(case, list(events), list(messages))
