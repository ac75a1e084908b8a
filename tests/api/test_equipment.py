"""Equipment records (issue 21, first part): admins and supervisors keep them, staff read them, and a
repair names its device; the device's page lists that repair once the workflow has projected it. Through
HTTP, the case workflow and the read model, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from tests.api.conftest import PATIENCE_S, REPAIR, Api
from tests.conftest import Database

LIFT = "EQ-B1-LIFT1"  # seeded with the demo community


@pytest.fixture
async def api_on_both(running_api, dev_env, database: Database):
    async with running_api(dev_env, database) as running:
        yield running


def new_device(**fields) -> dict:
    return {"id": f"EQ-T-{uuid.uuid4().hex[:8].upper()}", "equipment_type": "water_pump",
            "building_id": "B2", "location": "Basement", "model": "Grundfos CR 15",
            "installed_on": "2016-04-01", "contractor": "Pudong Water Works"} | fields


async def test_records_are_kept_by_admins_and_supervisors_and_read_by_staff(api: Api) -> None:
    device = new_device()
    created = await api.call("supervisor", "POST", "/equipment", device)
    assert created.status_code == 201, created.text
    recorded = created.json()
    assert len(recorded.pop("alarm_key")) == 64, "the device's signing key, shown this once"
    assert recorded == device | {"status": "in_service", "heartbeat_seconds": None}
    assert (await api.call("admin", "POST", "/equipment", device)).status_code == 409
    assert (await api.call("admin", "POST", "/equipment", new_device(building_id="NOPE"))).status_code == 422
    assert (await api.call("admin", "POST", "/equipment", new_device(equipment_type="boiler"))).status_code \
        == 422
    assert (await api.call("staff", "POST", "/equipment", new_device())).status_code == 403
    assert (await api.call("resident", "POST", "/equipment", new_device())).status_code == 403

    listed = await api.call("staff", "GET", "/equipment", params={"building": "B2",
                                                                  "equipment_type": "water_pump"})
    assert listed.status_code == 200, listed.text
    assert device["id"] in {item["id"] for item in listed.json()["items"]}
    assert all(item["building_id"] == "B2" and item["equipment_type"] == "water_pump"
               for item in listed.json()["items"])
    first = (await api.call("staff", "GET", "/equipment", params={"limit": 1})).json()
    rest = (await api.call("staff", "GET", "/equipment",
                           params={"limit": 500, "page_token": first["next_page_token"]})).json()
    assert first["items"][0]["id"] < rest["items"][0]["id"], "paged by id, the last seen first out"
    assert (await api.call("resident", "GET", "/equipment")).status_code == 403
    assert (await api.call("staff", "GET", "/equipment", params={"status": "broken"})).status_code == 422

    changed = await api.call("admin", "PATCH", f"/equipment/{device['id']}", {"status": "out_of_service"})
    assert changed.status_code == 200 and changed.json()["status"] == "out_of_service", changed.text
    assert changed.json()["contractor"] == device["contractor"], "only what is given changes"
    assert (await api.call("supervisor", "PATCH", f"/equipment/{device['id']}", {"status": None})
            ).status_code == 422
    assert (await api.call("supervisor", "PATCH", f"/equipment/{device['id']}", {"building_id": "B1"})
            ).status_code == 422, "a device never moves building"
    assert (await api.call("supervisor", "PATCH", "/equipment/EQ-NOSUCH", {"model": "X"})).status_code == 404
    assert (await api.call("staff", "PATCH", f"/equipment/{device['id']}", {"model": "X"})).status_code == 403
    page = await api.call("staff", "GET", f"/equipment/{device['id']}")
    assert page.status_code == 200 and page.json()["device"]["status"] == "out_of_service"
    assert "alarm_key" not in page.json()["device"] and "alarm_key" not in listed.json()["items"][0]
    assert page.json()["repairs"] == [] and page.json()["open_repairs"] == 0
    assert (await api.call("staff", "GET", "/equipment/EQ-NOSUCH")).status_code == 404


async def test_a_repair_names_its_device_and_the_device_page_lists_it(api_on_both: Api) -> None:
    api = api_on_both
    body = REPAIR | {"resident_id": "R001", "title": "Lift stops between floors", "category": "lift",
                     "equipment_id": LIFT}
    filed = await api.call("staff", "POST", "/requests", body, headers={"Idempotency-Key": uuid.uuid4().hex})
    assert filed.status_code == 201, filed.text
    case_id = filed.json()["case_id"]
    api.case_ids.append(case_id)

    deadline = asyncio.get_running_loop().time() + PATIENCE_S
    while True:
        page = (await api.call("staff", "GET", f"/equipment/{LIFT}")).json()
        repairs = {repair["case_id"]: repair for repair in page["repairs"]}
        if case_id in repairs:
            break
        assert asyncio.get_running_loop().time() < deadline, "the repair never reached the device's page"
        await asyncio.sleep(0.2)
    assert repairs[case_id]["title"] == "Lift stops between floors" and repairs[case_id]["closed_at"] is None
    assert page["open_repairs"] >= 1
    assert (await api.state(case_id))["equipment_id"] == LIFT


@pytest.mark.parametrize(("who", "fields", "status", "message"), [
    ("resident", {"equipment_id": LIFT}, 403, "staff name the device"),
    ("staff", {"resident_id": "R001", "equipment_id": "EQ-B2-GATE1"}, 422,
     "no device EQ-B2-GATE1 in service in building B1"),
    ("staff", {"resident_id": "R001", "equipment_id": "EQ-NOSUCH"}, 422, "no device EQ-NOSUCH"),
    ("staff", {"resident_id": "R001", "kind": "complaint", "category": "noise", "equipment_id": LIFT},
     422, "only a repair names a device"),
])
async def test_a_repair_names_only_a_device_of_its_building_and_only_staff_name_it(
        api: Api, who: str, fields: dict, status: int, message: str) -> None:
    body = REPAIR | fields
    if who == "resident":
        del body["building_id"], body["unit"]
    refused = await api.call(who, "POST", "/requests", body, headers={"Idempotency-Key": uuid.uuid4().hex})
    assert refused.status_code == status, refused.text
    assert message in refused.json()["error"]["message"]


async def test_a_retired_device_takes_no_repair(api: Api) -> None:
    device = new_device(building_id="B1")
    assert (await api.call("admin", "POST", "/equipment", device)).status_code == 201
    assert (await api.call("admin", "PATCH", f"/equipment/{device['id']}", {"status": "retired"})
            ).status_code == 200
    refused = await api.call("staff", "POST", "/requests", REPAIR | {"resident_id": "R001",
                                                                     "equipment_id": device["id"]},
                             headers={"Idempotency-Key": uuid.uuid4().hex})
    assert refused.status_code == 422 and "in service" in refused.json()["error"]["message"], refused.text
