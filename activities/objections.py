"""Objection texts and answers in the database, so a hearing with thousands of objections carries only
their numbers, people and deadlines when it continues as new. Each write is idempotent: a retried
receipt inserts nothing twice, a retried answer writes the same values again. An answer whose receipt
is not written yet (its write still retrying) fails and is retried until it is, rather than lost."""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.projection import utc
from steward.store.community_models import HearingObjectionRow
from steward.store.database import insert_for
from workflows.hearing_contracts import KeptObjection
from workflows.names import Activity

NOT_KEPT_YET = "ObjectionNotKeptYet"


class ObjectionStore:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions

    @activity.defn(name=Activity.KEEP_OBJECTION)
    def keep(self, objection: KeptObjection) -> None:
        with self.sessions.begin() as session:
            if objection.text is not None:
                session.execute(
                    insert_for(session)(HearingObjectionRow)
                    .values(hearing_id=objection.hearing_id, number=objection.number,
                            resident_id=objection.resident_id, text=objection.text,
                            received_at=utc(objection.received_at))
                    .on_conflict_do_nothing(index_elements=["hearing_id", "number"])
                )
            if objection.answer is not None:
                answered = session.execute(
                    update(HearingObjectionRow)
                    .where(HearingObjectionRow.hearing_id == objection.hearing_id,
                           HearingObjectionRow.number == objection.number)
                    .values(answer=objection.answer, answered_by=objection.answered_by,
                            answered_at=utc(objection.answered_at))
                )
                if answered.rowcount == 0:
                    raise ApplicationError(f"objection {objection.number} of {objection.hearing_id} is not "
                                           "written yet; its answer waits for it", type=NOT_KEPT_YET)
