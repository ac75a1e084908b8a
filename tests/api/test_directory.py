"""Admin directory endpoints: the only endpoints that write the database directly."""

from __future__ import annotations

import uuid

from tests.api.conftest import Api
from workflows.contracts import Role


def fresh(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:6].upper()}"


async def test_an_admin_builds_a_block_with_a_household_a_resident_and_staff(api: Api) -> None:
    building, household, resident, staff = fresh("B"), fresh("H-"), fresh("R"), fresh("S")
    created = [
        await api.call("admin", "POST", "/buildings", {"id": building, "name": "Block 9", "address": "Rd 9"}),
        await api.call("admin", "POST", "/households", {"id": household, "building_id": building,
                                                        "unit": "901"}),
        await api.call("admin", "POST", "/residents", {
            "id": resident, "household_id": household, "name": "Ms Zhao", "phone": "+8613800009901",
            "locale": "zh-CN", "preferred_channel": "voice"}),
        await api.call("admin", "POST", "/staff", {
            "id": staff, "name": "Gao Fei", "tier": 0, "skills": ["plumbing"], "buildings": [building],
            "phone": "+8613900009901"}),
    ]
    assert [response.status_code for response in created] == [201] * 4, [r.text for r in created]
    assert created[2].json()["opted_out"] is False

    residents = (await api.call("admin", "GET", "/residents?limit=500")).json()["items"]
    assert {"id": resident, "household_id": household, "name": "Ms Zhao", "phone": "+8613800009901",
            "locale": "zh-CN", "preferred_channel": "voice", "opted_out": False} in residents
    staff_list = (await api.call("admin", "GET", "/staff?limit=500")).json()["items"]
    assert next(s for s in staff_list if s["id"] == staff)["buildings"] == [building]

    api.person("zhao", Role.resident, resident)
    case_id = await api.submit("zhao", building_id=building, unit="901")
    assert (await api.state(case_id, who="zhao"))["resident_id"] == resident


async def test_duplicates_are_409_and_missing_references_are_422(api: Api) -> None:
    duplicate = await api.call("admin", "POST", "/buildings", {"id": "B1", "name": "Again"})
    assert duplicate.status_code == 409 and duplicate.json()["error"]["code"] == "already_exists"
    for path, body, words in [
        ("/households", {"id": fresh("H-"), "building_id": "B404", "unit": "1"}, "no building B404"),
        ("/residents", {"id": fresh("R"), "household_id": "H-404", "name": "Nobody"}, "no household H-404"),
        ("/staff", {"id": fresh("S"), "name": "Nobody", "tier": 1, "buildings": ["B1", "B404"]},
         "no building B404"),
    ]:
        response = await api.call("admin", "POST", path, body)
        assert response.status_code == 422, response.text
        assert words in response.json()["error"]["message"]


async def test_entries_are_validated(api: Api) -> None:
    for path, body in [
        ("/buildings", {"id": "has space", "name": "X"}),
        ("/residents", {"id": fresh("R"), "household_id": "H-B1-101", "name": "X", "phone": "12345"}),
        ("/residents", {"id": fresh("R"), "household_id": "H-B1-101", "name": "X",
                        "preferred_channel": "fax"}),
        ("/staff", {"id": fresh("S"), "name": "X", "tier": 4}),
        ("/staff", {"id": fresh("S"), "name": "X", "tier": 0, "skills": ["Not A Skill"]}),
    ]:
        response = await api.call("admin", "POST", path, body)
        assert response.status_code == 422, (path, body, response.text)


async def test_lists_are_paged_by_id(api: Api) -> None:
    seen: list[str] = []
    token = None
    while True:
        query = "limit=7" + (f"&page_token={token}" if token else "")
        page = (await api.call("admin", "GET", f"/residents?{query}")).json()
        seen += [resident["id"] for resident in page["items"]]
        token = page["next_page_token"]
        if token is None:
            break
    assert seen == sorted(seen)
    assert {f"R{n:03d}" for n in range(1, 25)} <= set(seen)
    assert len(seen) == len(set(seen))


async def test_a_stored_entry_with_hidden_characters_is_still_listed(api: Api) -> None:
    """Rows loaded by SQL (an import, an older version) may hold what a request body may not: the
    directory lists them as stored rather than failing the whole page."""
    from steward.store.models import Resident

    resident = fresh("R")
    with api.database.sessions.begin() as session:
        session.add(Resident(id=resident, household_id="H-B1-101", name="Imported\x1b[0m Li", phone=None,
                             locale="en", preferred_channel="sms", opted_out=False, bad_channels=[]))
    listed = await api.call("admin", "GET", f"/residents?limit=1&page_token={resident[:-1]}")
    assert listed.status_code == 200, listed.text
    assert listed.json()["items"][0] == {
        "id": resident, "household_id": "H-B1-101", "name": "Imported\x1b[0m Li", "phone": None,
        "locale": "en", "preferred_channel": "sms", "opted_out": False}
