"""Work a case starts without waiting for it (notices, projections), drained before the case ends."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable

from temporalio import workflow


class Background:
    def __init__(self) -> None:
        self._pending: set[asyncio.Future] = set()

    def start(self, work: Awaitable[object]) -> None:
        task = asyncio.ensure_future(work)
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def drain(self) -> None:
        """Wait until this work and every update or signal handler still running has finished: what a
        workflow does before it ends or continues as new, so nothing it accepted is cut off."""
        await workflow.wait_condition(lambda: workflow.all_handlers_finished() and not self._pending)
