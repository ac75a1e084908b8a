"""Drills over HTTP on the dev server (issue 7).

Recurring drills are Temporal Schedules, which only the dev server runs (the time-skipping server has
none): their next action times are read back from the server itself (`describe()`), in a zone without
daylight saving (Asia/Shanghai) and one with it (Europe/London, across the March change). One-off drills
and the actions on them go through the same API; their timers are tested on the time-skipping server
(tests/workflows/test_drill_workflow.py).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from twilio.request_validator import RequestValidator

from steward.store.models import Building, Household, Resident
from tests.api.conftest import PATIENCE_S, Api
from workflows.drill_survey import DrillSurveyWorkflow

SHANGHAI = ZoneInfo("Asia/Shanghai")
LONDON = ZoneInfo("Europe/London")
DAY = timedelta(days=1)


@pytest.fixture
async def london(running_api, dev_env, sqlite_database) -> AsyncIterator[Api]:
    async with running_api(dev_env, sqlite_database, timezone="Europe/London") as api:
        yield api


@pytest.fixture
async def quick(running_api, dev_env, sqlite_database) -> AsyncIterator[Api]:
    """Drills need only 90 s of notice: one can be run through from start to report in the test."""
    async with running_api(dev_env, sqlite_database, drill_notice_period="90s") as api:
        yield api


def building(api: Api, households: int = 0) -> str:
    """A building of the test's own, so its schedule ids (one per building and type) are too."""
    building_id = f"DX{uuid.uuid4().hex[:6].upper()}"
    with api.database.sessions.begin() as session:
        session.add(Building(id=building_id, name="Drill schedule test building"))
        session.flush()
        for n in range(1, households + 1):
            session.add(Household(id=f"H-{building_id}-{n}", building_id=building_id, unit=f"{n:03d}"))
            session.flush()
            session.add(
                Resident(
                    id=f"{building_id}-R{n}",
                    household_id=f"H-{building_id}-{n}",
                    name=f"Resident {n}",
                    phone=f"+86133{uuid.uuid4().int % 10**8:08d}",
                    locale="zh-CN",
                    preferred_channel="sms",
                    opted_out=False,
                    bad_channels=[],
                )
            )
    return building_id


async def set_schedule(api: Api, expect: int = 201, **body) -> dict:
    response = await api.call("supervisor", "POST", "/drill-schedules", {"drill_type": "fire"} | body)
    assert response.status_code == expect, response.text
    schedule = response.json()
    if schedule["schedule_id"] not in api.schedule_ids:
        api.schedule_ids.append(schedule["schedule_id"])
    return schedule


async def next_action_times(api: Api, schedule_id: str) -> list[datetime]:
    """What the Temporal server itself says the schedule does next."""
    description = await api.env.client.get_schedule_handle(schedule_id).describe()
    return list(description.info.next_action_times)


def wall(moments: list, zone: ZoneInfo) -> list[str]:
    """Each moment as the community's clock on the wall shows it: weekday, date and time."""
    return [
        f"{(datetime.fromisoformat(m) if isinstance(m, str) else m).astimezone(zone):%a %Y-%m-%d %H:%M}"
        for m in moments
    ]


async def eventually(read: Callable, check: Callable, within: float = PATIENCE_S):
    deadline = asyncio.get_running_loop().time() + within
    while True:
        value = await read()
        if check(value):
            return value
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"not reached: {value}")
        await asyncio.sleep(0.2)


# --- recurring drills ------------------------------------------------------------------------------


