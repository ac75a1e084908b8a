"""The supervisor console: a page and its assets served by Steward itself, and the two reads it adds.

Everything the console shows or does goes through the API a program would use (case state and
history, the supervisor actions, `/reports/...`); it adds only what a browser page needs on top:
who is signed in with the words and people to show (`/console/api/session`), and the board
(`/console/api/board`), every open case from the read model in the order `/at-risk` uses, a page at a
time, with the colour a supervisor reads it by and whether the picture can be believed. These two belong to
the page, not to the published API, so they are left out of the OpenAPI document.

The page is plain HTML, CSS and JavaScript modules from `api/console/`, no build step and no
third-party host: many deployments have no internet.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Literal

from fastapi import APIRouter, Header, Query
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session, sessionmaker

from api import cursor
from api.auth import Supervisor
from api.confidential import kept_from
from api.context import SessionsDep, SettingsDep
from api.errors import ERROR_RESPONSES
from api.models import DIRECTORY_ID, Picture, TotalAtLeast
from api.pages import SECURITY_HEADERS, PageFiles
from api.picture import PictureDep
from steward.store.deadlines import Position, Total, aware, change_mark, page_and_total
from steward.store.directory import buildings, staff
from steward.store.models import Case
from steward.texts.choices import TIER
from steward.texts.timeline import WORDS
from workflows.contracts import Kind, Severity

router = APIRouter(tags=["console"], responses=ERROR_RESPONSES)
PageFiles(Path(__file__).resolve().parent.parent / "console").serve(router, "/console", "console")

BOARD_PAGE = 500
POLL_SECONDS = 2


# --- who is signed in ----------------------------------------------------------------------------


class Person(BaseModel):
    id: str
    name: str
    tier: int
    skills: list[str]
    buildings: list[str]
    on_duty: bool


class Place(BaseModel):
    id: str
    name: str


class ConsoleSession(BaseModel):
    staff_id: str
    name: str | None
    timezone: str = Field(description="Community time zone: the console shows every time in it.")
    temporal_ui: str
    poll_seconds: int
    buildings: list[Place]
    staff: list[Person] = Field(description="Everyone a case can be reassigned to (no phone numbers).")
    words: dict[str, dict[str, dict[str, str]]] = Field(
        description="group → value → locale → word: the names of statuses, severities, kinds, channels, "
        "callback results, deadlines and tiers, the same words the case history uses.")


def _directory(sessions: sessionmaker[Session]) -> tuple[list[Place], list[Person]]:
    with sessions() as session:
        places = [Place(id=building.id, name=building.name) for building in buildings(session)]
        people = [Person(id=s.id, name=s.name, tier=s.tier, skills=s.skills, buildings=s.buildings,
                         on_duty=s.on_duty) for s in staff(session)]
    return places, people


def _words() -> dict[str, dict[str, dict[str, str]]]:
    groups = {group: values for group, values in WORDS.items() if group != "none"} | {"tier": TIER.values}
    return {group: {value: {locale.value: word for locale, word in locales.items()}
                    for value, locales in values.items()} for group, values in groups.items()}


@router.get("/console/api/session", response_model=ConsoleSession, include_in_schema=False)
async def console_session(caller: Supervisor, sessions: SessionsDep, settings: SettingsDep) -> ConsoleSession:
    """Answers only a supervisor's token: the console's sign-in refuses staff, residents and admins."""
    places, people = await run_in_threadpool(_directory, sessions)
    me = next((person for person in people if person.id == caller.id), None)
    return ConsoleSession(
        staff_id=caller.id, name=me.name if me else None, timezone=settings.timezone,
        temporal_ui=settings.temporal_ui, poll_seconds=POLL_SECONDS, buildings=places, staff=people,
        words=_words(),
    )


# --- the board -----------------------------------------------------------------------------------

BoardState = Literal["breached", "warning", "paused", "on_time"]


class BoardCase(BaseModel):
    case_id: str
    kind: str
    severity: str
    category: str
    title: str
    building_id: str
    unit: str | None
    status: str
    tier: int
    owner_id: str | None
    handler_id: str | None
    submitted_at: datetime
    response_due: datetime | None
    resolution_due: datetime
    next_deadline: datetime | None = Field(description="The next deadline someone is held to, if one runs.")
    next_deadline_kind: str | None
    seconds_left: int | None = Field(description="To the next deadline; negative once it has passed.")
    state: BoardState = Field(description="breached: a deadline was missed; warning: 75 % of the resolution "
                              "window has gone; paused: the resolution clock is stopped; on_time otherwise.")
    at_risk: bool = Field(description="A deadline is running: the case is in the at-risk list.")
    reopen_count: int


class Board(BaseModel):
    as_of: datetime = Field(description="Server time: count down from it, not from the browser's clock.")
    items: list[BoardCase] = Field(description="At-risk cases first, by time left; then the others, "
                                   "oldest first.")
    total: int | None = Field(description="Open cases matching the filters, on every page together; "
                              "counted on the first page only (null on later ones).")
    total_at_least: TotalAtLeast
    next_page_token: str | None = Field(description="Give as `page_token` for the next page; null at end.")
    truncated: bool = Field(description="More open cases follow on later pages.")
    picture: Picture


def _state(case: Case) -> BoardState:
    if case.response_breached or case.resolution_breached:
        return "breached"
    if case.paused:
        return "paused"
    return "warning" if case.warned else "on_time"


def _value(value: object) -> object:
    return aware(value) if isinstance(value, datetime) else value


def _board_case(case: Case, now: datetime) -> BoardCase:
    deadline = aware(case.next_deadline)
    return BoardCase(
        **{name: _value(getattr(case, name)) for name in BoardCase.model_fields if hasattr(Case, name)},
        seconds_left=int((deadline - now).total_seconds()) if deadline else None,
        state=_state(case), at_risk=deadline is not None,
    )


def _etag(mark: int, scope: str, page_token: str | None, picture: Picture) -> str:
    """Changes whenever a transition is projected, the filters or page differ, or the picture does."""
    seed = f"{mark}\0{scope}\0{page_token}\0{picture.model_dump_json(exclude={'worker_seen_at'})}"
    return '"' + hashlib.sha256(seed.encode()).hexdigest()[:32] + '"'


@router.get("/console/api/board", response_model=Board, include_in_schema=False,
            responses={304: {"description": "Nothing changed since the `ETag` given in `If-None-Match`."}})
async def board(
    caller: Supervisor, sessions: SessionsDep, settings: SettingsDep, picture: PictureDep,
    kind: Kind | None = None,
    severity: Severity | None = None,
    building: Annotated[str | None, Query(pattern=DIRECTORY_ID)] = None,
    tier: Annotated[int | None, Query(ge=0, le=3)] = None,
    owner: Annotated[str | None, Query(pattern=DIRECTORY_ID, description="The first-contact owner.")] = None,
    limit: Annotated[int, Query(ge=1, le=BOARD_PAGE)] = BOARD_PAGE,
    page_token: Annotated[str | None, Query(max_length=400)] = None,
    if_none_match: Annotated[str | None, Header()] = None,
) -> Response:
    """Open cases from the read model, a page at a time, with an `ETag`: a console polling with
    `If-None-Match` gets `304` and no body until a transition is projected or the picture changes."""
    filters = {"kind": kind.value if kind else None, "severity": severity.value if severity else None,
               "building_id": building, "tier": tier, "owner_id": owner}
    scope = cursor.scope_of("board", filters | {"limit": limit})
    filters |= kept_from(caller)
    after = cursor.decode(scope, page_token, Position)
    seen = await picture.current()
    mark = await run_in_threadpool(_mark, sessions)
    etag = _etag(mark, scope, page_token, seen)
    if if_none_match == etag:
        return Response(status_code=304, headers={"ETag": etag, **SECURITY_HEADERS})

    rows, following, total = await run_in_threadpool(page_and_total, sessions, filters, after, limit,
                                                     settings.count_up_to)
    now = datetime.now(UTC)
    token = cursor.encode(scope, following)
    answer = Board(as_of=now, items=[_board_case(case, now) for case in rows], **Total.of_page(total),
                   next_page_token=token, truncated=token is not None, picture=seen)
    return Response(answer.model_dump_json(), media_type="application/json",
                    headers={"ETag": etag, **SECURITY_HEADERS})


def _mark(sessions: sessionmaker[Session]) -> int:
    with sessions() as session:
        return change_mark(session)
