"""Recurring drills as Temporal Schedules, one per building and drill type (`drill-B1-fire`).

A supervisor gives the drills' times: a calendar (days of the week or of the month at hh:mm community
time) or an interval (every N days from a first drill). Residents must be told
`STEWARD_DRILL_NOTICE_PERIOD` ahead, so a schedule acts `lead_days` whole days before each drill at the
drill's community-local time: its calendar is the drills' calendar moved back that many days, in the
community's `time_zone_name` (a change of clocks keeps the local time), and each action starts a
`DrillWorkflow` that works out its drill's time from the action's own.

A drill already started is a workflow of its own: replacing, pausing or deleting its schedule never
touches it. Replacing a schedule recreates it (its memo, which keeps the drills' times as they were
asked for, cannot be updated), keeping whether it was paused.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator
from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionResult,
    ScheduleActionStartWorkflow,
    ScheduleCalendarSpec,
    ScheduleDescription,
    ScheduleIntervalSpec,
    ScheduleRange,
    ScheduleSpec,
    ScheduleState,
)

from api.cases import RPC_TIMEOUT, temporal_answers
from api.drill_workflows import default_title, drill_search_attributes, drill_summary
from api.errors import ApiError
from api.models import DIRECTORY_ID, RequestBody
from api.schedules import POLICY, create_or_replace, describe_schedule, started_ids
from steward.settings import Settings, parse_duration
from workflows.contracts import Actor, AwareDatetime, Contract, ShortText
from workflows.drill_contracts import (
    DEFAULT_STEPS,
    DrillInput,
    DrillRules,
    DrillType,
    Steps,
)

PREFIX = "drill-"
MEMO = "drill_schedule"
WEEKDAYS = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]  # Temporal's day_of_week: 0 is Sunday
Weekday = Literal["sun", "mon", "tue", "wed", "thu", "fri", "sat"]
DayOfMonth = Annotated[int, Field(ge=1, le=28)]
Month = Annotated[int, Field(ge=1, le=12)]
_DURATION = re.compile(r"^\s*\d+\s*[smhd]\s*$")


def _our_duration(value: object) -> object:
    return parse_duration(value) if isinstance(value, str) and _DURATION.match(value) else value


def _distinct(values: list | None, what: str) -> None:
    if values is not None and len(set(values)) != len(values):
        raise ValueError(f"list each of the {what} once")


class DrillCalendar(Contract):
    """Drills on some days of every week, or on some days of every month (or of some months), at
    hour:minute community time."""

    days_of_week: list[Weekday] | None = Field(default=None, min_length=1, max_length=7)
    days_of_month: list[DayOfMonth] | None = Field(default=None, min_length=1, max_length=28)
    months: list[Month] | None = Field(
        default=None, min_length=1, max_length=12, description="With days_of_month only; all when left out."
    )
    hour: Annotated[int, Field(ge=0, le=23)]
    minute: Annotated[int, Field(ge=0, le=59)] = 0

    @model_validator(mode="after")
    def _one_kind_of_day(self) -> DrillCalendar:
        if (self.days_of_week is None) == (self.days_of_month is None):
            raise ValueError("give either days_of_week or days_of_month")
        if self.months is not None and self.days_of_month is None:
            raise ValueError("months go with days_of_month")
        _distinct(self.days_of_week, "days of the week")
        _distinct(self.days_of_month, "days of the month")
        _distinct(self.months, "months")
        return self


class DrillInterval(Contract):
    """A drill every `every` (`14d`, or ISO 8601 `P14D`) from the first one; a change of clocks moves
    later drills by an hour on the wall (the spacing is exact), unlike a calendar."""

    every: Annotated[
        timedelta, BeforeValidator(_our_duration), Field(ge=timedelta(days=1), le=timedelta(days=366))
    ]
    first_at: AwareDatetime


class DrillScheduleRequest(RequestBody):
    """The recurring drill of one type in one building: a calendar or an interval."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"building_id": "B1", "drill_type": "fire",
         "calendar": {"days_of_month": [15], "hour": 10}, "starts_on": "2027-01-01"},
        {"building_id": "B2", "drill_type": "security", "calendar": {"days_of_week": ["sat"], "hour": 15}},
        {"building_id": "B1", "drill_type": "flood",
         "interval": {"every": "91d", "first_at": "2027-04-01T10:00:00+08:00"}},
    ]})

    building_id: Annotated[str, Field(pattern=DIRECTORY_ID)]
    drill_type: DrillType
    calendar: DrillCalendar | None = None
    interval: DrillInterval | None = None
    starts_on: date | None = Field(default=None, description="No drill before this day (calendar only).")
    title: ShortText | None = None
    steps: Steps | None = None

    @model_validator(mode="after")
    def _one_kind_of_time(self) -> DrillScheduleRequest:
        if (self.calendar is None) == (self.interval is None):
            raise ValueError("give either a calendar or an interval")
        if self.starts_on is not None and self.interval is not None:
            raise ValueError("an interval starts at its first_at; starts_on is for calendars")
        if self.starts_on is not None and not date(2000, 1, 1) <= self.starts_on <= date(2100, 12, 31):
            raise ValueError("starts_on must lie between 2000-01-01 and 2100-12-31")
        return self


