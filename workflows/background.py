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

    @property
    def busy(self) -> bool:
        return bool(self._pending)

    async def drain(self) -> None:
        await workflow.wait_condition(lambda: not self._pending)
