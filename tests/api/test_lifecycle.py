"""A repair from submission to closing, driven only by HTTP calls."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from temporalio.api.enums.v1 import EventType

from steward.store.models import CaseEventRow
from tests.api.conftest import PATIENCE_S, Api
from tests.chaos.harness import eventually
from tests.conftest import Database
from tests.workflows.harness import projection_writes
from workflows.contracts import Role
from workflows.names import Activity


async def new_resident_without_phone(api: Api) -> str:
    """Through the admin API: a resident nobody can call, so the callback is a person's job."""
    resident_id = f"RT{uuid.uuid4().hex[:6].upper()}"
    response = await api.call("admin", "POST", "/residents", {
        "id": resident_id, "household_id": "H-B1-104", "name": "Mr Tan", "phone": None, "locale": "en",
        "preferred_channel": "voice",
    })
    assert response.status_code == 201, response.text
    api.person("tan", Role.resident, resident_id)
    return resident_id


async def projected_together(api: Api, database: Database, case_id: str, events: list[str]) -> None:
    """Every transition reaches the read model in order, written together: fewer writes than transitions,
    most of them carried by a send (issue 18); and no separate look-up before a resident's notice."""

    def rows() -> list[str]:
        with database.sessions() as session:
            query = select(CaseEventRow.event).where(CaseEventRow.case_id == case_id)
            return list(session.scalars(query.order_by(CaseEventRow.seq)))

    await eventually(lambda: asyncio.to_thread(rows), lambda found: found == events,
                     "every transition in SQL", PATIENCE_S)
    history = await api.env.client.get_workflow_handle(case_id).fetch_history()
    scheduled = [event.activity_task_scheduled_event_attributes.activity_type.name for event in history.events
                 if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED]
    writes = projection_writes(history)
    assert [event for write in writes for event in write] == events, writes
    assert len(writes) < len(events), writes
    # Most writes ride in a send of their task rather than an activity of their own.
    projections = [name for name in scheduled if name.startswith("projection.")]
    assert set(projections) <= {Activity.PROJECT_CASE_EVENTS}
    assert len(projections) < len(writes) - len(projections), (projections, writes)
    # The resident's notices read their contact inside the send; only the callback step looks it up.
    assert scheduled.count(Activity.NOTIFY_RESIDENT) >= 3 and scheduled.count(Activity.RESIDENT_CONTACT) == 1


async def test_repair_goes_from_submission_to_closing_through_http_only(
    running_api, dev_env, database: Database
) -> None:
    async with running_api(dev_env, database) as api:
        resident_id = await new_resident_without_phone(api)
        case_id = await api.submit("tan", unit="104")

        state = await api.until(case_id, lambda s: s["status"] == "dispatched")
        assert state["resident_id"] == resident_id
        assert state["timeline"][0]["actor"] == {"id": resident_id, "role": "resident"}

        device_time = (datetime.now(UTC) - timedelta(minutes=2)).isoformat()
        acknowledged = await api.call("staff", "POST", f"/requests/{case_id}/acknowledge",
                                      {"occurred_at": device_time})
        assert acknowledged.status_code == 200, acknowledged.text
        assert acknowledged.json()["owner_id"] == "S001"

        noted = await api.call("staff", "POST", f"/requests/{case_id}/progress",
                               {"note": "Valve ordered from the supplier."})
        assert noted.status_code == 202
        await api.until(case_id, lambda s: s["status"] == "in_progress")

        paused = await api.call("staff", "POST", f"/requests/{case_id}/pause",
                                {"reason": "awaiting parts: a replacement valve"})
        assert paused.status_code == 200 and paused.json()["paused"] is True
        resumed = await api.call("tan", "POST", f"/requests/{case_id}/resume")
        assert resumed.status_code == 200 and resumed.json()["paused"] is False

        resolved = await api.call("staff", "POST", f"/requests/{case_id}/resolve",
                                  {"note": "Valve replaced; no more drips."})
        assert resolved.status_code == 200 and resolved.json()["status"] == "resolved"

        await api.until(case_id, lambda s: s["status"] == "manual_callback")
        recorded = await api.call("colleague", "POST", f"/requests/{case_id}/callback",
                                  {"result": "satisfied", "note": "Visited him; the tap is fine.",
                                   "reached_by": "visit"})
        assert recorded.status_code == 200, recorded.text

        closed = await api.until(case_id, lambda s: s["status"] == "closed")
        assert closed["callback"]["result"] == "satisfied"
        assert closed["callback"]["recorded_by"] == {"id": "S002", "role": "staff"}
        events = [entry["event"] for entry in closed["timeline"]]
        assert events.index("acknowledged") < events.index("progress") < events.index("paused") \
            < events.index("resumed") < events.index("resolved") < events.index("closed")
        acknowledged_entry = next(e for e in closed["timeline"] if e["event"] == "acknowledged")
        assert datetime.fromisoformat(acknowledged_entry["device_at"]) == datetime.fromisoformat(device_time)

        await projected_together(api, database, case_id, events)
        history = await api.call("supervisor", "GET", f"/requests/{case_id}/history",
                                 headers={"Accept-Language": "en"})
        told = [e["detail"]["recipient"] for e in history.json()["entries"] if e["event"] == "message"]
        assert told and resident_id not in told, "a resident nobody can message was sent nothing"

        after_close = await api.call("staff", "POST", f"/requests/{case_id}/pause",
                                     {"reason": "one more thing"})
        assert after_close.status_code == 409
        assert after_close.json()["error"]["code"] == "closed"