async def test_a_weekly_drill_is_announced_three_days_ahead_at_the_same_shanghai_time(api: Api) -> None:
    building_id = building(api)
    schedule = await set_schedule(
        api, building_id=building_id, calendar={"days_of_week": ["mon", "thu"], "hour": 10, "minute": 30}
    )
    assert schedule["schedule_id"] == f"drill-{building_id}-fire" and schedule["lead_days"] == 3
    actions = await next_action_times(api, schedule["schedule_id"])
    assert len(actions) >= 4
    assert {w[:3] for w in wall(actions, SHANGHAI)} == {"Fri", "Mon"}  # 3 days before Monday and Thursday
    assert {w[-5:] for w in wall(actions, SHANGHAI)} == {"10:30"}
    assert [datetime.fromisoformat(a) for a in schedule["next_announcements"]][:4] == actions[:4]
    drills = wall(schedule["next_drills"], SHANGHAI)
    assert {w[:3] for w in drills} == {"Mon", "Thu"} and {w[-5:] for w in drills} == {"10:30"}
    assert [
        datetime.fromisoformat(d) - a for d, a in zip(schedule["next_drills"], actions, strict=False)
    ] == [3 * DAY] * min(len(actions), len(schedule["next_drills"]))


async def test_a_london_drill_stays_at_10_across_the_march_change_of_clocks(london: Api) -> None:
    building_id = building(london)
    monthly = await set_schedule(
        london, building_id=building_id, starts_on="2027-02-01", calendar={"days_of_month": [28], "hour": 10}
    )
    actions = await next_action_times(london, monthly["schedule_id"])
    assert wall(actions[:3], LONDON) == [
        "Thu 2027-02-25 10:00",
        "Thu 2027-03-25 10:00",
        "Sun 2027-04-25 10:00",
    ]
    assert [a.astimezone(UTC).hour for a in actions[:3]] == [10, 10, 9]  # GMT, GMT, then BST
    drills = [datetime.fromisoformat(d) for d in monthly["next_drills"][:3]]
    assert wall(drills, LONDON) == ["Sun 2027-02-28 10:00", "Sun 2027-03-28 10:00", "Wed 2027-04-28 10:00"]
    assert drills[1] == datetime(2027, 3, 28, 9, 0, tzinfo=UTC), "announced in GMT, held in BST"

    weekly = await set_schedule(
        london,
        building_id=building_id,
        drill_type="flood",
        starts_on="2027-03-15",
        calendar={"days_of_week": ["sun"], "hour": 9, "minute": 15},
    )
    actions = await next_action_times(london, weekly["schedule_id"])
    assert wall(actions[:3], LONDON) == [
        "Thu 2027-03-18 09:15",
        "Thu 2027-03-25 09:15",
        "Thu 2027-04-01 09:15",
    ]
    assert [a.astimezone(UTC).hour for a in actions[:3]] == [9, 9, 8]
    assert wall(weekly["next_drills"][:3], LONDON) == [
        "Sun 2027-03-21 09:15",
        "Sun 2027-03-28 09:15",
        "Sun 2027-04-04 09:15",
    ]


async def test_an_interval_keeps_its_spacing_from_the_first_drill(api: Api) -> None:
    first = (datetime.now(SHANGHAI) + 5 * DAY).replace(hour=9, minute=0, second=0, microsecond=0)
    schedule = await set_schedule(
        api,
        building_id=building(api),
        drill_type="security",
        interval={"every": "14d", "first_at": first.isoformat()},
    )
    actions = await next_action_times(api, schedule["schedule_id"])
    assert actions[0] == first - 3 * DAY
    assert {b - a for a, b in zip(actions, actions[1:], strict=False)} == {14 * DAY}
    assert datetime.fromisoformat(schedule["next_drills"][0]) == first
    assert schedule["interval"]["every"] in ("P14D", "1209600.0", 1209600.0)


async def test_a_paused_schedule_has_no_next_action_until_resumed(api: Api) -> None:
    schedule = await set_schedule(api, building_id=building(api), calendar={"days_of_month": [10], "hour": 9})
    sid = schedule["schedule_id"]
    assert await next_action_times(api, sid)
    paused = await api.call(
        "supervisor", "POST", f"/drill-schedules/{sid}/pause", {"note": "Lift works: no drills this month"}
    )
    assert paused.status_code == 200, paused.text
    assert paused.json()["paused"] and paused.json()["note"] == "Lift works: no drills this month"
    assert paused.json()["next_drills"] == [] and paused.json()["next_announcements"] == []
    description = await api.env.client.get_schedule_handle(sid).describe()
    assert description.schedule.state.paused, "the server keeps listing the spec's times; none acts"
    resumed = await api.call("supervisor", "POST", f"/drill-schedules/{sid}/resume")
    assert resumed.status_code == 200 and not resumed.json()["paused"]
    assert (
        resumed.json()["next_drills"]
        and not (await api.env.client.get_schedule_handle(sid).describe()).schedule.state.paused
    )


