"""Repair cases under test: the real worker on its own task queue, the time-skipping server, and
what was sent and projected, read back from the sandbox and the database."""

from __future__ import annotations

import asyncio
import json
import os
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
from sqlalchemy import select
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowHandle, WorkflowHistory
from temporalio.converter import DataConverter
from temporalio.testing import WorkflowEnvironment

from steward.settings import Settings
from steward.store.models import Case as CaseRow
from steward.store.models import CaseEventRow, Notification
from workflows.actions import CallbackReply
from workflows.case_contracts import CaseInput, CaseState
from workflows.contracts import Actor, Channel, Role, Severity
from workflows.names import Activity
from workflows.repair import RepairWorkflow

SHANGHAI = ZoneInfo("Asia/Shanghai")
HISTORIES = Path(__file__).parent.parent / "histories"
RESIDENT = Actor(id="R001", role=Role.resident)
HANDLER = Actor(id="S001", role=Role.staff)
COLLEAGUE = Actor(id="S003", role=Role.staff)
SUPERVISOR = Actor(id="S201", role=Role.supervisor)


def projection_writes(history: WorkflowHistory) -> list[list[str]]:
    """The transitions of each write to the read model, in order: a projection activity's, or those a
    send carried (`workflows/case_projection.py`)."""
    writes = []
    for event in history.events:
        if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
            scheduled = event.activity_task_scheduled_event_attributes
            [given] = DataConverter.default.payload_converter.from_payloads(list(scheduled.input.payloads))
            written = given if scheduled.activity_type.name == Activity.PROJECT_CASE_EVENTS else \
                given.get("carried") if isinstance(given, dict) else None
            if written:
                writes.append([transition["event"] for transition in written["transitions"]])
    return writes


@dataclass
class Sent:
    to: str
    template: str
    channel: str
    attempt: int | None
    params: dict
    sid: str | None


