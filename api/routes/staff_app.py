"""The staff app at `/app/`: a phone web app served by Steward itself, and the reads it adds.

Sign-in is `/auth/code` and `/auth/token`; every action goes through the published case endpoints
(`/requests/{id}/...`, each a Temporal update or the progress signal, the device's action id as the
update id). What the app adds is only what a phone page needs on top: who is signed in
(`/app/api/me`), my work — the open cases I handle, own or was told about (a dispatch, an
escalation, a warning), each with its live state from its workflow, by next deadline
(`/app/api/work`) — and my notices with the time I opened each (`/app/api/notices`). These belong to
the page, not to the published API, so they are left out of the OpenAPI document.

The page is plain HTML, CSS and JavaScript modules from `api/staff_app/`, no build step and no
third-party host, installable (a manifest, icons and a service worker that caches the shell).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter
from fastapi import Path as PathParam
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field
from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from api.auth import ResidentOrStaff, StaffMember
from api.cases import live_states
from api.context import ClientDep, SessionsDep, SettingsDep
from api.errors import ERROR_RESPONSES, ApiError
from api.pages import PageFiles
from steward.store.models import Case, Notification, Resident, Staff
from workflows.case_contracts import CaseSummary
from workflows.contracts import Actor, Role, Status

router = APIRouter(tags=["staff app"], responses=ERROR_RESPONSES)
PageFiles(Path(__file__).resolve().parent.parent / "staff_app").serve(
    router, "/app", "app", at_root=("sw.js", "manifest.webmanifest")
)

WORK_CASES = 200
NOTICES = 100


# --- who is signed in ----------------------------------------------------------------------------


class Me(BaseModel):
    id: str
    role: str = Field(description="staff, supervisor or resident: the app shows that person's pages.")
    name: str | None
    locale: str
    timezone: str


def _me(sessions: sessionmaker[Session], caller: Actor) -> tuple[str | None, str]:
    table = Resident if caller.role is Role.resident else Staff
    with sessions() as session:
        person = session.get(table, caller.id)
        return (person.name, person.locale) if person else (None, "zh-CN")


@router.get("/app/api/me", response_model=Me, include_in_schema=False)
async def me(caller: ResidentOrStaff, sessions: SessionsDep, settings: SettingsDep) -> Me:
    name, locale = await run_in_threadpool(_me, sessions, caller)
    return Me(id=caller.id, role=caller.role.value, name=name, locale=locale, timezone=settings.timezone)


# --- my work -------------------------------------------------------------------------------------


class WorkItem(BaseModel):
    case_id: str
    title: str
    kind: str
    severity: str
    status: str
    building_id: str
    unit: str | None
    paused: bool
    breached: bool
    next_deadline: datetime | None
    next_deadline_kind: str | None
    seconds_left: int | None = Field(description="To the next deadline; negative once it has passed.")
    why: str = Field(description="handler, owner, or told (escalated or warned about it).")


class Work(BaseModel):
    as_of: datetime = Field(description="Server time: count down from it, not from the phone's clock.")
    items: list[WorkItem] = Field(description="By next deadline, soonest first; then the rest.")


def _my_case_ids(sessions: sessionmaker[Session], staff_id: str) -> list[str]:
    told = select(Notification.case_id).where(Notification.recipient_id == staff_id)
    with sessions() as session:
        return list(session.scalars(
            select(Case.case_id).where(
                Case.status != Status.closed.value,
                or_(Case.handler_id == staff_id, Case.owner_id == staff_id, Case.case_id.in_(told)),
            ).order_by(Case.submitted_at.desc()).limit(WORK_CASES)))


def _why(case: CaseSummary, staff_id: str) -> str:
    if case.handler_id == staff_id:
        return "handler"
    return "owner" if case.owner_id == staff_id else "told"


def _item(case: CaseSummary, staff_id: str, now: datetime) -> WorkItem:
    left = int((case.next_deadline - now).total_seconds()) if case.next_deadline else None
    return WorkItem(
        **case.model_dump(include=set(WorkItem.model_fields) - {"seconds_left", "why", "breached"}),
        breached=case.response_breached or case.resolution_breached, seconds_left=left,
        why=_why(case, staff_id),
    )


@router.get("/app/api/work", response_model=Work, include_in_schema=False)
async def my_work(caller: StaffMember, client: ClientDep, sessions: SessionsDep) -> Work:
    """Found in the read model, read live from each workflow (a case that cannot answer within 3 s
    is left out of this read)."""
    ids = await run_in_threadpool(_my_case_ids, sessions, caller.id)
    now = datetime.now(UTC)
    cases = [_item(state, caller.id, now) for state in await live_states(client, ids)
             if state.status is not Status.closed]
    cases.sort(key=lambda item: (item.next_deadline is None,
                                 item.next_deadline.timestamp() if item.next_deadline else 0, item.case_id))
    return Work(as_of=now, items=cases)


# --- my notices ----------------------------------------------------------------------------------


class AppNotice(BaseModel):
    key: str
    case_id: str
    channel: str
    template: str
    text: str | None = Field(description="What was said, in the person's language.")
    sent_at: datetime
    read_at: datetime | None = Field(description="When the person opened it in the app.")


class Notices(BaseModel):
    items: list[AppNotice] = Field(description="Newest first.")
    unread: int


NoticeKey = Annotated[str, PathParam(pattern=r"^[A-Za-z0-9_.:-]{1,200}$")]


def _notice(row: Notification) -> AppNotice:
    return AppNotice(key=row.key, case_id=row.case_id, channel=row.channel, template=row.template,
                     text=row.body, sent_at=row.created_at, read_at=row.read_at)


def _notices(sessions: sessionmaker[Session], staff_id: str) -> Notices:
    with sessions() as session:
        rows = session.scalars(select(Notification).where(Notification.recipient_id == staff_id)
                               .order_by(Notification.created_at.desc()).limit(NOTICES)).all()
        items = [_notice(row) for row in rows]
    return Notices(items=items, unread=sum(item.read_at is None for item in items))


@router.get("/app/api/notices", response_model=Notices, include_in_schema=False)
async def my_notices(caller: StaffMember, sessions: SessionsDep) -> Notices:
    """Every notice addressed to me, whatever its channel (an SMS is in the inbox too)."""
    return await run_in_threadpool(_notices, sessions, caller.id)


def _open(sessions: sessionmaker[Session], staff_id: str, key: str) -> AppNotice | None:
    with sessions.begin() as session:
        session.execute(update(Notification).where(
            Notification.key == key, Notification.recipient_id == staff_id, Notification.read_at.is_(None),
        ).values(read_at=datetime.now(UTC)))
        row = session.get(Notification, key)
        return _notice(row) if row is not None and row.recipient_id == staff_id else None


@router.post("/app/api/notices/{key}/read", response_model=AppNotice, include_in_schema=False)
async def open_notice(key: NoticeKey, caller: StaffMember, sessions: SessionsDep) -> AppNotice:
    """The first opening is kept (opening again changes nothing); another person's notice is 404."""
    notice = await run_in_threadpool(_open, sessions, caller.id, key)
    if notice is None:
        raise ApiError(404, f"no notice {key} for you")
    return notice
