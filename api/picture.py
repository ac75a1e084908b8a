"""Whether the board and `/at-risk` can be believed right now, said next to what they show.

They read the SQL read model, which is only as current as the worker that projects into it. Three
things make it lie, and each is checked without touching a single case's workflow: no worker polls
the task queue (nothing acts on deadlines, nothing is projected), the newest running cases in
Temporal have no row yet (projections are behind), and open cases whose next deadline passed a while
ago without their workflow projecting what it did about it. The answer is kept a few seconds, so
many open consoles cost Temporal one task-queue description and one short list per few seconds.
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
from steward.store.deadlines import missing_rows, overdue_count

# An idle worker's long poll lasts about a minute, so its last poll may be that old while it runs.
WORKER_SILENCE = timedelta(seconds=90)
# A passed deadline is acted on and projected within seconds; past this the read model is behind.
ACTED_WITHIN = timedelta(seconds=60)
# A case started this long ago has its first projection in SQL unless the read model is behind.
PROJECTED_WITHIN = timedelta(seconds=10)
NEWEST_CHECKED = 50
KEEP_FOR_S = 5.0

async def _last_poll(client: Client, task_queue: str) -> datetime | None:
    answer = await client.workflow_service.describe_task_queue(
        DescribeTaskQueueRequest(namespace=client.namespace, task_queue=TaskQueue(name=task_queue),
                                 task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW),
        timeout=RPC_TIMEOUT)
    seen = [poller.last_access_time.ToDatetime(UTC) for poller in answer.pollers]
    return max(seen, default=None)


async def _newest_open(client: Client, task_queue: str, started_before: datetime) -> list[str]:
    """Ids of the newest running cases of this queue old enough to have been projected."""
    query = visibility_query("ExecutionStatus = 'Running'", f"TaskQueue = '{task_queue}'",
                             f"StartTime < '{started_before:%Y-%m-%dT%H:%M:%SZ}'")
    return [execution.id async for execution in client.list_workflows(
        query, limit=NEWEST_CHECKED, page_size=NEWEST_CHECKED, rpc_timeout=RPC_TIMEOUT)]


def _read_model(sessions: sessionmaker[Session], now: datetime, case_ids: list[str]) -> tuple[int, int]:
    with sessions() as session:
        return missing_rows(session, case_ids), overdue_count(session, now - ACTED_WITHIN)


async def look(client: Client, task_queue: str, sessions: sessionmaker[Session]) -> Picture:
    now = datetime.now(UTC)
    problems: list[Problem] = []
    try:
        seen, newest = await asyncio.gather(_last_poll(client, task_queue),
                                            _newest_open(client, task_queue, now - PROJECTED_WITHIN))
    except RPCError:
        seen, newest = None, []
        problems.append("temporal_unreachable")
    else:
        if seen is None or now - seen > WORKER_SILENCE:
            problems.append("no_worker")
    missing, overdue = await asyncio.to_thread(_read_model, sessions, now, newest)
    if missing:
        problems.append("read_model_behind")
    if overdue:
        problems.append("deadlines_not_acted_on")
    return Picture(trustworthy=not problems, problems=problems, worker_seen_at=seen,
                   newest_without_row=missing, overdue_not_acted_on=overdue)


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
