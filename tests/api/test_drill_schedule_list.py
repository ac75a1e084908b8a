"""Recurring drills in the read model (issue 16): `GET /drill-schedules` lists them from SQL, the next
drill first, with filters and cursor pages, on SQLite and PostgreSQL; every change a supervisor makes
through HTTP reaches the row; a schedule that acted since its row was written is read again."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from steward.store.community_models import DrillScheduleRow
from tests.api.conftest import Api
from tests.api.test_drills import building, set_schedule
from tests.conftest import Database


@pytest.fixture
async def api_on_both(running_api, dev_env, database: Database):
    async with running_api(dev_env, database) as running:
        yield running


async def listed(api: Api, **params) -> dict:
    response = await api.call("supervisor", "GET", "/drill-schedules", params=params)
    assert response.status_code == 200, response.text
    return response.json()


def ids(page: dict) -> list[str]:
    return [item["schedule_id"] for item in page["items"]]


async def test_schedules_are_listed_from_sql_by_next_drill_filtered_and_paged(api_on_both: Api) -> None:
    api = api_on_both
    first, second = building(api), building(api)
    soon = await set_schedule(api, building_id=first, drill_type="fire",
                              interval={"every": "7d", "first_at": _days_ahead(4)})
    later = await set_schedule(api, building_id=second, drill_type="flood",
                               interval={"every": "30d", "first_at": _days_ahead(20)})
    paused = await set_schedule(api, building_id=first, drill_type="security",
                                calendar={"days_of_week": ["sat"], "hour": 10})
    assert (await api.call("supervisor", "POST", f"/drill-schedules/{paused['schedule_id']}/pause",
                           {"note": "lift works"})).status_code == 200

    mine = {soon["schedule_id"], later["schedule_id"], paused["schedule_id"]}
    every = await listed(api)
    order = [i for i in ids(every) if i in mine]
    assert order == [soon["schedule_id"], later["schedule_id"], paused["schedule_id"]], \
        "next drill first; a paused schedule has none and comes after"
    rows = {item["schedule_id"]: item for item in every["items"]}
    assert rows[soon["schedule_id"]]["next_drills"][0] == soon["next_drills"][0]
    held = rows[paused["schedule_id"]]
    assert held["paused"] is True and held["note"] == "lift works"
    assert held["next_drills"] == []
    assert every["total"] == len(every["items"]) and every["total_at_least"] is False

    assert set(ids(await listed(api, building=first))) == {soon["schedule_id"], paused["schedule_id"]}
    assert ids(await listed(api, building=first, paused=True)) == [paused["schedule_id"]]
    assert ids(await listed(api, drill_type="flood", building=second)) == [later["schedule_id"]]

    page = await listed(api, building=first, limit=1)
    assert ids(page) == [soon["schedule_id"]] and page["total"] == 2
    rest = await listed(api, building=first, limit=1, page_token=page["next_page_token"])
    assert ids(rest) == [paused["schedule_id"]] and rest["next_page_token"] is None and rest["total"] is None

    resumed = await api.call("supervisor", "POST", f"/drill-schedules/{paused['schedule_id']}/resume")
    assert resumed.status_code == 200
    assert (await listed(api, building=first, paused=False))["total"] == 2, "resume reached the row"
    deleted = await api.call("supervisor", "DELETE", f"/drill-schedules/{later['schedule_id']}")
    assert deleted.status_code == 204
    assert later["schedule_id"] not in ids(await listed(api)), "the delete reached the row at once"


async def test_a_row_the_schedule_has_acted_past_is_read_again(api_on_both: Api) -> None:
    api = api_on_both
    schedule = await set_schedule(api, building_id=building(api), drill_type="fire",
                                  interval={"every": "7d", "first_at": _days_ahead(5)})
    sid = schedule["schedule_id"]
    past = datetime.now(UTC) - timedelta(hours=1)
    with api.database.sessions.begin() as session:  # as if the schedule acted after the row was written
        session.execute(update(DrillScheduleRow).where(DrillScheduleRow.schedule_id == sid)
                        .values(next_action=past, next_deadline=past))
    item = next(i for i in (await listed(api))["items"] if i["schedule_id"] == sid)
    assert item["next_drills"][0] == schedule["next_drills"][0]
    with api.database.sessions() as session:
        action = session.scalar(select(DrillScheduleRow.next_action)
                                .where(DrillScheduleRow.schedule_id == sid))
    assert action is not None and action.replace(tzinfo=UTC) > datetime.now(UTC), "the row was rewritten"


@pytest.mark.parametrize("params", [{"drill_type": "earthquake"}, {"paused": "maybe"}, {"building": "B 1"},
                                    {"limit": 0}, {"page_token": "not-a-token"}])
async def test_bad_filters_and_cursors_are_422(api: Api, params: dict) -> None:
    response = await api.call("supervisor", "GET", "/drill-schedules", params=params)
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == "validation_error"


async def test_a_cursor_from_other_filters_is_refused(api: Api) -> None:
    first = building(api)
    for drill_type in ("fire", "flood"):
        await set_schedule(api, building_id=first, drill_type=drill_type,
                           calendar={"days_of_week": ["sun"], "hour": 9})
    token = (await listed(api, building=first, limit=1))["next_page_token"]
    assert token is not None
    refused = await api.call("supervisor", "GET", "/drill-schedules",
                             params={"building": first, "limit": 1, "paused": True, "page_token": token})
    assert refused.status_code == 422, refused.text


def _days_ahead(days: int) -> str:
    return (datetime.now(UTC) + timedelta(days=days)).replace(microsecond=0).isoformat()
