"""Whether the board and `/at-risk` can be believed right now, said next to what they show.

They read the SQL read model, which is only as current as the worker that projects into it. Three
things make it lie, and each is checked without touching a single case's workflow: no worker polls
the task queue (nothing acts on deadlines, nothing is projected), Temporal has more open cases than
the read model (projections are behind), and open cases whose next deadline passed a while ago
without their workflow projecting what it did about it. The answer is kept a few seconds, so many
open consoles cost Temporal one task-queue description and one count per few seconds.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session, sessionmaker
from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
from temporalio.client import Client
from temporalio.service import RPCError

from api.cases import RPC_TIMEOUT, visibility_query
from api.models import Picture, Problem
from steward.store.deadlines import open_count, overdue_count

# An idle worker's long poll lasts about a minute, so its last poll may be that old while it runs.
WORKER_SILENCE = timedelta(seconds=90)
# A passed deadline is acted on and projected within seconds; past this the read model is behind.
ACTED_WITHIN = timedelta(seconds=60)
KEEP_FOR_S = 5.0

async def _last_poll(client: Client, task_queue: str) -> datetime | None:
    answer = await client.workflow_service.describe_task_queue(
        DescribeTaskQueueRequest(namespace=client.namespace, task_queue=TaskQueue(name=task_queue),
                                 task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW),
        timeout=RPC_TIMEOUT)
    seen = [poller.last_access_time.ToDatetime(UTC) for poller in answer.pollers]
    return max(seen, default=None)


async def _open_in_temporal(client: Client, task_queue: str) -> int:
    query = visibility_query("ExecutionStatus = 'Running'", f"TaskQueue = '{task_queue}'")
    return (await client.count_workflows(query, rpc_timeout=RPC_TIMEOUT)).count


def _read_model(sessions: sessionmaker[Session], now: datetime) -> tuple[int, int]:
    with sessions() as session:
        return open_count(session, {}), overdue_count(session, now - ACTED_WITHIN)


async def look(client: Client, task_queue: str, sessions: sessionmaker[Session]) -> Picture:
    now = datetime.now(UTC)
    problems: list[Problem] = []
    (open_sql, overdue) = await asyncio.to_thread(_read_model, sessions, now)
    try:
        seen, open_temporal = await asyncio.gather(_last_poll(client, task_queue),
                                                   _open_in_temporal(client, task_queue))
    except RPCError:
        seen, open_temporal = None, None
        problems.append("temporal_unreachable")
    else:
        if seen is None or now - seen > WORKER_SILENCE:
            problems.append("no_worker")
        if open_temporal > open_sql:
            problems.append("read_model_behind")
    if overdue:
        problems.append("deadlines_not_acted_on")
    return Picture(trustworthy=not problems, problems=problems, worker_seen_at=seen,
                   open_in_temporal=open_temporal, open_in_read_model=open_sql, overdue_not_acted_on=overdue)


class PictureWatch:
    """One per app: the last look, kept `KEEP_FOR_S` seconds."""

    def __init__(self, client: Client, task_queue: str, sessions: sessionmaker[Session]) -> None:
        self.client, self.task_queue, self.sessions = client, task_queue, sessions
        self._last: tuple[float, Picture] | None = None
        self._lock = asyncio.Lock()

    async def current(self) -> Picture:
        async with self._lock:
            if self._last is None or time.monotonic() - self._last[0] > KEEP_FOR_S:
                self._last = (time.monotonic(), await look(self.client, self.task_queue, self.sessions))
            return self._last[1]


async def _watch(request: Request) -> PictureWatch:
    return request.app.state.picture


PictureDep = Annotated[PictureWatch, Depends(_watch)]