async def test_triggering_a_schedule_starts_a_drill_that_no_change_to_the_schedule_disturbs(api: Api) -> None:
    building_id = building(api, households=2)
    schedule = await set_schedule(
        api, building_id=building_id, calendar={"days_of_week": ["wed"], "hour": 15}
    )
    sid = schedule["schedule_id"]
    triggered_at = datetime.now(UTC)
    await api.env.client.get_schedule_handle(sid).trigger()
    view = await eventually(
        lambda: api.call("supervisor", "GET", f"/drill-schedules/{sid}"), lambda r: r.json()["recent_drills"]
    )
    drill_id = view.json()["recent_drills"][0]
    api.case_ids.append(drill_id)
    assert drill_id.startswith(f"DR-{building_id}-fire-")
    drill = (
        await eventually(
            lambda: api.call("staff", "GET", f"/drills/{drill_id}"),
            lambda r: r.status_code == 200 and r.json()["announced_at"],
        )
    ).json()
    assert (drill["status"], drill["schedule_id"], drill["building_id"]) == ("announced", sid, building_id)
    assert drill["announcement"] == {"residents": 2, "sent": 2, "unreachable": 0}
    scheduled = datetime.fromisoformat(drill["scheduled_at"])
    assert abs(scheduled - (triggered_at + 3 * DAY)) < timedelta(minutes=1)
    assert drill["steps"][0]["text"] == "Sound the fire alarm on every floor"

    replaced = await set_schedule(
        api, expect=200, building_id=building_id, calendar={"days_of_week": ["sat"], "hour": 9}
    )
    assert {w[:3] for w in wall(replaced["next_drills"], SHANGHAI)} == {"Sat"}
    assert (await api.call("supervisor", "POST", f"/drill-schedules/{sid}/pause")).status_code == 200
    assert (await api.call("supervisor", "DELETE", f"/drill-schedules/{sid}")).status_code == 204
    assert (await api.call("supervisor", "GET", f"/drill-schedules/{sid}")).status_code == 404
    after = (await api.call("staff", "GET", f"/drills/{drill_id}")).json()
    assert after["status"] == "announced" and after["scheduled_at"] == drill["scheduled_at"]
    description = await api.env.client.get_workflow_handle(drill_id).describe()
    assert description.status.name == "RUNNING"


async def test_schedules_are_listed_one_per_building_and_drill_type(api: Api) -> None:
    building_id = building(api)
    fire = await set_schedule(api, building_id=building_id, calendar={"days_of_month": [12], "hour": 10})
    again = await set_schedule(
        api, expect=200, building_id=building_id, calendar={"days_of_month": [14], "hour": 10}
    )
    flood = await set_schedule(
        api, building_id=building_id, drill_type="flood", calendar={"days_of_week": ["sat"], "hour": 10}
    )
    assert fire["schedule_id"] == again["schedule_id"] != flood["schedule_id"]
    listed = await eventually(
        lambda: api.call("supervisor", "GET", "/drill-schedules"),
        lambda r: {flood["schedule_id"], fire["schedule_id"]} <= {s["schedule_id"]
                                                                   for s in r.json()["items"]},
    )
    mine = {s["schedule_id"]: s for s in listed.json()["items"] if s["building_id"] == building_id}
    assert mine[fire["schedule_id"]]["calendar"]["days_of_month"] == [14]
    assert (
        await api.call("supervisor", "DELETE", f"/drill-schedules/{flood['schedule_id']}")
    ).status_code == 204
    await eventually(
        lambda: api.call("supervisor", "GET", "/drill-schedules"),
        lambda r: flood["schedule_id"] not in {s["schedule_id"] for s in r.json()["items"]},
    )


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            {
                "calendar": {"days_of_week": ["mon"], "hour": 9},
                "interval": {"every": "7d", "first_at": "2027-01-01T09:00:00+08:00"},
            },
            "either a calendar or an interval",
        ),
        ({"calendar": {"days_of_month": [2], "hour": 9}}, "days_of_month must be after the 3th"),
        ({"calendar": {"days_of_week": ["mon"], "months": [3], "hour": 9}}, "months go with days_of_month"),
        ({"calendar": {"days_of_week": ["mon"], "hour": 24}}, "hour"),
        ({"interval": {"every": "7d", "first_at": "2020-01-01T09:00:00+08:00"}}, "at least 3 days ahead"),
        ({"interval": {"every": "2h", "first_at": "2030-01-01T09:00:00+08:00"}}, "every"),
        ({"building_id": "NOPE", "calendar": {"days_of_week": ["mon"], "hour": 9}}, "no building NOPE"),
    ],
)
async def test_a_schedule_that_cannot_be_kept_is_refused(api: Api, body: dict, message: str) -> None:
    response = await api.call(
        "supervisor", "POST", "/drill-schedules", {"building_id": "B1", "drill_type": "flood"} | body
    )
    assert response.status_code == 422, response.text
    assert message in response.json()["error"]["message"]


