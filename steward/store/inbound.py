"""What Twilio's webhooks read and write in the read model: who a phone is, what is waiting for its
answer, the inbound messages kept as they came, and the delivery status of what we sent.

Every write is idempotent, as Twilio retries: a MessageSid is kept once, and a status only ever moves
a notification forward.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import and_, exists, or_, select
from sqlalchemy.orm import Session

from steward.store.models import Case, Household, InboundMessage, Notification, Resident, Staff
from steward.texts.render import locale_of
from workflows.contracts import Locale

log = logging.getLogger("steward.webhooks")

AWAITING_ACK = ("submitted", "dispatched")
CALLBACK_SETTLED = ("manual_callback", "closed")  # no automatic attempt waits for an answer
JOIN_WITHIN = timedelta(minutes=5)
FILED = ("reported", "joined")  # the outcomes of texts that opened or joined a case
# Twilio's message and call statuses in the order they happen: a row moves only forward, so a late or
# contradicting callback (a "failed" after "delivered") never moves it back nor fails a delivered attempt.
_PROGRESS = {
    "pending": 0, "retrying": 0, "accepted": 1, "scheduled": 1, "queued": 1, "sending": 2, "initiated": 2,
    "sent": 3, "ringing": 3, "in-progress": 4, "delivered": 5, "undelivered": 5, "failed": 5, "read": 6,
    "completed": 5, "busy": 5, "no-answer": 5, "canceled": 5,
}


def now() -> datetime:
    return datetime.now(UTC)


# --- who the phone is, and what waits for it ----------------------------------------------------


@dataclass(frozen=True)
class Pending:
    """A case waiting for this phone: its callback attempt, or a notice waiting for acknowledgement."""

    case_id: str
    code: str
    attempt: int | None = None


def pending_callbacks(session: Session, phone: str, wait: timedelta) -> list[Pending]:
    """Cases waiting for this phone's answer to their `callback_request`, and drill surveys that asked
    it and are still open (until their `closes_at`); the latest attempt each.

    A case waits while the read model says it is in the callback step, and also while its request is
    younger than an attempt's `wait` and no SMS has answered it since: the request's row is written by
    the send, the case's status by a projection that may still be retrying (a worker killed, the
    database just back), and an answer must not depend on which came first. The workflow keeps only
    the first answer to an attempt it made; any other is noted and changes nothing.
    """
    answered = exists().where(
        InboundMessage.from_number == phone, InboundMessage.case_id == Notification.case_id,
        InboundMessage.outcome == "callback_reply", InboundMessage.received_at >= Notification.created_at)
    asking = or_(Case.status == "callback", and_(
        Case.status.not_in(CALLBACK_SETTLED), Notification.updated_at >= now() - wait, ~answered))
    asked = select(Notification.case_id, Notification.attempt, Notification.params).where(
        Notification.to == phone, Notification.attempt.is_not(None))
    rows = [
        *session.execute(asked.join(Case, Case.case_id == Notification.case_id).where(
            Notification.template == "callback_request", asking)),
        *session.execute(asked.where(Notification.template == "drill_survey",
                                     Notification.params["closes_at"].as_string() > now().isoformat())),
    ]
    latest = {case_id: Pending(case_id, (params or {}).get("code", case_id), attempt)
              for case_id, attempt, params in sorted(rows, key=lambda row: (row[0], row[1]))}
    return list(latest.values())


def awaiting_acknowledgement(session: Session, phone: str) -> list[Pending]:
    """Unacknowledged cases whose dispatch or escalation notice went to this phone."""
    rows = session.execute(
        select(Notification.case_id, Notification.params)
        .join(Case, Case.case_id == Notification.case_id)
        .where(Notification.to == phone, Notification.template.in_(("dispatch", "escalation")),
               Case.acknowledged_at.is_(None), Case.status.in_(AWAITING_ACK))
        .order_by(Notification.created_at.desc())
    ).all()
    found: dict[str, Pending] = {}
    for case_id, params in rows:
        found.setdefault(case_id, Pending(case_id, (params or {}).get("code", case_id)))
    return list(found.values())


def resident_home(session: Session, phone: str) -> tuple[str, str, str] | None:
    """(resident, building, unit) of the first resident with this phone."""
    row = session.execute(
        select(Resident.id, Household.building_id, Household.unit)
        .join(Household, Household.id == Resident.household_id)
        .where(Resident.phone == phone, Resident.active).order_by(Resident.id).limit(1)
    ).first()
    return (row.id, row.building_id, row.unit) if row else None


def staff_with_phone(session: Session, phone: str) -> Staff | None:
    """The active staff member with this phone: one who left acts by SMS or keypad no more."""
    return session.scalars(
        select(Staff).where(Staff.phone == phone, Staff.active).order_by(Staff.id).limit(1)).first()


def locale_for_phone(session: Session, phone: str) -> Locale:
    resident = session.scalars(select(Resident).where(Resident.phone == phone).limit(1)).first()
    staff = staff_with_phone(session, phone)
    return locale_of(resident.locale if resident else staff.locale if staff else None)


# --- what came in ---------------------------------------------------------------------------------


def store_inbound(session: Session, sid: str, phone: str, to: str, body: str) -> bool:
    """Keep the message; False when this MessageSid was already handled."""
    if session.get(InboundMessage, sid) is not None:
        return False
    session.add(InboundMessage(sid=sid, from_number=phone, to_number=to, body=body, received_at=now(),
                               outcome="received"))
    return True


def record_outcome(session: Session, sid: str, outcome: str, case_id: str | None) -> None:
    message = session.get(InboundMessage, sid)
    message.outcome, message.case_id = outcome, case_id


def case_to_join(session: Session, phone: str) -> str | None:
    """The case this phone's texts opened or joined within `JOIN_WITHIN`, if any: more texts from a
    resident a moment later are about the same thing."""
    return session.scalar(
        select(InboundMessage.case_id).where(
            InboundMessage.from_number == phone, InboundMessage.outcome.in_(FILED),
            InboundMessage.case_id.is_not(None), InboundMessage.received_at >= now() - JOIN_WITHIN)
        .order_by(InboundMessage.received_at.desc()).limit(1))


def apply_status(
    session: Session, sid: str, status: str, error_code: int | None
) -> tuple[str, int | None, str] | None:
    """Move the notification forward; (case, attempt, channel) when this status is news, else None."""
    row = session.scalars(select(Notification).where(Notification.sid == sid)).first()
    if row is None:
        log.info("status %s for unknown sid %s", status, sid)
        return None
    if _PROGRESS.get(status, 0) <= _PROGRESS.get(row.status, 0):
        return None
    row.status, row.error_code, row.updated_at = status, error_code, now()
    return row.case_id, row.attempt, row.channel
