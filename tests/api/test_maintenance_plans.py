"""Maintenance plans and inspections (issue 21) through HTTP on the dev server, with the real worker and
read model: a plan is a Temporal Schedule that pauses and resumes with its device; its occurrence is an
inspection the inspector reports on (findings become repair cases on the device) and a team lead
verifies; the inspector, a colleague of the same tier and a resident are refused."""

from __future__ import annotations

import asyncio
import uuid

from tests.api.conftest import PATIENCE_S, Api
from workflows.contracts import Role

STEPS = ["Brakes hold at full load", "Alarm button calls the service centre"]
MONTHLY = {"calendar": {"days_of_month": [5], "hour": 9}, "checklist": STEPS}


async def new_lift(api: Api) -> str:
    device = {"id": f"EQ-T-{uuid.uuid4().hex[:8].upper()}", "equipment_type": "lift", "building_id": "B1",
              "location": "West stair core", "model": "Schindler 3300"}
    created = await api.call("supervisor", "POST", "/equipment", device)
    assert created.status_code == 201, created.text
    return device["id"]


async def eventually(check, what: str):
    deadline = asyncio.get_running_loop().time() + PATIENCE_S
    while not (found := await check()):
        assert asyncio.get_running_loop().time() < deadline, what
        await asyncio.sleep(0.2)
    return found


async def test_a_plan_is_a_schedule_that_pauses_and_resumes_with_its_device(api: Api) -> None:
    device = await new_lift(api)
    path = f"/equipment/{device}/plan"
    assert (await api.call("staff", "PUT", path, MONTHLY)).status_code == 403
    assert (await api.call("supervisor", "PUT", "/equipment/EQ-NOSUCH/plan", MONTHLY)).status_code == 404
    both = MONTHLY | {"interval": {"every": "30d", "first_at": "2030-01-01T09:00:00+08:00"}}
    assert (await api.call("supervisor", "PUT", path, both)).status_code == 422
    assert (await api.call("supervisor", "PUT", path, MONTHLY | {"checklist": []})).status_code == 422
    created = await api.call("supervisor", "PUT", path, MONTHLY)
    assert created.status_code == 201, created.text
    api.schedule_ids.append(created.json()["schedule_id"])
    plan = created.json()
    assert plan["checklist"] == STEPS and not plan["paused"] and plan["next_inspections"]
    assert all(moment.endswith(("01:00:00Z", "01:00:00+00:00")) for moment in plan["next_inspections"]), \
        "09:00 community time"
    assert (await api.call("supervisor", "PUT", path, MONTHLY | {"severity": "urgent"})).status_code == 200
    assert (await api.call("resident", "GET", path)).status_code == 403

    out = await api.call("admin", "PATCH", f"/equipment/{device}", {"status": "out_of_service"})
    assert out.status_code == 200, out.text
    paused = (await api.call("staff", "GET", path)).json()
    assert paused["paused"] and paused["next_inspections"] == [] and paused["severity"] == "urgent"
    back = await api.call("admin", "PATCH", f"/equipment/{device}", {"status": "in_service"})
    assert back.status_code == 200
    assert not (await api.call("staff", "GET", path)).json()["paused"]
    assert (await api.call("supervisor", "POST", f"{path}/pause", {"note": "lift works"})).json()["note"] \
        == "lift works"
    assert (await api.call("staff", "POST", f"{path}/resume")).status_code == 403
    assert not (await api.call("supervisor", "POST", f"{path}/resume")).json()["paused"]

    retired = await api.call("admin", "PATCH", f"/equipment/{device}", {"status": "retired"})
    assert retired.status_code == 200
    assert (await api.call("staff", "GET", path)).status_code == 404, "a retired device's plan is deleted"
    assert (await api.call("supervisor", "PUT", path, MONTHLY)).status_code == 409