async def test_an_unknown_schedule_is_404(api: Api) -> None:
    for method, path in (
        ("GET", "/drill-schedules/drill-B9-fire"),
        ("POST", "/drill-schedules/drill-B9-fire/pause"),
        ("DELETE", "/drill-schedules/drill-B9-fire"),
    ):
        response = await api.call("supervisor", method, path)
        assert response.status_code == 404, response.text


# --- one-off drills ----------------------------------------------------------------------------------


async def test_a_one_off_drill_must_be_announced_three_days_ahead(api: Api) -> None:
    soon = (datetime.now(UTC) + 2 * DAY).isoformat()
    response = await api.call(
        "supervisor", "POST", "/drills", {"drill_type": "fire", "building_id": "B1", "scheduled_at": soon}
    )
    assert response.status_code == 422 and "notice period of 3d" in response.json()["error"]["message"]
    body = {
        "drill_type": "flood",
        "building_id": building(api),
        "scheduled_at": (datetime.now(UTC) + 4 * DAY).isoformat(),
        "steps": ["Close the garage barrier", "Test the pumps"],
    }
    created = await api.call("supervisor", "POST", "/drills", body, headers={"Idempotency-Key": "flood-1"})
    assert created.status_code == 201, created.text
    drill_id = created.json()["drill_id"]
    api.case_ids.append(drill_id)
    again = await api.call("supervisor", "POST", "/drills", body, headers={"Idempotency-Key": "flood-1"})
    assert again.status_code == 200 and again.json()["drill_id"] == drill_id
    other = await api.call(
        "supervisor", "POST", "/drills", body | {"title": "Another"}, headers={"Idempotency-Key": "flood-1"}
    )
    assert other.status_code == 409

    drill = (
        await eventually(
            lambda: api.call("staff", "GET", f"/drills/{drill_id}"),
            lambda r: r.json()["status"] == "announced",
        )
    ).json()
    assert [s["text"] for s in drill["steps"]] == body["steps"] and drill["title"] == "Flood drill"
    for path, payload, refusal in (
        ("start", None, "can be started from"),
        ("step", {"number": 1}, "start it first"),
        ("complete", {"participation": 1}, "start the drill before completing it"),
        ("report", {"summary": "Nothing yet"}, "complete the drill before filing its report"),
    ):
        response = await api.call("staff", "POST", f"/drills/{drill_id}/{path}", payload)
        assert response.status_code == 409, response.text
        assert refusal in response.json()["error"]["message"]
    case_id = await api.submit("resident")
    assert (await api.call("staff", "GET", f"/drills/{case_id}")).status_code == 422
    assert (await api.call("staff", "GET", "/drills/DR-NOSUCHDRILL")).status_code == 404