@dataclass
class RepairCases:
    """Start repair cases, act on them, jump time, and read back what happened."""

    env: WorkflowEnvironment
    settings: Settings
    database: object
    task_queue: str
    sandbox_url: str

    async def now(self) -> datetime:
        return (await self.env.get_current_time()).astimezone(UTC)

    async def skip_to_local(self, hour: int, minute: int = 0) -> datetime:
        """Jump to the next hh:mm community time (cases left from other tests are terminated)."""
        now = (await self.now()).astimezone(SHANGHAI)
        target = datetime.combine(now.date(), time(hour, minute), SHANGHAI)
        if target <= now:
            target += timedelta(days=1)
        await self.sleep(target - now)
        return await self.now()

    async def start(
        self,
        severity: Severity = Severity.normal,
        category: str = "plumbing",
        resident_id: str = "R001",
        building_id: str = "B1",
    ) -> WorkflowHandle:
        case = CaseInput(
            severity=severity,
            category=category,
            title="Kitchen tap leaking",
            description="Drips all night.",
            building_id=building_id,
            unit="101",
            resident_id=resident_id,
            submitted_by=RESIDENT,
            submitted_at=await self.now(),
            policy=self.settings.policy,
        )
        handle = await self.env.client.start_workflow(
            RepairWorkflow.run,
            case,
            id=f"REP-{uuid.uuid4().hex[:10]}",
            task_queue=self.task_queue,
        )
        await self.until(handle, lambda s: s.dispatched_at is not None)
        return handle

    async def state(self, handle: WorkflowHandle) -> CaseState:
        return await handle.query(RepairWorkflow.state)

    async def until(
        self, handle: WorkflowHandle, check: Callable[[CaseState], bool], within: float = 10
    ) -> CaseState:
        """Poll the query until `check` holds (workflow and activities run in real time here)."""
        deadline = asyncio.get_running_loop().time() + within
        while True:
            state = await self.state(handle)
            if check(state):
                return state
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"condition not reached; state: {state.model_dump_json(indent=1)}")
            await asyncio.sleep(0.05)

    async def sleep(self, duration: timedelta) -> None:
        await self.env.sleep(duration)

    async def sleep_until(self, moment: datetime) -> None:
        await self.sleep(moment - await self.now())

    async def reply(self, handle: WorkflowHandle, satisfied: bool, channel: Channel = Channel.sms) -> None:
        state = await self.until(
            handle, lambda s: s.callback_attempt > 0 and s.next_deadline_kind == "callback_reply"
        )
        await handle.signal(
            RepairWorkflow.callback_reply,
            CallbackReply(
                attempt=state.callback_attempt,
                satisfied=satisfied,
                channel=channel,
                received_at=await self.now(),
            ),
        )

    async def result(self, handle: WorkflowHandle):
        return await asyncio.wait_for(handle.result(), timeout=30)

    def sent(self, case_id: str) -> list[Sent]:
        with self.database.sessions() as session:
            rows = session.scalars(
                select(Notification).where(Notification.case_id == case_id).order_by(Notification.created_at)
            )
            return [Sent(r.to, r.template, r.channel, r.attempt, r.params or {}, r.sid) for r in rows]

    async def sent_eventually(
        self, case_id: str, check: Callable[[list[Sent]], bool], within: float = 10
    ) -> list[Sent]:
        deadline = asyncio.get_running_loop().time() + within
        while True:
            sent = self.sent(case_id)
            if check(sent):
                return sent
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"notices not as expected: {sent}")
            await asyncio.sleep(0.05)

    async def sandbox_messages(self, to: str, code: str) -> list[dict]:
        """What the Twilio sandbox recorded as sent to `to` about this case."""
        async with httpx.AsyncClient(base_url=self.sandbox_url) as http:
            response = await http.get("/sandbox/messages", params={"to": to})
            response.raise_for_status()
            return [m for m in response.json() if code in m.get("body", "")]

    async def sandbox_messages_eventually(self, to: str, code: str, check: Callable[[list[dict]], bool],
                                          within: float = 10) -> list[dict]:
        """The sandbox's messages once `check` holds: a notice is recorded before Twilio has it."""
        deadline = asyncio.get_running_loop().time() + within
        while not check(messages := await self.sandbox_messages(to, code)):
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"the sandbox has not got them: {messages}")
            await asyncio.sleep(0.1)
        return messages

    async def sandbox_calls(self, to: str) -> list[dict]:
        async with httpx.AsyncClient(base_url=self.sandbox_url) as http:
            response = await http.get("/sandbox/calls", params={"to": to})
            response.raise_for_status()
            return response.json()

    def projected(self, case_id: str) -> tuple[CaseRow | None, list[CaseEventRow]]:
        with self.database.sessions() as session:
            row = session.get(CaseRow, case_id)
            events = list(
                session.scalars(
                    select(CaseEventRow).where(CaseEventRow.case_id == case_id).order_by(CaseEventRow.seq)
                )
            )
            return row, events

    async def projection_caught_up(self, handle: WorkflowHandle, within: float = 10) -> CaseRow:
        deadline = asyncio.get_running_loop().time() + within
        while True:
            state = await self.state(handle)
            row, events = self.projected(handle.id)
            if row is not None and row.last_seq == len(state.timeline) == len(events):
                return row
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(
                    f"projection behind: {len(events)} events, {len(state.timeline)} in timeline"
                )
            await asyncio.sleep(0.05)

    async def save_history(self, handle: WorkflowHandle, name: str) -> None:
        """Keep this run's history, with its workflow id (children are named after it), for the replay
        test (once; `STEWARD_RECORD_HISTORIES=1` rewrites)."""
        path = HISTORIES / f"{name}.json"
        if self.database.backend != "sqlite" or (
            path.exists() and not os.environ.get("STEWARD_RECORD_HISTORIES")
        ):
            return
        HISTORIES.mkdir(exist_ok=True)
        history = json.loads((await handle.fetch_history()).to_json())
        path.write_text(json.dumps({"workflow_id": handle.id, **history}), encoding="utf-8")


def near(moment: datetime, expected: datetime, within: timedelta = timedelta(seconds=1)) -> bool:
    """Timers fire a few milliseconds after their due time, with the workflow task."""
    return abs(moment - expected) <= within