async def test_an_inspection_is_reported_by_its_inspector_and_verified_by_a_team_lead(api: Api) -> None:
    api.person("lead", Role.staff, "S101")
    device = await new_lift(api)
    path = f"/equipment/{device}/plan"
    created = await api.call("supervisor", "PUT", path, MONTHLY)
    assert created.status_code == 201, created.text
    api.schedule_ids.append(created.json()["schedule_id"])
    await api.env.client.get_schedule_handle(created.json()["schedule_id"]).trigger()

    async def started():
        return (await api.call("staff", "GET", path)).json()["recent_inspections"]
    inspection = (await eventually(started, "the plan never started an inspection"))[0]
    api.case_ids.append(inspection)
    assert inspection.startswith(f"IN-{device}-")
    state = await api.until(inspection, lambda s: s["handler_id"] is not None)
    assert state["kind"] == "inspection" and state["handler_id"] == "S002", "dispatched by the lift skill"
    assert (await api.call("staff", "GET", f"/inspections/{inspection}")).json()["checklist"] == STEPS

    async def on_the_board():
        board = await api.call("supervisor", "GET", "/console/api/board")
        assert board.status_code == 200, board.text
        return next((case for case in board.json()["items"] if case["case_id"] == inspection), None)
    shown = await eventually(on_the_board, "the inspection never reached the supervisor's board")
    assert shown["kind"] == "inspection" and shown["next_deadline_kind"] == "response_missed"
    assert (await api.call("resident", "GET", f"/inspections/{inspection}")).status_code == 403

    acknowledged = await api.call("colleague", "POST", f"/requests/{inspection}/acknowledge")
    assert acknowledged.status_code == 200, acknowledged.text
    plain = await api.call("colleague", "POST", f"/requests/{inspection}/resolve", {"note": "all fine"})
    assert plain.status_code == 409 and "resolved by its report" in plain.json()["error"]["message"]
    half = {"checklist": [{"step": STEPS[1], "ok": True}]}
    missing = await api.call("colleague", "POST", f"/inspections/{inspection}/report", half)
    assert missing.status_code == 409 and "missing: Brakes hold" in missing.json()["error"]["message"]
    report = {"checklist": [{"step": STEPS[0], "ok": False}, {"step": STEPS[1], "ok": True}],
              "findings": [{"title": "Brake pads worn", "description": "Slips 3 cm at full load",
                            "category": "lift", "severity": "urgent"}]}
    filed = await api.call("colleague", "POST", f"/inspections/{inspection}/report", report)
    assert filed.status_code == 200, filed.text
    finding = filed.json()["findings"][0]["case_id"]
    api.case_ids.append(finding)
    assert filed.json()["case"]["status"] == "resolved"
    await api.until(inspection, lambda s: s["status"] == "manual_callback")

    verify = {"satisfied": True, "note": "Re-tested the brakes with the contractor."}
    refusals = (("colleague", 409, "may not record its callback"), ("staff", 409, "team lead"),
                ("resident", 403, ""))
    for who, status, reason in refusals:
        refused = await api.call(who, "POST", f"/inspections/{inspection}/verify", verify)
        assert refused.status_code == status, refused.text
        assert reason in refused.json()["error"]["message"]
    verified = await api.call("lead", "POST", f"/inspections/{inspection}/verify", verify)
    assert verified.status_code == 200, verified.text
    closed = await api.until(inspection, lambda s: s["status"] == "closed")
    assert closed["callback"]["recorded_by"]["id"] == "S101"

    async def on_page():
        page = (await api.call("staff", "GET", f"/equipment/{device}")).json()
        listed = {case["case_id"] for case in page["inspections"]} >= {inspection} and \
            finding in {case["case_id"] for case in page["repairs"]}
        return page if listed else None
    page = await eventually(on_page, "the inspection and its finding never reached the device's page")
    assert page["plan"]["schedule_id"] == f"plan-{device}" and page["open_inspections"] == 0
    assert (await api.state(finding))["equipment_id"] == device
    timeline = await api.call("supervisor", "GET", f"/requests/{inspection}/history",
                              headers={"Accept-Language": "en"})
    events = {entry["event"]: entry for entry in timeline.json()["entries"]}
    assert "unreadable" not in events and "refused" not in events, timeline.text
    assert events["inspection_reported"]["actor"] == "S002"
    assert "filed the inspection report" in events["inspection_reported"]["text"]

    async def reported():
        report = await api.call("supervisor", "GET", "/reports/equipment", params={"building": "B1"})
        assert report.status_code == 200, report.text
        item = next((i for i in report.json()["items"] if i["equipment_id"] == device), None)
        return item if item and item["repairs"] == 1 and item["inspections_on_time"] == 1 else None
    item = await eventually(reported, "the equipment report never counted the inspection and its finding")
    assert (item["inspections"], item["inspections_overdue"], item["raised_by_device"]) == (1, 0, 0)
