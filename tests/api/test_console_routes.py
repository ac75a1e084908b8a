"""The console's own routes over HTTP: its page and assets, who may sign in, and the board's data.

(What a supervisor sees in a browser is tested in tests/console/ with Chromium.)
"""

from __future__ import annotations

import asyncio
from datetime import datetime

import pytest

from steward.tokens import revoke_token
from tests.api.conftest import PATIENCE_S, Api
from workflows.contracts import Role

CONSOLE_READS = ["/console/api/session", "/console/api/board"]


async def test_the_page_and_its_assets_are_served_by_steward_without_a_token(api: Api) -> None:
    redirect = await api.call(None, "GET", "/console")
    assert redirect.status_code == 307 and redirect.headers["location"] == "/console/"
    page = await api.call(None, "GET", "/console/")
    assert page.status_code == 200 and page.headers["content-type"] == "text/html; charset=utf-8"
    policy = page.headers["content-security-policy"]
    assert "default-src 'self'" in policy and "script-src 'self'" in policy
    for asset, media_type in (("app.js", "text/javascript"), ("console.css", "text/css"),
                              ("favicon.svg", "image/svg+xml")):
        assert f"/console/assets/{asset}" in page.text
        response = await api.call(None, "GET", f"/console/assets/{asset}")
        assert response.status_code == 200
        assert response.headers["content-type"].startswith(media_type)
    for missing in ("nothing.js", "index.html", "__init__.py", "..%2F..%2Fpyproject.toml"):
        response = await api.call(None, "GET", f"/console/assets/{missing}")
        assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"


@pytest.mark.parametrize("path", CONSOLE_READS)
async def test_only_a_supervisor_gets_the_consoles_data(api: Api, path: str) -> None:
    revoked = api.person("revoked", Role.supervisor, "S201")
    assert revoke_token(api.database.sessions, revoked)
    assert (await api.call(None, "GET", path)).status_code == 401
    assert (await api.call("revoked", "GET", path)).status_code == 401
    for who in ("resident", "staff", "admin"):
        refused = await api.call(who, "GET", path)
        assert refused.status_code == 403 and refused.json()["error"]["code"] == "forbidden"
    assert (await api.call("supervisor", "GET", path)).status_code == 200


async def test_the_session_names_the_supervisor_and_carries_both_languages(api: Api) -> None:
    session = (await api.call("supervisor", "GET", "/console/api/session")).json()
    assert (session["staff_id"], session["name"]) == ("S201", "Zhou Qiang")
    assert session["timezone"] == "Asia/Shanghai"
    assert session["words"]["status"]["in_progress"] == {"en": "in progress", "zh-CN": "处理中"}
    assert session["words"]["tier"]["1"] == {"en": "team lead", "zh-CN": "班组长"}
    assert {"B1", "B2"} <= {building["id"] for building in session["buildings"]}
    assert all("phone" not in person for person in session["staff"])


async def on_the_board(api: Api, case_id: str, params: dict, check) -> tuple[dict, dict]:
    """The board reads the read model, which a transition reaches through its projection just after:
    poll until the case's row passes `check`; (the board, the case's item)."""
    deadline = asyncio.get_running_loop().time() + PATIENCE_S
    while True:
        board = (await api.call("supervisor", "GET", "/console/api/board", params=params)).json()
        item = next((item for item in board["items"] if item["case_id"] == case_id), None)
        if item is not None and check(item):
            return board, item
        assert asyncio.get_running_loop().time() < deadline, f"the board never showed it: {item}"
        await asyncio.sleep(0.2)


async def test_the_board_lists_open_cases_with_their_live_deadline_state(api: Api) -> None:
    case_id = await api.submit("resident", building_id="B1", unit="101")
    await api.until(case_id, lambda s: s["status"] == "dispatched")

    board, item = await on_the_board(api, case_id, {"building": "B1"}, lambda i: i["status"] == "dispatched")
    state = await api.state(case_id)
    assert item["state"] == "on_time" and item["at_risk"] is True
    assert item["next_deadline_kind"] == state["next_deadline_kind"] == "response_missed"
    assert item["handler_id"] == state["handler_id"] and item["status"] == "dispatched"
    assert 0 < item["seconds_left"] <= 30 * 60
    at_risk = [entry for entry in board["items"] if entry["at_risk"]]
    assert at_risk == board["items"][:len(at_risk)]
    deadlines = [datetime.fromisoformat(entry["next_deadline"]) for entry in at_risk]
    assert deadlines == sorted(deadlines), "by time (a whole second is written without a fraction)"

    elsewhere = (await api.call("supervisor", "GET", "/console/api/board", params={"building": "B2"})).json()
    assert case_id not in {entry["case_id"] for entry in elsewhere["items"]}
    assert (await api.call("staff", "POST", f"/requests/{case_id}/acknowledge")).status_code == 200
    assert (await api.call("staff", "POST", f"/requests/{case_id}/pause",
                           {"reason": "awaiting parts"})).status_code == 200
    _, item = await on_the_board(api, case_id, {"owner": "S001"}, lambda i: i["state"] == "paused")
    assert (item["state"], item["owner_id"], item["at_risk"]) == ("paused", "S001", False)


@pytest.mark.parametrize("params", [{"tier": "7"}, {"building": "B1' OR 1=1"}, {"kind": "party"},
                                    {"owner": "x" * 40}])
async def test_the_board_refuses_filters_it_cannot_read(api: Api, params: dict) -> None:
    response = await api.call("supervisor", "GET", "/console/api/board", params=params)
    assert response.status_code == 422 and response.json()["error"]["code"] == "validation_error"
