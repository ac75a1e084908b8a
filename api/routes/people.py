"""A living directory (admin): correct a person's details, deactivate staff who left and residents who
moved out, and read every change made (who, when, what).

A person is never deleted: cases, reports and the change log keep naming them. Deactivation takes effect
at once everywhere: the person's tokens are revoked, dispatch and notices skip a staff member, their
phone no longer acts by SMS or keypad, and a resident's callbacks go to another resident of the
household or to a person (`activities/directory.py`).
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import or_, select
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from temporalio.client import Client

from api.auth import Admin
from api.cases import update_case
from api.context import ClientDep, SessionsDep
from api.errors import ERROR_RESPONSES, ApiError
from api.models import DIRECTORY_ID, STORED, DirectoryId, Page, RequestBody
from api.routes.directory import Phone, ResidentEntry, Skill, StaffEntry, must_exist
from steward.store.models import Building, Case, DirectoryChange, Resident, Staff
from steward.tokens import revoke_subject
from workflows.actions import HandOn
from workflows.contracts import Actor, Locale, ShortText, Tier
from workflows.names import CaseUpdate

log = logging.getLogger("steward.directory")
router = APIRouter(tags=["directory"], responses=ERROR_RESPONSES)

PersonId = Annotated[str, Path(pattern=DIRECTORY_ID)]


class StaffChange(RequestBody):
    """The fields to change; those left out stay as they are. `active: false` deactivates for good."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"phone": "+8613900000016"}, {"on_duty": False}, {"active": False}]})

    name: ShortText | None = None
    phone: Phone | None = None
    locale: Locale | None = None
    tier: Tier | None = None
    skills: Annotated[list[Skill], Field(max_length=20)] | None = None
    buildings: Annotated[list[DirectoryId], Field(max_length=100)] | None = None
    on_duty: bool | None = None
    active: Literal[False] | None = None


class ResidentChange(RequestBody):
    """The fields to change; those left out stay as they are. `active: false` records a move-out."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"phone": "+8613800009998", "preferred_channel": "voice"}, {"active": False}]})

    name: ShortText | None = None
    phone: Phone | None = None
    locale: Locale | None = None
    preferred_channel: Literal["sms", "voice"] | None = None
    active: Literal[False] | None = None


class StaffView(StaffEntry):
    active: bool
    handed_on: list[str] = Field(default=[], description="Open cases handed on as they were deactivated.")


class ResidentView(ResidentEntry):
    active: bool


class ChangeEntry(BaseModel):
    model_config = ConfigDict(from_attributes=True, json_schema_extra={"examples": [{
        "id": 7, "at": "2026-12-03T08:00:00Z", "actor_id": "admin", "kind": "staff", "subject_id": "S001",
        "action": "deactivated", "changes": {"active": [True, False], "on_duty": [True, False]}}]})

    id: int
    at: datetime
    actor_id: str
    kind: Literal["staff", "resident"]
    subject_id: str
    action: Literal["updated", "deactivated"]
    changes: dict[str, list[Any]] = Field(description="Each changed field: [old value, new value].")


def _change(sessions: sessionmaker[Session], table: type[DeclarativeBase], person_id: str,
            change: RequestBody, admin: Actor, checks=()) -> Any:
    """Apply the change, keep it in the log, and revoke the tokens of a person deactivated."""
    wanted = change.model_dump(mode="json", exclude_unset=True)
    kind = "staff" if table is Staff else "resident"
    with sessions.begin() as session:
        person = session.get(table, person_id)
        if person is None:
            raise ApiError(404, f"no {kind} {person_id} in the directory", "not_found")
        if not person.active and wanted != {"active": False}:
            raise ApiError(409, f"{person_id} was deactivated and is not changed any more", "conflict")
        for referenced, key, what in checks:
            must_exist(session, referenced, key, what)
        if wanted.get("active") is False and table is Staff:
            wanted["on_duty"] = False
        diff = {field: [getattr(person, field), value] for field, value in wanted.items()
                if getattr(person, field) != value}
        for field, (_, value) in diff.items():
            setattr(person, field, value)
        action = "deactivated" if "active" in diff else "updated"
        if diff:
            session.add(DirectoryChange(at=datetime.now(UTC), actor_id=admin.id, kind=kind,
                                        subject_id=person_id, action=action, changes=diff))
        view_of = StaffView if table is Staff else ResidentView
        view = view_of.model_validate(person, from_attributes=True, context=STORED)
    if action == "deactivated":
        revoke_subject(sessions, person_id)
    return view


@router.patch("/staff/{staff_id}", response_model=StaffView, summary="Change or deactivate a staff member")
async def change_staff(staff_id: PersonId, admin: Admin, sessions: SessionsDep, client: ClientDep,
                       change: StaffChange) -> StaffView:
    """Deactivating hands each open case they handle or own on (`hand_on`: dispatched again without
    them, or up the ladder); sending `{"active": false}` again retries any that could not be reached."""
    checks = [(Building, building, "building") for building in change.buildings or []]
    view: StaffView = await asyncio.to_thread(_change, sessions, Staff, staff_id, change, admin, checks)
    if change.active is False:
        view.handed_on = await _hand_on(client, sessions, admin, view)
    return view


async def _hand_on(client: Client, sessions: sessionmaker[Session], admin: Actor,
                   left: StaffView) -> list[str]:
    def open_cases() -> list[str]:
        with sessions() as session:
            return list(session.scalars(select(Case.case_id).where(
                or_(Case.handler_id == left.id, Case.owner_id == left.id), Case.status != "closed")))

    handed_on = []
    for case_id in await asyncio.to_thread(open_cases):
        try:
            action = HandOn(actor=admin, staff_id=left.id, tier=left.tier)
            await update_case(client, case_id, CaseUpdate.HAND_ON, action)
        except ApiError as refused:  # closed meanwhile, or already handed on
            log.info("%s not handed on: %s", case_id, refused.message)
            continue
        handed_on.append(case_id)
    return handed_on


@router.patch("/residents/{resident_id}", response_model=ResidentView,
              summary="Change a resident, or record that they moved out")
def change_resident(resident_id: PersonId, admin: Admin, sessions: SessionsDep,
                    change: ResidentChange) -> ResidentView:
    return _change(sessions, Resident, resident_id, change, admin)


@router.get("/directory-changes", response_model=Page[ChangeEntry], summary="Every change to the directory")
def directory_changes(
    _: Admin, sessions: SessionsDep,
    subject: Annotated[str | None, Query(pattern=DIRECTORY_ID, description="Only this person's.")] = None,
    after: Annotated[int | None, Query(ge=0, description="The last `id` seen.")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> Page[ChangeEntry]:
    query = select(DirectoryChange).order_by(DirectoryChange.id).limit(limit)
    if subject is not None:
        query = query.where(DirectoryChange.subject_id == subject)
    if after is not None:
        query = query.where(DirectoryChange.id > after)
    with sessions() as session:
        rows = [ChangeEntry.model_validate(row) for row in session.scalars(query)]
    return Page[ChangeEntry](items=rows, next_page_token=str(rows[-1].id) if len(rows) == limit else None)