class StoredSchedule(Contract):
    """Kept in the schedule's memo: what was asked for, and how its times were read."""

    request: DrillScheduleRequest
    timezone: str
    lead_days: int
    set_by: str


class DrillScheduleView(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "schedule_id": "drill-B1-fire", "building_id": "B1", "drill_type": "fire",
        "calendar": {"days_of_week": None, "days_of_month": [15], "months": None, "hour": 10, "minute": 0},
        "interval": None, "starts_on": None, "timezone": "Asia/Shanghai", "lead_days": 3, "paused": False,
        "note": None, "set_by": "S201",
        "next_drills": ["2026-12-15T02:00:00Z", "2027-01-15T02:00:00Z"],
        "next_announcements": ["2026-12-12T02:00:00Z", "2027-01-12T02:00:00Z"],
        "recent_drills": ["DR-B1-fire-2026-11-12T02:00:00Z"],
    }]})

    schedule_id: str
    building_id: str
    drill_type: DrillType
    calendar: DrillCalendar | None
    interval: DrillInterval | None
    starts_on: date | None
    timezone: str
    lead_days: int = Field(description="The schedule acts this many days before each drill, to announce it.")
    paused: bool
    note: str | None
    set_by: str
    next_drills: list[datetime] = Field(description="When the next drills are; none while paused.")
    next_announcements: list[datetime] = Field(
        description="The schedule's own next actions: each starts a drill and announces it."
    )
    recent_drills: list[str] = Field(description="Drills it started lately (their ids).")


class DrillScheduleNote(RequestBody):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"note": "Lift works in December: no drills until January."}]})

    note: ShortText | None = None


def schedule_id(building_id: str, drill_type: DrillType) -> str:
    return f"{PREFIX}{building_id}-{drill_type.value}"


# --- from the request to Temporal's schedule ------------------------------------------------------


def calendar_spec(calendar: DrillCalendar, lead: int = 0) -> ScheduleCalendarSpec:
    """The calendar's days, moved back `lead` days (a drill's announcement), at its hour and minute."""
    common = {"hour": [ScheduleRange(calendar.hour)], "minute": [ScheduleRange(calendar.minute)]}
    if calendar.days_of_week is not None:
        days = sorted((WEEKDAYS.index(day) - lead) % 7 for day in calendar.days_of_week)
        return ScheduleCalendarSpec(day_of_week=[ScheduleRange(day) for day in days], **common)
    assert calendar.days_of_month is not None
    return ScheduleCalendarSpec(
        day_of_month=[ScheduleRange(day - lead) for day in sorted(calendar.days_of_month)],
        month=[ScheduleRange(month) for month in sorted(calendar.months or range(1, 13))],
        **common,
    )


def interval_spec(every: timedelta, first: datetime, timezone: str) -> ScheduleSpec:
    """Every `every` from `first` exactly (the spacing holds across a change of clocks)."""
    offset = (first - datetime(1970, 1, 1, tzinfo=UTC)) % every
    return ScheduleSpec(
        intervals=[ScheduleIntervalSpec(every=every, offset=offset)],
        start_at=first - timedelta(seconds=1), time_zone_name=timezone,
    )


def spec_for(request: DrillScheduleRequest, rules: DrillRules, timezone: str, now: datetime) -> ScheduleSpec:
    """The schedule's spec: the drills' times moved back `lead_days`; 422 when that cannot be said."""
    lead = rules.lead_days
    if request.interval is not None:
        interval = request.interval
        if interval.first_at < now + timedelta(days=lead):
            raise ApiError(422, f"interval.first_at must be at least {lead} days ahead, to announce it")
        return interval_spec(interval.every, rules.fires_at(interval.first_at, timezone), timezone)
    calendar = request.calendar
    assert calendar is not None
    if calendar.days_of_month is not None and min(calendar.days_of_month) <= lead:
        raise ApiError(422, f"days_of_month must be after the {lead}th: each drill is announced {lead} "
                       "days ahead, in the same month")
    spec = calendar_spec(calendar, lead)
    start_at = None
    if request.starts_on is not None:
        start_at = rules.fires_at(datetime.combine(request.starts_on, time(0), ZoneInfo(timezone)), timezone)
    return ScheduleSpec(calendars=[spec], start_at=start_at, time_zone_name=timezone)


