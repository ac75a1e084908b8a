"""Device alarms (issue 21): signed messages from a device through `POST /webhooks/devices` to its
alarm workflow on the dev server, which opens one repair case at a time and adds everything else to
it. Forged, stale and replayed messages are 403 and change nothing; a silent device raises its own
alarm; a reading back to normal leaves the case open."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select
from temporalio.service import RPCError

from steward.device_signing import signature_of
from steward.store.community_models import IncidentRow
from steward.store.models import Case, Notification
from tests.api.conftest import Api
from tests.api.test_drills import eventually
from workflows.contracts import Role
from workflows.device_alarm import (
    DeviceAlarmWorkflow,
    device_case_id,
    device_incident_id,
    device_workflow_id,
)

HISTORY = Path(__file__).parent.parent / "histories" / "device_alarm.json"


async def new_device(api: Api, **fields) -> dict:
    device = {"id": f"EQ-A-{uuid.uuid4().hex[:8].upper()}", "equipment_type": "lift", "building_id": "B1",
              "location": "East stair core"} | fields
    created = await api.call("supervisor", "POST", "/equipment", device)
    assert created.status_code == 201, created.text
    return created.json()


def terminated_after(api: Api, device: dict) -> None:
    """The device's alarm workflow and its first case are ended with the test."""
    api.case_ids += [device_workflow_id(device["id"]), device_case_id(device["id"], 1)]


async def send(api: Api, device: dict, *, key: str | None = None, timestamp: int | None = None,
               signature: str | None = None, **fields) -> tuple[int, str]:
    """A signed message as the device sends it; (status, the signature it went with)."""
    body = json.dumps({"device_id": device["id"], "kind": "alarm", "alarm_type": "stuck_between_floors",
                       "severity": "emergency", "readings": {"floor": 7}, "at": datetime.now(UTC).isoformat()}
                      | fields).encode()
    stamp = str(timestamp if timestamp is not None else int(time.time()))
    signature = signature or signature_of(key or device["alarm_key"], stamp, body)
    response = await api.http.post("/webhooks/devices", content=body, headers={
        "Content-Type": "application/json", "X-Steward-Device": device["id"], "X-Steward-Timestamp": stamp,
        "X-Steward-Signature": signature})
    assert response.status_code < 500, response.text
    return response.status_code, signature


async def device_page(api: Api, device_id: str) -> dict:
    response = await api.call("staff", "GET", f"/equipment/{device_id}")
    assert response.status_code == 200, response.text
    return response.json()


async def test_twenty_alarms_in_a_minute_open_one_case_and_normal_leaves_it_open(api: Api) -> None:
    device = await new_device(api)
    for n in range(20):
        status, _ = await send(api, device, readings={"floor": n % 8})
        assert status == 202
        if n == 0:
            terminated_after(api, device)
    case_id = device_case_id(device["id"], 1)
    state = await eventually(lambda: api.env.client.get_workflow_handle(device_workflow_id(device["id"]))
                             .query(DeviceAlarmWorkflow.state), lambda s: len(s.recent) == 20)
    assert (state.open_case_id, state.cases_opened) == (case_id, 1)

    case = await api.until(case_id, lambda s: sum(e["event"] == "device_reading"
                                                  for e in s["timeline"]) == 19)
    assert case["severity"] == "emergency" and case["equipment_id"] == device["id"]
    assert case["category"] == "lift" and case["resident_id"] == device["id"], "raised by the device"
    page = await eventually(lambda: device_page(api, device["id"]), lambda p: p["repairs"])
    assert [r["case_id"] for r in page["repairs"]] == [case_id], "one case for twenty alarms"

    status, _ = await send(api, device, kind="normal", alarm_type=None, readings={"floor": 0})
    assert status == 202
    case = await api.until(case_id, lambda s: any(e["event"] == "device_reading" and e["detail"]["kind"]
                                                  == "normal" for e in s["timeline"]))
    assert case["status"] != "closed", "back to normal is noted, never closes the case"
    history = await api.call("supervisor", "GET", f"/requests/{case_id}/history", params={"locale": "zh-CN"})
    assert history.status_code == 200, history.text
    assert any(e["event"] == "device_reading" and "设备报告" in e["text"] for e in history.json()["entries"])
    if not HISTORY.exists():
        history = await api.env.client.get_workflow_handle(device_workflow_id(device["id"])).fetch_history()
        HISTORY.write_text(history.to_json(), encoding="utf-8")


@pytest.mark.parametrize("how", ["forged", "other key", "stale", "future", "unknown device"])
async def test_a_forged_or_stale_message_is_403_and_changes_nothing(api: Api, how: str) -> None:
    device = await new_device(api)
    if how == "forged":
        status, _ = await send(api, device, signature="0" * 64)
    elif how == "other key":
        status, _ = await send(api, device, key=uuid.uuid4().hex)
    elif how == "stale":
        status, _ = await send(api, device, timestamp=int(time.time()) - 6 * 60)
    elif how == "future":
        status, _ = await send(api, device, timestamp=int(time.time()) + 6 * 60)
    else:
        status, _ = await send(api, device | {"id": "EQ-NOSUCH"})
    assert status == 403
    with pytest.raises(RPCError):
        await api.env.client.get_workflow_handle(device_workflow_id(device["id"])).describe()


