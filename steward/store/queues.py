"""What waits on a person rather than on a timer: app notices nobody opened, and inbound SMS no case
took until someone attaches it to one."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, tuple_, update
from sqlalchemy.orm import Session

from steward.store.models import InboundMessage, Notification

# What the SMS webhook made of a message (`inbound_messages.outcome`) when a person must follow up:
# no case took it, a case could not answer (in time), or its handling never finished ("received" is
# written before anything is tried, so a crash or a cut connection after it leaves the message listed).
NEEDS_A_PERSON = ("unmatched", "ambiguous", "unknown_code", "case_unavailable", "received", "report_refused")
ASSIGNED = "assigned"


def unread_app_notices(session: Session, sent_before: datetime, after: tuple[datetime, str] | None,
                       size: int) -> list[Notification]:
    """App notices sent before `sent_before` and never opened, oldest first, from after the
    (created_at, key) `after`; one row more than `size` says another page follows."""
    query = (select(Notification)
             .where(Notification.channel == "app", Notification.read_at.is_(None),
                    Notification.created_at < sent_before)
             .order_by(Notification.created_at, Notification.key).limit(size + 1))
    if after is not None:
        query = query.where(tuple_(Notification.created_at, Notification.key) > tuple_(*after))
    return list(session.scalars(query))


def inbound_messages(session: Session, unhandled: bool, before: datetime | None,
                     size: int) -> list[InboundMessage]:
    """SMS received before `before`, newest first; `unhandled`: only those waiting on a person."""
    query = select(InboundMessage).order_by(InboundMessage.received_at.desc()).limit(size)
    if unhandled:
        query = query.where(InboundMessage.outcome.in_(NEEDS_A_PERSON))
    if before is not None:
        query = query.where(InboundMessage.received_at < before)
    return list(session.scalars(query))


def attach_message(session: Session, sid: str, case_id: str) -> InboundMessage:
    """Take the message out of the queue once, for this case; the row says which case has it now (a
    message another case took meanwhile keeps that case)."""
    session.execute(update(InboundMessage)
                    .where(InboundMessage.sid == sid, InboundMessage.outcome.in_(NEEDS_A_PERSON))
                    .values(case_id=case_id, outcome=ASSIGNED))
    row = session.get(InboundMessage, sid)
    session.expunge(row)
    return row


def detach_message(session: Session, sid: str, outcome: str) -> None:
    """The message goes back to the queue with the outcome it had."""
    session.execute(update(InboundMessage).where(InboundMessage.sid == sid)
                    .values(case_id=None, outcome=outcome))
