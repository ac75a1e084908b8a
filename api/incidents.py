"""Incidents as the API sees them (issue 22): the open incident a new report joins, and an incident's
live state. The routes are in `api/routes/incidents.py`; the filing door (`api/filing.py`) asks here."""

from __future__ import annotations

from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.service import RPCError

from api.cases import RPC_TIMEOUT, temporal_answers
from api.errors import ApiError
from workflows.case_contracts import IncidentHold
from workflows.incident_contracts import INCIDENT_PREFIX, IncidentState


def is_incident_id(workflow_id: str) -> bool:
    return workflow_id.startswith(f"{INCIDENT_PREFIX}-")


async def incident_state(client: Client, incident_id: str) -> tuple[IncidentState, bool]:
    """The incident's live state and whether it still runs; 404 when there is none."""
    if not is_incident_id(incident_id):
        raise ApiError(404, f"no incident {incident_id}")
    handle = client.get_workflow_handle(incident_id)
    with temporal_answers(incident_id):
        description = await handle.describe(rpc_timeout=RPC_TIMEOUT)
        state = await handle.query("state", result_type=IncidentState, rpc_timeout=RPC_TIMEOUT)
    return state, description.status == WorkflowExecutionStatus.RUNNING


async def _running(client: Client, incident_id: str) -> bool:
    try:
        description = await client.get_workflow_handle(incident_id).describe(rpc_timeout=RPC_TIMEOUT)
    except RPCError:
        return False
    return description.status == WorkflowExecutionStatus.RUNNING


async def first_running(client: Client, holds: list[IncidentHold]) -> IncidentHold | None:
    """The open incident a repair filed here joins: the first of those the read model holds open for its
    building, category and unit that still runs (a row the read model has not yet closed is asked of
    Temporal)."""
    for hold in holds:
        if await _running(client, hold.incident_id):
            return hold
    return None
