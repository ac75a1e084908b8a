"""The board and `/at-risk` read the SQL read model: complete at any size, in deadline order, page by
page, and honest about themselves when no worker runs or the read model is behind.

The 600 open cases are written the way the worker writes them (the projection's own writer) in a
building of their own, since the session's database is shared; the cases that prove the picture are
real workflows started through HTTP.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import delete
from temporalio.testing import WorkflowEnvironment

from activities.projection import write_case
from api.app import create_app
from steward.store.models import Case
from steward.tokens import create_token
from tests.api.conftest import REPAIR
from tests.conftest import Database, make_settings
from workflows.case_contracts import CaseSummary
from workflows.contracts import Role

OPEN_CASES = 600
PATIENCE_S = 30.0
# A stopped worker's last long poll may have begun a minute before it stopped (api/picture.py).
SILENCE_PATIENCE_S = 150.0


def summary(case_id: str, building: str, submitted: datetime, deadline: datetime | None) -> CaseSummary:
    return CaseSummary.model_validate({
        "case_id": case_id, "kind": "repair", "status": "dispatched", "severity": "normal",
        "category": "plumbing", "title": "Tap", "building_id": building, "unit": "101",
        "resident_id": "R001", "tier": 0, "handler_id": "S001", "owner_id": None,
        "submitted_at": submitted, "response_due": deadline, "resolution_due": submitted + timedelta(days=1),
        "warned": False, "response_breached": False, "resolution_breached": False, "paused": False,
        "paused_total": timedelta(0), "reopen_count": 0, "withdrawn": False, "callback": None,
        "callback_attempt": 0, "next_deadline": deadline,
        "next_deadline_kind": "response_missed" if deadline else None,
    })


@pytest.fixture
def many_open_cases(database: Database) -> tuple[str, list[str]]:
    """600 open cases of a new building, their deadlines shuffled against their ids; every 10th has
    no running deadline (paused). Returns the building and the racing ids in deadline order."""
    building = f"BQ{uuid.uuid4().hex[:8].upper()}"
    now = datetime.now(UTC)
    racing: list[tuple[datetime, str]] = []
    with database.sessions.begin() as session:
        for n in range(OPEN_CASES):
            case_id = f"RP-{building}-{n:04d}"
            deadline = None if n % 10 == 0 else now + timedelta(minutes=(n * 7919) % 997)
            write_case(session, summary(case_id, building, now - timedelta(minutes=n), deadline), 1)
            if deadline:
                racing.append((deadline, case_id))
    yield building, [case_id for _, case_id in sorted(racing)]
    with database.sessions.begin() as session:
        session.execute(delete(Case).where(Case.building_id == building))


@asynccontextmanager
async def http_api(env: WorkflowEnvironment, database: Database, sandbox, api_port,
                   **overrides) -> AsyncIterator[tuple[httpx.AsyncClient, object]]:
    settings = make_settings(database, sandbox, api_port, **overrides)
    app = create_app(settings, client=env.client, engine=database.engine)
    headers = {"Authorization": f"Bearer {create_token(database.sessions, Role.supervisor, 'S201')}"}
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://steward.test",
                          headers=headers) as http,
    ):
        yield http, settings


async def walk(http: httpx.AsyncClient, path: str, **params) -> list[dict]:
    """Every item of every page, following `next_page_token` to the end."""
    items: list[dict] = []
    token = None
    for _ in range(OPEN_CASES):
        response = await http.get(path, params=params | ({"page_token": token} if token else {}))
        assert response.status_code == 200, response.text
        body = response.json()
        items += body["items"]
        token = body["next_page_token"]
        if token is None:
            return items
    raise AssertionError("the pages never ended")


async def test_600_open_cases_are_all_on_the_board_and_at_risk_in_deadline_order(
    dev_env, database, sandbox, api_port, many_open_cases
) -> None:
    building, racing = many_open_cases
    async with http_api(dev_env, database, sandbox, api_port) as (http, _):
        at_risk = await walk(http, "/at-risk", building=building, limit=200)
        assert [item["case_id"] for item in at_risk] == racing

        board = await walk(http, "/console/api/board", building=building, limit=70)
        ids = [item["case_id"] for item in board]
        assert len(ids) == len(set(ids)) == OPEN_CASES
        assert ids[:len(racing)] == racing
        waiting = board[len(racing):]
        assert all(not item["at_risk"] and item["next_deadline"] is None for item in waiting)
        submitted = [datetime.fromisoformat(item["submitted_at"]) for item in waiting]
        assert submitted == sorted(submitted)

        first = (await http.get("/at-risk", params={"building": building, "limit": 5})).json()
        assert first["total"] == len(racing) and first["total_at_least"] is False and len(first["items"]) == 5
        assert first["items"][0]["seconds_left"] <= first["items"][-1]["seconds_left"]
        second = (await http.get("/at-risk", params={"building": building, "limit": 5,
                                                    "page_token": first["next_page_token"]})).json()
        assert second["total"] is None and second["total_at_least"] is None, \
            "later pages cost one index range scan: nothing is counted"
        assert second["items"][0]["case_id"] == racing[5]


async def test_a_first_page_counts_up_to_its_bound_and_then_says_at_least(
    dev_env, database, sandbox, api_port, many_open_cases
) -> None:
    """The count stops at `STEWARD_COUNT_UP_TO` so a first page costs the same at any size; past the
    bound it says so rather than passing the bound off as the number."""
    building, racing = many_open_cases
    async with http_api(dev_env, database, sandbox, api_port, count_up_to=len(racing)) as (http, _):
        exact = (await http.get("/at-risk", params={"building": building, "limit": 5})).json()
        assert (exact["total"], exact["total_at_least"]) == (len(racing), False), "at the bound: exact"
    async with http_api(dev_env, database, sandbox, api_port, count_up_to=100) as (http, _):
        at_risk = (await http.get("/at-risk", params={"building": building, "limit": 5})).json()
        assert (at_risk["total"], at_risk["total_at_least"]) == (100, True)
        board = (await http.get("/console/api/board", params={"building": building, "limit": 5})).json()
        assert (board["total"], board["total_at_least"]) == (100, True)
        assert [item["case_id"] for item in await walk(http, "/at-risk", building=building, limit=200)] \
            == racing, "the bound limits the count, never the list"


async def test_a_page_token_is_refused_with_other_filters_or_edited(
    dev_env, database, sandbox, api_port, many_open_cases
) -> None:
    building, _ = many_open_cases
    async with http_api(dev_env, database, sandbox, api_port) as (http, _):
        first = await http.get("/at-risk", params={"building": building, "limit": 5})
        token = first.json()["next_page_token"]
        for params in ({"building": "B1", "page_token": token},
                       {"building": building, "page_token": token[:-4]},
                       {"building": building, "page_token": "not-a-token"}):
            refused = await http.get("/at-risk", params=params)
            assert refused.status_code == 422, refused.text
            assert refused.json()["error"]["code"] == "validation_error"
        board_token = (await http.get("/console/api/board", params={"building": building, "limit": 5})
                       ).json()["next_page_token"]
        refused = await http.get("/console/api/board", params={"building": building, "limit": 6,
                                                               "page_token": board_token})
        assert refused.status_code == 422


async def test_the_board_answers_304_until_a_transition_is_projected(api) -> None:
    board = await api.call("supervisor", "GET", "/console/api/board")
    etag = board.headers["ETag"]
    same = await api.call("supervisor", "GET", "/console/api/board", headers={"If-None-Match": etag})
    assert same.status_code == 304 and same.content == b""
    case_id = await api.submit("resident", building_id="B1", unit="101")
    await api.until(case_id, lambda s: s["status"] == "dispatched")
    deadline = asyncio.get_running_loop().time() + PATIENCE_S
    while (changed := await api.call("supervisor", "GET", "/console/api/board",
                                     headers={"If-None-Match": etag})).status_code == 304:
        assert asyncio.get_running_loop().time() < deadline, "the board never changed"
        await asyncio.sleep(0.5)
    assert changed.status_code == 200 and changed.headers["ETag"] != etag
    assert case_id in {item["case_id"] for item in changed.json()["items"]}


async def picture_of(http: httpx.AsyncClient, check, within: float) -> dict:
    """Poll `/at-risk` until its picture passes `check`; the board and /readyz are read then too."""
    deadline = asyncio.get_running_loop().time() + within
    while True:
        picture = (await http.get("/at-risk")).json()["picture"]
        if check(picture):
            return picture
        assert asyncio.get_running_loop().time() < deadline, f"picture never changed: {picture}"
        await asyncio.sleep(1)


async def test_with_no_worker_polling_the_board_at_risk_and_readyz_say_so(
    dev_env, sqlite_database, sandbox, api_port
) -> None:
    async with http_api(dev_env, sqlite_database, sandbox, api_port) as (http, settings):
        submitted = await http.post("/requests", json=REPAIR | {"resident_id": "R001"},
                                    headers={"Idempotency-Key": uuid.uuid4().hex})
        assert submitted.status_code == 201, submitted.text
        case_id = submitted.json()["case_id"]
        try:
            picture = await picture_of(http, lambda p: "read_model_behind" in p["problems"], PATIENCE_S)
            assert picture["trustworthy"] is False and "no_worker" in picture["problems"]
            assert picture["newest_without_row"] == 1
            board = (await http.get("/console/api/board")).json()
            assert board["picture"]["trustworthy"] is False
            assert {"no_worker", "read_model_behind"} <= set(board["picture"]["problems"])
            ready = (await http.get("/readyz")).json()
            assert ready["ready"] is True and "no_worker" in ready["picture"]["problems"]
        finally:
            await dev_env.client.get_workflow_handle(case_id).terminate("test finished")


async def test_a_stopped_worker_is_noticed_by_the_board(
    dev_env, sqlite_database, sandbox, api_port, worker_for
) -> None:
    async with http_api(dev_env, sqlite_database, sandbox, api_port) as (http, settings):
        async with worker_for(dev_env, settings, sqlite_database):
            running = await picture_of(http, lambda p: "no_worker" not in p["problems"], PATIENCE_S)
            assert running["worker_seen_at"] is not None
        stopped = await picture_of(http, lambda p: "no_worker" in p["problems"], SILENCE_PATIENCE_S)
        assert stopped["trustworthy"] is False
        board = (await http.get("/console/api/board")).json()
        assert "no_worker" in board["picture"]["problems"]
