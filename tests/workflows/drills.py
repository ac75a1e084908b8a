"""Drills under test: a building of their own (households and the staff of every tier covering it), the
drill started on the time-skipping server with the real worker, and what it sent read back.

A building of its own keeps the household counts and the staff paged exact, whatever other tests do
to the shared demo community.
"""

from __future__ import annotations

import asyncio
import json
import os
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import select
from temporalio.client import WorkflowExecutionStatus, WorkflowHandle

from steward.store.models import Building, Household, Notification, Resident, Staff
from tests.workflows.harness import HISTORIES, SUPERVISOR, RepairCases
from workflows.actions import CallbackReply
from workflows.contracts import Actor, Channel, Role
from workflows.drill import DrillWorkflow
from workflows.drill_contracts import (
    DEFAULT_STEPS,
    CompleteDrill,
    DrillInput,
    DrillRules,
    DrillState,
    DrillType,
    Finding,
    StartDrill,
    StepDone,
)
from workflows.drill_survey import DrillSurveyWorkflow

DAY = timedelta(days=1)
TIERS = {1: "team lead", 2: "property manager", 3: "general manager"}


@dataclass(frozen=True)
class Place:
    """A building of `len(residents)` one-resident households and one staff member per tier 1-3."""

    building_id: str
    residents: list[str]
    phones: dict[str, str]
    staff: dict[int, Actor]
    staff_phones: dict[int, str]
    extra: dict[str, str] = field(default_factory=dict)


def building(database, households: int, opted_out: int = 0, no_phone: int = 0) -> Place:
    """Residents 1..n; every 4th speaks English, every 3rd prefers a call; the first `opted_out` have
    opted out of SMS, the next `no_phone` have no phone."""
    tag = uuid.uuid4().hex[:6].upper()
    building_id = f"DB{tag}"
    digits = f"{int(tag, 16) % 10_000:04d}"
    residents = [f"{building_id}-{n:03d}" for n in range(1, households + 1)]
    phones = {rid: f"+86135{digits}{n:04d}" for n, rid in enumerate(residents, 1)}
    staff = {tier: Actor(id=f"T{tier}{tag}", role=Role.staff) for tier in TIERS}
    staff_phones = {tier: f"+86134{digits}000{tier}" for tier in TIERS}
    with database.sessions.begin() as session:
        session.add(Building(id=building_id, name=f"Drill test building {tag}"))
        session.flush()
        for n, rid in enumerate(residents, 1):
            session.add(Household(id=f"H-{rid}", building_id=building_id, unit=f"{n:03d}"))
            session.flush()
            session.add(
                Resident(
                    id=rid,
                    household_id=f"H-{rid}",
                    name=f"Resident {rid}",
                    phone=None if opted_out < n <= opted_out + no_phone else phones[rid],
                    locale="en" if n % 4 == 1 else "zh-CN",
                    preferred_channel="voice" if n % 3 == 0 else "sms",
                    opted_out=n <= opted_out,
                    bad_channels=[],
                )
            )
        for tier, name in TIERS.items():
            session.add(
                Staff(
                    id=staff[tier].id,
                    name=f"Drill {name}",
                    tier=tier,
                    skills=["security"],
                    buildings=[building_id],
                    on_duty=True,
                    phone=staff_phones[tier],
                    locale="zh-CN",
                )
            )
    return Place(building_id, residents, phones, staff, staff_phones)


