"""A projection the database refuses for good fails at once, non-retryable, and the case's history
says so to supervisors, instead of retrying forever while reports silently lack the case (issue 14).

Every id Steward makes fits its column (tests/workflows/test_drill_ids_fit.py); this is the net under
that rule: a case started with a resident id wider than `cases.resident_id`, which only PostgreSQL
refuses."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

import pytest
from temporalio.api.enums.v1 import EventType

from tests.api.conftest import Api
from tests.chaos.harness import eventually
from workflows.case_contracts import CaseInput
from workflows.contracts import Actor, Role, Severity
from workflows.names import Activity
from workflows.repair import RepairWorkflow


@pytest.fixture
async def postgres_api(running_api, dev_env, database):
    async with running_api(dev_env, database) as api:
        yield api


@pytest.mark.parametrize("database", ["postgresql"], indirect=True)
async def test_a_projection_postgresql_refuses_fails_once_and_the_history_says_so(postgres_api: Api) -> None:
    api = postgres_api
    case_id = f"RP-WIDE{uuid.uuid4().hex[:6].upper()}"
    case = CaseInput(severity=Severity.normal, category="plumbing", title="Tap", description="Drips.",
                     building_id="B1", unit="101", resident_id="R" * 40,
                     submitted_by=Actor(id="S001", role=Role.staff), submitted_at=datetime.now(UTC),
                     policy=api.settings.policy)
    handle = await api.env.client.start_workflow(RepairWorkflow.run, case, id=case_id,
                                                 task_queue=api.settings.task_queue)
    api.case_ids.append(case_id)

    async def failed_projections() -> list:
        events = [e async for e in handle.fetch_history_events()]
        return [e for e in events if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_FAILED]

    deadline = asyncio.get_running_loop().time() + 20
    while not (failures := await failed_projections()):
        assert asyncio.get_running_loop().time() < deadline, "the projection never failed"
        await asyncio.sleep(0.2)
    failure = failures[0].activity_task_failed_event_attributes.failure
    assert failure.application_failure_info.non_retryable
    assert failure.application_failure_info.type == "ProjectionRejected"
    pending = (await handle.describe()).raw_description.pending_activities
    projections = {Activity.PROJECT_CASE, Activity.PROJECT_CASE_EVENTS}
    retrying = [p for p in pending if p.activity_type.name in projections and p.attempt > 1]
    assert not retrying, "nothing left retrying"  # a later transition's write may be on its first try

    async def history() -> list[dict]:
        response = await api.call("supervisor", "GET", f"/requests/{case_id}/history",
                                  headers={"Accept-Language": "en"})
        assert response.status_code == 200, response.text
        return response.json()["entries"]

    def pages(entries: list[dict]) -> list[dict]:
        return [e for e in entries if e["event"] == "message" and e["detail"]["template"] == "dispatch"]

    def page_sent(entries: list[dict]) -> bool:
        return any(page["delivery"]["status"] not in ("pending", "failed") for page in pages(entries))

    entries = await eventually(history, page_sent, "the handler's page went", 20)
    [entry, *_] = [e for e in entries if e["event"] == "projection_failed"]
    assert "refused a transition for good" in entry["text"] and "too long" in entry["text"]
    assert "R" * 40 not in entry["text"]
    # The handler's page carried a refused write: it went again on its own, and is one message, sent.
    assert [page["detail"]["recipient"] for page in pages(entries)] == ["S001"], pages(entries)
