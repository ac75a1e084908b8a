"""A case's transitions into the SQL read model: one write per workflow task, not one per transition.

An update that resolves a case and starts its callback, or a deadline that escalates and pages, makes
several transitions in one workflow task; they go to the database in one activity, with the state after
the last (the row keeps only the newest state anyway). The write waits for the rest of its task's work
to be scheduled first, so a page or a notice is never queued behind bookkeeping, and a signal's
transitions share it with those of the run method the signal woke (a reply and the close). Writes are
not held back behind an earlier one still retrying: supervisors, residents and the SMS webhooks read
the read model, so a transition must reach it as soon as the database allows. Cases started before
this change wrote each transition in its own activity, and replay that way.
"""

from __future__ import annotations

import asyncio

from temporalio import workflow
from temporalio.exceptions import ActivityError

from workflows.names import Activity

with workflow.unsafe.imports_passed_through():
    from workflows.background import Background
    from workflows.case_contracts import CaseEvent, CaseEvents, Transition
    from workflows.projected import PROJECT_TIMEOUT

PROJECTION_BATCHED = "case-projection-batched"
# The write yielded once, so a signal's transitions went before those of the run method it woke (a reply,
# then the close): it now waits until the task's woken coroutines have run too.
PROJECTION_AFTER_WAKEUPS = "case-projection-after-wakeups"


class CaseProjection:
    def __init__(self, case_id: str, background: Background) -> None:
        self.case_id = case_id
        self.background = background
        self._waiting: list[CaseEvent] = []

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

    async def _write(self) -> None:
        # Whatever else this task does (its transitions, its pages) is scheduled first. Conditions are
        # checked only once nothing else can run: the first check wakes whatever waited on one (the run
        # method a signal answered), the second comes after those ran to their next wait.
        if workflow.patched(PROJECTION_AFTER_WAKEUPS):
            for _ in range(2):
                await workflow.wait_condition(lambda: True)
        else:
            await asyncio.sleep(0)
        events, self._waiting = self._waiting, []
        transitions = [Transition(**event.model_dump(exclude={"state"})) for event in events]
        try:
            await workflow.start_activity(
                Activity.PROJECT_CASE_EVENTS,
                CaseEvents(case_id=self.case_id, transitions=transitions, state=events[-1].state),
                start_to_close_timeout=PROJECT_TIMEOUT,
                summary="project " + ", ".join(event.event for event in events),
            )
        except ActivityError as error:  # refused for good: the case's history shows it
            workflow.logger.warning("projection of %s refused: %s", self.case_id, error.cause or error)