@dataclass
class Drills(RepairCases):
    """Start drills in a building of their own, run them, and read back what they did and sent."""

    async def plan(self, place: Place, ahead: timedelta = 3 * DAY, drill_id: str | None = None,
                   **rules: object) -> WorkflowHandle:
        now = await self.now()
        drill = DrillInput(
            drill_type=DrillType.fire,
            building_id=place.building_id,
            title="Autumn fire drill",
            scheduled_at=now + ahead,
            steps=DEFAULT_STEPS[DrillType.fire][:3],
            created_by=SUPERVISOR,
            policy=self.settings.policy,
            rules=DrillRules(**({"batch_size": 4} | rules)),
        )
        handle = await self.env.client.start_workflow(
            DrillWorkflow.run, drill, id=drill_id or f"DR-{uuid.uuid4().hex[:10].upper()}",
            task_queue=self.task_queue
        )
        await self.drill_until(handle, lambda s: s.announced_at is not None)
        return handle

    async def drill(self, handle: WorkflowHandle) -> DrillState:
        return await handle.query(DrillWorkflow.state)

    async def drill_until(
        self, handle: WorkflowHandle, check: Callable[[DrillState], bool], within: float = 20
    ) -> DrillState:
        deadline = asyncio.get_running_loop().time() + within
        while True:
            state = await self.drill(handle)
            if check(state):
                return state
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"not reached; state: {state.model_dump_json(indent=1)[:4000]}")
            await asyncio.sleep(0.05)

    async def save_history(self, handle: WorkflowHandle, name: str) -> None:
        """Keep this run's history for the replay test, with its workflow id: a drill's child workflow
        ids are made from its own, so it replays only under that id."""
        path = HISTORIES / f"{name}.json"
        if self.database.backend != "sqlite" or (
            path.exists() and not os.environ.get("STEWARD_RECORD_HISTORIES")
        ):
            return
        history = json.loads((await handle.fetch_history()).to_json())
        path.write_text(json.dumps({"workflow_id": handle.id, **history}), encoding="utf-8")

    async def closed(self, handle: WorkflowHandle, within: float = 20) -> DrillState:
        """The drill's state once it has closed. Not `handle.result()`: waiting for a result lets the
        time-skipping server jump to the next timer anywhere, here the repair cases' ten-year timeout."""
        deadline = asyncio.get_running_loop().time() + within
        while (await handle.describe()).status != WorkflowExecutionStatus.COMPLETED:
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"drill {handle.id} did not close: {await self.drill(handle)}")
            await asyncio.sleep(0.05)
        return await self.drill(handle)

    async def run_to_completion(
        self, handle: WorkflowHandle, place: Place, findings: list[Finding] | None = None
    ) -> DrillState:
        """Start at the scheduled time, tick every step, complete with 9 residents taking part."""
        lead = place.staff[1]
        await self.sleep_until((await self.drill(handle)).scheduled_at)
        await handle.execute_update(DrillWorkflow.start, StartDrill(actor=lead))
        state = await self.drill(handle)
        for step in state.steps:
            await handle.signal(DrillWorkflow.step_done, StepDone(actor=lead, number=step.number))
        await self.drill_until(handle, lambda s: all(step.done_at for step in s.steps))
        return await handle.execute_update(
            DrillWorkflow.complete, CompleteDrill(actor=lead, participation=9, findings=findings or [])
        )

    def notices(self, case_id: str, template: str) -> list[Notification]:
        """What was sent for the drill (`case_id`) or one of its survey batches (`case_id/`)."""
        with self.database.sessions() as session:
            return list(
                session.scalars(
                    select(Notification)
                    .where(
                        (Notification.case_id == case_id) | Notification.case_id.startswith(f"{case_id}/"),
                        Notification.template == template,
                    )
                    .order_by(Notification.key)
                )
            )

    async def notices_eventually(
        self, case_id: str, template: str, count: int, within: float = 20
    ) -> list[Notification]:
        deadline = asyncio.get_running_loop().time() + within
        while len(sent := self.notices(case_id, template)) < count:
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"{len(sent)} {template} notices, expected {count}")
            await asyncio.sleep(0.05)
        return sent

    async def answer_survey(self, drill_id: str, phone: str, heard: bool) -> None:
        """The resident's phone answers the latest survey attempt it was sent (1 yes, 2 no)."""
        asked = [n for n in self.notices(drill_id, "drill_survey") if n.to == phone]
        latest = max(asked, key=lambda n: n.attempt or 0)
        await self.env.client.get_workflow_handle(latest.case_id).signal(
            DrillSurveyWorkflow.callback_reply,
            CallbackReply(
                attempt=latest.attempt,
                satisfied=heard,
                channel=Channel(latest.channel),
                received_at=await self.now(),
            ),
        )
