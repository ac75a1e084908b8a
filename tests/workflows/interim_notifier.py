"""Interim `notify.send` until activities/notify.py lands: records each Notice in `notifications`.

Phones listed in `INVALID` fail like Twilio's 21211 (non-retryable InvalidNumber).
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.dialects import postgresql, sqlite
from temporalio import activity
from temporalio.exceptions import ApplicationError

from steward.store.models import Notification
from workflows.contracts import Notice, SendResult

INVALID: set[str] = set()


class InterimNotifier:
    def __init__(self, sessions) -> None:
        self.sessions = sessions

    @activity.defn(name="notify.send")
    def send(self, notice: Notice) -> SendResult:
        if notice.to in INVALID:
            raise ApplicationError("invalid number", type="InvalidNumber", non_retryable=True)
        now = datetime.now(UTC)
        with self.sessions.begin() as session:
            insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
            session.execute(
                insert(Notification)
                .values(
                    key=notice.key,
                    case_id=notice.case_id,
                    to=notice.to,
                    channel=notice.channel.value,
                    template=notice.template,
                    locale=notice.locale.value,
                    params=notice.params,
                    gather=notice.gather,
                    attempt=notice.attempt,
                    sid=None,
                    status="sent",
                    created_at=now,
                    updated_at=now,
                )
                .on_conflict_do_nothing(index_elements=["key"])
            )
        return SendResult(sid=None, status="sent")
