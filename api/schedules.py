"""What the API's Temporal Schedules share (recurring drills, maintenance plans): reading one, creating
or replacing one, and the ids of the workflows it started lately.

A schedule's memo keeps what was asked for and cannot be updated, so replacing a schedule deletes and
recreates it, keeping whether it was paused and why.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import timedelta

from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionExecutionStartWorkflow,
    ScheduleActionResult,
    ScheduleAlreadyRunningError,
    ScheduleDescription,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleState,
)

from api.cases import RPC_TIMEOUT, temporal_answers
from api.errors import ApiError

CATCHUP = timedelta(hours=1)
POLICY = SchedulePolicy(overlap=ScheduleOverlapPolicy.ALLOW_ALL, catchup_window=CATCHUP)


async def describe_schedule(client: Client, sid: str, missing: str) -> ScheduleDescription:
    """The schedule `sid`; 404 saying `missing` when Temporal has none."""
    with temporal_answers(sid):
        try:
            return await client.get_schedule_handle(sid).describe(rpc_timeout=RPC_TIMEOUT)
        except ApiError as error:
            if error.status == 404:
                raise ApiError(404, missing) from error
            raise


async def create_or_replace(client: Client, sid: str, schedule: Callable[[ScheduleState], Schedule],
                            memo: Mapping[str, object], state: ScheduleState) -> bool:
    """Create the schedule in `state`, or replace the one there keeping its state; True when new."""
    handle = client.get_schedule_handle(sid)
    with temporal_answers(sid):
        try:
            await client.create_schedule(sid, schedule(state), memo=memo, rpc_timeout=RPC_TIMEOUT)
            return True
        except ScheduleAlreadyRunningError:
            kept = (await handle.describe(rpc_timeout=RPC_TIMEOUT)).schedule.state
            replacement = schedule(ScheduleState(paused=kept.paused, note=kept.note))
            await handle.delete(rpc_timeout=RPC_TIMEOUT)
            await client.create_schedule(sid, replacement, memo=memo, rpc_timeout=RPC_TIMEOUT)
            return False


async def set_paused(client: Client, sid: str, paused: bool, note: str) -> None:
    """Pause or resume the schedule `sid`; Temporal keeps `note` as why."""
    handle = client.get_schedule_handle(sid)
    with temporal_answers(sid):
        await (handle.pause if paused else handle.unpause)(note=note, rpc_timeout=RPC_TIMEOUT)


def started_ids(recent: list[ScheduleActionResult]) -> list[str]:
    """The workflows a schedule started lately, by id."""
    return [r.action.workflow_id for r in recent
            if isinstance(r.action, ScheduleActionExecutionStartWorkflow)]
