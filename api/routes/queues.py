"""Queues for people: what waits on a person rather than on a timer, read from the read model.

- manual callbacks awaiting someone: cases whose resident could not be reached, until staff record
  the callback (`POST /requests/{id}/callback`), which moves the case on and out of the queue;
- unmatched inbound SMS: `GET /inbound-messages` lists them; `POST /inbound-messages/{sid}/assign/{case}`
  attaches one to an open case (its text becomes a progress note of the case, by the person who
  attached it) and takes it out of that list;
- app notices unread past `STEWARD_UNREAD_NOTICE_WINDOW` (10 minutes by default): whom to call.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Path, Query
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from api import cursor
from api.auth import StaffMember
from api.cases import REQUEST_ID, find_open_case, signal_case
from api.context import ClientDep, SessionsDep, SettingsDep
from api.errors import ERROR_RESPONSES, ApiError
from api.models import CountedPage
from api.routes.inbound import InboundEntry
from steward.store.deadlines import Position, Total, aware, page_and_total
from steward.store.models import InboundMessage, Notification
from steward.store.queues import ASSIGNED, NEEDS_A_PERSON, attach_message, detach_message, unread_app_notices
from workflows.actions import ProgressNote
from workflows.names import CaseSignal

router = APIRouter(tags=["queues"], responses=ERROR_RESPONSES)

MANUAL = "manual_callback"


class ManualCallback(BaseModel):
    case_id: str
    kind: str
    title: str
    building_id: str
    unit: str | None
    resident_id: str
    owner_id: str | None = Field(description="Whose task it is (the first-contact owner).")
    handler_id: str | None
    tier: int = Field(description="How far up the ladder the task has been paged.")
    next_deadline: datetime | None = Field(description="When it pages one tier further if still unrecorded.")


class ManualCallbacks(CountedPage[ManualCallback]):
    """Manual callback tasks, the most urgent first."""


class UnreadNotice(BaseModel):
    key: str
    case_id: str
    recipient_id: str | None
    template: str
    created_at: datetime
    minutes_unread: int


class UnreadNotices(BaseModel):
    window_minutes: int = Field(description="`STEWARD_UNREAD_NOTICE_WINDOW`: unread notices older than "
                                "this are listed.")
    items: list[UnreadNotice]
    next_page_token: str | None = Field(description="Give as `page_token` for the next page; null at end.")


class NoticeKey(BaseModel):
    created_at: datetime
    key: str


@router.get("/queues/manual-callbacks", response_model=ManualCallbacks,
            summary="Manual callbacks awaiting someone, the next page up the ladder first")
async def manual_callbacks(
    caller: StaffMember, sessions: SessionsDep, settings: SettingsDep,
    building: Annotated[str | None, Query(pattern=r"^[A-Za-z0-9-]{1,32}$")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    page_token: Annotated[str | None, Query(max_length=400)] = None,
) -> ManualCallbacks:
    filters = {"status": MANUAL, "building_id": building}
    scope = cursor.scope_of("manual-callbacks", filters | {"limit": limit})
    after = cursor.decode(scope, page_token, Position)
    rows, following, total = await run_in_threadpool(page_and_total, sessions, filters, after, limit,
                                                     settings.count_up_to)
    items = [ManualCallback(**{name: getattr(row, name) for name in ManualCallback.model_fields
                               if name != "next_deadline"}, next_deadline=aware(row.next_deadline))
             for row in rows]
    return ManualCallbacks(items=items, **Total.of_page(total),
                           next_page_token=cursor.encode(scope, following))


@router.get("/queues/unread-notices", response_model=UnreadNotices,
            summary="App notices nobody opened within the window, oldest first")
async def unread_notices(
    caller: StaffMember, sessions: SessionsDep, settings: SettingsDep,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    page_token: Annotated[str | None, Query(max_length=400)] = None,
) -> UnreadNotices:
    scope = cursor.scope_of("unread-notices", {"limit": limit})
    after = cursor.decode(scope, page_token, NoticeKey)
    now = datetime.now(UTC)

    def read() -> list[Notification]:
        with sessions() as session:
            return unread_app_notices(session, now - settings.unread_after,
                                      (after.created_at, after.key) if after else None, limit)

    rows = await run_in_threadpool(read)
    more, rows = len(rows) > limit, rows[:limit]
    items = [UnreadNotice(key=row.key, case_id=row.case_id, recipient_id=row.recipient_id,
                          template=row.template, created_at=aware(row.created_at),
                          minutes_unread=int((now - aware(row.created_at)).total_seconds() // 60))
             for row in rows]
    following = NoticeKey(created_at=items[-1].created_at, key=items[-1].key) if more and items else None
    return UnreadNotices(window_minutes=int(settings.unread_after.total_seconds() // 60), items=items,
                         next_page_token=cursor.encode(scope, following))


def _message(sessions, sid: str) -> InboundMessage | None:
    with sessions() as session:
        return session.get(InboundMessage, sid)


def _assigned(sessions, sid: str, case_id: str) -> InboundMessage:
    """Take the message out of the queue once, for this case; a message another case took is refused."""
    with sessions.begin() as session:
        row = attach_message(session, sid, case_id)
    if row.case_id != case_id:
        raise ApiError(409, f"the message was attached to {row.case_id} meanwhile", "conflict")
    return row


@router.post("/inbound-messages/{sid}/assign/{case_id}", response_model=InboundEntry,
             summary="Attach an SMS no case took to an open case (its text becomes a progress note)")
async def assign_message(
    sid: Annotated[str, Path(pattern=r"^[A-Za-z0-9]{2,64}$")],
    case_id: Annotated[str, Path(pattern=REQUEST_ID.pattern)],
    caller: StaffMember, client: ClientDep, sessions: SessionsDep,
) -> InboundEntry:
    """The case's workflow records the note (a signal, as `POST /requests/{id}/progress`); sending the
    same request again answers the same and notes nothing twice; when Temporal cannot take the note
    the message stays in the queue."""
    message = await run_in_threadpool(_message, sessions, sid)
    if message is None:
        raise ApiError(404, f"no inbound message {sid}")
    if message.outcome == ASSIGNED:
        if message.case_id != case_id:
            raise ApiError(409, f"the message is already attached to {message.case_id}", "conflict")
        return InboundEntry.model_validate(message)
    if message.outcome not in NEEDS_A_PERSON:
        raise ApiError(409, f"the message was handled by the SMS webhook ({message.outcome})", "conflict")
    await find_open_case(client, case_id, caller)
    row = await run_in_threadpool(_assigned, sessions, sid, case_id)
    note = ProgressNote(actor=caller, note=f"SMS received {aware(message.received_at):%Y-%m-%d %H:%M} UTC, "
                        f"attached by {caller.id}: {message.body}"[:4000])
    try:
        await signal_case(client, case_id, CaseSignal.PROGRESS, note)
    except ApiError:
        await run_in_threadpool(_unassigned, sessions, sid, message.outcome)
        raise
    return InboundEntry.model_validate(row)


def _unassigned(sessions, sid: str, outcome: str) -> None:
    """The note could not be given to the case: the message goes back to the queue."""
    with sessions.begin() as session:
        detach_message(session, sid, outcome)