async def test_a_replayed_message_is_403_and_acts_once(api: Api) -> None:
    device = await new_device(api)
    body = {"at": datetime.now(UTC).isoformat()}
    stamp = int(time.time())
    status, signature = await send(api, device, timestamp=stamp, **body)
    assert status == 202
    terminated_after(api, device)
    again, _ = await send(api, device, timestamp=stamp, signature=signature, **body)
    assert again == 403
    state = await eventually(lambda: api.env.client.get_workflow_handle(device_workflow_id(device["id"]))
                             .query(DeviceAlarmWorkflow.state), lambda s: s.open_case_id is not None)
    assert len(state.recent) == 1


async def test_a_bad_body_from_a_genuine_device_is_422(api: Api) -> None:
    device = await new_device(api)
    status, _ = await send(api, device, severity="normal")
    assert status == 422
    status, _ = await send(api, device, device_id="EQ-B1-LIFT1")
    assert status == 422


async def test_a_silent_device_raises_its_own_alarm(api: Api) -> None:
    device = await new_device(api, equipment_type="water_pump", heartbeat_seconds=5)
    terminated_after(api, device)
    case_id = device_case_id(device["id"], 1)
    state = await eventually(lambda: api.env.client.get_workflow_handle(device_workflow_id(device["id"]))
                             .query(DeviceAlarmWorkflow.state), lambda s: s.open_case_id is not None, 30)
    assert state.silent and state.recent[-1].alarm_type == "silent"
    case = await api.until(case_id, lambda s: s["status"] != "submitted")
    assert case["category"] == "plumbing" and "silent" in case["title"]


async def test_the_equipment_report_counts_a_devices_repairs_and_the_alarms_it_raised(api: Api) -> None:
    device = await new_device(api)
    assert (await send(api, device))[0] == 202
    terminated_after(api, device)
    filed = await api.call("staff", "POST", "/requests", {
        "kind": "repair", "category": "lift", "title": "Lift doors slow", "description": "They hesitate.",
        "building_id": "B1", "unit": "101", "resident_id": "R001", "equipment_id": device["id"]},
        headers={"Idempotency-Key": uuid.uuid4().hex})
    assert filed.status_code == 201, filed.text
    api.case_ids.append(filed.json()["case_id"])

    async def line() -> dict | None:
        report = await api.call("supervisor", "GET", "/reports/equipment", params={"building": "B1"})
        assert report.status_code == 200, report.text
        return next((i for i in report.json()["items"] if i["equipment_id"] == device["id"]), None)

    item = await eventually(line, lambda i: i is not None and i["repairs"] == 2)
    assert (item["raised_by_device"], item["open"], item["equipment_type"]) == (1, 2, "lift")
    assert item["median_hours_to_resolve"] is None and item["downtime_hours"] >= 0
    assert item["median_hours_alarm_to_taken"] is None, "nobody has taken the alarm's repair yet"
    taken = await api.call("colleague", "POST", f"/requests/{device_case_id(device['id'], 1)}/acknowledge")
    assert taken.status_code == 200, taken.text
    item = await eventually(line, lambda i: i["median_hours_alarm_to_taken"] is not None)
    assert 0 <= item["median_hours_alarm_to_taken"] < 1 and item["inspections"] == 0
    csv = await api.call("supervisor", "GET", "/reports/equipment", params={"format": "csv"})
    assert csv.status_code == 200 and csv.text.startswith("\ufeffequipment_id,")
    assert device["id"] in csv.text
    assert (await api.call("staff", "GET", "/reports/equipment")).status_code == 403


async def test_a_retired_device_is_watched_no_more_and_its_messages_are_refused(api: Api) -> None:
    device = await new_device(api, heartbeat_seconds=60)
    handle = api.env.client.get_workflow_handle(device_workflow_id(device["id"]))
    assert (await handle.describe()).status.name == "RUNNING", "a device with a heartbeat is watched"
    retired = await api.call("supervisor", "PATCH", f"/equipment/{device['id']}", {"status": "retired"})
    assert retired.status_code == 200, retired.text
    await eventually(handle.describe, lambda d: d.status.name == "COMPLETED")
    assert (await handle.query(DeviceAlarmWorkflow.state)).open_case_id is None
    assert (await send(api, device))[0] == 403