def schedule_for(request: DrillScheduleRequest, settings: Settings, caller: Actor, paused: bool,
                 note: str | None) -> Schedule:
    rules, timezone = settings.drill_rules, settings.timezone
    sid = schedule_id(request.building_id, request.drill_type)
    drill = DrillInput(
        drill_type=request.drill_type, building_id=request.building_id,
        title=request.title or default_title(request.drill_type),
        steps=request.steps or DEFAULT_STEPS[request.drill_type], created_by=caller, schedule_id=sid,
        policy=settings.policy, rules=rules,
    )
    return Schedule(
        action=ScheduleActionStartWorkflow(
            "DrillWorkflow", drill, id=f"DR-{request.building_id}-{request.drill_type.value}",
            task_queue=settings.task_queue,
            typed_search_attributes=drill_search_attributes(request.building_id),
            static_summary=drill_summary(request.drill_type, request.building_id),
        ),
        spec=spec_for(request, rules, timezone, datetime.now(UTC)),
        policy=POLICY,
        state=ScheduleState(paused=paused, note=note),
    )


async def set_schedule(client: Client, request: DrillScheduleRequest, settings: Settings,
                       caller: Actor) -> tuple[DrillScheduleView, bool]:
    """Create the building's schedule for this drill type, or replace it; True when it is new."""
    sid = schedule_id(request.building_id, request.drill_type)
    memo = {MEMO: StoredSchedule(request=request, timezone=settings.timezone,
                                 lead_days=settings.drill_rules.lead_days, set_by=caller.id)}
    created = await create_or_replace(
        client, sid, lambda state: schedule_for(request, settings, caller, state.paused, state.note), memo,
        ScheduleState(paused=False),
    )
    return await view(client, sid), created


# --- reading and changing ---------------------------------------------------------------------------


def _view(sid: str, stored: StoredSchedule, paused: bool, note: str | None, next_actions: list[datetime],
          recent: list[ScheduleActionResult]) -> DrillScheduleView:
    rules = DrillRules(notice_period=timedelta(days=stored.lead_days))
    request = stored.request
    if paused:
        next_actions = []  # the server still lists the spec's times; none of them will act
    return DrillScheduleView(
        schedule_id=sid, building_id=request.building_id, drill_type=request.drill_type,
        calendar=request.calendar, interval=request.interval, starts_on=request.starts_on,
        timezone=stored.timezone, lead_days=stored.lead_days, paused=paused, note=note or None,
        set_by=stored.set_by,
        next_drills=[rules.drill_at(moment, stored.timezone) for moment in next_actions],
        next_announcements=list(next_actions),
        recent_drills=started_ids(recent),
    )


async def describe(client: Client, sid: str) -> ScheduleDescription:
    """The drill schedule `sid`; 404 for an unknown one or a schedule that is not a drill's."""
    if not sid.startswith(PREFIX):
        raise ApiError(404, f"no drill schedule {sid}")
    return await describe_schedule(client, sid, f"no drill schedule {sid}")


async def _described(sid: str, description: ScheduleDescription) -> DrillScheduleView:
    stored = await description.memo_value(MEMO, type_hint=StoredSchedule)
    state, info = description.schedule.state, description.info
    return _view(sid, stored, state.paused, state.note, list(info.next_action_times),
                 list(info.recent_actions))


async def view(client: Client, sid: str) -> DrillScheduleView:
    return await _described(sid, await describe(client, sid))


async def listed_ids(client: Client) -> list[str]:
    """Every drill schedule Temporal's visibility lists (a new one shows after a moment)."""
    with temporal_answers():
        return sorted([entry.id async for entry in await client.list_schedules(rpc_timeout=RPC_TIMEOUT)
                       if entry.id.startswith(PREFIX)])


async def view_on(client: Client, sid: str, task_queue: str) -> DrillScheduleView | None:
    """The schedule `sid` if it starts its drills on this task queue; None when it does not exist or is
    another Steward's (several may share a Temporal namespace)."""
    try:
        description = await describe(client, sid)
    except ApiError as error:
        if error.status == 404:
            return None
        raise
    action = description.schedule.action
    if not isinstance(action, ScheduleActionStartWorkflow) or action.task_queue != task_queue:
        return None
    return await _described(sid, description)
