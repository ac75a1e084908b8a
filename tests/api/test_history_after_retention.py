"""A case's history is still served once Temporal has deleted its workflow (as retention does), from
the read model, and the answer says so."""

from __future__ import annotations

import asyncio

from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.workflowservice.v1 import DeleteWorkflowExecutionRequest
from temporalio.service import RPCError, RPCStatusCode

from steward.store.models import Case
from tests.api.conftest import PATIENCE_S, Api


async def deleted(api: Api, case_id: str) -> None:
    """Delete the workflow and its event history, then wait until Temporal no longer knows it."""
    client = api.env.client
    await client.workflow_service.delete_workflow_execution(DeleteWorkflowExecutionRequest(
        namespace=client.namespace, workflow_execution=WorkflowExecution(workflow_id=case_id)))
    deadline = asyncio.get_running_loop().time() + PATIENCE_S
    while True:
        try:
            await client.get_workflow_handle(case_id).describe()
        except RPCError as error:
            assert error.status == RPCStatusCode.NOT_FOUND, error
            return
        assert asyncio.get_running_loop().time() < deadline, f"{case_id} was never deleted"
        await asyncio.sleep(0.3)


async def test_a_cases_history_is_served_from_the_read_model_after_its_workflow_is_deleted(api: Api) -> None:
    case_id = await api.submit("resident")
    await api.until(case_id, lambda s: s["status"] == "dispatched")
    assert (await api.call("staff", "POST", f"/requests/{case_id}/acknowledge")).status_code == 200
    assert (await api.call("staff", "POST", f"/requests/{case_id}/progress",
                           {"note": "New washer fitted."})).status_code == 202
    live = await api.until(case_id, lambda s: s["status"] == "in_progress")
    before = await api.call("supervisor", "GET", f"/requests/{case_id}/history")
    assert before.json()["source"] == "temporal"

    def projected() -> bool:
        with api.database.sessions() as session:
            row = session.get(Case, case_id)
            return row is not None and row.last_seq == len(live["timeline"])

    deadline = asyncio.get_running_loop().time() + PATIENCE_S
    while not projected():
        assert asyncio.get_running_loop().time() < deadline, "the read model never caught up"
        await asyncio.sleep(0.2)
    await deleted(api, case_id)
    api.case_ids.remove(case_id)

    english = await api.call("supervisor", "GET", f"/requests/{case_id}/history",
                             headers={"Accept-Language": "en"})
    assert english.status_code == 200, english.text
    body = english.json()
    assert body["source"] == "read_model" and "retention" in body["notice"]
    events = [entry["event"] for entry in body["entries"]]
    assert [e for e in events if e != "message"] == [entry["event"] for entry in live["timeline"]]
    assert events.index("submitted") < events.index("dispatched") < events.index("acknowledged") \
        < events.index("progress")
    progress = next(entry for entry in body["entries"] if entry["event"] == "progress")
    assert progress["text"] == "S001 reported progress: New washer fitted." and progress["actor"] == "S001"
    messages = [entry for entry in body["entries"] if entry["event"] == "message"]
    assert messages and all(entry["delivery"]["status"] for entry in messages)

    chinese = await api.call("supervisor", "GET", f"/requests/{case_id}/history",
                             headers={"Accept-Language": "zh-CN"})
    assert chinese.json()["source"] == "read_model" and "保留期" in chinese.json()["notice"]
    assert any(entry["text"] == "S001 确认接单" for entry in chinese.json()["entries"])

    assert (await api.call("staff", "GET", f"/requests/{case_id}/history")).status_code == 403
    nowhere = await api.call("supervisor", "GET", "/requests/RP-AAAAAAAAAA/history")
    assert nowhere.status_code == 404
