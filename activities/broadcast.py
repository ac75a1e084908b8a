"""Many notices in one activity: how a hearing reaches thousands of households without one activity
(and a handful of history events) per household, and how a page reaches a tier on duty at once.

Each notice goes through `Notifier.send` exactly as a single one would (its own idempotency key, its
own `notifications` row), a few at a time. A notice Twilio refuses for good (invalid number, opted
out) is reported back and not retried; if any failed for a passing reason (an outage, a rate limit)
the activity fails after the rest were sent, and its retry sends only those: the others' keys
already have a SID.
"""

from __future__ import annotations

import asyncio

from sqlalchemy.orm import Session, sessionmaker
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.directory import staff_to_tell
from activities.notify import Notifier
from activities.projection import write_case_events
from workflows.activity_contracts import Notice, SendManyResult, StaffContact, StaffNotices
from workflows.messenger import staff_notices
from workflows.names import Activity

AT_ONCE = 8


class Broadcaster:
    def __init__(self, notifier: Notifier, sessions: sessionmaker[Session]) -> None:
        self.notifier = notifier
        self.sessions = sessions

    @activity.defn(name=Activity.NOTIFY_STAFF)
    async def send_to_staff(self, notices: StaffNotices) -> SendManyResult:
        """Who is to be told, read as it is now (an escalation's tier on duty), and every notice sent:
        one activity per page, so a storm of escalations sends before it looks anything up again."""
        def readers(session: Session) -> list[StaffContact]:
            return staff_to_tell(session, notices.staff_ids, notices.tier)

        def look_up() -> list[StaffContact]:
            if notices.carried is not None:
                return write_case_events(self.sessions, notices.carried, then=readers)
            with self.sessions() as session:
                return readers(session)

        people = await asyncio.to_thread(look_up)
        return await self.send_many(staff_notices(notices.case_id, notices.key, people, notices.channel,
                                                  notices.template, notices.params, notices.gather))

    @activity.defn(name=Activity.NOTIFY_MANY)
    async def send_many(self, notices: list[Notice]) -> SendManyResult:
        slots = asyncio.Semaphore(AT_ONCE)
        failed: list[str] = []
        passing: list[str] = []

        async def one(notice: Notice) -> None:
            async with slots:
                try:
                    await self.notifier.send(notice)
                except ApplicationError as error:
                    (passing if not error.non_retryable else failed).append(f"{notice.key}: {error.type}")
                activity.heartbeat()

        await asyncio.gather(*(one(notice) for notice in notices))
        if passing:
            raise ApplicationError(
                f"{len(passing)} of {len(notices)} notices not sent yet: {', '.join(passing[:5])}",
                type="TwilioUnavailable",
            )
        return SendManyResult(sent=len(notices) - len(failed), failed=failed)
