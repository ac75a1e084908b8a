"""The sandbox plays devices (issue 21): a demo device's signed alarm, sent from the sandbox exactly as
the device would send it, reaches the served API, its alarm workflow and a repair case; a reading back
to normal is taken and leaves the case open."""

from __future__ import annotations

import contextlib

import httpx
from temporalio.service import RPCError

from sandbox.app import SandboxConfig, create_app
from tests.conftest import TEST_ACCOUNT_SID, TEST_AUTH_TOKEN, ThreadedServer
from tests.e2e.conftest import Steward, eventually
from workflows.device_alarm import device_case_id, device_workflow_id

GATE = "EQ-B2-GATE1"  # seeded with the demo community


async def test_the_sandbox_plays_a_demo_device_and_its_alarm_opens_a_case(steward: Steward) -> None:
    config = SandboxConfig(account_sid=TEST_ACCOUNT_SID, auth_token=TEST_AUTH_TOKEN,
                           webhook_base_url=steward.base_url, devices_database_url=steward.database.url)
    server = ThreadedServer(create_app(config)).start()
    case_id = device_case_id(GATE, 1)
    try:
        async with httpx.AsyncClient(base_url=server.base_url, timeout=20) as http:
            devices = (await http.get("/sandbox/devices")).json()
            assert {"EQ-B1-LIFT1", GATE} <= {d["id"] for d in devices}
            assert all("alarm_key" not in d for d in devices), "the page never shows a device's key"

            alarm = await http.post(f"/sandbox/devices/{GATE}",
                                    json={"kind": "alarm", "alarm_type": "jammed"})
            assert alarm.status_code == 200 and alarm.json()["webhook_status"] == 202, alarm.text
            opened = await eventually(lambda: steward.call(steward.supervisor, "GET", f"/requests/{case_id}"),
                                      lambda r: r.status_code == 200 and r.json()["status"] == "dispatched",
                                      "the device's case dispatched")
            assert (opened.json()["equipment_id"], opened.json()["category"]) == (GATE, "security")

            normal = await http.post(f"/sandbox/devices/{GATE}", json={"kind": "normal", "alarm_type": None})
            assert normal.json()["webhook_status"] == 202, normal.text
            state = await steward.until(case_id, lambda s: any(e["event"] == "device_reading"
                                                               for e in s["timeline"]), "the reading noted")
            assert state["status"] != "closed"
            unknown = await http.post("/sandbox/devices/EQ-NOSUCH", json={})
            assert unknown.status_code == 404
    finally:
        server.stop()
        for workflow_id in (device_workflow_id(GATE), case_id):
            with contextlib.suppress(RPCError):
                await steward.env.client.get_workflow_handle(workflow_id).terminate("test finished")
