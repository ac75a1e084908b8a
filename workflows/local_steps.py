"""Directory look-ups and read-model writes, run as local activities.

Each is one short, idempotent SQL statement. As a regular activity it costs a task-queue round trip
and a workflow task of its own, and a case's later steps (a staff member's acknowledge, the next SMS)
wait behind those tasks: 16 of a repair's 23 activities were these. As a local activity it runs in the
worker already running the workflow task and is recorded as a marker. Retries are the same: until the
database answers (backing off on a durable timer once the wait grows past a few seconds).

Except for what an update handler starts (its own projection, the look-ups of the notices it posts):
a local activity holds the workflow task until it finishes, and with it the update's answer to the
staff app. There a regular activity lets the answer go at once.

Workflows started before this change scheduled them as regular activities; `workflow.patched` keeps
their histories replaying as they ran (the answer is remembered for the rest of the run).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from temporalio import workflow

LOCAL_STEPS = "local-directory-and-projection"


def start_step(
    activity: str, arg: Any, *, timeout: timedelta, summary: str, result_type: type | Any = None
) -> workflow.ActivityHandle[Any]:
    """Start `activity` locally in cases started since the patch, unless an update is waiting on the
    workflow task; as a regular activity otherwise."""
    if workflow.patched(LOCAL_STEPS) and workflow.current_update_info() is None:
        return workflow.start_local_activity(
            activity, arg, result_type=result_type, start_to_close_timeout=timeout, summary=summary
        )
    return workflow.start_activity(
        activity, arg, result_type=result_type, start_to_close_timeout=timeout, summary=summary
    )
