"""`GET /requests` (Temporal visibility, filters, cursor pages) and `GET /at-risk` (time left)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from datetime import datetime

from tests.api.conftest import PATIENCE_S, Api


async def new_building(api: Api) -> str:
    """A building of its own, so the lists of one test hold only that test's cases."""
    building_id = f"BT{uuid.uuid4().hex[:6].upper()}"
    created = await api.call("admin", "POST", "/buildings", {"id": building_id, "name": "Test block"})
    assert created.status_code == 201, created.text
    return building_id


async def listed(api: Api, who: str, query: str, check: Callable[[list[dict]], bool]) -> list[dict]:
    """Visibility is eventually consistent: poll until the list satisfies `check`."""
    deadline = asyncio.get_running_loop().time() + PATIENCE_S
    while True:
        response = await api.call(who, "GET", f"/requests?{query}")
        assert response.status_code == 200, response.text
        items = response.json()["items"]
        if check(items):
            return items
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"list never matched: {items}")
        await asyncio.sleep(0.2)


async def test_filters_narrow_the_list(api: Api) -> None:
    building = await new_building(api)
    urgent = await api.submit("staff", building_id=building, unit=None, resident_id="R001", severity="urgent")
    normal = await api.submit("staff", building_id=building, unit=None, resident_id="R002")
    await api.until(urgent, lambda s: s["status"] == "dispatched")
    await api.call("staff", "POST", f"/requests/{normal}/acknowledge")

    both = await listed(api, "supervisor", f"building={building}", lambda items: len(items) == 2)
    assert {item["case_id"] for item in both} == {urgent, normal}
    assert all(item["kind"] == "repair" and item["running"] for item in both)

    only_urgent = await listed(api, "staff", f"building={building}&severity=urgent", lambda i: len(i) == 1)
    assert only_urgent[0]["case_id"] == urgent and only_urgent[0]["tier"] == 1
    owned = await listed(api, "staff", f"building={building}&owner=S001&status=acknowledged",
                         lambda i: len(i) == 1)
    assert owned[0]["case_id"] == normal
    assert await listed(api, "staff", f"building={building}&tier=3", lambda i: i == []) == []
    assert await listed(api, "staff", f"building={building}&breached=true", lambda i: i == []) == []
    assert len(await listed(api, "staff", f"building={building}&breached=false", lambda i: len(i) == 2)) == 2
    assert await listed(api, "staff", f"building={building}&kind=complaint", lambda i: i == []) == []


async def test_pages_follow_the_cursor_to_the_end(api: Api) -> None:
    building = await new_building(api)
    submitted = {await api.submit("staff", building_id=building, unit=None, resident_id="R001")
                 for _ in range(5)}
    await listed(api, "staff", f"building={building}", lambda items: len(items) == 5)

    seen: list[str] = []
    token = None
    for _ in range(5):
        query = f"building={building}&page_size=2" + (f"&page_token={token}" if token else "")
        page = (await api.call("staff", "GET", f"/requests?{query}")).json()
        seen += [item["case_id"] for item in page["items"]]
        token = page["next_page_token"]
        if token is None:
            break
    assert sorted(seen) == sorted(submitted)

    first = (await api.call("staff", "GET", f"/requests?building={building}&page_size=2")).json()
    other_filters = await api.call("staff", "GET",
                                   f"/requests?building={building}&page_size=2&severity=urgent"
                                   f"&page_token={first['next_page_token']}")
    assert other_filters.status_code == 422


async def test_a_resident_lists_only_their_own_cases(api: Api) -> None:
    mine = await api.submit("resident")
    theirs = await api.submit("neighbour")
    items = await listed(api, "resident", "page_size=100", lambda i: mine in {x["case_id"] for x in i})
    assert {item["resident_id"] for item in items} == {"R001"}
    assert theirs not in {item["case_id"] for item in items}
    snooping = await listed(api, "resident", "page_size=100&building=B1", lambda i: True)
    assert {item["resident_id"] for item in snooping} <= {"R001"}


async def test_a_resident_reads_their_own_case_and_not_a_neighbours(api: Api) -> None:
    mine = await api.submit("resident")
    assert (await api.state(mine, who="resident"))["case_id"] == mine
    hidden = await api.call("neighbour", "GET", f"/requests/{mine}")
    missing = await api.call("neighbour", "GET", "/requests/RP-NOSUCHCASE")
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json()["error"]["code"] == missing.json()["error"]["code"] == "not_found"


async def test_at_risk_orders_open_cases_by_time_left(api: Api) -> None:
    building = await new_building(api)
    emergency = await api.submit("staff", building_id=building, unit=None, resident_id="R001",
                                 severity="emergency")
    low = await api.submit("staff", building_id=building, unit=None, resident_id="R002", severity="low")
    normal = await api.submit("staff", building_id=building, unit=None, resident_id="R003")
    for case_id in (emergency, low, normal):
        await api.until(case_id, lambda s: s["status"] == "dispatched")
    await api.call("staff", "POST", f"/requests/{normal}/acknowledge")
    await listed(api, "staff", f"building={building}", lambda items: len(items) == 3)

    # /at-risk reads the read model, which the acknowledgement reaches through its projection just after.
    deadline = asyncio.get_running_loop().time() + PATIENCE_S
    while True:
        response = await api.call("supervisor", "GET", f"/at-risk?building={building}")
        assert response.status_code == 200, response.text
        items = response.json()["items"]
        if [item["next_deadline_kind"] for item in items][-1:] == ["resolution"]:
            break
        assert asyncio.get_running_loop().time() < deadline, f"the acknowledgement never reached it: {items}"
        await asyncio.sleep(0.2)
    assert [item["case_id"] for item in items] == [emergency, low, normal]
    deadlines = [datetime.fromisoformat(item["next_deadline"]) for item in items]
    assert deadlines == sorted(deadlines)
    kinds = [item["next_deadline_kind"] for item in items]
    assert kinds == ["response_missed", "response_missed", "resolution"]
    assert 0 < items[0]["seconds_left"] <= 300

    limited = (await api.call("staff", "GET", f"/at-risk?building={building}&limit=1")).json()["items"]
    assert [item["case_id"] for item in limited] == [emergency]