async def test_resolving_the_devices_case_resolves_its_reporters_repairs_and_calls_them_back(
        api: Api) -> None:
    device = await new_device(api)
    filed = await api.call("staff", "POST", "/requests", {
        "kind": "repair", "category": "lift", "title": "Lift stuck again", "description": "Between 6 and 7.",
        "building_id": "B1", "unit": "101", "resident_id": "R001", "equipment_id": device["id"]},
        headers={"Idempotency-Key": uuid.uuid4().hex})
    assert filed.status_code == 201, filed.text
    report = filed.json()["case_id"]
    api.case_ids.append(report)

    def projected() -> bool:
        with api.database.sessions() as session:
            row = session.get(Case, report)
            return row is not None and row.status == "dispatched"
    await eventually(lambda: asyncio.to_thread(projected), bool)
    assert (await send(api, device))[0] == 202
    terminated_after(api, device)
    raised = device_case_id(device["id"], 1)
    await eventually(lambda: api.env.client.get_workflow_handle(device_workflow_id(device["id"]))
                     .query(DeviceAlarmWorkflow.state), lambda s: s.open_case_id == raised)
    await api.until(raised, lambda s: s["handler_id"] is not None)
    resolved = await api.call("colleague", "POST", f"/requests/{raised}/resolve",
                              {"note": "Reset the door controller"})
    assert resolved.status_code == 200, resolved.text

    state = await api.until(report, lambda s: s["status"] in ("callback", "manual_callback", "closed"))
    entry = next(e for e in state["timeline"] if e["event"] == "resolved")
    assert entry["detail"]["fixed_with"] == raised and entry["actor"]["id"] == "S002"
    assert entry["detail"]["note"] == "Reset the door controller"
    asked = await eventually(lambda: asyncio.to_thread(callback_requests, api, report), bool)
    assert asked[0] == "+8613800000101", "the resident who reported it is asked whether it is fixed"
    raised_state = await api.until(raised, lambda s: any(e["event"] == "reporters_resolved"
                                                         for e in s["timeline"]))
    told = next(e for e in raised_state["timeline"] if e["event"] == "reporters_resolved")
    assert told["detail"]["cases"] == [report]
    saved = HISTORY.parent / "repair_raised_by_device_resolves_reports.json"
    if not saved.exists():  # replayed by the determinism guard: the reporters' resolution is patched in
        history = json.loads((await api.env.client.get_workflow_handle(raised).fetch_history()).to_json())
        saved.write_text(json.dumps({"workflow_id": raised, **history}), encoding="utf-8")


def callback_requests(api: Api, case_id: str) -> list[str]:
    with api.database.sessions() as session:
        return list(session.scalars(select(Notification.to).where(
            Notification.case_id == case_id, Notification.template == "callback_request")))


async def test_a_water_pumps_emergency_alarm_opens_the_buildings_incident_that_reports_join(api: Api) -> None:
    """A pump that fails means no water in every flat: its alarm opens the repair and a building-wide
    incident, a resident's plumbing report joins it instead of paging, and staff restore it with its root
    cause (the device opened it; a person records how it ended)."""
    device = await new_device(api, equipment_type="water_pump")
    assert (await send(api, device, alarm_type="pump_failure", readings={"pressure_kpa": 0}))[0] == 202
    terminated_after(api, device)
    incident_id = device_incident_id(device["id"], 1)
    api.case_ids.append(incident_id)
    detail = await eventually(lambda: api.call("staff", "GET", f"/incidents/{incident_id}"),
                              lambda r: r.status_code == 200 and r.json()["notice"])
    incident = detail.json()
    assert (incident["building_id"], incident["units"], incident["category"]) == ("B1", [], "plumbing")
    assert incident["opened_by"] == device["id"] and incident["severity"] == "emergency"
    await eventually(lambda: asyncio.to_thread(incident_row_status, api, incident_id), lambda s: s == "open")

    api.person("R001", Role.resident, "R001")
    report = await api.submit(who="R001", title="No water", description="Nothing from the taps.")
    state = await api.until(report, lambda s: any(e["event"] == "joined_incident" for e in s["timeline"]))
    assert state["incident_id"] == incident_id and state["handler_id"] is None, "held: it pages nobody"

    restored = await api.call("supervisor", "POST", f"/incidents/{incident_id}/restore",
                              {"root_cause": "the pump's motor burnt out"})
    assert restored.status_code == 200, restored.text
    state = await api.until(report, lambda s: s["status"] == "callback")
    assert next(e for e in state["timeline"] if e["event"] == "resolved")["detail"]["incident"] == incident_id
    saved = HISTORY.parent / "device_alarm_opens_incident.json"
    if not saved.exists():  # replayed by the determinism guard: the incident is patched in
        history = json.loads((await api.env.client.get_workflow_handle(
            device_workflow_id(device["id"])).fetch_history()).to_json())
        saved.write_text(json.dumps({"workflow_id": device_workflow_id(device["id"]), **history}),
                         encoding="utf-8")


async def test_a_lifts_alarm_opens_a_repair_and_no_incident(api: Api) -> None:
    """A stuck lift is one repair, not an outage of every household's service."""
    device = await new_device(api)
    assert (await send(api, device))[0] == 202
    terminated_after(api, device)
    await eventually(lambda: api.env.client.get_workflow_handle(device_workflow_id(device["id"]))
                     .query(DeviceAlarmWorkflow.state), lambda s: s.open_case_id is not None)
    missing = await api.call("staff", "GET", f"/incidents/{device_incident_id(device['id'], 1)}")
    assert missing.status_code == 404, missing.text


def incident_row_status(api: Api, incident_id: str) -> str | None:
    with api.database.sessions() as session:
        row = session.get(IncidentRow, incident_id)
        return row.status if row else None
