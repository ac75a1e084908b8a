"""Who holds a case, for what is kept tighter than the case itself (its photos): a supervisor; the
resident it is for; a staff member who handles or owns it or was told about it (a dispatch, an
escalation, a warning: a notice addressed to them)."""

from __future__ import annotations

from sqlalchemy import exists, select
from sqlalchemy.orm import Session, sessionmaker

from api.errors import ApiError
from steward.store.models import Notification, Photo
from workflows.case_contracts import CaseSummary
from workflows.contracts import Actor, Role


def was_told(sessions: sessionmaker[Session], case_id: str, staff_id: str) -> bool:
    with sessions() as session:
        return bool(session.scalar(select(exists().where(
            Notification.case_id == case_id, Notification.recipient_id == staff_id))))


def holds_case(sessions: sessionmaker[Session], case: CaseSummary, actor: Actor) -> bool:
    if actor.role is Role.supervisor:
        return True
    if actor.role is Role.resident:
        return case.resident_id == actor.id
    if actor.role is Role.staff:
        return actor.id in (case.owner_id, case.handler_id) or was_told(sessions, case.case_id, actor.id)
    return False


def check_photos(sessions: sessionmaker[Session], case_id: str, caller: Actor, photo_ids: list[str]) -> None:
    """A note or resolution names only photos of this case that its author attached: 422 otherwise."""
    if not photo_ids:
        return
    with sessions() as session:
        for photo_id in photo_ids:
            row = session.get(Photo, photo_id)
            if row is None or row.case_id != case_id or row.uploaded_by != caller.id:
                raise ApiError(422, f"photos: {photo_id} is not a photo you attached to case {case_id}")
