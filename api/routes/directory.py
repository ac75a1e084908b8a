"""The directory (admin): buildings, households, residents and staff.

These are the only endpoints that write the database directly; cases are never written here.
Lists are ordered by id and paged by the last id seen.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable
from typing import Annotated, Any, Literal, TypeVar

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

from api.auth import Admin
from api.context import SessionsDep
from api.errors import ERROR_RESPONSES, ApiError, ErrorBody
from api.models import DIRECTORY_ID, STORED, DirectoryId, Page, Phone, RequestBody
from api.twin_routes import endpoint
from steward.store.models import Building, Household, Resident, Staff
from workflows.contracts import Actor, Locale, ShortText, Tier

router = APIRouter(tags=["directory"], responses=ERROR_RESPONSES | {
    409: {"model": ErrorBody, "description": "An entry with this id already exists."},
})

Skill = Annotated[str, StringConstraints(pattern=r"^[a-z_]{1,32}$")]
Row = TypeVar("Row", bound=BaseModel)
Checks = Iterable[tuple[type[DeclarativeBase], str, str]]
"""What an entry names that must be in the directory: (table, key, what it is called in a refusal)."""


class BuildingEntry(RequestBody):
    model_config = ConfigDict(from_attributes=True, json_schema_extra={"examples": [
        {"id": "B3", "name": "Camellia Court, Building 3", "address": "Camellia Court, Shanghai"}]})

    id: DirectoryId
    name: ShortText
    address: Annotated[str, StringConstraints(strip_whitespace=True, max_length=300)] = ""


class HouseholdEntry(RequestBody):
    model_config = ConfigDict(from_attributes=True, json_schema_extra={"examples": [
        {"id": "H-B1-113", "building_id": "B1", "unit": "113"}]})

    id: DirectoryId
    building_id: DirectoryId
    unit: DirectoryId


class ResidentEntry(RequestBody):
    model_config = ConfigDict(from_attributes=True, json_schema_extra={"examples": [
        {"id": "R100", "household_id": "H-B1-101", "name": "Resident R100", "phone": "+8613800009999",
         "locale": "zh-CN", "preferred_channel": "voice", "opted_out": False}]})

    id: DirectoryId
    household_id: DirectoryId
    name: ShortText
    phone: Phone | None = None
    locale: Locale = Locale.zh_cn
    preferred_channel: Literal["sms", "voice"] = "sms"
    opted_out: bool = False


class StaffEntry(RequestBody):
    model_config = ConfigDict(from_attributes=True, json_schema_extra={"examples": [
        {"id": "S006", "name": "Gao Fei", "tier": 0, "skills": ["plumbing"], "buildings": ["B1"],
         "on_duty": True, "phone": "+8613900000006", "locale": "zh-CN"}]})

    id: DirectoryId
    name: ShortText
    tier: Tier
    skills: Annotated[list[Skill], Field(max_length=20)] = []
    buildings: Annotated[list[DirectoryId], Field(max_length=100)] = []
    on_duty: bool = True
    phone: Phone | None = None
    locale: Locale = Locale.zh_cn


PageToken = Annotated[str | None, Query(pattern=DIRECTORY_ID, description="The last id seen.")]
Limit = Annotated[int, Query(ge=1, le=500)]


def _page(sessions: sessionmaker[Session], table: type[DeclarativeBase], entry: type[Row], after: str | None,
          limit: int) -> Page[Row]:
    query = select(table).order_by(table.id).limit(limit)
    if after is not None:
        query = query.where(table.id > after)
    with sessions() as session:
        rows = [entry.model_validate(row, context=STORED) for row in session.scalars(query)]
    return Page[entry](items=rows, next_page_token=rows[-1].id if len(rows) == limit else None)


def must_exist(session: Session, table: type[DeclarativeBase], key: str, what: str) -> None:
    """422 unless the directory has `key` in `table` (named `what` in the message)."""
    if session.get(table, key) is None:
        raise ApiError(422, f"no {what} {key} in the directory")


def _add(sessions: sessionmaker[Session], table: type[DeclarativeBase], entry: BaseModel,
         checks: Checks = ()) -> None:
    """Insert the entry; 409 when its id exists, 422 when something it names does not."""
    with sessions() as session:
        if session.get(table, entry.id) is not None:
            raise ApiError(409, f"{entry.id} already exists", "already_exists")
        for referenced, key, what in checks:
            must_exist(session, referenced, key, what)
        session.add(table(**entry.model_dump(mode="json")))
        try:
            session.commit()
        except IntegrityError as error:
            raise ApiError(409, f"{entry.id} conflicts with an existing entry", "already_exists") from error


def _table(path: str, table: type[DeclarativeBase], model: type[BaseModel], names: tuple[str, str],
           summaries: tuple[str, str], checks: Callable[[Any], Checks] = lambda entry: ()) -> None:
    """`GET path` lists the table's entries (`names[0]`), `POST path` adds one (`names[1]`) once what it
    names, `checks(entry)`, is in the directory."""
    def list_entries(_: Actor, sessions: sessionmaker[Session], page_token: str | None, limit: int) -> Page:
        return _page(sessions, table, model, page_token, limit)

    def add_entry(_: Actor, sessions: sessionmaker[Session], entry: BaseModel) -> BaseModel:
        _add(sessions, table, entry, checks(entry))
        return entry

    router.get(path, response_model=Page[model], summary=summaries[0])(endpoint(
        names[0], list_entries, None, inspect.Signature.empty,
        _=Admin, sessions=SessionsDep, page_token=(PageToken, None), limit=(Limit, 100)))
    router.post(path, status_code=201, response_model=model, summary=summaries[1])(endpoint(
        names[1], add_entry, None, model, _=Admin, sessions=SessionsDep, entry=model))


_table("/buildings", Building, BuildingEntry, ("list_buildings", "add_building"),
       ("Buildings", "Add a building"))
_table("/households", Household, HouseholdEntry, ("list_households", "add_household"),
       ("Households", "Add a household"), lambda entry: [(Building, entry.building_id, "building")])
_table("/residents", Resident, ResidentEntry, ("list_residents", "add_resident"),
       ("Residents (token subjects)", "Add a resident"),
       lambda entry: [(Household, entry.household_id, "household")])
_table("/staff", Staff, StaffEntry, ("list_staff", "add_staff"),
       ("Staff (token subjects)", "Add a staff member"),
       lambda entry: [(Building, building, "building") for building in entry.buildings])
