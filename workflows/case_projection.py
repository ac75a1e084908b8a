"""A case's transitions into the SQL read model: one write per workflow task, not one per transition.

An update that resolves a case and starts its callback, or a deadline that escalates and pages, makes
several transitions in one workflow task; they go to the database in one activity, with the state after
the last (the row keeps only the newest state anyway). The write waits for the rest of its task's work
to be scheduled first, so a page or a notice is never queued behind bookkeeping, and a signal's
transitions share it with those of the run method the signal woke (a reply and the close). Writes are
not held back behind an earlier one still retrying: supervisors, residents and the SMS webhooks read
the read model, so a transition must reach it as soon as the database allows. Cases started before
this change wrote each transition in its own activity, and replay that way.

When the task also sends a notice (or the callback step looks the resident's contact up), that
activity carries the write: it writes first, then sends, so most tasks schedule one activity instead
of two. A send that fails hands its transitions back to a write of their own (writes are idempotent by
seq, so a write done twice does nothing the second time); one the database refused for good is
reported by the send's failure, and the notice goes again alone.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError

from workflows.names import PROJECTION_REJECTED, Activity

with workflow.unsafe.imports_passed_through():
    from workflows.background import Background
    from workflows.case_contracts import CaseEvent, CaseEvents, Transition
    from workflows.projected import PROJECT_TIMEOUT

PROJECTION_BATCHED = "case-projection-batched"
# The write yielded once, so a signal's transitions went before those of the run method it woke (a reply,
# then the close): it now waits until the task's woken coroutines have run too.
PROJECTION_AFTER_WAKEUPS = "case-projection-after-wakeups"
# Each task's transitions had a write of their own: a send of the same task now carries them (issue 18).
PROJECTION_CARRIED = "case-projection-carried"

Sent = TypeVar("Sent")


class CaseProjection:
    def __init__(self, case_id: str, background: Background) -> None:
        self.case_id = case_id
        self.background = background
        self._waiting: list[CaseEvent] = []
        self._carriers = 0

    def add(self, event: CaseEvent) -> None:
        """Project `event` in the background, with the others of this workflow task."""
        if not workflow.patched(PROJECTION_BATCHED):
            self.background.start(workflow.start_activity(
                Activity.PROJECT_CASE, event, start_to_close_timeout=PROJECT_TIMEOUT,
                summary=f"project {event.event}"))
            return
        self._waiting.append(event)
        if len(self._waiting) == 1:
            self.background.start(self._write())

    async def carrying(self, send: Callable[[CaseEvents | None], Awaitable[Sent]]) -> Sent:
        """`send(carried)`: once the task's other work is scheduled, with its transitions not yet written
        (None when there are none), for the send's activity to write before it sends."""
        if not workflow.patched(PROJECTION_CARRIED):
            return await send(None)
        self._carriers += 1
        try:
            await self._settle()
        finally:
            self._carriers -= 1
        taken = self._take()
        if not taken:
            return await send(None)
        try:
            return await send(self._batch(taken))
        except ActivityError as error:
            cause = error.cause
            if isinstance(cause, ApplicationError) and cause.type == PROJECTION_REJECTED:
                workflow.logger.warning("projection of %s refused: %s", self.case_id, cause)
                return await send(None)
            self._hand_back(taken)
            raise

    async def _write(self) -> None:
        await self._settle()
        if self._carriers:  # a send of this task takes the transitions; this writes any it did not
            await workflow.wait_condition(lambda: not self._carriers)
        events = self._take()
        if not events:
            return
        try:
            await workflow.start_activity(
                Activity.PROJECT_CASE_EVENTS, self._batch(events), start_to_close_timeout=PROJECT_TIMEOUT,
                summary="project " + ", ".join(event.event for event in events),
            )
        except ActivityError as error:  # refused for good: the case's history shows it
            workflow.logger.warning("projection of %s refused: %s", self.case_id, error.cause or error)

    async def _settle(self) -> None:
        """Until whatever else this task does (its transitions, its pages) is scheduled. Conditions are
        checked only once nothing else can run: the first check wakes whatever waited on one (the run
        method a signal answered), the second comes after those ran to their next wait."""
        if workflow.patched(PROJECTION_AFTER_WAKEUPS):
            for _ in range(2):
                await workflow.wait_condition(lambda: True)
        else:
            await asyncio.sleep(0)

    def _take(self) -> list[CaseEvent]:
        events, self._waiting = self._waiting, []
        return events

    def _batch(self, events: list[CaseEvent]) -> CaseEvents:
        """One write's input: the transitions, and the case's state after the last."""
        transitions = [Transition(**event.model_dump(exclude={"state"})) for event in events]
        return CaseEvents(case_id=self.case_id, transitions=transitions, state=events[-1].state)

    def _hand_back(self, events: list[CaseEvent]) -> None:
        """A failed send may not have written what it carried: a write of its own does (again)."""
        self._waiting[:0] = events
        if len(self._waiting) == len(events):
            self.background.start(self._write())
