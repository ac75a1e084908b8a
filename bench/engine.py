"""The baseline: the least a workflow can do for each scenario — the engine's own work, no logic.

Each workflow mirrors one Steward measurement: an empty start (submit), a trivial update
(acknowledge), a lifecycle with the same number of activities, updates, signals and timers as a
Steward repair (the `Shape` is read from a Steward history in the same run), a timer then one SMS
(deadline storm) and a bare timer (idle fleet).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from temporalio import workflow

NOOP = "bench.noop"
SEND_SMS = "bench.send_sms"
ACTIVITY_TIMEOUT = timedelta(seconds=30)
LONG = timedelta(hours=4)


@workflow.defn(name="BenchEmpty")
class Empty:
    @workflow.run
    async def run(self) -> None:
        return None


@workflow.defn(name="BenchUpdateTarget")
class UpdateTarget:
    """Waits for one trivial update, answers it and ends."""

    def __init__(self) -> None:
        self.done = False

    @workflow.run
    async def run(self) -> None:
        await workflow.wait_condition(lambda: self.done)

    @workflow.update
    def acknowledge(self, actor: str) -> dict:
        self.done = True
        return {"owner": actor}

    @acknowledge.validator
    def _check(self, actor: str) -> None:
        if self.done:
            raise ValueError("already acknowledged")


@dataclass
class Phase:
    """What a Steward repair does between two outside events: activities started, timers started."""

    activities: int = 0
    local_activities: int = 0
    timers: int = 0


@dataclass
class Shape:
    """A Steward lifecycle's engine work: phases split by the ack update, resolve update and reply signal."""

    phases: list[Phase] = field(default_factory=lambda: [Phase(), Phase(), Phase(), Phase()])


@workflow.defn(name="BenchLifecycle")
class Lifecycle:
    """submit → (activities) → ack update → (activities) → resolve update → (activities, the last an
    SMS through the sandbox) → reply signal → (activities) → done; each wait is a `wait_condition`
    with a timer, as deadlines are in Steward."""

    def __init__(self) -> None:
        self.phase = "submitted"
        self.acknowledged = self.resolved = self.replied = False

    @workflow.run
    async def run(self, shape: Shape, phone: str) -> str:
        first, after_ack, after_resolve, after_reply = shape.phases
        await self._work(first)
        self.phase = "dispatched"
        await self._wait(lambda: self.acknowledged, first.timers)
        await self._work(after_ack)
        await self._wait(lambda: self.resolved, after_ack.timers)
        # As in Steward, one of this phase's activities is the callback SMS the resident answers.
        await self._work(after_resolve, sms=(phone, f"{workflow.info().workflow_id} Reply 1 or 2"))
        self.phase = "callback"
        await self._wait(lambda: self.replied, after_resolve.timers)
        await self._work(after_reply)
        self.phase = "closed"
        return self.phase

    async def _work(self, phase: Phase, sms: tuple[str, str] | None = None) -> None:
        count = phase.activities - (1 if sms else 0)
        await asyncio.gather(
            *[
                workflow.execute_activity(NOOP, i, start_to_close_timeout=ACTIVITY_TIMEOUT)
                for i in range(count)
            ],
            *[
                workflow.execute_local_activity(NOOP, i, start_to_close_timeout=ACTIVITY_TIMEOUT)
                for i in range(phase.local_activities)
            ],
        )
        if sms:
            await workflow.execute_activity(SEND_SMS, args=list(sms), start_to_close_timeout=ACTIVITY_TIMEOUT)

    async def _wait(self, done, timers: int) -> None:
        """Wait for `done` with `timers` timers: all but the last are short and pass, as deadlines
        re-armed while waiting do; the last one is long and is cancelled by the event."""
        for _ in range(max(timers - 1, 0)):
            try:
                await workflow.wait_condition(done, timeout=timedelta(milliseconds=1))
            except TimeoutError:
                pass
        if timers:
            try:
                await workflow.wait_condition(done, timeout=LONG)
            except TimeoutError:
                pass
        await workflow.wait_condition(done)

    @workflow.query
    def state(self) -> str:
        return self.phase

    @workflow.update
    def acknowledge(self, actor: str) -> str:
        self.acknowledged = True
        return self.phase

    @workflow.update
    def resolve(self, note: str) -> str:
        self.resolved = True
        return self.phase

    @workflow.signal
    def callback_reply(self, satisfied: bool) -> None:
        self.replied = True


@workflow.defn(name="BenchTimerThenSms")
class TimerThenSms:
    """Sleep until `at`, then send one SMS through the sandbox (the storm's escalation)."""

    @workflow.run
    async def run(self, at: datetime, to: str, body: str) -> None:
        left = at - workflow.now()
        if left > timedelta(0):
            await workflow.sleep(left)
        await workflow.execute_activity(SEND_SMS, args=[to, body], start_to_close_timeout=ACTIVITY_TIMEOUT)


@workflow.defn(name="BenchIdle")
class Idle:
    """An open case reduced to its timer."""

    @workflow.run
    async def run(self, hours: int) -> None:
        await workflow.sleep(timedelta(hours=hours))

    @workflow.query
    def state(self) -> str:
        return "waiting"


WORKFLOWS = [Empty, UpdateTarget, Lifecycle, TimerThenSms, Idle]