async def test_a_drill_run_through_the_api_opens_repair_cases_and_counts_survey_answers(quick: Api) -> None:
    api = quick
    building_id = building(api, households=2)
    at = datetime.now(UTC) + timedelta(minutes=2)
    created = await api.call(
        "supervisor",
        "POST",
        "/drills",
        {"drill_type": "fire", "building_id": building_id, "scheduled_at": at.isoformat()},
    )
    assert created.status_code == 201, created.text
    drill_id = created.json()["drill_id"]
    api.case_ids.append(drill_id)
    drill = (
        await eventually(
            lambda: api.call("staff", "GET", f"/drills/{drill_id}"), lambda r: r.json()["announced_at"]
        )
    ).json()
    assert any(e["event"] == "reminder_skipped" for e in drill["timeline"]), "announced less than a day ahead"

    started = await api.call("staff", "POST", f"/drills/{drill_id}/start")
    assert started.status_code == 200 and started.json()["owner_id"] == "S001"
    for step in started.json()["steps"]:
        response = await api.call("staff", "POST", f"/drills/{drill_id}/step", {"number": step["number"]})
        assert response.status_code == 202, response.text
    await eventually(
        lambda: api.call("staff", "GET", f"/drills/{drill_id}"),
        lambda r: all(s["done_at"] for s in r.json()["steps"]),
    )
    assert (await api.call("staff", "POST", f"/drills/{drill_id}/step", {"number": 1})).status_code == 409
    assert (await api.call("staff", "POST", f"/drills/{drill_id}/step", {"number": 99})).status_code == 422

    finding = {
        "title": "Alarm silent on floor 5",
        "description": "Nobody on floor 5 heard it.",
        "category": "electrical",
    }
    completed = await api.call(
        "staff", "POST", f"/drills/{drill_id}/complete", {"participation": 2, "findings": [finding]}
    )
    assert completed.status_code == 200, completed.text
    case_id = completed.json()["findings"][0]["case_id"]
    api.case_ids.append(case_id)
    repair = (
        await eventually(
            lambda: api.call("staff", "GET", f"/requests/{case_id}"), lambda r: r.status_code == 200
        )
    ).json()
    assert (repair["kind"], repair["title"]) == ("repair", finding["title"])
    assert (repair["building_id"], repair["parent_case_id"]) == (building_id, drill_id), "linked both ways"

    asked = await eventually(lambda: _survey_notices(api, drill_id), lambda n: len(n) == 2)
    phone, batch_id = asked[0].to, asked[0].case_id
    assert (await _sms(api, phone, "2")).status_code == 200
    progress = await eventually(
        lambda: api.env.client.get_workflow_handle(batch_id).query(DrillSurveyWorkflow.progress),
        lambda entries: any(e.event == "callback_reply" for e in entries),
    )
    reply = next(e for e in progress if e.event == "callback_reply")
    assert reply.detail == {"attempt": asked[0].attempt, "heard": False, "accepted": True}

    reported = await api.call("staff", "POST", f"/drills/{drill_id}/report", {"summary": "Two took part."})
    assert reported.status_code == 200 and reported.json()["reported_at"]
    assert reported.json()["status"] == "completed", "open until the survey window ends"


async def _survey_notices(api: Api, drill_id: str) -> list:
    from sqlalchemy import select

    from steward.store.models import Notification

    def read() -> list:
        with api.database.sessions() as session:
            return list(
                session.scalars(
                    select(Notification).where(
                        Notification.case_id.startswith(f"{drill_id}/survey-"),
                        Notification.template == "drill_survey",
                    )
                )
            )

    return await asyncio.to_thread(read)


async def _sms(api: Api, phone: str, body: str):
    """The resident's phone answers, as Twilio would post it (signed for Steward's public address)."""
    form = {
        "MessageSid": "SM" + uuid.uuid4().hex,
        "From": phone,
        "To": api.settings.twilio_from_number,
        "Body": body,
    }
    path = "/webhooks/twilio/sms"
    signature = RequestValidator(api.settings.twilio_auth_token).compute_signature(
        api.settings.webhook_base_url + path, form
    )
    return await api.http.post(path, data=form, headers={"X-Twilio-Signature": signature})
